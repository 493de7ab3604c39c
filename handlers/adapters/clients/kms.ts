import { KMSClient } from '@aws-sdk/client-kms';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's KMS client for `region`. */
export function kmsClient(scope: ClientScope, region: string): KMSClient {
  return scope.client(`kms:${region}`, () => new KMSClient(clientConfig(region, scope.options)));
}
