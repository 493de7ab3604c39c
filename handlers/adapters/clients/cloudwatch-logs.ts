import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's CloudWatch Logs client for `region`. */
export function cloudWatchLogsClient(scope: ClientScope, region: string): CloudWatchLogsClient {
  return scope.client(`logs:${region}`, () => new CloudWatchLogsClient(clientConfig(region, scope.options)));
}
