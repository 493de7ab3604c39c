import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AcquisitionStateMachine } from '../workflows/acquisition-state-machine';
import { ACQUISITION_STEP_NAMES, ACQUISITION_STEPS, type AcquisitionStep } from '../workflows/acquisition-steps';
import type { ForensicsConfig } from './config';
import { ForensicFunction, type LambdaEnvironment } from './constructs/forensic-function';
import type { ForensicWorkstation } from './constructs/forensic-workstation';
import { acknowledgeWorkflowWildcards } from './constructs/nag-acknowledgements';
import { allowOn as allowOnHome, caseStoreGrants, pascal } from './constructs/step-permissions';
import {
  containedTagKey,
  containedTagOnlyCondition,
  creationTaggingWithoutAuthorizingKeys,
  denyAuthorizingTagsAfterCreation,
  freeTaggingCondition,
} from './constructs/tag-protection';
import { stepRoleName } from './multi-account';
import { regionalAllowOn } from './regional-permissions';
import { grantScopePermissions } from './scope-permissions';
import { grantMemoryPermissions } from './memory-permissions';

/**
 * The acquisition workflow of the IR stack, beside the release one (infra/release-workflow.ts): one function and one
 * least-privilege role per step of workflows/acquisition-steps.ts (its handler, state name and timeout), each role's
 * grants (docs/permissions.md has the same table), and the state machine (workflows/acquisition-state-machine.ts,
 * whose header walks the flow). The stores it writes to (evidence key, bucket, case table, topic) and the forensic
 * workstation belong to the stack and are passed in; multi-account and multi-region grants are added by the stack
 * (infra/multi-account.ts, infra/home-region.ts) on the functions this construct exposes.
 */
export interface AcquisitionWorkflowProps {
  readonly config: ForensicsConfig;
  readonly environment: LambdaEnvironment;
  readonly evidenceKey: kms.IKey;
  readonly evidenceBucket: s3.IBucket;
  readonly caseTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly workstation: ForensicWorkstation;
}

export class AcquisitionWorkflow extends Construct {
  readonly functions: Record<AcquisitionStep, ForensicFunction>;
  readonly machine: AcquisitionStateMachine;

  constructor(scope: Construct, id: string, props: AcquisitionWorkflowProps) {
    super(scope, id);
    const { config, environment } = props;
    this.functions = Object.fromEntries(
      ACQUISITION_STEP_NAMES.map((step) => [
        step,
        new ForensicFunction(this, `${pascal(step)}Step`, {
          step,
          // Only the workstation step learns the forensic VPC (handlers/config/workstation-env.ts).
          environment: step === 'launchWorkstation' ? { ...environment, ...props.workstation.environment() } : environment,
          logKey: props.evidenceKey,
          timeout: Duration.seconds(ACQUISITION_STEPS[step].timeoutSeconds),
          // Multi-account: exact role names, which the responder roles' trust policies name.
          roleName: stepRoleName(config, step),
        }),
      ]),
    ) as Record<AcquisitionStep, ForensicFunction>;
    this.grantStepPermissions(props);

    this.machine = new AcquisitionStateMachine(this, 'Acquisition', {
      functions: Object.fromEntries(
        ACQUISITION_STEP_NAMES.map((step): [AcquisitionStep, IFunction] => [step, this.functions[step].function]),
      ) as Record<AcquisitionStep, IFunction>,
      maxWaitMinutes: config.maxWaitMinutes,
      logKey: props.evidenceKey,
      logRetention: logs.RetentionDays.ONE_YEAR,
    });
    this.acknowledgeStateMachineRole();
  }

  /** Per-step least privilege (docs/permissions.md has the same table, and a test keeps them equal). */
  private grantStepPermissions(props: AcquisitionWorkflowProps): void {
    const f = this.functions;
    const stack = Stack.of(this);
    const tagPrefix = props.config.tagPrefix;
    // What a step does on the instance, it may do in every workload region (infra/regional-permissions.ts);
    // the workstation's permissions stay in the home region (allowOnHome), where the forensic VPC is.
    const allowOn = regionalAllowOn(this, props.config.workloadRegions ?? []);
    const ec2Service = `ec2.${stack.region}.amazonaws.com`;
    const ec2 = (resource: string): string =>
      stack.formatArn({ service: 'ec2', resource, resourceName: '*' });
    // Snapshot ARNs carry no account id.
    const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
    const anyKeyInAccount = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    const roleTag = `aws:ResourceTag/${tagPrefix}:role`;
    // Only the product's own keys, never one that authorizes a later call (infra/constructs/tag-protection.ts).
    const ourTagKeysOnly = freeTaggingCondition(tagPrefix);

    // Building blocks shared by several steps (and by the release workflow).
    const { caseTable, custody, publish } = caseStoreGrants(
      stack,
      f,
      { evidenceKey: props.evidenceKey, evidenceBucket: props.evidenceBucket, caseTable: props.caseTable, topic: props.topic },
      'records',
    );

    // ── triage ──
    caseTable(
      'triage',
      ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'Opens the case with TransactWriteItems (PutItem of the case + conditional PutItem of the instance lock, ' +
        'ConditionCheckItem); GetItem/UpdateItem append a finding to an already open case.',
    );

    // ── triage, describing the instance: read-only, and these APIs support no resource-level permissions. ──
    allowOn(f.triage.role, {
      sid: 'DescribeInstanceReadOnly',
      why: 'DescribeInstances/InstanceAttribute/Volumes/SecurityGroups/IamInstanceProfileAssociations, ' +
        'DescribeAutoScalingInstances and DescribeTargetGroups record the pre-incident state (target health is read by ' +
        'Preserve and snapshot). ' +
        'Read-only, and these actions support no resource-level permissions (Resource "*").',
      actions: [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceAttribute',
        'ec2:DescribeVolumes',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeIamInstanceProfileAssociations',
        'autoscaling:DescribeAutoScalingInstances',
        'elasticloadbalancing:DescribeTargetGroups',
      ],
      resources: ['*'],
    });

    // ── preserveAndSnapshot ──
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveCreateSnapshots',
      why: 'CreateSnapshots: one crash-consistent call for every EBS volume of the instance (authorised on the ' +
        'instance, its volumes and the new snapshots, in this account and region).',
      actions: ['ec2:CreateSnapshots'],
      resources: [ec2('instance'), ec2('volume'), snapshots],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveTagSnapshotsAtCreation',
      why: 'CreateSnapshots TagSpecifications (case id, finding id, source volume, device): tagging allowed only ' +
        'as part of that CreateSnapshots call, and never with a key that authorizes later calls (an original ' +
        `snapshot is not an evidence copy: "${tagPrefix}:evidence" is set only by CopySnapshot).`,
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: creationTaggingWithoutAuthorizingKeys(tagPrefix, 'CreateSnapshots'),
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveTagInstance',
      why: `CreateTags on the instance with the case id; only tag keys under "${tagPrefix}:" so the step cannot ` +
        'rewrite the instance\'s own tags, and none that authorizes (tag-protection.ts).',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance')],
      conditions: ourTagKeysOnly,
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveInstanceAttributes',
      why: 'ModifyInstanceAttribute: termination protection on, shutdown behaviour = stop, ' +
        'DeleteOnTermination=false on every attached volume (block device mapping).',
      actions: ['ec2:ModifyInstanceAttribute'],
      resources: [ec2('instance'), ec2('volume')],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveInstanceStoreLookup',
      why: 'DescribeInstanceTypes: whether the instance type has instance store (recorded as not acquirable), ' +
        'asked beside CreateSnapshots. Read-only, and this action supports no resource-level permissions (Resource "*").',
      actions: ['ec2:DescribeInstanceTypes'],
      resources: ['*'],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveFlowLogLookup',
      why: 'DescribeFlowLogs: the flow logs of the instance\'s ENIs, subnets and VPCs, asked beside CreateSnapshots ' +
        'for Scope the incident (which copies their records, and so needs no EC2 client). Read-only, and this action ' +
        'supports no resource-level permissions (Resource "*").',
      actions: ['ec2:DescribeFlowLogs'],
      resources: ['*'],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveLeaveAutoScalingGroup',
      why: 'EnterStandby or DetachInstances: take the instance out of its Auto Scaling group before isolation, ' +
        'or failing health checks make the group terminate the evidence.',
      actions: ['autoscaling:EnterStandby', 'autoscaling:DetachInstances'],
      resources: [
        stack.formatArn({
          service: 'autoscaling',
          resource: 'autoScalingGroup',
          resourceName: '*:autoScalingGroupName/*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveDeregisterTargets',
      why: 'DeregisterTargets: remove the instance from its load balancer target groups before isolation.',
      actions: ['elasticloadbalancing:DeregisterTargets'],
      resources: [stack.formatArn({ service: 'elasticloadbalancing', resource: 'targetgroup', resourceName: '*/*' })],
    });
    allowOn(f.preserveAndSnapshot.role, {
      sid: 'PreserveTargetRegistrations',
      why: 'DescribeTargetHealth: the instance\'s registrations in the target groups of its VPCs, read beside ' +
        'CreateSnapshots (the describe leaves them to this step) and deregistered. Read-only, and this action ' +
        'supports no resource-level permissions (Resource "*").',
      actions: ['elasticloadbalancing:DescribeTargetHealth'],
      resources: ['*'],
    });

    // ── isolateNetwork ──
    allowOn(f.isolateNetwork.role, {
      sid: 'IsolateReadBackPreservation',
      why: 'DescribeInstanceAttribute (termination protection, shutdown behaviour) and DescribeInstances ' +
        '(DeleteOnTermination of each device) read back, right after containment, what Preserve and snapshot set. ' +
        'Read-only, and these actions support no resource-level permissions (Resource "*").',
      actions: ['ec2:DescribeInstanceAttribute', 'ec2:DescribeInstances'],
      resources: ['*'],
    });
    // The isolation groups: made ready by Preserve and snapshot beside CreateSnapshots when the describe step found
    // none in the VPC (the first case there), else by Isolate network; both roles get the same narrow rights.
    for (const [role, prefix] of [[f.isolateNetwork.role, 'Isolate'], [f.preserveAndSnapshot.role, 'PreserveIsolation']] as const) {
      allowOn(role, {
        sid: `${prefix}CreateTaggedGroup`,
        why: `CreateSecurityGroup for the transition and isolation groups; only groups created with the ` +
          `"${tagPrefix}:role" tag, so the later rule changes can be confined to this product's groups.`,
        actions: ['ec2:CreateSecurityGroup'],
        resources: [ec2('security-group')],
        conditions: { Null: { [`aws:RequestTag/${tagPrefix}:role`]: 'false' } },
      });
      allowOn(role, {
        sid: `${prefix}CreateGroupInVpc`,
        why: 'CreateSecurityGroup is also authorised on the VPC the group is created in (the instance\'s VPC).',
        actions: ['ec2:CreateSecurityGroup'],
        resources: [ec2('vpc')],
      });
      allowOn(role, {
        sid: `${prefix}TagGroupsAtCreation`,
        why: 'CreateSecurityGroup TagSpecifications: tagging allowed only as part of creating the group.',
        actions: ['ec2:CreateTags'],
        resources: [ec2('security-group')],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      });
      allowOn(role, {
        sid: `${prefix}RulesOnOwnGroups`,
        why: 'AuthorizeSecurityGroupIngress/Egress (all-traffic transition group) and RevokeSecurityGroupIngress/' +
          'Egress (the isolation group keeps no rule, also when an existing group is reused): only on groups ' +
          'carrying this product\'s role tag.',
        actions: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        resources: [ec2('security-group')],
        conditions: { Null: { [roleTag]: 'false' } },
      });
      allowOn(role, {
        sid: `${prefix}FindGroups`,
        why: 'DescribeSecurityGroups finds existing isolation groups per VPC (read-only; no resource-level permissions).',
        actions: ['ec2:DescribeSecurityGroups'],
        resources: ['*'],
      });
    }
    allowOn(f.isolateNetwork.role, {
      sid: 'IsolateSwapInterfaceGroups',
      why: 'ModifyNetworkInterfaceAttribute on every ENI of the instance (authorised on the ENI, its instance, VPC ' +
        'and the groups assigned): first the transition group, then the isolation group. Not limited to tagged ' +
        'groups: if isolation fails after the all-traffic transition group, the step puts the ENI back into its ' +
        'original groups rather than leave it wide open.',
      actions: ['ec2:ModifyNetworkInterfaceAttribute'],
      resources: [ec2('network-interface'), ec2('instance'), ec2('vpc'), ec2('security-group')],
    });
    // Credential containment (handlers/use-cases/revoke-credentials.ts), right after the network.
    const iamArn = (resource: string) => stack.formatArn({ service: 'iam', region: '', resource, resourceName: '*' });
    allowOn(f.isolateNetwork.role, {
      sid: 'RevokeFindInstanceRole',
      why: 'GetInstanceProfile resolves the role of the instance\'s profile (read-only). Instance profile names are ' +
        'only known at run time, so any profile of this account.',
      actions: ['iam:GetInstanceProfile'],
      resources: [iamArn('instance-profile')],
    });
    allowOn(f.isolateNetwork.role, {
      sid: 'RevokeDenyPolicyOnInstanceRole',
      why: 'GetRolePolicy records whether the case\'s deny policy already existed (previous state); PutRolePolicy ' +
        'attaches the inline deny-all policy "forensics-deny-<caseId>" conditioned on ec2:SourceInstanceARN. The ' +
        'compromised instance\'s role is only known at run time, so any role of this account; IAM has no condition ' +
        'key for an inline policy\'s name, and AWS itself refuses inline policies on service-linked roles. This ' +
        'function\'s own role is excluded by the explicit deny RevokeNotOnOwnRole.',
      actions: ['iam:GetRolePolicy', 'iam:PutRolePolicy'],
      resources: [iamArn('role')],
    });
    allowOn(f.isolateNetwork.role, {
      sid: 'RevokeTagContainedRole',
      why: `TagRole marks the contained role with "${containedTagKey(tagPrefix)}" (the case id): release may delete deny ` +
        'policies only on roles carrying it. Only that key; only this step may set it (release may only remove it).',
      actions: ['iam:TagRole'],
      resources: [iamArn('role')],
      conditions: containedTagOnlyCondition(tagPrefix),
    });
    allowOn(f.isolateNetwork.role, {
      sid: 'RevokeReadRoleTags',
      why: `ListRoleTags records the role's previous "${containedTagKey(tagPrefix)}" value (read-only).`,
      actions: ['iam:ListRoleTags'],
      resources: [iamArn('role')],
    });
    f.isolateNetwork.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RevokeNotOnOwnRole',
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:TagRole', 'iam:UntagRole'],
        resources: [f.isolateNetwork.role.roleArn],
      }),
    );
    // "Isolate network" writes nothing to the case or the evidence bucket: "Record containment" does.

    // ── recordContainment ──
    caseTable('recordContainment', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem/UpdateItem record the containment applied and move the custody chain head.');
    custody('recordContainment', 'Custody records of the path to containment, then the raw finding and the pre-incident state.');

    // ── checkSnapshots ──
    allowOn(f.checkSnapshots.role, {
      sid: 'CheckSnapshotsDescribe',
      why: 'DescribeSnapshots polls progress and state (read-only; no resource-level permissions).',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    });
    allowOn(f.checkSnapshots.role, {
      sid: 'CheckSnapshotsTag',
      why: `CreateTags marks each snapshot's source volume and device; only tag keys under "${tagPrefix}:", none ` +
        'that authorizes (an original snapshot can never be made to look like an evidence copy).',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: ourTagKeysOnly,
    });

    // ── copyEvidence ──
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceCopySnapshot',
      why: 'CopySnapshot re-encrypts each completed snapshot with the evidence key into an IR-owned snapshot.',
      actions: ['ec2:CopySnapshot'],
      resources: [snapshots],
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceFindEarlierCopies',
      why: 'DescribeSnapshots (own snapshots, by case tags) finds copies made by an earlier attempt, so a retry ' +
        'does not copy twice (read-only; no resource-level permissions).',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceTagCopiesAtCreation',
      why: 'CopySnapshot TagSpecifications: tagging allowed only as part of the copy.',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceUseEvidenceKeyViaEc2',
      why: 'CopySnapshot with KmsKeyId = evidence key: EBS encrypts the copy with it as the caller, through EC2 only.',
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:DescribeKey',
      ],
      resources: [props.evidenceKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': ec2Service } },
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceGrantEvidenceKeyToEbs',
      why: 'CopySnapshot: EBS creates a grant on the evidence key for the copy; only grants for AWS resources.',
      actions: ['kms:CreateGrant'],
      resources: [props.evidenceKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': ec2Service },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      },
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceReadSourceKeysViaEc2',
      why: 'CopySnapshot of a source snapshot encrypted with another key of this account (aws/ebs or a customer ' +
        'key): EBS decrypts it as the caller. Any key, because the compromised volume\'s key is not known in ' +
        'advance; only through EC2 in this region.',
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom'],
      resources: [anyKeyInAccount],
      conditions: { StringEquals: { 'kms:ViaService': ec2Service } },
    });
    allowOn(f.copyEvidence.role, {
      sid: 'CopyEvidenceGrantSourceKeysToEbs',
      why: 'CopySnapshot: EBS creates a grant on the source snapshot\'s key; only grants for AWS resources, via EC2.',
      actions: ['kms:CreateGrant'],
      resources: [anyKeyInAccount],
      conditions: {
        StringEquals: { 'kms:ViaService': ec2Service },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      },
    });

    // ── checkEvidenceCopies ──
    allowOn(f.checkEvidenceCopies.role, {
      sid: 'CheckEvidenceCopiesDescribe',
      why: 'DescribeSnapshots checks each copy\'s State/StateMessage (read-only; no resource-level permissions).',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    });

    // ── sealEvidence, closeCase ──
    caseTable('sealEvidence', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem reads the case; UpdateItem records the manifest.');
    custody('sealEvidence', 'Raw findings, pre-incident state, manifest and custody records.');
    caseTable('closeCase', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem reads the case; UpdateItem sets it CONTAINED.');
    custody('closeCase', 'The closing custody record.');

    // ── launchWorkstation (after sealing; infra/constructs/forensic-workstation.ts lists its EC2/KMS/IAM calls) ──
    caseTable('launchWorkstation', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem reads the case; UpdateItem records the workstation and indexes its record object.');
    custody('launchWorkstation', 'The workstation record (workstation-<instanceId>.json) and its custody records.');
    for (const p of props.workstation.launchPermissions(props.evidenceKey.keyArn, tagPrefix)) allowOnHome(f.launchWorkstation.role, p);

    // ── notify ──
    publish('notify', 'Publish the case summary (or what failed) to the responders.');
    caseTable('notify', ['dynamodb:GetItem'], 'GetItem reads the case for the notification.');

    // ── recordFailure ──
    caseTable(
      'recordFailure',
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      'GetItem/UpdateItem record the failure in the case; DeleteItem releases the instance lock when nothing ' +
        'was changed on the instance, so a later finding can acquire it.',
    );
    custody('recordFailure', 'The failure custody record (what failed, what was already secured), and the raw finding and pre-incident state if still missing.');
    publish('recordFailure', 'Publish the failure to the responders.');

    // ── scopeIncident: infra/scope-permissions.ts ──
    grantScopePermissions(stack, f.scopeIncident, {
      config: props.config,
      allowOn,
      allowOnHome: (role, statement) => allowOnHome(role, statement),
      caseTable: (actions, why) => caseTable('scopeIncident', actions, why),
      custody: (why) => custody('scopeIncident', why),
    });

    // ── memory capture: infra/memory-permissions.ts ──
    grantMemoryPermissions(stack, { plan: f.preserveAndSnapshot, start: f.startMemoryCapture, advance: f.checkSnapshots, failure: f.recordFailure }, {
      tagPrefix,
      allowOn,
      evidenceKeyArn: props.evidenceKey.keyArn,
      custody: (step, why) => custody(step, why),
    });
    caseTable('checkSnapshots', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem/UpdateItem move the custody chain head for the memory capture\'s records.');

    // Every role that can tag EC2 resources: no authorizing key outside the call that creates the resource.
    for (const step of ['preserveAndSnapshot', 'isolateNetwork', 'startMemoryCapture', 'checkSnapshots', 'copyEvidence', 'checkEvidenceCopies', 'launchWorkstation'] as const) {
      f[step].addToRolePolicy(denyAuthorizingTagsAfterCreation(tagPrefix));
    }
  }

  /** The wildcards CDK itself puts in the state machine's and the functions' roles, each with its reason. */
  private acknowledgeStateMachineRole(): void {
    acknowledgeWorkflowWildcards(
      this.machine.stateMachine.role,
      Object.values(this.functions).map((fn) => ({ role: fn.role, function: fn.function, stateName: ACQUISITION_STEPS[fn.step].state })),
      'acquisition',
    );
  }
}
