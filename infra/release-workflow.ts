import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ReleaseStateMachine } from '../workflows/release-state-machine';
import { RELEASE_STEP_NAMES, RELEASE_STEPS, type ReleaseStep } from '../workflows/release-steps';
import { ForensicFunction, type LambdaEnvironment } from './constructs/forensic-function';
import { acknowledgeWorkflowWildcards } from './constructs/nag-acknowledgements';
import { caseStoreGrants, pascal } from './constructs/step-permissions';
import { containedTagKey, containedTagOnlyCondition } from './constructs/tag-protection';
import { regionalAllowOn } from './regional-permissions';

/**
 * The release workflow of the IR stack: one function and one least-privilege role per release step
 * (docs/permissions.md, "Release"), and the release state machine. Kept apart from the acquisition's wiring in
 * ir-stack.ts; the stack creates it next to the acquisition and exports its ARN as `ReleaseStateMachineArn`.
 *
 * What the release roles can do is the inverse of containment and nothing else: put an ENI's groups back, delete an
 * inline policy from a role the isolate step tagged as contained (never their own) and remove that tag, leave Auto
 * Scaling standby, register a target, update the case and append custody records (new keys only, under a legal hold
 * they cannot lift). No role of the release has any permission on snapshots, on evidence objects' retention, on
 * lifting legal holds, on the manifest, or on the evidence key beyond what DynamoDB, S3 and SNS use on the caller's
 * behalf.
 */
export interface ReleaseWorkflowProps {
  readonly environment: LambdaEnvironment;
  readonly evidenceKey: kms.IKey;
  readonly evidenceBucket: s3.IBucket;
  readonly caseTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /**
   * Multi-account mode: "Release containment" acts in the workload account through the responder role (assumed per
   * case, infra/multi-account.ts `configureReleaseMultiAccount`), so its own role gets no EC2, IAM, Auto Scaling or
   * ELB permission. @default false (single-account: it acts with its own role)
   */
  readonly throughResponderRole?: boolean;
  /** Fixed role names (multi-account: the responder roles' trust names them). @default generated names */
  readonly roleNames?: Partial<Record<ReleaseStep, string>>;
  /**
   * The regions instances are acquired in (forensics:workloadRegions). Single-account: "Release containment"
   * acts in the case's region, so its EC2/ASG/ELB permissions are repeated there. @default [] (the stack's region)
   */
  readonly workloadRegions?: readonly string[];
}


export class ReleaseWorkflow extends Construct {
  readonly functions: Record<ReleaseStep, ForensicFunction<ReleaseStep>>;
  readonly machine: ReleaseStateMachine;

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    this.functions = Object.fromEntries(
      RELEASE_STEP_NAMES.map((step) => [
        step,
        new ForensicFunction<ReleaseStep>(this, `${pascal(step)}Step`, {
          step,
          environment: props.environment,
          logKey: props.evidenceKey,
          timeout: Duration.seconds(RELEASE_STEPS[step].timeoutSeconds),
          ...(props.roleNames?.[step] ? { roleName: props.roleNames[step] } : {}),
        }),
      ]),
    ) as Record<ReleaseStep, ForensicFunction<ReleaseStep>>;
    this.grantStepPermissions(props);

    this.machine = new ReleaseStateMachine(this, 'Release', {
      functions: Object.fromEntries(
        RELEASE_STEP_NAMES.map((step): [ReleaseStep, IFunction] => [step, this.functions[step].function]),
      ) as Record<ReleaseStep, IFunction>,
      logKey: props.evidenceKey,
      logRetention: logs.RetentionDays.ONE_YEAR,
    });
    this.acknowledgeCdkWildcards();
  }

  private grantStepPermissions(props: ReleaseWorkflowProps): void {
    const stack = Stack.of(this);
    const f = this.functions;
    const allowOn = regionalAllowOn(this, props.workloadRegions ?? []);
    const ec2 = (resource: string): string => stack.formatArn({ service: 'ec2', resource, resourceName: '*' });
    const { caseTable, custody, publish } = caseStoreGrants(stack, f, props, 'custody records');
    const prefix = props.environment.TAG_PREFIX;
    const contained = containedTagKey(prefix);

    // ── validateRelease: read-only. ──
    caseTable('validateRelease', ['dynamodb:GetItem'], 'GetItem reads the case: it must exist and be CONTAINED or FAILED.');

    // ── releaseContainment: the inverse of containment, recorded. ──
    // Multi-account mode: these calls are made as the responder role in the case's account (its own permissions,
    // infra/responder-stack.ts); this role only assumes it (infra/multi-account.ts, ReleaseAssumeResponderRole).
    if (!props.throughResponderRole) {
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseRestoreInterfaceGroups',
        why: 'ModifyNetworkInterfaceAttribute puts every ENI of the instance back into its recorded original groups ' +
          '(authorised on the ENI, its instance, VPC and the groups assigned). The original groups are the ' +
          'workload\'s own, not this product\'s, so not limited by tag.',
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        resources: [ec2('network-interface'), ec2('instance'), ec2('vpc'), ec2('security-group')],
      });
      const roles = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' });
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseDeleteDenyPolicy',
        why: 'DeleteRolePolicy removes the case\'s inline deny policy "forensics-deny-<caseId>" recorded by ' +
          `containment, only on roles carrying "${contained}", which only the isolate step sets (IAM has no ` +
          'condition key for an inline policy\'s name; the role is only known at run time). This function\'s own ' +
          'role is excluded by the explicit deny ReleaseNotOnOwnRole.',
        actions: ['iam:DeleteRolePolicy'],
        resources: [roles],
        conditions: { Null: { [`aws:ResourceTag/${contained}`]: 'false' } },
      });
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseFindOtherDenyPolicies',
        why: 'ListRolePolicies: another case\'s deny policy still on the role keeps its containment tag (read-only).',
        actions: ['iam:ListRolePolicies'],
        resources: [roles],
      });
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseUntagContainedRole',
        why: `UntagRole removes "${contained}" once no deny policy of this product is left on the role; that key only.`,
        actions: ['iam:UntagRole'],
        resources: [roles],
        conditions: { ...containedTagOnlyCondition(prefix), Null: { 'aws:TagKeys': 'false', [`aws:ResourceTag/${contained}`]: 'false' } },
      });
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseExitStandby',
        why: 'ExitStandby returns the instance to service in the Auto Scaling group acquisition put it in standby in.',
        actions: ['autoscaling:ExitStandby'],
        resources: [
          stack.formatArn({
            service: 'autoscaling',
            resource: 'autoScalingGroup',
            resourceName: '*:autoScalingGroupName/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      });
      allowOn(f.releaseContainment.role, {
        sid: 'ReleaseRegisterTargets',
        why: 'RegisterTargets registers the instance again, with its recorded port, in the target groups acquisition ' +
          'deregistered it from.',
        actions: ['elasticloadbalancing:RegisterTargets'],
        resources: [stack.formatArn({ service: 'elasticloadbalancing', resource: 'targetgroup', resourceName: '*/*' })],
      });
    }
    f.releaseContainment.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReleaseNotOnOwnRole',
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:TagRole', 'iam:UntagRole'],
        resources: [f.releaseContainment.role.roleArn],
      }),
    );
    caseTable(
      'releaseContainment',
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      'GetItem reads the recorded containment; UpdateItem marks the case RELEASED (or records an incomplete ' +
        'release); DeleteItem deletes the instance lock held by this case (conditional on the case id).',
    );
    custody('releaseContainment', 'Custody records of every restore action, with the previous state.');

    // ── notifyRelease ──
    publish('notifyRelease', 'Publish the release summary to the responders.');

    // ── recordReleaseFailure ──
    caseTable('recordReleaseFailure', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem/UpdateItem record the release failure in the case.');
    custody('recordReleaseFailure', 'The release-failed custody record.');
    publish('recordReleaseFailure', 'Publish the release failure to the responders (best effort).');
  }

  /** The wildcards CDK itself adds (X-Ray, execution logging, Lambda versions), each with its reason. */
  private acknowledgeCdkWildcards(): void {
    acknowledgeWorkflowWildcards(
      this.machine.stateMachine.role,
      Object.values(this.functions).map((fn) => ({ role: fn.role, function: fn.function, stateName: RELEASE_STEPS[fn.step].state })),
      'release',
    );
  }
}
