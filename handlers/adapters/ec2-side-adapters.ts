import type { Target } from '../domain/types';
import { AutoScalingAdapter } from './auto-scaling-adapter';
import { autoScalingClient } from './clients/auto-scaling';
import { ec2Client } from './clients/ec2';
import { Ec2FlowLogAdapter } from './ec2-flow-log-adapter';
import { elbv2Client } from './clients/elbv2';
import { Ec2InstanceAdapter } from './ec2-instance-adapter';
import { Ec2MemoryVolumeAdapter } from './ec2-memory-volume-adapter';
import { Ec2VpcEndpointAdapter } from './ec2-vpc-endpoint-adapter';
import type { SsmCommandAdapter } from './ssm-command-adapter';
import { Ec2SecurityGroupAdapter } from './ec2-security-group-adapter';
import { Ec2SnapshotAdapter } from './ec2-snapshot-adapter';
import { TargetGroupAdapter } from './target-group-adapter';
import { type ClientSource, scopeFor } from './workload-scope';

/** Every adapter that acts on the target instance's side (its account and region). */
export interface Ec2SideAdapters {
  instances: Ec2InstanceAdapter;
  snapshots: Ec2SnapshotAdapter;
  securityGroups: Ec2SecurityGroupAdapter;
  autoScaling: AutoScalingAdapter;
  targetGroups: TargetGroupAdapter;
  flowLogs: Ec2FlowLogAdapter;
  /**
   * The memory plan's reads (absent in tests that plan no memory capture). The SSM one is built only for "Preserve
   * and snapshot" (./preserve-side-adapters.ts): triage shares these adapters and must not bundle the SSM client.
   */
  vpcEndpoints?: Ec2VpcEndpointAdapter;
  memoryVolumes?: Ec2MemoryVolumeAdapter;
  ssm?: SsmCommandAdapter;
}

/**
 * Adapters for the target's account and region (EC2, Auto Scaling, ELBv2), for the steps that describe and preserve
 * the instance. Steps that need only EC2 build their adapter from `ec2Client(scopeFor(...))` directly, so their
 * bundles leave the other clients out. See `scopeFor` for where the credentials come from.
 */
export function ec2AdaptersFor(target: Target, via?: ClientSource): Ec2SideAdapters {
  const scope = scopeFor(target, via);
  const ec2 = ec2Client(scope, target.region);
  return {
    instances: new Ec2InstanceAdapter(ec2),
    snapshots: new Ec2SnapshotAdapter(ec2),
    securityGroups: new Ec2SecurityGroupAdapter(ec2),
    autoScaling: new AutoScalingAdapter(autoScalingClient(scope, target.region)),
    targetGroups: new TargetGroupAdapter(elbv2Client(scope, target.region)),
    flowLogs: new Ec2FlowLogAdapter(ec2),
    vpcEndpoints: new Ec2VpcEndpointAdapter(ec2),
    memoryVolumes: new Ec2MemoryVolumeAdapter(ec2),
  };
}
