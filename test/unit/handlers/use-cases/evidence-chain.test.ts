import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ec2SnapshotAdapter } from '../../../../handlers/adapters/ec2-snapshot-adapter';
import { ec2Client } from '../../../../handlers/adapters/clients/ec2';
import { ResponderCredentials, workloadClientsFor } from '../../../../handlers/adapters/responder-credentials';
import { evidenceCustodyActions } from '../../../../handlers/domain/case-evidence';
import { snapshotLineage } from '../../../../handlers/domain/manifest';
import type { AcquisitionResult, AcquisitionState, CaseRef, EvidenceProgress, SnapshotProgress } from '../../../../handlers/domain/types';
import { checkEvidenceCopies } from '../../../../handlers/use-cases/check-evidence-copies';
import { copyEvidence } from '../../../../handlers/use-cases/copy-evidence';
import type { ChainSettings } from '../../../../handlers/use-cases/evidence-chain';
import { CASE, EVIDENCE_KEY, REGION, awsError } from '../../../support/ec2-test-fixtures';

/**
 * The cross-account evidence chain against a small fake of EC2 that knows which account each call comes from (by
 * the access key the calling client signs with): the workload account through the assumed responder role, the IR
 * account through the Lambda's own credentials. Asserts WHICH account's clients make which calls.
 */
const WORKLOAD = '111122223333';
const IR = '999988887777'; // the evidence key's account
const WORKLOAD_KEY_ID = 'ASIAWORKLOADSESSION';
const IR_KEY_ID = 'AKIAIRACCOUNTLAMBDA';
const ACCOUNT_OF: Record<string, string> = { [WORKLOAD_KEY_ID]: WORKLOAD, [IR_KEY_ID]: IR };

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

interface FakeSnapshot {
  owner: string;
  state: string;
  stateMessage?: string;
  kmsKeyId?: string;
  encrypted: boolean;
  tags: Record<string, string>;
  sharedWith: string[];
}
let world: Map<string, FakeSnapshot>;
let calls: { account: string; command: string; input: Record<string, unknown> }[];
let nextId: number;
/** How a new copy ends up on `settle()`, by the account that made it. */
let outcome: Record<string, { state: string; stateMessage?: string }>;

const caseRef: CaseRef = { ...CASE, target: { ...CASE.target, accountId: WORKLOAD } };
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

async function accountOf(client: unknown): Promise<string> {
  const provider = (client as EC2Client).config.credentials as () => Promise<{ accessKeyId: string }>;
  const { accessKeyId } = await provider();
  const account = ACCOUNT_OF[accessKeyId];
  if (!account) throw new Error(`unknown access key ${accessKeyId}`);
  return account;
}

function installFakeEc2(): void {
  const record = async (command: string, input: Record<string, unknown>, getClient: () => unknown) => {
    const account = await accountOf(getClient());
    calls.push({ account, command, input });
    return account;
  };
  ec2.on(CopySnapshotCommand).callsFake(async (input, getClient) => {
    const account = await record('CopySnapshot', input, getClient);
    const source = world.get(input.SourceSnapshotId);
    if (!source || (source.owner !== account && !source.sharedWith.includes(account))) {
      throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    }
    const id = `snap-0copy${String(nextId++).padStart(12, '0')}`;
    const tags = Object.fromEntries(
      (input.TagSpecifications?.[0]?.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]),
    );
    world.set(id, { owner: account, state: 'pending', kmsKeyId: input.KmsKeyId, encrypted: true, tags, sharedWith: [] });
    return { SnapshotId: id };
  });
  ec2.on(DescribeSnapshotsCommand).callsFake(async (input, getClient) => {
    const account = await record('DescribeSnapshots', input, getClient);
    const filters = (input.Filters ?? []) as { Name: string; Values: string[] }[];
    const Snapshots: Snapshot[] = [...world.entries()]
      .filter(([, s]) => s.owner === account)
      .filter(([id, s]) =>
        filters.every((f) =>
          f.Name === 'snapshot-id' ? f.Values.includes(id) : f.Values.includes(s.tags[f.Name.replace(/^tag:/, '')] ?? ''),
        ),
      )
      .map(([id, s]) => ({
        SnapshotId: id,
        State: s.state as Snapshot['State'],
        ...(s.stateMessage ? { StateMessage: s.stateMessage } : {}),
        Encrypted: s.encrypted,
        KmsKeyId: s.kmsKeyId,
        VolumeSize: 8,
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      }));
    return { Snapshots };
  });
  ec2.on(ModifySnapshotAttributeCommand).callsFake(async (input, getClient) => {
    const account = await record('ModifySnapshotAttribute', input, getClient);
    const s = world.get(input.SnapshotId);
    if (!s || s.owner !== account) throw awsError('InvalidSnapshot.NotFound');
    s.sharedWith.push(...(input.UserIds ?? []));
    return {};
  });
  ec2.on(LockSnapshotCommand).callsFake(async (input, getClient) => {
    await record('LockSnapshot', input, getClient);
    return {
      SnapshotId: input.SnapshotId,
      LockState: 'compliance-cooloff',
      LockDuration: input.LockDuration,
      CoolOffPeriod: input.CoolOffPeriod,
      LockCreatedOn: new Date('2026-01-10T11:00:00.000Z'),
      LockExpiresOn: new Date('2027-01-10T11:00:00.000Z'),
      CoolOffPeriodExpiresOn: new Date('2026-01-11T11:00:00.000Z'),
    };
  });
  ec2.on(DeleteSnapshotCommand).callsFake(async (input, getClient) => {
    await record('DeleteSnapshot', input, getClient);
    world.delete(input.SnapshotId);
    return {};
  });
}

/** Every pending copy finishes, as `outcome` says for the account that owns it. */
function settle(): void {
  for (const s of world.values()) {
    if (s.state !== 'pending') continue;
    const o = outcome[s.owner] ?? { state: 'completed' };
    s.state = o.state;
    if (o.stateMessage) s.stateMessage = o.stateMessage;
  }
}

let clockAt: number;
const clock = () => {
  clockAt += 1000;
  return new Date(clockAt);
};

function chainDeps(overrides: Partial<ChainSettings> = {}) {
  const responder = new ResponderCredentials(
    { roleName: 'ForensicsResponder', externalId: 'ext-123', irAccountId: IR, partition: 'aws' },
    () => new STSClient({ region: REGION }),
    clock,
  );
  const workload = workloadClientsFor(caseRef.target, caseRef.caseId, responder);
  const irClient = new EC2Client({ region: REGION, credentials: { accessKeyId: IR_KEY_ID, secretAccessKey: 'x' } });
  return {
    snapshots: new Ec2SnapshotAdapter(ec2Client(workload, REGION)),
    clock,
    tagPrefix: 'forensics',
    evidenceKeyArn: EVIDENCE_KEY,
    concurrency: 2,
    maxWaitMinutes: 60,
    retry: { attempts: 2, sleep: async () => undefined },
    chain: {
      irSnapshots: new Ec2SnapshotAdapter(irClient),
      irAccountId: IR,
      lock: { mode: 'compliance' as const, durationDays: 365, coolOffHours: 24 },
      removeIntermediate: false,
      ...overrides,
    },
  };
}

/** Copy step, then polls (each after the fake settles pending copies) until settled or `max` polls. */
async function runChain(deps: ReturnType<typeof chainDeps>, max = 6): Promise<EvidenceProgress> {
  let evidence = await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
  for (let i = 0; i < max && !evidence.allSettled; i++) {
    settle();
    evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition });
  }
  return evidence;
}

beforeEach(() => {
  ec2.reset();
  sts.reset();
  world = new Map(
    ORIGINALS.map((id) => [id, { owner: WORKLOAD, state: 'completed', encrypted: false, tags: {}, sharedWith: [] }]),
  );
  calls = [];
  nextId = 1;
  outcome = {};
  clockAt = Date.parse('2026-01-10T10:30:00.000Z');
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: WORKLOAD_KEY_ID,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
  installFakeEc2();
});

afterEach(() => {
  // No path deletes an original snapshot (or the IR-owned evidence).
  const deleted = calls.filter((c) => c.command === 'DeleteSnapshot').map((c) => c.input.SnapshotId);
  for (const id of deleted) {
    expect(ORIGINALS).not.toContain(id);
    expect(world.get(id as string)?.owner).not.toBe(IR);
  }
  for (const id of ORIGINALS) expect(world.has(id)).toBe(true);
});

describe('cross-account evidence chain', () => {
  it('copies in the workload account, shares with the IR account, copies and locks in the IR account', async () => {
    // Act
    const evidence = await runChain(chainDeps());
    // Assess: which account made which call
    const by = (command: string) => calls.filter((c) => c.command === command);
    const copies = by('CopySnapshot');
    expect(copies.filter((c) => c.account === WORKLOAD).map((c) => c.input.SourceSnapshotId).sort()).toEqual(ORIGINALS);
    for (const c of copies) expect(c.input).toMatchObject({ Encrypted: true, KmsKeyId: EVIDENCE_KEY, SourceRegion: REGION });
    const irCopies = copies.filter((c) => c.account === IR);
    expect(irCopies).toHaveLength(2);
    for (const c of irCopies) expect(ORIGINALS).not.toContain(c.input.SourceSnapshotId); // copies of the shared copies
    expect(by('ModifySnapshotAttribute').every((c) => c.account === WORKLOAD)).toBe(true);
    expect(by('ModifySnapshotAttribute').map((c) => c.input)).toEqual(
      expect.arrayContaining([expect.objectContaining({ Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [IR] })]),
    );
    expect(by('LockSnapshot').map((c) => [c.account, c.input.LockMode, c.input.LockDuration, c.input.CoolOffPeriod])).toEqual([
      [IR, 'compliance', 365, 24],
      [IR, 'compliance', 365, 24],
    ]);
    expect(by('DeleteSnapshot')).toHaveLength(0);
    // The role was assumed once for the case, in the finding's account, with the case id as session name.
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: `arn:aws:iam::${WORKLOAD}:role/ForensicsResponder`,
        RoleSessionName: caseRef.caseId,
        ExternalId: 'ext-123',
        DurationSeconds: 3600,
        Tags: [{ Key: 'forensics:workflow', Value: 'acquisition' }],
      },
    ]);
    // The outcome: IR-owned, locked evidence; the intermediate copy retained and recorded.
    expect(evidence.allSettled).toBe(true);
    for (const c of evidence.copies) {
      expect(c).toMatchObject({ state: 'completed', stage: 'locked', sourceAccountId: WORKLOAD });
      expect(world.get(c.evidenceSnapshotId as string)?.owner).toBe(IR);
      expect(c.intermediate).toMatchObject({ accountId: WORKLOAD, sharedWith: IR, removal: { status: 'retained' } });
      expect(c.lock).toMatchObject({ status: 'locked', mode: 'compliance', lockedUntil: '2027-01-10T11:00:00.000Z', lockState: 'compliance-cooloff' });
    }
    // Manifest lineage and custody records carry the chain.
    const state: AcquisitionState = { outcome: 'ACQUIRE', case: caseRef, acquisition, snapshotProgress, evidence };
    const lineage = snapshotLineage(state);
    expect(lineage[0]).toMatchObject({
      originalSnapshotId: ORIGINALS[0],
      originalAccountId: WORKLOAD,
      evidenceAccountId: IR,
      kmsKeyId: EVIDENCE_KEY,
      lock: { mode: 'compliance', status: 'locked', lockedUntil: '2027-01-10T11:00:00.000Z' },
      intermediateCopy: { accountId: WORKLOAD, sharedWith: IR, removal: 'retained' },
    });
    expect(lineage[0]?.timings?.sharedAt).toEqual(expect.any(String));
    const actions = evidenceCustodyActions(state).map((a) => `${a.action}:${a.status}`);
    expect(actions).toEqual(expect.arrayContaining(['intermediate-copy-shared:succeeded', 'evidence-lock:succeeded']));
  });

  it('a key the workload account cannot use surfaces in StateMessage: error with the reason, nothing shared', async () => {
    outcome[WORKLOAD] = { state: 'error', stateMessage: 'The KMS key is not accessible: AccessDeniedException' };
    const evidence = await runChain(chainDeps());
    expect(evidence.allSettled).toBe(true);
    for (const c of evidence.copies) {
      expect(c.state).toBe('error');
      expect(c.stateMessage).toMatch(/intermediate copy error: The KMS key is not accessible/);
    }
    expect(calls.filter((c) => c.command === 'ModifySnapshotAttribute')).toHaveLength(0);
    expect(calls.filter((c) => c.command === 'LockSnapshot')).toHaveLength(0);
  });

  it('an IR copy in state error is an error with its StateMessage, and is not locked', async () => {
    outcome[IR] = { state: 'error', stateMessage: 'Given key ID is not accessible' };
    const evidence = await runChain(chainDeps());
    for (const c of evidence.copies) {
      expect(c).toMatchObject({ state: 'error', stateMessage: 'Given key ID is not accessible', stage: 'ir-copy' });
      expect(c.lock).toBeUndefined();
    }
    expect(calls.filter((c) => c.command === 'LockSnapshot')).toHaveLength(0);
  });

  it('an IR copy completed under another key is an error', async () => {
    ec2.on(LockSnapshotCommand).rejects(awsError('ShouldNotBeCalled'));
    const deps = chainDeps();
    let evidence = await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
    settle();
    evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition }); // shared, IR copies requested
    for (const s of world.values()) if (s.owner === IR) s.kmsKeyId = 'arn:aws:kms:eu-west-1:999988887777:key/other';
    settle();
    evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition });
    for (const c of evidence.copies) expect(c).toMatchObject({ state: 'error', stateMessage: expect.stringMatching(/not encrypted with the evidence key/) });
  });

  it('limit exceeded on the IR copy: retried, deferred to the next poll, then succeeds', async () => {
    let refusals = 3; // more than the 2 attempts per poll: the first poll defers
    const deps = chainDeps();
    let evidence = await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
    ec2.on(CopySnapshotCommand).callsFake(async (input, getClient) => {
      const account = await accountOf(getClient());
      if (account === IR && refusals-- > 0) {
        calls.push({ account, command: 'CopySnapshot(refused)', input });
        throw awsError('ResourceLimitExceeded', 'too many concurrent copies');
      }
      calls.push({ account, command: 'CopySnapshot', input });
      const id = `snap-0copy${String(nextId++).padStart(12, '0')}`;
      world.set(id, { owner: account, state: 'pending', kmsKeyId: input.KmsKeyId, encrypted: true, tags: {}, sharedWith: [] });
      return { SnapshotId: id };
    });
    settle();
    evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition });
    expect(evidence.allSettled).toBe(false);
    expect(evidence.copies.some((c) => c.stage === 'shared' && /IR copy deferred: ResourceLimitExceeded/.test(c.stateMessage ?? ''))).toBe(true);
    for (let i = 0; i < 4 && !evidence.allSettled; i++) {
      settle();
      evidence = await checkEvidenceCopies(deps, { caseRef, evidence, acquisition });
    }
    expect(evidence.copies.map((c) => [c.state, c.stage])).toEqual([
      ['completed', 'locked'],
      ['completed', 'locked'],
    ]);
    expect(calls.filter((c) => c.command === 'CopySnapshot(refused)')).toHaveLength(3);
  });

  it('lock not available (InvalidAction): skipped cleanly, recorded as unsupported in custody and manifest', async () => {
    ec2.on(LockSnapshotCommand).rejects(awsError('InvalidAction', 'The action LockSnapshot is not valid for this web service.'));
    const evidence = await runChain(chainDeps());
    for (const c of evidence.copies) {
      expect(c.state).toBe('completed');
      expect(c.lock).toMatchObject({ status: 'unsupported', mode: 'compliance', reason: expect.stringMatching(/InvalidAction/) });
    }
    const state: AcquisitionState = { outcome: 'ACQUIRE', case: caseRef, acquisition, snapshotProgress, evidence };
    expect(evidenceCustodyActions(state).filter((a) => a.action === 'evidence-lock').map((a) => a.status)).toEqual(['skipped', 'skipped']);
    expect(snapshotLineage(state)[0]?.lock).toMatchObject({ status: 'unsupported' });
  });

  it('an endpoint without LockSnapshot (an emulator\'s HTML 500 the SDK cannot parse) counts as unsupported', async () => {
    ec2.on(LockSnapshotCommand).rejects(awsError('Error', 'XML parse error: mismatched tags.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'));
    const evidence = await runChain(chainDeps());
    for (const c of evidence.copies) expect(c).toMatchObject({ state: 'completed', lock: { status: 'unsupported' } });
  });

  it('lock refused for another reason is recorded as failed; the evidence stays completed', async () => {
    ec2.on(LockSnapshotCommand).rejects(awsError('UnauthorizedOperation', 'not authorized'));
    const evidence = await runChain(chainDeps());
    for (const c of evidence.copies) expect(c).toMatchObject({ state: 'completed', lock: { status: 'failed' } });
  });

  it('removes only the intermediate copy, with the workload credentials, after the IR copy completed', async () => {
    const evidence = await runChain(chainDeps({ removeIntermediate: true }));
    const deletes = calls.filter((c) => c.command === 'DeleteSnapshot');
    expect(deletes).toHaveLength(2);
    expect(deletes.every((c) => c.account === WORKLOAD)).toBe(true);
    const intermediates = evidence.copies.map((c) => c.intermediate?.snapshotId);
    expect(deletes.map((c) => c.input.SnapshotId).sort()).toEqual([...intermediates].sort());
    for (const c of evidence.copies) expect(c.intermediate?.removal).toMatchObject({ status: 'removed' });
  });

  it('the adapter refuses to delete an original or evidence snapshot as an "intermediate copy"', async () => {
    const adapter = new Ec2SnapshotAdapter(new EC2Client({ region: REGION, credentials: { accessKeyId: IR_KEY_ID, secretAccessKey: 'x' } }));
    await expect(
      adapter.deleteIntermediateCopy({ intermediateSnapshotId: 'snap-1', originalSnapshotId: 'snap-1' }),
    ).rejects.toThrow(/refusing/);
    await expect(
      adapter.deleteIntermediateCopy({ intermediateSnapshotId: 'snap-2', originalSnapshotId: 'snap-1', evidenceSnapshotId: 'snap-2' }),
    ).rejects.toThrow(/refusing/);
    expect(calls.filter((c) => c.command === 'DeleteSnapshot')).toHaveLength(0);
  });

  it('a retried copy step finds the intermediate copies by tag and does not copy twice', async () => {
    const deps = chainDeps();
    await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
    const again = await copyEvidence(deps, { caseRef, acquisition, snapshotProgress });
    expect(calls.filter((c) => c.command === 'CopySnapshot')).toHaveLength(2);
    expect(again.copies.every((c) => c.stage === 'workload-copy' && c.intermediate?.snapshotId)).toBe(true);
  });
});

describe('single-account chain (target = IR account)', () => {
  it('the first copy is the evidence: no share, no second copy, locked by the IR account', async () => {
    const deps = chainDeps();
    const own = { ...caseRef, target: { ...caseRef.target, accountId: IR } };
    for (const s of world.values()) s.owner = IR;
    const irOnly = { ...deps, snapshots: deps.chain.irSnapshots };
    let evidence = await copyEvidence(irOnly, { caseRef: own, acquisition, snapshotProgress });
    settle();
    evidence = await checkEvidenceCopies(irOnly, { caseRef: own, evidence, acquisition });
    expect(evidence.allSettled).toBe(true);
    expect(calls.filter((c) => c.command === 'ModifySnapshotAttribute')).toHaveLength(0);
    expect(calls.filter((c) => c.command === 'CopySnapshot')).toHaveLength(2);
    expect(calls.every((c) => c.account === IR)).toBe(true);
    for (const c of evidence.copies) expect(c).toMatchObject({ state: 'completed', stage: 'locked', lock: { status: 'locked' } });
    expect(evidence.copies[0]?.intermediate).toBeUndefined();
  });
});
