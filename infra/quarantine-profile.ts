import { CfnOutput, type Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type ForensicsConfig, isMultiAccount } from './config';
import type { WorkflowStep } from './constructs/forensic-function';
import { regionalAllowOn } from './regional-permissions';

/**
 * The optional quarantine instance profile (`forensics:quarantineProfile`, issue: credential containment).
 *
 * A role with NO permission at all (no policy, managed or inline) that only EC2 may assume, in an instance profile.
 * Containment replaces the compromised instance's profile association with it (handlers/use-cases/quarantine-profile.ts),
 * so every credential the instance fetches from then on can do nothing; release puts the original profile back.
 *
 * Single-account only for now: an instance can only use a profile of its own account, and in multi-account mode the
 * workload-side calls go through the responder role, which neither has this profile nor the permissions to swap it.
 */
/**
 * Stack output naming the quarantine profile, present only when the profile is deployed. Like every resource a step's
 * Lambda environment names, it is an output, so a deployment's outputs resolve its environment (the local runner,
 * cli/local/lambda-environment.ts).
 */
export const QUARANTINE_PROFILE_OUTPUT = 'QuarantineProfileArn';

export class QuarantineProfile extends Construct {
  readonly role: iam.Role;
  readonly profile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: { tagPrefix: string }) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Forensics quarantine: no permissions. Replaces a compromised instance\'s profile during containment.',
    });
    Tags.of(this.role).add(`${props.tagPrefix}:role`, 'quarantine-profile');
    this.profile = new iam.InstanceProfile(this, 'Profile', { role: this.role });
  }
}

interface StepFunctionLike {
  readonly role: iam.Role;
  readonly function: { addEnvironment(key: string, value: string): unknown };
  readonly step: WorkflowStep;
}

/**
 * Creates the quarantine profile when `forensics:quarantineProfile` is on, hands its ARN to the isolate step (the
 * per-case default becomes "quarantine"), and grants the isolate and release steps exactly the calls the swap needs
 * (docs/permissions.md, "Quarantine instance profile"). Off: nothing at all is created or granted.
 */
export function configureQuarantineProfile(
  stack: Stack,
  props: {
    config: ForensicsConfig;
    isolate: StepFunctionLike;
    release: StepFunctionLike;
    flatten: (value: unknown) => string;
  },
): QuarantineProfile | undefined {
  const { config, flatten } = props;
  if (!config.quarantineProfile) return undefined;
  if (isMultiAccount(config)) {
    throw new Error(
      'cdk.json context forensics:quarantineProfile: single-account only for now (an instance can only use a profile ' +
        'of its own account, and the responder role does not create one); turn it off in multi-account mode',
    );
  }
  const q = new QuarantineProfile(stack, 'QuarantineProfile', { tagPrefix: config.tagPrefix });
  props.isolate.function.addEnvironment('QUARANTINE_PROFILE_ARN', q.profile.instanceProfileArn);
  props.isolate.function.addEnvironment('DEFAULT_QUARANTINE_PROFILE', 'true');
  new CfnOutput(stack, QUARANTINE_PROFILE_OUTPUT, {
    value: q.profile.instanceProfileArn,
    description: 'Quarantine instance profile (no permissions) that containment puts on a compromised instance',
  });

  // The instance may be in any workload region (infra/regional-permissions.ts).
  const allowOn = regionalAllowOn(stack, config.workloadRegions ?? []);
  const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
  // ec2.amazonaws.com (ec2.amazonaws.com.cn in China): the service the role is passed to.
  const toEc2 = { StringEquals: { 'iam:PassedToService': `ec2.${stack.urlSuffix}` } };

  allowOn(props.isolate.role, {
    sid: 'QuarantineFindProfileAssociation',
    why: 'DescribeIamInstanceProfileAssociations reads the instance\'s current association (the one replaced, and ' +
      'whether a retried step already quarantined it). Read-only; no resource-level permissions.',
    actions: ['ec2:DescribeIamInstanceProfileAssociations'],
    resources: ['*'],
  }, flatten);
  allowOn(props.isolate.role, {
    sid: 'QuarantineSwapInstanceProfile',
    why: 'ReplaceIamInstanceProfileAssociation (or AssociateIamInstanceProfile when the instance has no profile) puts ' +
      'the quarantine profile on the compromised instance. IAM authorises these on the instance only; it is only ' +
      'known at run time, so any instance of this account and region.',
    actions: ['ec2:ReplaceIamInstanceProfileAssociation', 'ec2:AssociateIamInstanceProfile'],
    resources: [instances],
  }, flatten);
  allowOn(props.isolate.role, {
    sid: 'QuarantinePassRole',
    why: 'Associating a profile passes its role: only the quarantine role (no permissions), only to EC2.',
    actions: ['iam:PassRole'],
    resources: [q.role.roleArn],
    conditions: toEc2,
  }, flatten);

  allowOn(props.release.role, {
    sid: 'ReleaseFindProfileAssociation',
    why: 'DescribeIamInstanceProfileAssociations: the instance must still carry the quarantine profile before it is ' +
      'replaced (a profile set since containment is left alone). Read-only; no resource-level permissions.',
    actions: ['ec2:DescribeIamInstanceProfileAssociations'],
    resources: ['*'],
  }, flatten);
  allowOn(props.release.role, {
    sid: 'ReleaseRestoreInstanceProfile',
    why: 'ReplaceIamInstanceProfileAssociation back to the recorded original profile, DisassociateIamInstanceProfile ' +
      'when the instance had none, AssociateIamInstanceProfile when the association vanished meanwhile. Authorised on ' +
      'the instance only; any instance of this account and region (known at run time).',
    actions: ['ec2:ReplaceIamInstanceProfileAssociation', 'ec2:DisassociateIamInstanceProfile', 'ec2:AssociateIamInstanceProfile'],
    resources: [instances],
  }, flatten);
  allowOn(props.release.role, {
    sid: 'ReleasePassOriginalRole',
    why: 'Putting the original profile back passes its role, which is the compromised workload\'s own and only known ' +
      'at run time (it is in the case record): any role of this account, but only to EC2 (iam:PassedToService), so ' +
      'the function can hand a role to an instance and to nothing else.',
    actions: ['iam:PassRole'],
    resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
    conditions: toEc2,
  }, flatten);
  return q;
}
