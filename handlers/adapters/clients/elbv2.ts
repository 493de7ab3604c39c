import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's Elastic Load Balancing v2 client for `region`. */
export function elbv2Client(scope: ClientScope, region: string): ElasticLoadBalancingV2Client {
  return scope.client(`elbv2:${region}`, () => new ElasticLoadBalancingV2Client(clientConfig(region, scope.options)));
}
