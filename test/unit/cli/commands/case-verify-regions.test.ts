import { DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../../cli/output/format';
import { checkSnapshots } from '../../../../cli/commands/case-verify';
import type { ManifestV1 } from '../../../../handlers/domain/manifest';

/**
 * `case verify` looks each evidence snapshot up in ITS evidence region and checks that its key exists there and is
 * the evidence key (or, for a listed intermediate copy, the evidence key's replica in that copy's region). The mocks
 * answer per region, as AWS does: a snapshot or key exists only in its own region.
 */
const HOME = 'us-east-1';
const SOURCE = 'eu-west-1';
const IR = '999988887777';
const WORKLOAD = '111122223333';
const KEY = `arn:aws:kms:${HOME}:${IR}:key/mrk-0123456789abcdef0123456789abcdef`;
const REPLICA = `arn:aws:kms:${SOURCE}:${IR}:key/mrk-0123456789abcdef0123456789abcdef`;

const ec2 = mockClient(EC2Client);
const kms = mockClient(KMSClient);
const regionOf = async (client: unknown) => (client as { config: { region: () => Promise<string> } }).config.region();

/** Snapshots and keys by region. */
let snapshots: Record<string, Record<string, { OwnerId: string; KmsKeyId: string; State: 'completed' }>>;
let keys: Record<string, Record<string, { Arn: string; KeyState: 'Enabled' | 'Disabled'; MultiRegionConfiguration?: { PrimaryKey: { Arn: string } } }>>;

beforeEach(() => {
  ec2.reset();
  kms.reset();
  snapshots = {
    [HOME]: { 'snap-0evidence0001': { OwnerId: IR, KmsKeyId: KEY, State: 'completed' } },
    [SOURCE]: { 'snap-0intermed0001': { OwnerId: WORKLOAD, KmsKeyId: REPLICA, State: 'completed' } },
  };
  keys = {
    [HOME]: { [KEY]: { Arn: KEY, KeyState: 'Enabled' } },
    [SOURCE]: { [REPLICA]: { Arn: REPLICA, KeyState: 'Enabled', MultiRegionConfiguration: { PrimaryKey: { Arn: KEY } } } },
  };
  ec2.on(DescribeSnapshotsCommand).callsFake(async (input, getClient) => {
    const region = await regionOf(getClient());
    const id = (input.SnapshotIds as string[])[0] as string;
    const s = snapshots[region]?.[id];
    if (!s) throw Object.assign(new Error(`The snapshot '${id}' does not exist.`), { name: 'InvalidSnapshot.NotFound' });
    return { Snapshots: [{ SnapshotId: id, ...s }] };
  });
  ec2.on(DescribeLockedSnapshotsCommand).resolves({ Snapshots: [] });
  kms.on(DescribeKeyCommand).callsFake(async (input, getClient) => {
    const region = await regionOf(getClient());
    const k = keys[region]?.[input.KeyId as string];
    if (!k) throw Object.assign(new Error('key not found'), { name: 'NotFoundException' });
    return { KeyMetadata: { KeyId: 'mrk-0123456789abcdef0123456789abcdef', ...k } };
  });
});

function manifest(snapshot: Partial<ManifestV1['snapshots'][number]> = {}): Pick<ManifestV1, 'snapshots' | 'target'> {
  return {
    target: { accountId: WORKLOAD, region: SOURCE, instanceId: 'i-0123456789abcdef0' },
    snapshots: [
      {
        volumeId: 'vol-01',
        deviceName: '/dev/xvda',
        sizeGiB: 8,
        originalSnapshotId: 'snap-0original0001',
        originalState: 'completed',
        originalStateMessage: null,
        evidenceSnapshotId: 'snap-0evidence0001',
        kmsKeyId: KEY,
        evidenceState: 'completed',
        evidenceStateMessage: null,
        lock: null,
        sourceRegion: SOURCE,
        evidenceRegion: HOME,
        intermediateCopy: { snapshotId: 'snap-0intermed0001', accountId: WORKLOAD, sharedWith: IR, removal: 'retained', region: SOURCE, kmsKeyId: REPLICA },
        ...snapshot,
      },
    ],
  };
}

async function verify(m: Pick<ManifestV1, 'snapshots' | 'target'>): Promise<Record<string, CheckResult>> {
  const checks: CheckResult[] = [];
  await checkSnapshots({ region: HOME }, m, KEY, (status, check, subject, detail) => checks.push({ status, check, subject, detail }));
  return Object.fromEntries(checks.map((c) => [c.check, c]));
}

describe('case verify: evidence snapshots in their evidence region', () => {
  it('passes when the evidence snapshot is in the home region under the evidence key, which exists there', async () => {
    const c = await verify(manifest());
    expect(c['snapshot.exists']).toMatchObject({ status: 'PASS', detail: expect.stringContaining(`in ${HOME}`) });
    expect(c['snapshot.region']?.status).toBe('PASS');
    expect(c['snapshot.owner']?.status).toBe('PASS');
    expect(c['snapshot.kms-key']).toMatchObject({ status: 'PASS', detail: `encrypted with the evidence key, which exists in ${HOME}` });
    expect(c['snapshot.intermediate-key']).toMatchObject({ status: 'PASS', detail: expect.stringContaining(`replica ${REPLICA}`) });
    // Each lookup went to the region that holds the resource.
    expect(await Promise.all(ec2.commandCalls(DescribeSnapshotsCommand).map((call) => regionOf(call.thisValue)))).toEqual([HOME, SOURCE]);
  });

  it('does not find evidence listed in one region when it is in another (the old manifests\' default: the instance\'s region)', async () => {
    const { evidenceRegion: _r, ...old } = manifest().snapshots[0] as ManifestV1['snapshots'][number];
    const c = await verify({ ...manifest(), snapshots: [old] });
    expect(c['snapshot.exists']).toMatchObject({ status: 'FAIL', detail: `evidence snapshot of vol-01 not found in ${SOURCE}` });
  });

  it('fails evidence outside the home region, and a key that does not exist in the evidence region', async () => {
    // Prepare: evidence (wrongly) left in the source region under the home key's ARN — which does not exist there.
    snapshots[SOURCE]!['snap-0evidence0001'] = { OwnerId: IR, KmsKeyId: KEY, State: 'completed' };
    const c = await verify(manifest({ evidenceRegion: SOURCE }));
    expect(c['snapshot.region']).toMatchObject({ status: 'FAIL', detail: `in ${SOURCE}, not the home region ${HOME}` });
    expect(c['snapshot.kms-key']).toMatchObject({ status: 'FAIL', detail: `the evidence key does not exist in ${SOURCE}` });
  });

  it('fails an evidence key that is disabled, and an intermediate copy under a key that is not the evidence key\'s replica', async () => {
    keys[HOME]![KEY]!.KeyState = 'Disabled';
    const other = `arn:aws:kms:${SOURCE}:${IR}:key/aaaaaaaa-2222-3333-4444-555555555555`;
    snapshots[SOURCE]!['snap-0intermed0001']!.KmsKeyId = other;
    const c = await verify(manifest());
    expect(c['snapshot.kms-key']).toMatchObject({ status: 'FAIL', detail: `the evidence key in ${HOME} is Disabled` });
    expect(c['snapshot.intermediate-key']).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(`under ${other}, not the evidence key or its replica`) });
  });

  it('a replica that is not one of the evidence key (another primary) fails; a removed intermediate copy is skipped', async () => {
    keys[SOURCE]![REPLICA]!.MultiRegionConfiguration = { PrimaryKey: { Arn: `arn:aws:kms:${HOME}:${IR}:key/mrk-ffff` } };
    expect((await verify(manifest()))['snapshot.intermediate-key']?.status).toBe('FAIL');
    const removed = await verify(manifest({ intermediateCopy: { snapshotId: 'snap-0intermed0001', accountId: WORKLOAD, sharedWith: IR, removal: 'removed' } }));
    expect(removed['snapshot.intermediate-key']?.status).toBe('SKIP');
  });
});
