import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { GetCommandInvocationCommand, SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2MemoryVolumeAdapter } from '../../../../handlers/adapters/ec2-memory-volume-adapter';
import { Ec2SecurityGroupAdapter } from '../../../../handlers/adapters/ec2-security-group-adapter';
import { SsmCommandAdapter } from '../../../../handlers/adapters/ssm-command-adapter';
import { MEMORY_AGENT_ACTIONS, type MemoryPlan } from '../../../../handlers/domain/memory-capture';
import { revocationPolicyDocument } from '../../../../handlers/domain/revocation-policy';
import type { AcquisitionState, AppliedDenyPolicy } from '../../../../handlers/domain/types';
import { startMemoryCapture } from '../../../../handlers/use-cases/start-memory-capture';
import { restoreFullDeny } from '../../../../handlers/use-cases/revoke-credentials';
import { CASE, REGION, VPC_ID, awsError, describeResult, tickingClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const SHA = 'd'.repeat(64);
const INSTANCE_ARN = `arn:aws:ec2:${REGION}:111122223333:instance/${CASE.target.instanceId}`;

beforeEach(() => {
  ec2.reset();
  ssm.reset();
});

const plan: Extract<MemoryPlan, { decision: 'capture' }> = {
  decision: 'capture',
  toolsSnapshotId: 'snap-0123456789abcdef0',
  tool: { name: 'avml', version: '0.14.0', sha256: SHA },
  availabilityZone: 'eu-west-1a',
  volumeSizeGiB: 10,
  memoryMiB: 8192,
  endpoints: [{ vpcId: VPC_ID, securityGroupIds: ['sg-ep1', 'sg-ep2'] }],
  platform: 'linux',
  architecture: 'x86_64',
  timeoutSeconds: 1800,
  plannedAt: '2026-01-10T10:00:00.000Z',
};

const stateWith = (memoryPlan: MemoryPlan): AcquisitionState => ({
  outcome: 'ACQUIRE',
  case: CASE,
  describe: describeResult(),
  acquisition: { snapshotRequestedAt: '2026-01-10T10:00:00.000Z', snapshots: [], preservation: [], actions: [], memoryPlan },
  containment: {
    startedAt: '2026-01-10T10:00:01.000Z',
    containedAt: '2026-01-10T10:00:02.000Z',
    groups: [{ vpcId: VPC_ID, transitionGroupId: 'sg-trans', isolationGroupId: 'sg-iso', created: false }],
    networkInterfaces: [
      { networkInterfaceId: 'eni-a', vpcId: VPC_ID, originalGroupIds: ['sg-orig'], transitionGroupId: 'sg-trans', isolationGroupId: 'sg-iso', isolatedAt: '2026-01-10T10:00:02.000Z' },
    ],
    actions: [],
  },
});

describe('the acquisition channel group: exactly egress TCP 443 to the endpoint groups', () => {
  it('a new group: the default egress rule revoked, one authorize of TCP 443 to each endpoint group, nothing inbound', async () => {
    // Prepare
    const sg = new Ec2SecurityGroupAdapter(new EC2Client({ region: REGION }));
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    // Act
    await sg.setEgressOnlyToGroups('sg-ch', 443, ['sg-ep1', 'sg-ep2']);
    // Assess
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-ch',
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: 'sg-ch', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-ep1' }, { GroupId: 'sg-ep2' }] }] },
    ]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it('an existing group is reconciled: stray rules and groups revoked, only the missing endpoint group authorised', async () => {
    // Prepare
    const sg = new Ec2SecurityGroupAdapter(new EC2Client({ region: REGION }));
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    const allV4 = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
    const https = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-ep1' }, { GroupId: 'sg-stray' }] };
    // Act
    const out = await sg.setEgressOnlyToGroups('sg-ch', 443, ['sg-ep1', 'sg-ep2'], { rawIngress: [], rawEgress: [allV4, https] });
    // Assess
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input.IpPermissions).toEqual([
      allV4,
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-stray' }] },
    ]);
    expect(out.authorized).toEqual(['sg-ep2']);
  });
});

describe('Start memory capture', () => {
  it('creates the tagged channel group and the encrypted capture volume, then moves the ENI into the channel', async () => {
    // Prepare
    const client = new EC2Client({ region: REGION });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-ch' });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(CreateVolumeCommand).resolves({ VolumeId: 'vol-0aaaabbbbccccdddd' });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    // Act
    const memory = await startMemoryCapture(
      {
        securityGroups: new Ec2SecurityGroupAdapter(client),
        volumes: new Ec2MemoryVolumeAdapter(client),
        iam: () => ({ putRolePolicy: async () => undefined }),
        clock: tickingClock(),
        tagPrefix: 'forensics',
        volumeKmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/k',
        retry: { sleep: async () => undefined },
      },
      stateWith(plan),
    );
    // Assess
    expect(ec2.commandCalls(CreateSecurityGroupCommand)[0]?.args[0].input.TagSpecifications?.[0]?.Tags).toContainEqual({ Key: 'forensics:role', Value: 'acquisition-channel' });
    expect(ec2.commandCalls(CreateVolumeCommand)[0]?.args[0].input).toMatchObject({
      SnapshotId: 'snap-0123456789abcdef0',
      AvailabilityZone: 'eu-west-1a',
      Size: 10,
      Encrypted: true,
      KmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/k',
      TagSpecifications: [{ ResourceType: 'volume', Tags: expect.arrayContaining([{ Key: 'forensics:case-id', Value: CASE.caseId }, { Key: 'forensics:role', Value: 'memory' }]) }],
    });
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input)).toEqual([{ NetworkInterfaceId: 'eni-a', Groups: ['sg-ch'] }]);
    expect(memory).toMatchObject({ status: 'capturing', stage: 'creating-volume', volume: { volumeId: 'vol-0aaaabbbbccccdddd' }, channel: { openedAt: expect.any(String) } });
    // Left for the first poll, which appends them after "Record containment" wrote the containment's records.
    expect(memory.unrecorded?.map((a) => a.action)).toEqual(['create-memory-volume', 'create-channel-group', 'open-acquisition-channel']);
  });

  it('a CreateVolume refusal opens nothing, makes the deny total again and records the failure', async () => {
    // Prepare
    const client = new EC2Client({ region: REGION });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-ch' });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(CreateVolumeCommand).rejects(awsError('InvalidSnapshot.NotFound'));
    const puts: string[] = [];
    const state = stateWith(plan);
    const policy: AppliedDenyPolicy = { roleName: 'r', roleArn: 'arn:aws:iam::111122223333:role/r', policyName: 'forensics-deny-x', instanceArn: INSTANCE_ARN, previouslyExisted: false, previousDocument: null, appliedAt: 'x', exempt: [...MEMORY_AGENT_ACTIONS] };
    if (state.containment) state.containment.credentials = { mode: 'instance', status: 'applied', policies: [policy] };
    // Act
    const memory = await startMemoryCapture(
      {
        securityGroups: new Ec2SecurityGroupAdapter(client),
        volumes: new Ec2MemoryVolumeAdapter(client),
        iam: () => ({ putRolePolicy: async (_r, _n, doc) => void puts.push(doc) }),
        clock: tickingClock(),
        tagPrefix: 'forensics',
        retry: { sleep: async () => undefined },
      },
      state,
    );
    // Assess
    expect(memory).toMatchObject({ status: 'failed', stage: 'done', reason: expect.stringContaining('CreateVolume'), fullDeny: { status: 'applied' } });
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(0);
    expect(JSON.parse(puts[0] ?? '{}').Statement[0].Action).toBe('*');
    expect(memory.unrecorded?.find((a) => a.action === 'create-memory-volume')).toMatchObject({ status: 'failed' });
  });

  it('a skip plan makes no call', async () => {
    const memory = await startMemoryCapture(
      {
        securityGroups: new Ec2SecurityGroupAdapter(new EC2Client({ region: REGION })),
        volumes: new Ec2MemoryVolumeAdapter(new EC2Client({ region: REGION })),
        iam: () => { throw new Error('no'); },
        clock: tickingClock(),
        tagPrefix: 'forensics',
      },
      stateWith({ decision: 'skip', reason: 'no-ssm-endpoints', detail: 'VPC vpc-1 has none', plannedAt: 'x' }),
    );
    expect(memory).toMatchObject({ status: 'skipped', stage: 'done', reason: 'no-ssm-endpoints: VPC vpc-1 has none' });
    expect(ec2.calls()).toHaveLength(0);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });
});

describe('the deny policy during the capture and after', () => {
  it('exempts exactly the agent actions (NotAction), same conditions, both statements in mode role', () => {
    const doc = revocationPolicyDocument({ mode: 'role', instanceArn: INSTANCE_ARN, issuedBefore: '2026-01-10T10:00:00.000Z', exempt: MEMORY_AGENT_ACTIONS });
    expect(doc.Statement).toEqual([
      { Sid: 'ForensicsDenyCompromisedInstance', Effect: 'Deny', NotAction: [...MEMORY_AGENT_ACTIONS], Resource: '*', Condition: { StringEquals: { 'ec2:SourceInstanceARN': INSTANCE_ARN } } },
      { Sid: 'ForensicsRevokeOlderSessions', Effect: 'Deny', NotAction: [...MEMORY_AGENT_ACTIONS], Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-01-10T10:00:00.000Z' } } },
    ]);
    expect(MEMORY_AGENT_ACTIONS).toEqual([
      'ssm:UpdateInstanceInformation',
      'ec2messages:GetEndpoint',
      'ec2messages:GetMessages',
      'ec2messages:AcknowledgeMessage',
      'ec2messages:SendReply',
      'ec2messages:DeleteMessage',
      'ec2messages:FailMessage',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:OpenControlChannel',
    ]);
  });

  it('restoreFullDeny writes the same policy name with Action "*" and the recorded conditions', async () => {
    const puts: [string, string, string][] = [];
    const policy: AppliedDenyPolicy = { roleName: 'app', roleArn: 'arn:aws:iam::111122223333:role/app', policyName: 'forensics-deny-case-1', instanceArn: INSTANCE_ARN, issuedBefore: '2026-01-10T10:00:00.000Z', previouslyExisted: false, previousDocument: null, appliedAt: 'x', exempt: [...MEMORY_AGENT_ACTIONS] };
    const out = await restoreFullDeny({ iam: { putRolePolicy: async (r, n, d) => void puts.push([r, n, d]) }, clock: tickingClock() }, { mode: 'role', policy });
    expect(out.status).toBe('applied');
    expect(puts[0]?.[1]).toBe('forensics-deny-case-1');
    expect(JSON.parse(puts[0]?.[2] ?? '{}')).toEqual(revocationPolicyDocument({ mode: 'role', instanceArn: INSTANCE_ARN, issuedBefore: '2026-01-10T10:00:00.000Z' }));
  });
});

describe('Run Command request', () => {
  it('AWS-RunShellScript with executionTimeout = the plan\'s timeout and a delivery timeout', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const id = await new SsmCommandAdapter(new SSMClient({ region: REGION })).runShellScript({
      instanceId: CASE.target.instanceId,
      commands: ['echo hi'],
      executionTimeoutSeconds: 1800,
      deliveryTimeoutSeconds: 600,
      comment: 'x',
    });
    expect(id).toBe('cmd-1');
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [CASE.target.instanceId],
      Parameters: { commands: ['echo hi'], executionTimeout: ['1800'] },
      TimeoutSeconds: 600,
      Comment: 'x',
    });
  });

  it('GetCommandInvocation right after SendCommand may answer InvocationDoesNotExist (AWS lists the invocation a moment later): "not yet", never a failure', async () => {
    // Prepare
    ssm.on(GetCommandInvocationCommand).rejectsOnce(Object.assign(new Error('not yet'), { name: 'InvocationDoesNotExist' })).resolves({ Status: 'InProgress' });
    const adapter = new SsmCommandAdapter(new SSMClient({ region: REGION, maxAttempts: 1 }));

    // Act
    const first = await adapter.invocation('cmd-1', CASE.target.instanceId);
    const second = await adapter.invocation('cmd-1', CASE.target.instanceId);

    // Assess
    expect(first).toBeUndefined();
    expect(second).toEqual({ status: 'InProgress', stdout: '', stderr: '' });
    expect(ssm.commandCalls(GetCommandInvocationCommand)[0]?.args[0].input).toEqual({ CommandId: 'cmd-1', InstanceId: CASE.target.instanceId });
  });
});
