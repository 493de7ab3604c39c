import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's Secrets Manager client for `region`. */
export function secretsManagerClient(scope: ClientScope, region: string): SecretsManagerClient {
  return scope.client(`secretsmanager:${region}`, () => new SecretsManagerClient(clientConfig(region, scope.options)));
}
