import { DescribeVpcEndpointsCommand, type EC2Client } from '@aws-sdk/client-ec2';

export interface VpcEndpointView {
  vpcId: string;
  serviceName: string;
  state: string;
  securityGroupIds: string[];
}

/** The interface endpoints of the instance's VPCs (where the acquisition channel may go). Read-only. */
export class Ec2VpcEndpointAdapter {
  constructor(private readonly ec2: EC2Client) {}

  async interfaceEndpoints(vpcIds: string[], serviceNames: string[]): Promise<VpcEndpointView[]> {
    if (vpcIds.length === 0) return [];
    const found: VpcEndpointView[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(
        new DescribeVpcEndpointsCommand({
          Filters: [
            { Name: 'vpc-id', Values: vpcIds },
            { Name: 'service-name', Values: serviceNames },
            { Name: 'vpc-endpoint-type', Values: ['Interface'] },
          ],
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const e of out.VpcEndpoints ?? []) {
        found.push({
          vpcId: e.VpcId ?? '',
          serviceName: e.ServiceName ?? '',
          state: e.State ?? 'unknown',
          securityGroupIds: (e.Groups ?? []).map((g) => g.GroupId ?? '').filter((g) => g),
        });
      }
      token = out.NextToken;
    } while (token);
    return found;
  }
}
