import { DescribeSnapshotAttributeCommand, DescribeSnapshotsCommand, EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { evaluateToolsShare, evaluateToolsSnapshot, gatherToolsSnapshot, memoryToolSettings } from '../../../../../cli/doctor/checks/memory-capture';
import type { DoctorContext } from '../../../../../cli/doctor/context';
import { awsError, doctorContext, HOME, IR, WORKLOAD } from '../../../../support/doctor-test-kit';

/**
 * `forensics doctor`'s memory tools snapshot checks: the configured snapshot of each workload region exists, is
 * completed, carries the tool tags matching the configured tool hash (and version), and can be used by every workload
 * account (createVolumePermission; not under an AWS managed key). The settings are read defensively: a configuration
 * without them is "not configured".
 */
const ec2 = mockClient(EC2Client);
const kms = mockClient(KMSClient);
beforeEach(() => {
  ec2.reset();
  kms.reset();
});

const SNAP = 'snap-0123456789abcdef0';
const TOOL_SHA = 'ab'.repeat(32);
const tags = (sha = TOOL_SHA, version = '0.14.0') => [
  { Key: 'forensics:role', Value: 'memory-tools' },
  { Key: 'forensics:tool-sha256', Value: sha },
  { Key: 'forensics:tool-version', Value: version },
];
const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({ SnapshotId: SNAP, State: 'completed', VolumeSize: 1, OwnerId: IR, Tags: tags(), ...over });

/** A context whose configuration carries the memory settings (as infra/config.ts names them). */
function configured(memory: Record<string, unknown> = {}, overrides: Partial<DoctorContext> = {}): DoctorContext {
  const ctx = doctorContext(overrides);
  return { ...ctx, config: { ...ctx.config, memoryToolsSnapshots: { [HOME]: SNAP }, memoryToolSha256: TOOL_SHA, memoryToolVersion: '0.14.0', ...memory } as typeof ctx.config };
}

async function run(ctx: DoctorContext) {
  const facts = await gatherToolsSnapshot(ctx, HOME);
  return { snapshot: evaluateToolsSnapshot(facts, ctx.emulator), share: evaluateToolsShare(facts, ctx.emulator) };
}

describe('doctor: memory tools snapshot', () => {
  it('WARN "not configured" when the configuration has no tools snapshot for the region, with no call made', async () => {
    // Act
    const { snapshot: check, share } = await run(doctorContext());

    // Assess
    expect(check).toMatchObject({ name: `memory.tools-snapshot[${HOME}]`, status: 'WARN', detail: expect.stringContaining('forensics tools build --region eu-west-1') });
    expect(share).toBeUndefined();
    expect(ec2.calls()).toHaveLength(0);
  });

  it('WARN when memory capture is disabled, with no call made', async () => {
    const { snapshot: check } = await run(configured({ memoryCapture: false }));
    expect(check).toMatchObject({ status: 'WARN', detail: expect.stringContaining('disabled') });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('PASS when the snapshot is completed and its tool tags are the configured hash and version', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot()] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [] });

    // Act
    const { snapshot: check, share } = await run(configured());

    // Assess
    expect(check).toMatchObject({ status: 'PASS', detail: expect.stringContaining(`AVML 0.14.0 sha256 ${TOOL_SHA}`) });
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input).toEqual({ SnapshotIds: [SNAP] });
    expect(ec2.commandCalls(DescribeSnapshotAttributeCommand)[0]?.args[0].input).toEqual({ SnapshotId: SNAP, Attribute: 'createVolumePermission' });
    // Single-account: the IR account owns it and is the only workload account.
    expect(share).toMatchObject({ status: 'PASS', detail: expect.stringContaining('nothing to share') });
  });

  it('FAIL when the snapshot holds another tool than the configured hash, or another version', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ Tags: tags('cd'.repeat(32)) })] });
    expect((await run(configured())).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('not the configured forensics:memoryToolSha256') });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ Tags: tags(TOOL_SHA, '0.13.0') })] });
    expect((await run(configured())).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('forensics:memoryToolVersion') });
  });

  it('FAIL when the snapshot is not a tools snapshot (no role tag), not completed, or the tool hash is not configured', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ Tags: [] })] });
    expect((await run(configured())).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('not a tools snapshot') });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ State: 'pending' })] });
    expect((await run(configured())).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('pending, not completed') });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot()] });
    expect((await run(configured({ memoryToolSha256: undefined }))).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(`set it to ${TOOL_SHA}`) });
  });

  it('FAIL when the snapshot does not exist, FAIL naming ec2:DescribeSnapshots when denied', async () => {
    ec2.on(DescribeSnapshotsCommand).rejects(awsError('InvalidSnapshot.NotFound', `The snapshot '${SNAP}' does not exist.`));
    expect((await run(configured())).snapshot).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('does not exist') });
    ec2.on(DescribeSnapshotsCommand).rejects(awsError('UnauthorizedOperation', 'not authorized', 403));
    expect((await run(configured())).snapshot.detail).toContain('grant ec2:DescribeSnapshots');
  });
});

describe('doctor: memory tools snapshot shared with the workload accounts', () => {
  const multi = (memory: Record<string, unknown> = {}) => configured(memory, { multiAccount: true, workloadAccounts: [WORKLOAD] });

  it('PASS when every workload account may create volumes from it', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ Encrypted: true, KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' })] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [{ UserId: WORKLOAD }] });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: 'arn:aws:kms:eu-west-1:111122223333:key/k', KeyManager: 'CUSTOMER' } });
    expect((await run(multi())).share).toMatchObject({ name: `memory.tools-share[${HOME}]`, status: 'PASS', detail: expect.stringContaining(WORKLOAD) });
    expect(kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({ KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' });
  });

  it('FAIL naming the account and the fix when it is not shared', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot()] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [] });
    expect((await run(multi())).share).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(`--user-ids ${WORKLOAD}`) });
  });

  it('FAIL when encrypted under an AWS managed key (it cannot be shared)', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot({ Encrypted: true, KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/aws-ebs' })] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [{ UserId: WORKLOAD }] });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'aws-ebs', KeyManager: 'AWS' } });
    expect((await run(multi())).share).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('AWS managed key') });
  });

  it('WARN when public; FAIL naming ec2:DescribeSnapshotAttribute when denied', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot()] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [{ UserId: WORKLOAD }, { Group: 'all' }] });
    expect((await run(multi())).share?.status).toBe('WARN');
    ec2.on(DescribeSnapshotAttributeCommand).rejects(awsError('UnauthorizedOperation', 'not authorized', 403));
    expect((await run(multi())).share?.detail).toContain('grant ec2:DescribeSnapshotAttribute');
  });
});

describe('memoryToolSettings', () => {
  it('reads the settings defensively: absent or malformed is not configured', () => {
    expect(memoryToolSettings({})).toEqual({ enabled: true, snapshots: {} });
    expect(memoryToolSettings({ memoryToolsSnapshots: ['snap-1'], memoryToolSha256: 3 })).toEqual({ enabled: true, snapshots: {} });
    expect(memoryToolSettings({ memoryCapture: false, memoryToolsSnapshots: { [HOME]: SNAP, 'us-east-1': '' }, memoryToolSha256: TOOL_SHA })).toEqual({
      enabled: false,
      snapshots: { [HOME]: SNAP },
      toolSha256: TOOL_SHA,
    });
  });
});
