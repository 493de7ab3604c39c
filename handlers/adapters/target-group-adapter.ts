import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/** Load balancer target groups: which ones send traffic to the instance, and taking it out of them. */

export interface TargetGroupSummary {
  targetGroupArn: string;
  vpcId?: string;
  targetType?: string;
}

export interface Registration {
  port?: number;
  availabilityZone?: string;
  state?: string;
}

export class TargetGroupAdapter {
  constructor(private readonly elbv2: ElasticLoadBalancingV2Client) {}

  /** Every target group of the region (paginated: accounts can have hundreds). */
  async listTargetGroups(): Promise<TargetGroupSummary[]> {
    const groups: TargetGroupSummary[] = [];
    let marker: string | undefined;
    do {
      const out = await this.elbv2.send(
        new DescribeTargetGroupsCommand({ PageSize: 400, ...(marker ? { Marker: marker } : {}) }),
      );
      for (const tg of out.TargetGroups ?? []) {
        if (!tg.TargetGroupArn) continue;
        groups.push({ targetGroupArn: tg.TargetGroupArn, vpcId: tg.VpcId, targetType: tg.TargetType });
      }
      marker = out.NextMarker;
    } while (marker);
    return groups;
  }

  /**
   * The instance's registrations in a target group (one per port). Asked without a target filter: naming the
   * instance would return a synthetic "unused" entry even when it is not registered, without a useful port.
   */
  async registrationsOf(targetGroupArn: string, instanceId: string): Promise<Registration[]> {
    const out = await this.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return (out.TargetHealthDescriptions ?? [])
      .filter((d) => d.Target?.Id === instanceId)
      .map((d) => ({
        ...(d.Target?.Port !== undefined ? { port: d.Target.Port } : {}),
        ...(d.Target?.AvailabilityZone ? { availabilityZone: d.Target.AvailabilityZone } : {}),
        ...(d.TargetHealth?.State ? { state: d.TargetHealth.State } : {}),
      }));
  }

  async deregister(targetGroupArn: string, targets: { id: string; port?: number; availabilityZone?: string }[]): Promise<void> {
    await this.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: targets.map((t) => ({
          Id: t.id,
          ...(t.port !== undefined ? { Port: t.port } : {}),
          ...(t.availabilityZone ? { AvailabilityZone: t.availabilityZone } : {}),
        })),
      }),
    );
  }
}
