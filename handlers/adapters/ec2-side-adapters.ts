import type { Target } from '../domain/types';
import { AutoScalingAdapter } from './auto-scaling-adapter';
import { type AwsClients, awsClients } from './aws-clients';
import { Ec2InstanceAdapter } from './ec2-instance-adapter';
import { Ec2SecurityGroupAdapter } from './ec2-security-group-adapter';
import { Ec2SnapshotAdapter } from './ec2-snapshot-adapter';
import { TargetGroupAdapter } from './target-group-adapter';

/** Every adapter that acts on the target instance's side (its account and region). */
export interface Ec2SideAdapters {
  instances: Ec2InstanceAdapter;
  snapshots: Ec2SnapshotAdapter;
  securityGroups: Ec2SecurityGroupAdapter;
  autoScaling: AutoScalingAdapter;
  targetGroups: TargetGroupAdapter;
}

/**
 * Adapters for the target's region, on the container's shared clients (single-account mode: the instance is in
 * the Lambda's own account). The one place to change for cross-account mode: clients from the responder role.
 */
export function ec2AdaptersFor(target: Target, clients: AwsClients = awsClients()): Ec2SideAdapters {
  const ec2 = clients.ec2(target.region);
  return {
    instances: new Ec2InstanceAdapter(ec2),
    snapshots: new Ec2SnapshotAdapter(ec2),
    securityGroups: new Ec2SecurityGroupAdapter(ec2),
    autoScaling: new AutoScalingAdapter(clients.autoScaling(target.region)),
    targetGroups: new TargetGroupAdapter(clients.elbv2(target.region)),
  };
}

/** One JSON line per entry, which CloudWatch Logs Insights can query. */
export const jsonLog = (entry: Record<string, unknown>): void => {
  console.log(JSON.stringify(entry));
};
