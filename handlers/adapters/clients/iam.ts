import { IAMClient } from '@aws-sdk/client-iam';
import { type ClientScope, clientConfig, homeRegion } from '../aws-clients';

/** IAM is global: one client per scope, signed for the home region (the partition's global endpoint). */
export function iamClient(scope: ClientScope): IAMClient {
  return scope.client('iam', () => new IAMClient(clientConfig(homeRegion(), scope.options)));
}
