import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's CloudTrail client for `region` (LookupEvents is regional). */
export function cloudTrailClient(scope: ClientScope, region: string): CloudTrailClient {
  return scope.client(`cloudtrail:${region}`, () => new CloudTrailClient(clientConfig(region, scope.options)));
}
