import { ArnFormat, BootstraplessSynthesizer, CfnOutput, CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type ForensicsConfig, multiAccountOf } from './config';
import { allowOn } from './constructs/step-permissions';
import { RELEASE_RESPONDER_STEPS, RESPONDER_STEPS, workflowRoleNames } from './multi-account';
import { SCOPE_POLICY_READ_ACTIONS, SCOPE_READ_ACTIONS, scopePolicyReadResources } from './scope-permissions';
import { memoryStatements } from './memory-permissions';
import {
  containedTagKey,
  containedTagOnlyCondition,
  creationTaggingWithoutAuthorizingKeys,
  denyAuthorizingTagsAfterCreation,
  freeTaggingCondition,
  workflowSessionTagKey,
} from './constructs/tag-protection';

/**
 * The responder stack, deployed in every workload account (`cdk deploy ResponderStack` per account, or its
 * synthesized template as a CloudFormation StackSet across an organisation: no assets, no bootstrap dependency,
 * everything account-specific is a parameter).
 *
 * One role, `forensics:responderRoleName`, that only the IR account's acquisition step roles and its release step
 * role ("Release containment") may assume:
 * - trust: the IR account as principal, with `aws:PrincipalArn` equal to one of the exact step role ARNs
 *   (`arn:<partition>:iam::<IrAccountId>:role/<IrStackName>-<step>`) and `sts:ExternalId`; in organisation mode
 *   (`forensics:organizationId` set when synthesizing) also `aws:PrincipalOrgID` = the `OrganizationId` parameter,
 *   and the external id becomes optional (`forensics:responderExternalId` = "" drops it). Naming the account and
 *   pinning the ARN by condition (rather than naming the roles as principals) keeps the trust exact and also keeps it
 *   working if an IR role is re-created (a role principal would silently become a dead unique id);
 * - permissions: exactly the calls the workflow makes on an instance in this account, scoped to the workload
 *   regions (`aws:RequestedRegion`), to this product's tags and to KMS use through EC2 (docs/permissions.md,
 *   "Responder role").
 */
export interface ResponderStackProps extends StackProps {
  readonly config: ForensicsConfig;
}

export const RESPONDER_STACK_NAME = 'ForensicsResponder';

export class ResponderStack extends Stack {
  readonly role: iam.Role;
  readonly irAccountId: CfnParameter;
  /** Absent only in organisation mode with `forensics:responderExternalId` = "" (no external id). */
  readonly externalId?: CfnParameter;
  /** Organisation mode only (`forensics:organizationId` set when synthesizing): the trust requires aws:PrincipalOrgID. */
  readonly organizationId?: CfnParameter;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    // No assets and no bootstrap version rule: the template must deploy as a StackSet instance as it is.
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), ...props });
    const config = props.config;
    const m = multiAccountOf(config);
    const prefix = config.tagPrefix;

    this.irAccountId = new CfnParameter(this, 'IrAccountId', {
      type: 'String',
      allowedPattern: '^\\d{12}$',
      description: 'The incident-response account (where the IR stack and its state machine run)',
      ...(m.irAccountId ? { default: m.irAccountId } : {}),
    });
    const irStackName = new CfnParameter(this, 'IrStackName', {
      type: 'String',
      allowedPattern: '^[A-Za-z][A-Za-z0-9-]{0,44}$',
      default: config.stackName,
      description: 'forensics:stackName of the IR stack: its step roles are named <IrStackName>-<step>',
    });
    // Organisation mode may go without an external id (forensics:responderExternalId = "", config.ts): then no
    // ExternalId parameter and no sts:ExternalId condition; the trust rests on the exact ARNs and the organisation.
    if (m.responderExternalId) {
      this.externalId = new CfnParameter(this, 'ExternalId', {
        type: 'String',
        minLength: 2,
        maxLength: 1224,
        allowedPattern: '^[\\w+=,.@:/-]+$',
        default: m.responderExternalId,
        description: 'sts:ExternalId the IR workflow presents (forensics:responderExternalId)',
      });
    }
    // Organisation mode is chosen when synthesizing (forensics:organizationId, the same setting as the IR stack's), so
    // the template's trust has no Fn::If; the id is a parameter defaulting to that setting.
    if (m.organizationId) {
      this.organizationId = new CfnParameter(this, 'OrganizationId', {
        type: 'String',
        allowedPattern: '^o-[a-z0-9]{10,32}$',
        default: m.organizationId,
        description: 'AWS Organizations id: the IR workflow roles must belong to this organisation (aws:PrincipalOrgID)',
      });
    }
    const evidenceKeyArn = new CfnParameter(this, 'EvidenceKeyArn', {
      type: 'String',
      allowedPattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[a-zA-Z0-9-]+$',
      description: 'The IR stack\'s EvidenceKeyArn output: copies in this account are re-encrypted with it',
    });
    const regions = new CfnParameter(this, 'WorkloadRegions', {
      type: 'CommaDelimitedList',
      description: 'Regions where this account\'s instances run; the role acts only there',
      ...(m.workloadRegions.length > 0 ? { default: m.workloadRegions.join(',') } : {}),
    });

    // arn:<partition>:iam::<IrAccountId>:role/<IrStackName>-<step>: the six acquisition steps acting on instances and
    // "Release containment" (infra/multi-account.ts, workflowRoleNames).
    const roleArns = workflowRoleNames('').map((suffix) =>
      Fn.join('', ['arn:', this.partition, ':iam::', this.irAccountId.valueAsString, ':role/', irStackName.valueAsString, suffix]),
    );

    this.role = new iam.Role(this, 'ResponderRole', {
      roleName: m.responderRoleName,
      description: 'Forensic acquisition: assumed only by the IR account\'s workflow step roles (session = case id)',
      assumedBy: new iam.AccountPrincipal(this.irAccountId.valueAsString).withConditions({
        ...(this.externalId || this.organizationId
          ? {
              StringEquals: {
                ...(this.externalId ? { 'sts:ExternalId': this.externalId.valueAsString } : {}),
                ...(this.organizationId ? { 'aws:PrincipalOrgID': this.organizationId.valueAsString } : {}),
              },
            }
          : {}),
        ArnEquals: { 'aws:PrincipalArn': roleArns },
      }),
    });

    // Session tag <prefix>:workflow: which workflow a session serves, set by the IR role that assumes this one and
    // bound to it here, so the containment calls (acquisition) and the release calls (release) are never held by the
    // same session: a release session cannot tag a role as contained, an acquisition session cannot delete a policy.
    const workflowTag = workflowSessionTagKey(prefix);
    const arnOf = (suffix: string) =>
      Fn.join('', ['arn:', this.partition, ':iam::', this.irAccountId.valueAsString, ':role/', irStackName.valueAsString, suffix]);
    const tagSession = (sid: string, suffixes: string[], workflow: string) =>
      this.role.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          sid,
          actions: ['sts:TagSession'],
          principals: [new iam.AccountPrincipal(this.irAccountId.valueAsString)],
          conditions: {
            ArnEquals: { 'aws:PrincipalArn': suffixes.map(arnOf) },
            StringEquals: {
              [`aws:RequestTag/${workflowTag}`]: workflow,
              ...(this.organizationId ? { 'aws:PrincipalOrgID': this.organizationId.valueAsString } : {}),
            },
            'ForAllValues:StringEquals': { 'aws:TagKeys': [workflowTag] },
          },
        }),
      );
    tagSession('AcquisitionSessionsTagged', Object.values(RESPONDER_STEPS).map((s) => `-${s}`), 'acquisition');
    tagSession('ReleaseSessionsTagged', Object.values(RELEASE_RESPONDER_STEPS).map((s) => `-${s}`), 'release');
    const asWorkflow = (workflow: 'acquisition' | 'release') => ({ [`aws:PrincipalTag/${workflowTag}`]: workflow });

    const inRegions = { 'aws:RequestedRegion': regions.valueAsList };
    const ec2 = (resource: string) => this.formatArn({ service: 'ec2', region: '*', resource, resourceName: '*' });
    const snapshots = this.formatArn({ service: 'ec2', region: '*', account: '', resource: 'snapshot', resourceName: '*' });
    // Only the product's own keys, never one that authorizes a later call (infra/constructs/tag-protection.ts).
    const ourTagKeysOnly = freeTaggingCondition(prefix);
    // ["ec2.<region>.amazonaws.com", ...] for every workload region.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
    const ec2Services = Fn.split(',', Fn.sub('ec2.${Regions}.amazonaws.com', { Regions: Fn.join('.amazonaws.com,ec2.', regions.valueAsList) }));
    const iamArn = (resource: string) => this.formatArn({ service: 'iam', region: '', resource, resourceName: '*' });
    // Outside the home region the copy is re-encrypted with the evidence key's multi-Region replica there:
    // same IR account and key id, that region (infra/regional-stack.ts). Only with a multi-Region evidence key.
    const evidenceKeys = config.evidenceKeyMultiRegion
      ? [
          evidenceKeyArn.valueAsString,
          Fn.join('', [
            'arn:', this.partition, ':kms:*:',
            Fn.select(4, Fn.split(':', evidenceKeyArn.valueAsString)), ':key/',
            Fn.select(1, Fn.split('/', evidenceKeyArn.valueAsString)),
          ]),
        ]
      : [evidenceKeyArn.valueAsString];

    const allow = (sid: string, why: string, actions: string[], resources: string[], conditions: Record<string, Record<string, unknown>> = {}) =>
      allowOn(this.role, {
        sid,
        why,
        actions,
        resources,
        conditions: { ...conditions, StringEquals: { ...(conditions.StringEquals ?? {}), ...inRegions } },
      });

    allow(
      'DescribeReadOnly',
      'Describe the instance, its ENIs, volumes, groups, profile, ASG and target groups and the ENIs\' flow logs, and poll snapshots: ' +
        'read-only, and these actions support no resource-level permissions.',
      [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceAttribute',
        'ec2:DescribeVolumes',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeIamInstanceProfileAssociations',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeSnapshots',
        'ec2:DescribeFlowLogs',
        'autoscaling:DescribeAutoScalingInstances',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
      ],
      ['*'],
    );
    allow('CreateSnapshots', 'One crash-consistent CreateSnapshots of every EBS volume of the instance.', ['ec2:CreateSnapshots'], [
      ec2('instance'),
      ec2('volume'),
      snapshots,
    ]);
    allow(
      'TagSnapshotsAtCreation',
      'Case tags on new snapshots, only as part of CreateSnapshots, and no key that authorizes later calls (an original ' +
        `snapshot is never an "${prefix}:evidence" copy).`,
      ['ec2:CreateTags'],
      [snapshots],
      creationTaggingWithoutAuthorizingKeys(prefix, 'CreateSnapshots'),
    );
    allow(
      'TagCopiesAtCreation',
      `Case tags and "${prefix}:evidence=intermediate" on the intermediate copy, only as part of CopySnapshot: the ` +
        'only way a snapshot gets the tag that ShareIntermediateCopyWithIrAccount and RemoveIntermediateCopy require.',
      ['ec2:CreateTags'],
      [snapshots],
      { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
    );
    allow(
      'TagWithOwnKeys',
      `Case tag on the instance and source-volume tags on snapshots: only keys under "${prefix}:", none that authorizes.`,
      ['ec2:CreateTags'],
      [ec2('instance'), snapshots],
      ourTagKeysOnly,
    );
    this.role.addToPrincipalPolicy(denyAuthorizingTagsAfterCreation(prefix));
    allow(
      'PreserveInstance',
      'Termination protection on, shutdown behaviour = stop, DeleteOnTermination=false on every volume.',
      ['ec2:ModifyInstanceAttribute'],
      [ec2('instance'), ec2('volume')],
    );
    allow(
      'LeaveAutoScalingGroup',
      'EnterStandby/DetachInstances before isolation, or health checks make the group terminate the evidence.',
      ['autoscaling:EnterStandby', 'autoscaling:DetachInstances'],
      [this.formatArn({ service: 'autoscaling', region: '*', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    );
    allow('DeregisterTargets', 'Remove the instance from its target groups before isolation.', ['elasticloadbalancing:DeregisterTargets'], [
      this.formatArn({ service: 'elasticloadbalancing', region: '*', resource: 'targetgroup', resourceName: '*/*' }),
    ]);
    // Release (the IR release workflow's "Release containment" step, through this role): the inverse of the two above.
    allow(
      'ReleaseExitStandby',
      'Release: ExitStandby returns the instance to the Auto Scaling group acquisition put it in standby in.',
      ['autoscaling:ExitStandby'],
      [this.formatArn({ service: 'autoscaling', region: '*', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    );
    allow(
      'ReleaseRegisterTargets',
      'Release: RegisterTargets registers the instance again, with its recorded ports, in the target groups acquisition deregistered it from.',
      ['elasticloadbalancing:RegisterTargets'],
      [this.formatArn({ service: 'elasticloadbalancing', region: '*', resource: 'targetgroup', resourceName: '*/*' })],
    );
    allow(
      'CreateTaggedIsolationGroups',
      `Transition and isolation groups, only created with the "${prefix}:role" tag.`,
      ['ec2:CreateSecurityGroup'],
      [ec2('security-group')],
      { Null: { [`aws:RequestTag/${prefix}:role`]: 'false' } },
    );
    allow('CreateGroupInVpc', 'CreateSecurityGroup is also authorised on the instance\'s VPC.', ['ec2:CreateSecurityGroup'], [ec2('vpc')]);
    allow(
      'TagGroupsAtCreation',
      'Tags on the groups, only as part of CreateSecurityGroup.',
      ['ec2:CreateTags'],
      [ec2('security-group')],
      { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
    );
    allow(
      'RulesOnOwnGroups',
      'All-traffic rules on the transition group, none on the isolation group: only groups with this product\'s role tag.',
      ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
      [ec2('security-group')],
      { Null: { [`aws:ResourceTag/${prefix}:role`]: 'false' } },
    );
    allow(
      'SwapInterfaceGroups',
      'ModifyNetworkInterfaceAttribute on every ENI: transition group, then isolation group (or back, on failure); ' +
        'at release, the recorded original groups again.',
      ['ec2:ModifyNetworkInterfaceAttribute'],
      [ec2('network-interface'), ec2('instance'), ec2('vpc'), ec2('security-group')],
    );
    allow(
      'CopySnapshotWithEvidenceKey',
      'CopySnapshot of each original snapshot, re-encrypted with the IR evidence key (intermediate copy).',
      ['ec2:CopySnapshot'],
      [snapshots],
    );
    allow(
      'ShareIntermediateCopyWithIrAccount',
      `ModifySnapshotAttribute createVolumePermission: only on this workflow's intermediate copies ` +
        `(${prefix}:evidence=intermediate) and only adding the IR account.`,
      ['ec2:ModifySnapshotAttribute'],
      [snapshots],
      { StringEquals: { [`aws:ResourceTag/${prefix}:evidence`]: 'intermediate', 'ec2:Add/userId': this.irAccountId.valueAsString } },
    );
    // Only with forensics:removeIntermediateCopies: otherwise the template holds no snapshot deletion at all.
    if (m.removeIntermediateCopies) {
      allow(
        'RemoveIntermediateCopy',
        `DeleteSnapshot only of this workflow's intermediate copies (${prefix}:evidence=intermediate, a tag only ` +
          'CopySnapshot can set), after the IR copy completed (forensics:removeIntermediateCopies).',
        ['ec2:DeleteSnapshot'],
        [snapshots],
        { StringEquals: { [`aws:ResourceTag/${prefix}:evidence`]: 'intermediate' } },
      );
    }
    allow(
      'UseEvidenceKeyViaEc2',
      'The IR evidence key (other account), or its replica in this region, for the copy: through EC2 only (the key ' +
        'policies say the same).',
      ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      evidenceKeys,
      { StringEquals: { 'kms:ViaService': ec2Services } },
    );
    allow(
      'GrantEvidenceKeyToEbs',
      'EBS creates a grant on the evidence key (or its replica) for the copy: only grants for AWS resources, through EC2.',
      ['kms:CreateGrant'],
      evidenceKeys,
      { StringEquals: { 'kms:ViaService': ec2Services }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    );
    allow(
      'ReadSourceKeysViaEc2',
      'Original snapshots encrypted with a customer key of this account: EBS decrypts them as the caller. Any key ' +
        '(the compromised volume\'s key is not known in advance), only through EC2, grants only for AWS resources.',
      ['kms:Decrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom', 'kms:CreateGrant'],
      [this.formatArn({ service: 'kms', region: '*', resource: 'key', resourceName: '*' })],
      { StringEquals: { 'kms:ViaService': ec2Services }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    );
    // Memory capture (infra/memory-permissions.ts): the same statements as the IR roles, in every workload region.
    for (const { to: _to, sid, why, actions, resources, conditions } of memoryStatements({
      tagPrefix: prefix,
      arn: (service, resource, resourceName, account) =>
        this.formatArn({ service, region: '*', resource, resourceName, ...(account !== undefined ? { account } : {}) }),
      evidenceKeys,
      ec2Services,
    })) {
      // The responder role already holds some of these under its own statements; the memory ones are kept apart.
      allow(sid, why, actions, resources, conditions ?? {});
    }
    // IAM is global: its calls are made through us-east-1 (or the partition's home region), so no region condition.
    const allowGlobal = (sid: string, why: string, actions: string[], resources: string[]) =>
      allowOn(this.role, { sid, why, actions, resources });
    allowGlobal(
      'FindInstanceRole',
      'GetInstanceProfile resolves the role of the compromised instance\'s profile (read-only).',
      ['iam:GetInstanceProfile'],
      [iamArn('instance-profile')],
    );
    const roles = iamArn('role');
    // "Scope the incident": read-only, nothing here can write or delete (infra/scope-permissions.ts).
    allow('ScopeReadOnly', 'Scope the incident: LookupEvents, ListSecrets, DescribeParameters, ListKeys/ListAliases, ' +
      'ListAllMyBuckets (names and ARNs, never a value). Read-only; no resource-level permissions.', [...SCOPE_READ_ACTIONS], ['*']);
    allow('ScopeFlowLogRecords', 'Scope the incident: FilterLogEvents of a flow log\'s group (the ENI streams over the window), read-only.', ['logs:FilterLogEvents'], [
      this.formatArn({ service: 'logs', region: '*', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    ]);
    allow('ScopeReadResourcePolicies', 'Scope the incident: GetResourcePolicy, GetKeyPolicy, GetBucketPolicy of the rotate list\'s items (read-only; the inventory names them at run time).', [
      ...SCOPE_POLICY_READ_ACTIONS,
    ], scopePolicyReadResources(this, '*'));
    allowGlobal('ScopeSimulateInstanceRole', 'Scope the incident: SimulatePrincipalPolicy of the instance\'s role (what it could read), read-only.', ['iam:SimulatePrincipalPolicy'], [roles]);
    const contained = containedTagKey(prefix);
    const allowAs = (sid: string, why: string, workflow: 'acquisition' | 'release', actions: string[], conditions: Record<string, Record<string, unknown>> = {}) =>
      allowOn(this.role, { sid, why, actions, resources: [roles], conditions: { ...conditions, StringEquals: { ...(conditions.StringEquals ?? {}), ...asWorkflow(workflow) } } });
    allowAs(
      'DenyPolicyOnInstanceRole',
      'Acquisition sessions only: GetRolePolicy/PutRolePolicy, the inline deny policy conditioned on ' +
        'ec2:SourceInstanceARN on the instance\'s role (known only at run time).',
      'acquisition',
      ['iam:GetRolePolicy', 'iam:PutRolePolicy'],
    );
    allowAs(
      'TagContainedRole',
      `Acquisition sessions only: TagRole "${contained}" on the role just contained; that key only.`,
      'acquisition',
      ['iam:TagRole'],
      containedTagOnlyCondition(prefix),
    );
    allowGlobal('ReadRoleTagsAndPolicies', 'ListRoleTags (previous containment tag) and ListRolePolicies (other cases\' deny policies): read-only.', [
      'iam:ListRoleTags',
      'iam:ListRolePolicies',
    ], [roles]);
    allowAs(
      'ReleaseDeleteDenyPolicy',
      `Release sessions only: DeleteRolePolicy of the case's deny policy, only on roles tagged "${contained}" (which ` +
        'only acquisition sessions set). IAM has no condition key for an inline policy\'s name.',
      'release',
      ['iam:DeleteRolePolicy'],
      { Null: { [`aws:ResourceTag/${contained}`]: 'false' } },
    );
    allowAs(
      'ReleaseUntagContainedRole',
      `Release sessions only: UntagRole "${contained}" once no deny policy of this product is left; that key only.`,
      'release',
      ['iam:UntagRole'],
      { ...containedTagOnlyCondition(prefix), Null: { 'aws:TagKeys': 'false', [`aws:ResourceTag/${contained}`]: 'false' } },
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NotOnOwnRole',
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole'],
        resources: [this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: m.responderRoleName })],
      }),
    );

    new CfnOutput(this, 'ResponderRoleArn', { value: this.role.roleArn, description: 'Responder role (assumed by the IR workflow)' });
  }
}
