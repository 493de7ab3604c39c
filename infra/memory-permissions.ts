import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CHANNEL_ROLE } from '../handlers/domain/isolation-groups';
import type { ForensicsConfig } from './config';
import type { ForensicFunction, LambdaEnvironment } from './constructs/forensic-function';
import type { StepPermission } from './constructs/step-permissions';

/**
 * Memory capture in the IR stack, kept out of ir-stack.ts: its settings as Lambda environment, and the narrow rights
 * of the three functions that make its calls (handlers/use-cases/plan-memory-capture.ts, start-memory-capture.ts,
 * advance-memory-capture.ts). In multi-account mode the same calls go through the responder role
 * (`memoryResponderStatements`, infra/responder-stack.ts).
 */

export function memoryEnvironment(config: ForensicsConfig): Pick<
  LambdaEnvironment,
  'MEMORY_CAPTURE' | 'MEMORY_TOOLS_SNAPSHOTS' | 'MEMORY_TOOL_VERSION' | 'MEMORY_TOOL_SHA256' | 'MEMORY_CAPTURE_TIMEOUT_MINUTES'
> {
  const snapshots = config.memoryToolsSnapshots ?? {};
  return {
    MEMORY_CAPTURE: String(config.memoryCapture ?? true) as 'true' | 'false',
    ...(Object.keys(snapshots).length > 0 ? { MEMORY_TOOLS_SNAPSHOTS: JSON.stringify(snapshots) } : {}),
    ...(config.memoryToolVersion ? { MEMORY_TOOL_VERSION: config.memoryToolVersion } : {}),
    ...(config.memoryToolSha256 ? { MEMORY_TOOL_SHA256: config.memoryToolSha256 } : {}),
    MEMORY_CAPTURE_TIMEOUT_MINUTES: String(config.memoryCaptureTimeoutMinutes ?? 30),
  };
}

/** Which function a statement goes to. */
export type MemoryFunction = 'plan' | 'start' | 'advance' | 'failure';

/**
 * The memory capture's statements, as the IR step roles (single account: `account` = this account) and the
 * responder role (`account` = '*': the template's own account) receive them. `arn` builds an EC2/SSM ARN in any
 * workload region.
 */
export function memoryStatements(input: {
  tagPrefix: string;
  arn: (service: 'ec2' | 'ssm', resource: string, resourceName: string, account?: string) => string;
  evidenceKeys: string[];
  ec2Services: string | string[];
}): (StepPermission & { to: MemoryFunction[] })[] {
  const { tagPrefix, arn } = input;
  const ec2 = (resource: string) => arn('ec2', resource, '*');
  const snapshots = arn('ec2', 'snapshot', '*', '');
  const roleTag = `${tagPrefix}:role`;
  const caseTag = `${tagPrefix}:case-id`;
  return [
    {
      to: ['plan'],
      sid: 'MemoryPlanReadOnly',
      why: 'DescribeVpcEndpoints (the VPC\'s ssm, ssmmessages and ec2messages endpoints and their groups), ' +
        'DescribeInstanceInformation (SSM-managed, online, Linux), DescribeSnapshots (the tools snapshot and its size): ' +
        'read beside CreateSnapshots to plan the memory capture. Read-only; no resource-level permissions.',
      actions: ['ec2:DescribeVpcEndpoints', 'ssm:DescribeInstanceInformation', 'ec2:DescribeSnapshots'],
      resources: ['*'],
    },
    {
      to: ['start'],
      sid: 'MemoryCreateChannelGroup',
      why: `CreateSecurityGroup for the acquisition channel, only with "${roleTag}" = ${CHANNEL_ROLE} at creation.`,
      actions: ['ec2:CreateSecurityGroup'],
      resources: [ec2('security-group')],
      conditions: { StringEquals: { [`aws:RequestTag/${roleTag}`]: CHANNEL_ROLE } },
    },
    {
      to: ['start'],
      sid: 'MemoryCreateChannelGroupInVpc',
      why: 'CreateSecurityGroup is also authorised on the VPC the group is created in (the instance\'s VPC).',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [ec2('vpc')],
    },
    {
      to: ['start'],
      sid: 'MemoryTagChannelGroupAtCreation',
      why: 'Tags on the channel group, only as part of CreateSecurityGroup.',
      actions: ['ec2:CreateTags'],
      resources: [ec2('security-group')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
    },
    {
      to: ['start'],
      sid: 'MemoryTagVolumeAtCreation',
      why: 'Tags on the capture volume (case id, role memory), only as part of CreateVolume.',
      actions: ['ec2:CreateTags'],
      resources: [ec2('volume')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateVolume' } },
    },
    {
      to: ['start'],
      sid: 'MemoryChannelRules',
      why: 'The channel group holds exactly egress TCP 443 to the SSM endpoints\' groups: its other rules revoked ' +
        `(the default egress rule included), only on groups tagged "${roleTag}" = ${CHANNEL_ROLE}.`,
      actions: ['ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [ec2('security-group')],
      conditions: { StringEquals: { [`aws:ResourceTag/${roleTag}`]: CHANNEL_ROLE } },
    },
    {
      to: ['start'],
      sid: 'MemoryFindChannelGroup',
      why: 'DescribeSecurityGroups finds a channel group another case created (read-only; no resource-level permissions).',
      actions: ['ec2:DescribeSecurityGroups'],
      resources: ['*'],
    },
    {
      to: ['start', 'advance', 'failure'],
      sid: 'MemoryMoveInterfaces',
      why: 'ModifyNetworkInterfaceAttribute: every ENI of the instance from the isolation group into the channel group, ' +
        'and back into the isolation group when the capture ends (authorised on the ENI, instance, VPC and groups).',
      actions: ['ec2:ModifyNetworkInterfaceAttribute'],
      resources: [ec2('network-interface'), ec2('instance'), ec2('vpc'), ec2('security-group')],
    },
    {
      to: ['start'],
      sid: 'MemoryCreateVolume',
      why: `CreateVolume of the capture volume from the tools snapshot: only created with "${caseTag}" and "${roleTag}" = memory.`,
      actions: ['ec2:CreateVolume'],
      resources: [ec2('volume')],
      conditions: { StringEquals: { [`aws:RequestTag/${roleTag}`]: 'memory' }, Null: { [`aws:RequestTag/${caseTag}`]: 'false' } },
    },
    {
      to: ['start'],
      sid: 'MemoryVolumeFromToolsSnapshot',
      why: 'CreateVolume is also authorised on the snapshot it is made from (the region\'s tools snapshot, any owner: it may be shared).',
      actions: ['ec2:CreateVolume'],
      resources: [snapshots],
    },
    {
      to: ['start', 'advance'],
      sid: 'MemoryUseEvidenceKeyViaEc2',
      why: 'The capture volume and its snapshot are encrypted with the evidence key of the region: through EC2 only.',
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      resources: input.evidenceKeys,
      conditions: { StringEquals: { 'kms:ViaService': input.ec2Services } },
    },
    {
      to: ['start', 'advance'],
      sid: 'MemoryGrantEvidenceKeyToEbs',
      why: 'EBS creates a grant on the evidence key for the encrypted capture volume (create, attach): AWS resources only, through EC2.',
      actions: ['kms:CreateGrant'],
      resources: input.evidenceKeys,
      conditions: { StringEquals: { 'kms:ViaService': input.ec2Services }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryReadVolume',
      why: 'DescribeVolumes follows the capture volume (available, attached, detached). Read-only; no resource-level permissions.',
      actions: ['ec2:DescribeVolumes'],
      resources: ['*'],
    },
    {
      to: ['advance'],
      sid: 'MemoryAttachDetachCaptureVolume',
      why: `AttachVolume/DetachVolume: only the capture volume (tagged "${roleTag}" = memory).`,
      actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
      resources: [ec2('volume')],
      conditions: { StringEquals: { [`aws:ResourceTag/${roleTag}`]: 'memory' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryAttachToCaseInstance',
      why: `AttachVolume/DetachVolume are also authorised on the instance: only one carrying a case tag ("${caseTag}", set by Preserve and snapshot).`,
      actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
      resources: [ec2('instance')],
      conditions: { Null: { [`aws:ResourceTag/${caseTag}`]: 'false' } },
    },
    {
      to: ['advance'],
      sid: 'MemorySnapshotCaptureVolume',
      why: `CreateSnapshot of the capture volume only (tagged "${roleTag}" = memory); the snapshot follows the disks' evidence chain.`,
      actions: ['ec2:CreateSnapshot'],
      resources: [ec2('volume')],
      conditions: { StringEquals: { [`aws:ResourceTag/${roleTag}`]: 'memory' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryNewSnapshot',
      why: `CreateSnapshot is also authorised on the new snapshot: only created with "${roleTag}" = memory.`,
      actions: ['ec2:CreateSnapshot'],
      resources: [snapshots],
      conditions: { StringEquals: { [`aws:RequestTag/${roleTag}`]: 'memory' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryTagSnapshotAtCreation',
      why: 'Tags on the memory snapshot, only as part of CreateSnapshot.',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryRunCommandDocument',
      why: 'SendCommand with the AWS-owned AWS-RunShellScript document only (the command text is built by the workflow).',
      actions: ['ssm:SendCommand'],
      resources: [arn('ssm', 'document', 'AWS-RunShellScript', '')],
    },
    {
      to: ['advance'],
      sid: 'MemoryRunCommandOnCaseInstance',
      why: `SendCommand is also authorised on the instance: only one carrying a case tag ("${caseTag}").`,
      actions: ['ssm:SendCommand'],
      resources: [ec2('instance')],
      conditions: { Null: { [`ssm:resourceTag/${caseTag}`]: 'false' } },
    },
    {
      to: ['advance'],
      sid: 'MemoryCommandResult',
      why: 'GetCommandInvocation reads the status and the result line; CancelCommand at the hard cap. These actions ' +
        'support no resource-level permissions (Resource "*").',
      actions: ['ssm:GetCommandInvocation', 'ssm:CancelCommand'],
      resources: ['*'],
    },
  ];
}

/** The IAM part: the full deny put back when the capture ends (the case's own policy name). */
export const MEMORY_FULL_DENY_ACTIONS = ['iam:PutRolePolicy'] as const;

/** Grants of the IR stack (single-account calls; cross-account ones go through the responder role). */
export function grantMemoryPermissions(
  stack: Stack,
  fns: { plan: ForensicFunction; start: ForensicFunction; advance: ForensicFunction; failure: ForensicFunction },
  deps: {
    tagPrefix: string;
    allowOn: (role: ForensicFunction['role'], statement: StepPermission) => void;
    evidenceKeyArn: string;
    custody: (step: 'checkSnapshots', why: string) => void;
  },
): void {
  const ec2Service = `ec2.${stack.region}.amazonaws.com`;
  for (const statement of memoryStatements({
    tagPrefix: deps.tagPrefix,
    arn: (service, resource, resourceName, account) =>
      stack.formatArn({ service, resource, resourceName, ...(account !== undefined ? { account } : {}) }),
    evidenceKeys: [deps.evidenceKeyArn],
    ec2Services: ec2Service,
  })) {
    const { to, ...permission } = statement;
    const suffix: Record<MemoryFunction, string> = { plan: '', start: '', advance: 'Poll', failure: 'OnFailure' };
    for (const target of to) deps.allowOn(fns[target].role, { ...permission, sid: `${permission.sid}${suffix[target]}` });
  }
  const roles = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' });
  for (const [fn, sid] of [[fns.start, 'MemoryFullDeny'], [fns.advance, 'MemoryFullDenyPoll'], [fns.failure, 'MemoryFullDenyOnFailure']] as const) {
    deps.allowOn(fn.role, {
      sid,
      why: 'PutRolePolicy: when the capture ends, the case\'s deny policy "forensics-deny-<caseId>" on the instance\'s role is ' +
        'replaced by the full deny (no agent exemption). The role is only known at run time; this function\'s own role ' +
        'is excluded by an explicit deny.',
      actions: [...MEMORY_FULL_DENY_ACTIONS],
      resources: [roles],
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `${sid}NotOnOwnRole`,
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
        resources: [fn.role.roleArn],
      }),
    );
  }
  // "Start memory capture" writes no evidence: its records are appended by the first poll, after the containment's.
  deps.custody('checkSnapshots', 'Custody records of the memory capture (its start included), the host SHA-256 the moment it is read.');
}
