import { EC2Client } from '@aws-sdk/client-ec2';
import { type ClientScope, clientConfig } from '../aws-clients';

/** The scope's EC2 client for `region`. */
export function ec2Client(scope: ClientScope, region: string): EC2Client {
  return scope.client(`ec2:${region}`, () => new EC2Client(clientConfig(region, scope.options)));
}
