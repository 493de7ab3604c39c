import { SNSClient } from '@aws-sdk/client-sns';
import { type ClientScope, clientConfig, homeRegion } from '../aws-clients';

/** The scope's SNS client (the home region, where the notification topic is). */
export function snsClient(scope: ClientScope): SNSClient {
  return scope.client('sns', () => new SNSClient(clientConfig(homeRegion(), scope.options)));
}
