import type { Target } from '../domain/types';
import { AutoScalingAdapter } from './auto-scaling-adapter';
import { type AwsClients, awsClients } from './aws-clients';
import { Ec2InstanceAdapter } from './ec2-instance-adapter';
import { Ec2SecurityGroupAdapter } from './ec2-security-group-adapter';
import { Ec2SnapshotAdapter } from './ec2-snapshot-adapter';
import { workloadClientsFor } from './responder-credentials';
import { TargetGroupAdapter } from './target-group-adapter';

/** Every adapter that acts on the target instance's side (its account and region). */
export interface Ec2SideAdapters {
  instances: Ec2InstanceAdapter;
  snapshots: Ec2SnapshotAdapter;
  securityGroups: Ec2SecurityGroupAdapter;
  autoScaling: AutoScalingAdapter;
  targetGroups: TargetGroupAdapter;
}

/** How `ec2AdaptersFor` gets its clients: a given client set, or the case whose responder session to use. */
export type ClientSource = AwsClients | { caseId: string };

const isClientSet = (via: ClientSource): via is AwsClients => typeof (via as AwsClients).ec2 === 'function';

/**
 * Adapters for the target's account and region: the one place the workload-side adapters are built. With a case
 * id, the clients carry the responder role's credentials in the target's account (session name = case id; see
 * responder-credentials.ts), or the Lambda's own credentials in single-account mode without a responder role.
 * A client set passed explicitly (tests, the CLI) is used as it is.
 */
export function ec2AdaptersFor(target: Target, via?: ClientSource): Ec2SideAdapters {
  const clients = via === undefined ? awsClients() : isClientSet(via) ? via : workloadClientsFor(target, via.caseId);
  const ec2 = clients.ec2(target.region);
  return {
    instances: new Ec2InstanceAdapter(ec2),
    snapshots: new Ec2SnapshotAdapter(ec2),
    securityGroups: new Ec2SecurityGroupAdapter(ec2),
    autoScaling: new AutoScalingAdapter(clients.autoScaling(target.region)),
    targetGroups: new TargetGroupAdapter(clients.elbv2(target.region)),
  };
}
