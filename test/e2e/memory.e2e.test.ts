import { createHash } from 'node:crypto';
import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  CreateVpcEndpointCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { resetEnvironment } from '../../handlers/config/env';
import { MEMORY_AGENT_ACTIONS, MEMORY_RESULT_PREFIX } from '../../handlers/domain/memory-capture';
import { type AwsCallMiddleware, addClientMiddleware } from '../support/aws-call-hooks';

/**
 * Memory capture end to end on moto. moto implements DescribeVpcEndpoints, CreateVolume/AttachVolume/DetachVolume,
 * CreateSnapshot and SendCommand (which reports Success and runs nothing); it lacks DescribeInstanceInformation, and
 * GetCommandInvocation's output is empty: both are served through the call middleware (test/support/aws-call-hooks.ts),
 * the output with the capture script's result line. At SendCommand the middleware reads, through the SDK, the deny
 * policy and the interfaces' groups as they are while the command runs. Every assertion reads moto's state back.
 */
const TOOL_SHA = 'a1'.repeat(32);
const HOST_SHA = createHash('sha256').update('memory image').digest('hex');
let env: LocalEnvironment;
let ec2: EC2Client;
let s3: S3Client;
let iam: IAMClient;
let capturing: Victim;
let skipped: Victim;
let captured: RunLocalResult;
let skippedRun: RunLocalResult;
let toolsSnapshotId: string;
let endpointGroupId: string;
let removeMiddleware: () => void;
const atSendCommand: { policy?: Record<string, unknown>; groups?: string[][]; input?: Record<string, unknown> } = {};

const ok = (output: Record<string, unknown>) => ({ output: { $metadata: { httpStatusCode: 200 }, ...output }, response: { statusCode: 200, headers: {} } });

const hooks: AwsCallMiddleware = async (call, next) => {
  if (call.service === 'SSM' && call.command === 'DescribeInstanceInformation') {
    const ids = (call.input.Filters as { Key: string; Values: string[] }[])[0]?.Values ?? [];
    return ok({
      InstanceInformationList: ids
        .filter((id) => id === capturing.instanceId || id === skipped.instanceId)
        .map((id) => ({ InstanceId: id, PingStatus: 'Online', PlatformType: 'Linux', PlatformName: 'Amazon Linux' })),
    });
  }
  if (call.service === 'SSM' && call.command === 'SendCommand') {
    atSendCommand.input = call.input;
    // The case id is not known here yet: the role's inline deny policy, whatever its case.
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: capturing.roleName }))).PolicyNames ?? [];
    const name = names.find((n) => n.startsWith('forensics-deny-'));
    if (name) {
      const doc = (await iam.send(new GetRolePolicyCommand({ RoleName: capturing.roleName, PolicyName: name }))).PolicyDocument ?? '';
      atSendCommand.policy = JSON.parse(decodeURIComponent(doc)) as Record<string, unknown>;
    }
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: capturing.networkInterfaceIds }));
    atSendCommand.groups = (enis.NetworkInterfaces ?? []).map((e) => (e.Groups ?? []).map((g) => g.GroupId ?? ''));
    return next();
  }
  if (call.service === 'SSM' && call.command === 'GetCommandInvocation') {
    const line = `${MEMORY_RESULT_PREFIX}${JSON.stringify({ status: 'captured', sha256: HOST_SHA, sizeBytes: 123456, image: 'memory/memory.lime.snappy', toolSha256: TOOL_SHA })}`;
    return ok({ CommandId: call.input.CommandId, InstanceId: call.input.InstanceId, Status: 'Success', StandardOutputContent: `avml done\n${line}\n`, StandardErrorContent: '' });
  }
  return next();
};

beforeAll(async () => {
  env = await prepareE2eEnvironment({
    handlerLogs: 'silent',
    // Synthesized with memory capture configured (the snapshot id is replaced below by the one made in moto).
    context: {
      'forensics:memoryToolsSnapshots': JSON.stringify({ 'us-east-1': 'snap-00000000000000000', 'eu-west-1': 'snap-00000000000000000' }),
      'forensics:memoryToolVersion': '0.14.0',
      'forensics:memoryToolSha256': TOOL_SHA,
      'forensics:memoryCaptureTimeoutMinutes': '20',
    },
  });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  iam = new IAMClient(config);
  capturing = await seedVictim(env, { name: 'mem-capture' });
  skipped = await seedVictim(env, { name: 'mem-skip' });
  // The region's tools snapshot, as `forensics tools build` would leave it.
  const toolsVolume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${env.region}a`, Size: 1 }));
  toolsSnapshotId = (await ec2.send(new CreateSnapshotCommand({ VolumeId: toolsVolume.VolumeId }))).SnapshotId as string;
  process.env.MEMORY_TOOLS_SNAPSHOTS = JSON.stringify({ [env.region]: toolsSnapshotId });
  resetEnvironment();
  // The capturing victim's VPC has the three SSM interface endpoints; the other victim's VPC has none.
  endpointGroupId = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ssm-endpoints', Description: 'SSM endpoints', VpcId: capturing.vpcId }))).GroupId as string;
  for (const service of ['ssm', 'ssmmessages', 'ec2messages']) {
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: capturing.vpcId,
        ServiceName: `com.amazonaws.${env.region}.${service}`,
        VpcEndpointType: 'Interface',
        SubnetIds: [capturing.subnetId],
        SecurityGroupIds: [endpointGroupId],
      }),
    );
  }
  removeMiddleware = addClientMiddleware(hooks);
  captured = await executeLocal(env, findingEventFor(capturing, env, { id: 'e2ememory0001' }));
  skippedRun = await executeLocal(env, findingEventFor(skipped, env, { id: 'e2ememory0002' }));
}, 300_000);

afterAll(async () => {
  removeMiddleware?.();
  await env?.stop();
});

async function manifestOf(caseId: string | null): Promise<Record<string, unknown> & { memory: Record<string, unknown>; snapshots: Record<string, unknown>[] }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET as string, Key: `cases/${caseId}/manifest.json` }));
  return JSON.parse((await out.Body?.transformToString()) ?? '{}');
}

describe('memory capture (emulator)', () => {
  it('both acquisitions succeed', () => {
    expect(captured.error).toBeUndefined();
    expect(captured.status).toBe('SUCCEEDED');
    expect(skippedRun.status).toBe('SUCCEEDED');
  });

  it('while the command ran: the deny exempted exactly the agent actions and the ENIs sat in the channel group only', async () => {
    // Prepare: the channel group as moto holds it now.
    const channel = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [capturing.vpcId] }, { Name: 'tag:forensics:role', Values: ['acquisition-channel'] }] }));
    const group = channel.SecurityGroups?.[0];
    // Assess
    const statements = (atSendCommand.policy?.Statement ?? []) as Record<string, unknown>[];
    expect(statements[0]?.NotAction).toEqual([...MEMORY_AGENT_ACTIONS]);
    expect(statements[0]?.Action).toBeUndefined();
    expect(atSendCommand.groups?.length).toBe(capturing.networkInterfaceIds.length);
    for (const groups of atSendCommand.groups ?? []) expect(groups).toEqual([group?.GroupId]);
    expect(group?.IpPermissions ?? []).toEqual([]);
    expect((group?.IpPermissionsEgress ?? []).map((p) => ({ proto: p.IpProtocol, from: p.FromPort, to: p.ToPort, groups: (p.UserIdGroupPairs ?? []).map((g) => g.GroupId), cidrs: (p.IpRanges ?? []).length + (p.Ipv6Ranges ?? []).length }))).toEqual([
      { proto: 'tcp', from: 443, to: 443, groups: [endpointGroupId], cidrs: 0 },
    ]);
    expect(atSendCommand.input).toMatchObject({ DocumentName: 'AWS-RunShellScript', Parameters: { executionTimeout: ['1200'] } });
  });

  it('at the end: the full deny under the same name, the ENIs back in the rule-less isolation group', async () => {
    // Act
    const doc = (await iam.send(new GetRolePolicyCommand({ RoleName: capturing.roleName, PolicyName: `forensics-deny-${captured.caseId}` }))).PolicyDocument ?? '';
    const policy = JSON.parse(decodeURIComponent(doc)) as { Statement: Record<string, unknown>[] };
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: capturing.networkInterfaceIds }));
    const isolation = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [capturing.vpcId] }, { Name: 'tag:forensics:role', Values: ['isolation'] }] }));
    // Assess
    expect(policy.Statement[0]?.Action).toBe('*');
    expect(policy.Statement[0]?.NotAction).toBeUndefined();
    for (const e of enis.NetworkInterfaces ?? []) expect((e.Groups ?? []).map((g) => g.GroupId)).toEqual([isolation.SecurityGroups?.[0]?.GroupId]);
  });

  it('the capture volume: encrypted, sized from memory, in the AZ, detached, snapshotted; its evidence copy exists', async () => {
    // Prepare
    const manifest = await manifestOf(captured.caseId);
    const memory = manifest.memory as { volumeId: string; snapshotId: string; evidenceSnapshotId: string };
    // Act
    const volume = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [memory.volumeId] }))).Volumes?.[0];
    const snaps = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [memory.snapshotId, memory.evidenceSnapshotId] }));
    // Assess
    expect(volume).toMatchObject({ Encrypted: true, AvailabilityZone: `${env.region}a`, State: 'available', SnapshotId: toolsSnapshotId });
    expect(volume?.Size).toBeGreaterThanOrEqual(2);
    expect(volume?.Attachments ?? []).toEqual([]);
    expect(volume?.Tags).toEqual(expect.arrayContaining([{ Key: 'forensics:case-id', Value: captured.caseId }, { Key: 'forensics:role', Value: 'memory' }]));
    const byId = new Map((snaps.Snapshots ?? []).map((s) => [s.SnapshotId, s]));
    expect(byId.get(memory.snapshotId)?.VolumeId).toBe(memory.volumeId);
    expect(byId.get(memory.evidenceSnapshotId)?.Encrypted).toBe(true);
    expect(manifest.snapshots.find((s) => s.kind === 'memory')).toMatchObject({ volumeId: memory.volumeId, originalSnapshotId: memory.snapshotId, evidenceSnapshotId: memory.evidenceSnapshotId });
  });

  it('the manifest memory section and the custody record of the host SHA-256', async () => {
    // Prepare
    const manifest = await manifestOf(captured.caseId);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.handlerEnv.EVIDENCE_BUCKET as string, Prefix: `cases/${captured.caseId}/custody/` }));
    const records = await Promise.all(
      (listed.Contents ?? []).map(async (o) => JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET as string, Key: o.Key }))).Body?.transformToString()) ?? '{}')),
    );
    // Assess
    expect(manifest.memory).toMatchObject({
      status: 'captured',
      reason: null,
      tool: { name: 'avml', version: '0.14.0', sha256: TOOL_SHA },
      imageSizeBytes: 123456,
      hostSha256: HOST_SHA,
      channel: { openedAt: expect.any(String), closedAt: expect.any(String) },
    });
    const hash = records.find((r) => JSON.stringify(r).includes('memory-host-sha256'));
    expect(JSON.stringify(hash)).toContain(HOST_SHA);
  });

  it('no SSM endpoints in the VPC: memory skipped with the reason, straight to isolation, full deny from the start', async () => {
    // Prepare
    const manifest = await manifestOf(skippedRun.caseId);
    const doc = (await iam.send(new GetRolePolicyCommand({ RoleName: skipped.roleName, PolicyName: `forensics-deny-${skippedRun.caseId}` }))).PolicyDocument ?? '';
    const channel = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [skipped.vpcId] }, { Name: 'tag:forensics:role', Values: ['acquisition-channel'] }] }));
    // Assess
    expect(manifest.memory).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no-ssm-endpoints'), volumeId: null });
    expect((JSON.parse(decodeURIComponent(doc)) as { Statement: { Action?: string }[] }).Statement[0]?.Action).toBe('*');
    expect(channel.SecurityGroups ?? []).toEqual([]);
  });
});
