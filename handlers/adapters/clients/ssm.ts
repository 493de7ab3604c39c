import { SSMClient } from '@aws-sdk/client-ssm';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's SSM client for `region`. */
export function ssmClient(scope: ClientScope, region: string): SSMClient {
  return scope.client(`ssm:${region}`, () => new SSMClient(clientConfig(region, scope.options)));
}
