import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientScope } from '../../../../handlers/adapters/aws-clients';
import { ec2Client } from '../../../../handlers/adapters/clients/ec2';
import { Ec2SnapshotAdapter, KeyRegionMismatch } from '../../../../handlers/adapters/ec2-snapshot-adapter';
import { ResponderCredentials, workloadClientsFor } from '../../../../handlers/adapters/responder-credentials';
import type { HandlerEnvironment } from '../../../../handlers/config/env';
import { evidenceKeyInRegion } from '../../../../handlers/domain/evidence-regions';
import { buildManifest, snapshotLineage } from '../../../../handlers/domain/manifest';
import type { AcquisitionResult, AcquisitionState, CaseRef, EvidenceProgress, SnapshotProgress } from '../../../../handlers/domain/types';
import { chainSettingsFor } from '../../../../handlers/composition/evidence-chain';
import { checkEvidenceCopies } from '../../../../handlers/use-cases/check-evidence-copies';
import { copyEvidence } from '../../../../handlers/use-cases/copy-evidence';
import { CASE, awsError } from '../../../support/ec2-test-fixtures';

/**
 * Evidence of an instance outside the home region lands in the home region, against a fake of EC2 that
 * knows the ACCOUNT (by the access key a client signs with) and the REGION (the client's) of every call, and
 * enforces the AWS rules the emulator does not:
 * - a copy is made in the region the CopySnapshot is sent to, from `SourceRegion`, and its KmsKeyId must be a key of
 *   THAT region (checked on every call, in afterEach: no copy ever names a key of another region);
 * - only the owner, or an account the snapshot is shared with, can copy it;
 * - a snapshot under the default aws/ebs key cannot be shared (ModifySnapshotAttribute refuses it).
 */
const HOME = 'us-east-1';
const SOURCE = 'eu-west-1';
const IR = '999988887777';
const WORKLOAD = '111122223333';
const KEY_ID = 'mrk-0123456789abcdef0123456789abcdef';
const HOME_KEY = `arn:aws:kms:${HOME}:${IR}:key/${KEY_ID}`;
const REPLICA = `arn:aws:kms:${SOURCE}:${IR}:key/${KEY_ID}`;
const SINGLE_REGION_KEY = `arn:aws:kms:${HOME}:${IR}:key/11111111-2222-3333-4444-555555555555`;
/** The workload account's AWS managed aws/ebs key in the source region. */
const DEFAULT_EBS_KEY = `arn:aws:kms:${SOURCE}:${WORKLOAD}:key/99999999-aaaa-bbbb-cccc-dddddddddddd`;
const WORKLOAD_KEY_ID = 'ASIAWORKLOADSESSION';
const IR_KEY_ID = 'AKIAIRACCOUNTLAMBDA';
const ACCOUNT_OF: Record<string, string> = { [WORKLOAD_KEY_ID]: WORKLOAD, [IR_KEY_ID]: IR };

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

interface FakeSnapshot {
  owner: string;
  region: string;
  state: string;
  kmsKeyId?: string;
  encrypted: boolean;
  tags: Record<string, string>;
  sharedWith: string[];
}
let world: Map<string, FakeSnapshot>;
let calls: { account: string; region: string; command: string; input: Record<string, unknown> }[];
let nextId: number;
/** A workload-side copy that EBS would (wrongly) complete under another key, to prove nothing such is shared. */
let workloadCopyKeyOverride: string | undefined;

const ORIGINALS = ['snap-0original0000001', 'snap-0original0000002'];
const acquisition: AcquisitionResult = {
  snapshotRequestedAt: '2026-01-10T10:00:00.000Z',
  snapshots: ORIGINALS.map((snapshotId, i) => ({ volumeId: `vol-0${i}`, snapshotId, sizeGiB: 8 })),
  preservation: [],
  actions: [],
};
const snapshotProgress: SnapshotProgress = {
  attempt: 1,
  firstCheckAt: '2026-01-10T10:01:00.000Z',
  checkedAt: '2026-01-10T10:01:00.000Z',
  allSettled: true,
  nextCheckSeconds: 0,
  volumes: ORIGINALS.map((snapshotId, i) => ({ volumeId: `vol-0${i}`, snapshotId, state: 'completed' as const })),
};

async function whoAndWhere(client: unknown): Promise<{ account: string; region: string }> {
  const c = client as EC2Client;
  const { accessKeyId } = await (c.config.credentials as () => Promise<{ accessKeyId: string }>)();
  const account = ACCOUNT_OF[accessKeyId];
  if (!account) throw new Error(`unknown access key ${accessKeyId}`);
  return { account, region: await c.config.region() };
}

function installFakeEc2(): void {
  const record = async (command: string, input: Record<string, unknown>, getClient: () => unknown) => {
    const at = await whoAndWhere(getClient());
    calls.push({ ...at, command, input });
    return at;
  };
  ec2.on(CopySnapshotCommand).callsFake(async (input, getClient) => {
    const { account, region } = await record('CopySnapshot', input, getClient);
    if (String(input.KmsKeyId).split(':')[3] !== region) throw awsError('InvalidParameterValue', `key ${input.KmsKeyId} is not in ${region}`);
    const source = world.get(input.SourceSnapshotId);
    if (!source || source.region !== input.SourceRegion || (source.owner !== account && !source.sharedWith.includes(account))) {
      throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    }
    const id = `snap-0copy${String(nextId++).padStart(12, '0')}`;
    const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
    const kmsKeyId = account === WORKLOAD && workloadCopyKeyOverride ? workloadCopyKeyOverride : input.KmsKeyId;
    world.set(id, { owner: account, region, state: 'pending', kmsKeyId, encrypted: true, tags, sharedWith: [] });
    return { SnapshotId: id };
  });
  ec2.on(DescribeSnapshotsCommand).callsFake(async (input, getClient) => {
    const { account, region } = await record('DescribeSnapshots', input, getClient);
    const filters = (input.Filters ?? []) as { Name: string; Values: string[] }[];
    const Snapshots: Snapshot[] = [...world.entries()]
      .filter(([, s]) => s.owner === account && s.region === region)
      .filter(([id, s]) => filters.every((f) => (f.Name === 'snapshot-id' ? f.Values.includes(id) : f.Values.includes(s.tags[f.Name.replace(/^tag:/, '')] ?? ''))))
      .map(([id, s]) => ({
        SnapshotId: id,
        State: s.state as Snapshot['State'],
        Encrypted: s.encrypted,
        KmsKeyId: s.kmsKeyId,
        VolumeSize: 8,
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      }));
    return { Snapshots };
  });
  ec2.on(ModifySnapshotAttributeCommand).callsFake(async (input, getClient) => {
    const { account, region } = await record('ModifySnapshotAttribute', input, getClient);
    const s = world.get(input.SnapshotId);
    if (!s || s.owner !== account || s.region !== region) throw awsError('InvalidSnapshot.NotFound');
    // AWS: snapshots encrypted with the default AWS managed key cannot be shared.
    if (s.kmsKeyId === DEFAULT_EBS_KEY) throw awsError('InvalidParameterValue', 'Snapshots encrypted with the AWS Managed CMK can\'t be shared.');
    s.sharedWith.push(...(input.UserIds ?? []));
    return {};
  });
  ec2.on(LockSnapshotCommand).callsFake(async (input, getClient) => {
    const { account, region } = await record('LockSnapshot', input, getClient);
    const s = world.get(input.SnapshotId);
    if (!s || s.owner !== account || s.region !== region) throw awsError('InvalidSnapshot.NotFound');
    return { SnapshotId: input.SnapshotId, LockState: 'compliance-cooloff', LockCreatedOn: new Date('2026-01-10T11:00:00.000Z'), LockExpiresOn: new Date('2027-01-10T11:00:00.000Z') };
  });
}

function settle(): void {
  for (const s of world.values()) if (s.state === 'pending') s.state = 'completed';
}

let clockAt: number;
const clock = () => {
  clockAt += 1000;
  return new Date(clockAt);
};

const env = (key: string) => ({ EVIDENCE_KEY_ARN: key, SNAPSHOT_LOCK_MODE: 'compliance', SNAPSHOT_LOCK_DAYS: 365, SNAPSHOT_LOCK_COOL_OFF_HOURS: 24 }) as HandlerEnvironment;
/** The Lambda's own clients (IR account), per region, as awsClients() would give them. */
const irClients: ClientScope = {
  options: {},
  client: <T>(key: string) => new EC2Client({ region: key.replace(/^ec2:/, ''), credentials: { accessKeyId: IR_KEY_ID, secretAccessKey: 'x' } }) as T,
};

function depsFor(caseRef: CaseRef, evidenceKeyArn: string) {
  const target = caseRef.target;
  const workloadSide =
    target.accountId === IR
      ? ec2Client(irClients, target.region)
      : ec2Client(
          workloadClientsFor(
            target,
            caseRef.caseId,
            new ResponderCredentials({ roleName: 'ForensicsResponder', irAccountId: IR, partition: 'aws' }, () => new STSClient({ region: HOME }), clock),
          ),
          target.region,
        );
  return {
    snapshots: new Ec2SnapshotAdapter(workloadSide),
    clock,
    tagPrefix: 'forensics',
    evidenceKeyArn,
    concurrency: 2,
    maxWaitMinutes: 60,
    retry: { attempts: 2, sleep: async () => undefined },
    // The handlers' own wiring: EC2 in the home region (the key's), the Lambda's (IR) credentials. The Lambda runs in
    // the home region; the evidence key's region decides.
    chain: chainSettingsFor(target, env(evidenceKeyArn), irClients, 'ap-northeast-1'),
  };
}

async function runChain(caseRef: CaseRef, evidenceKeyArn = HOME_KEY, max = 6): Promise<EvidenceProgress> {
  const deps = depsFor(caseRef, evidenceKeyArn);
  let evidence = await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
  for (let i = 0; i < max && !evidence.allSettled; i++) {
    settle();
    evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition });
  }
  return evidence;
}

const stateOf = (caseRef: CaseRef, evidence: EvidenceProgress): AcquisitionState => ({
  outcome: 'ACQUIRE',
  case: caseRef,
  acquisition,
  snapshotProgress,
  evidence,
});

const sameAccount: CaseRef = { ...CASE, target: { ...CASE.target, accountId: IR, region: SOURCE } };
const crossAccount: CaseRef = { ...CASE, target: { ...CASE.target, accountId: WORKLOAD, region: SOURCE } };

beforeEach(() => {
  ec2.reset();
  sts.reset();
  calls = [];
  nextId = 1;
  workloadCopyKeyOverride = undefined;
  clockAt = Date.parse('2026-01-10T10:30:00.000Z');
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: WORKLOAD_KEY_ID, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
  });
  installFakeEc2();
});

afterEach(() => {
  // AWS rule: a copy's key is a key of the region the copy is made in — never a key ARN of another region.
  for (const c of calls.filter((x) => x.command === 'CopySnapshot')) {
    expect(String(c.input.KmsKeyId).split(':')[3], `CopySnapshot in ${c.region} named ${String(c.input.KmsKeyId)}`).toBe(c.region);
  }
  // No original snapshot ever left or changed.
  for (const id of ORIGINALS) expect(world.get(id)).toMatchObject({ state: 'completed' });
});

describe('single account, instance outside the home region', () => {
  beforeEach(() => {
    world = new Map(ORIGINALS.map((id) => [id, { owner: IR, region: SOURCE, state: 'completed', encrypted: false, tags: {}, sharedWith: [] }]));
  });

  it('one hop: CopySnapshot issued in the home region with SourceRegion and the home key, locked there', async () => {
    // Act
    const evidence = await runChain(sameAccount, SINGLE_REGION_KEY);
    // Assess
    expect(evidence.allSettled).toBe(true);
    const copies = calls.filter((c) => c.command === 'CopySnapshot');
    expect(copies.map((c) => [c.account, c.region, c.input.SourceRegion, c.input.KmsKeyId, c.input.Encrypted])).toEqual([
      [IR, HOME, SOURCE, SINGLE_REGION_KEY, true],
      [IR, HOME, SOURCE, SINGLE_REGION_KEY, true],
    ]);
    expect(calls.filter((c) => c.command === 'ModifySnapshotAttribute')).toHaveLength(0);
    expect(calls.filter((c) => c.command === 'LockSnapshot').map((c) => [c.account, c.region])).toEqual([
      [IR, HOME],
      [IR, HOME],
    ]);
    for (const c of evidence.copies) {
      expect(c).toMatchObject({ state: 'completed', stage: 'locked', sourceRegion: SOURCE, evidenceRegion: HOME, kmsKeyId: SINGLE_REGION_KEY });
      expect(world.get(c.evidenceSnapshotId as string)).toMatchObject({ owner: IR, region: HOME, kmsKeyId: SINGLE_REGION_KEY });
    }
    // Nothing but the originals in the source region.
    expect([...world.values()].filter((s) => s.region === SOURCE)).toHaveLength(ORIGINALS.length);
  });

  it('records the regions and the hop in the manifest and the run summary', async () => {
    const evidence = await runChain(sameAccount, SINGLE_REGION_KEY);
    const manifest = buildManifest({ state: stateOf(sameAccount, evidence), bucket: 'b', sealedAt: '2026-01-10T12:00:00.000Z', objects: [] });
    for (const s of manifest.snapshots) {
      expect(s).toMatchObject({ sourceRegion: SOURCE, evidenceRegion: HOME, kmsKeyId: SINGLE_REGION_KEY, originalAccountId: IR, evidenceAccountId: IR });
      expect(s.hops?.map((h) => [h.kind, h.accountId, h.region, h.sourceRegion ?? null, h.kmsKeyId ?? null])).toEqual([
        ['ir-copy', IR, HOME, SOURCE, SINGLE_REGION_KEY],
        ['lock', IR, HOME, null, null],
      ]);
      expect(s.hops?.[0]?.requestedAt).toBeTruthy();
      expect(s.hops?.[0]?.completedAt).toBeTruthy();
    }
  });
});

describe('another account, instance outside the home region', () => {
  beforeEach(() => {
    world = new Map(ORIGINALS.map((id) => [id, { owner: WORKLOAD, region: SOURCE, state: 'completed', encrypted: true, kmsKeyId: DEFAULT_EBS_KEY, tags: {}, sharedWith: [] }]));
  });

  it('workload copy under the replica in the source region, shared, IR copy into the home region under the home key', async () => {
    // Act
    const evidence = await runChain(crossAccount);
    // Assess
    const copies = calls.filter((c) => c.command === 'CopySnapshot');
    expect(copies.filter((c) => c.account === WORKLOAD).map((c) => [c.region, c.input.SourceRegion, c.input.KmsKeyId])).toEqual([
      [SOURCE, SOURCE, REPLICA],
      [SOURCE, SOURCE, REPLICA],
    ]);
    expect(copies.filter((c) => c.account === IR).map((c) => [c.region, c.input.SourceRegion, c.input.KmsKeyId])).toEqual([
      [HOME, SOURCE, HOME_KEY],
      [HOME, SOURCE, HOME_KEY],
    ]);
    expect(calls.filter((c) => c.command === 'ModifySnapshotAttribute').map((c) => [c.account, c.region, c.input.UserIds])).toEqual([
      [WORKLOAD, SOURCE, [IR]],
      [WORKLOAD, SOURCE, [IR]],
    ]);
    expect(calls.filter((c) => c.command === 'LockSnapshot').every((c) => c.account === IR && c.region === HOME)).toBe(true);
    for (const c of evidence.copies) {
      expect(c).toMatchObject({ state: 'completed', stage: 'locked', evidenceRegion: HOME, intermediate: { region: SOURCE, kmsKeyId: REPLICA, sharedWith: IR } });
      expect(world.get(c.evidenceSnapshotId as string)).toMatchObject({ owner: IR, region: HOME, kmsKeyId: HOME_KEY });
    }
    // The manifest: regions, the replica, and every hop with its timings.
    const [first] = snapshotLineage(stateOf(crossAccount, evidence));
    expect(first).toMatchObject({ sourceRegion: SOURCE, evidenceRegion: HOME, originalAccountId: WORKLOAD, evidenceAccountId: IR, intermediateCopy: { region: SOURCE, kmsKeyId: REPLICA } });
    expect(first?.hops?.map((h) => [h.kind, h.accountId, h.region])).toEqual([
      ['workload-copy', WORKLOAD, SOURCE],
      ['share', WORKLOAD, SOURCE],
      ['ir-copy', IR, HOME],
      ['lock', IR, HOME],
    ]);
    for (const h of first?.hops ?? []) expect(h.requestedAt, h.kind).toBeTruthy();
  });

  it('with a single-Region evidence key nothing is sent: no key of the source region exists (recorded as error)', async () => {
    const evidence = await runChain(crossAccount, SINGLE_REGION_KEY);
    expect(calls.filter((c) => c.command === 'CopySnapshot')).toHaveLength(0);
    expect(evidence.allSettled).toBe(true);
    for (const c of evidence.copies) expect(c).toMatchObject({ state: 'error', stateMessage: expect.stringMatching(/not requested: .*single-Region key/) });
  });

  it('a copy left under the default aws/ebs key is never shared (AWS refuses to share it): error, no share attempted', async () => {
    // Prepare: EBS completes the workload copy under the default key instead of the replica.
    workloadCopyKeyOverride = DEFAULT_EBS_KEY;
    // Act
    const evidence = await runChain(crossAccount);
    // Assess
    expect(calls.filter((c) => c.command === 'ModifySnapshotAttribute')).toHaveLength(0);
    expect(calls.filter((c) => c.account === IR && c.command === 'CopySnapshot')).toHaveLength(0);
    for (const c of evidence.copies) {
      expect(c).toMatchObject({ state: 'error', stateMessage: expect.stringMatching(/intermediate copy not encrypted with the evidence key of its region .*99999999/) });
    }
  });
});

describe('the snapshot adapter', () => {
  beforeEach(() => {
    world = new Map(ORIGINALS.map((id) => [id, { owner: IR, region: SOURCE, state: 'completed', encrypted: false, tags: {}, sharedWith: [] }]));
  });

  it('refuses a copy whose key is of another region than the call, without sending it', async () => {
    // Prepare
    const adapter = new Ec2SnapshotAdapter(new EC2Client({ region: SOURCE, credentials: { accessKeyId: IR_KEY_ID, secretAccessKey: 'x' } }));
    // Act
    const refused = adapter.copySnapshot({ sourceSnapshotId: ORIGINALS[0] as string, sourceRegion: SOURCE, kmsKeyId: HOME_KEY, description: 'd', tags: {} });
    // Assess
    await expect(refused).rejects.toBeInstanceOf(KeyRegionMismatch);
    await expect(refused).rejects.toThrow(`cannot use key ${HOME_KEY}: it is a key of ${HOME}`);
    expect(ec2.commandCalls(CopySnapshotCommand)).toHaveLength(0);
  });

  it('sends a copy whose key is of the call\'s region, and names the regions (the SDK presigns the cross-region source)', async () => {
    const adapter = new Ec2SnapshotAdapter(ec2Client(irClients, HOME));
    await adapter.copySnapshot({ sourceSnapshotId: ORIGINALS[0] as string, sourceRegion: SOURCE, kmsKeyId: evidenceKeyInRegion(HOME_KEY, HOME), description: 'd', tags: {} });
    expect(ec2.commandCalls(CopySnapshotCommand)[0]?.args[0].input).toMatchObject({ SourceRegion: SOURCE, KmsKeyId: HOME_KEY, Encrypted: true });
  });
});
