import { STSClient } from '@aws-sdk/client-sts';
import { type ClientScope, clientConfig, homeRegion, ownClients } from '../aws-clients';

/** An STS client with the scope's credentials (by default the Lambda's own), on the regional endpoint of `region`. */
export function stsClient(region: string = homeRegion(), scope: ClientScope = ownClients()): STSClient {
  return scope.client(`sts:${region}`, () => new STSClient(clientConfig(region, scope.options)));
}
