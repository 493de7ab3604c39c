import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's Auto Scaling client for `region`. */
export function autoScalingClient(scope: ClientScope, region: string): AutoScalingClient {
  return scope.client(`asg:${region}`, () => new AutoScalingClient(clientConfig(region, scope.options)));
}
