import { type AutoScalingClient, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { type ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Target } from '../domain/types';
import type { ReleasePorts } from '../use-cases/release-containment';
import { autoScalingClient } from './clients/auto-scaling';
import { ec2Client } from './clients/ec2';
import { elbv2Client } from './clients/elbv2';
import { iamClient } from './clients/iam';
import { Ec2SecurityGroupAdapter } from './ec2-security-group-adapter';
import { IamRoleAdapter } from './iam-role-adapter';
import { Ec2InstanceProfileAdapter } from './instance-profile-adapter';
import { type ClientSource, scopeFor } from './workload-scope';

/** Auto Scaling side of release: back in service from standby. */
export class ReleaseAutoScalingAdapter {
  constructor(private readonly autoScaling: AutoScalingClient) {}

  async exitStandby(groupName: string, instanceId: string): Promise<void> {
    await this.autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: groupName, InstanceIds: [instanceId] }));
  }
}

/** Load balancer side of release: registered again with the recorded ports. */
export class ReleaseTargetGroupAdapter {
  constructor(private readonly elbv2: ElasticLoadBalancingV2Client) {}

  async register(targetGroupArn: string, targets: { id: string; port?: number; availabilityZone?: string }[]): Promise<void> {
    await this.elbv2.send(
      new RegisterTargetsCommand({
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

/**
 * The release adapters for the case's target. With explicit clients (the CLI: the caller's own credentials) those
 * are used; with a case id, the responder role's session in the target's account (as the acquisition does), or the
 * process's own credentials in single-account mode without a responder role.
 */
export function releaseAdaptersFor(target: Target, via?: ClientSource): ReturnType<ReleasePorts['adaptersFor']> {
  // A release session of the responder role: the only kind that may delete deny policies and untag the role.
  const scope = scopeFor(target, via, 'release');
  const ec2 = ec2Client(scope, target.region);
  return {
    network: new Ec2SecurityGroupAdapter(ec2),
    iam: new IamRoleAdapter(iamClient(scope)),
    instanceProfiles: new Ec2InstanceProfileAdapter(ec2),
    autoScaling: new ReleaseAutoScalingAdapter(autoScalingClient(scope, target.region)),
    targetGroups: new ReleaseTargetGroupAdapter(elbv2Client(scope, target.region)),
  };
}
