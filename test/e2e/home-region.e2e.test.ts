import {
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetResponderCredentials } from '../../handlers/adapters/responder-credentials';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import { type EmulatorContext, emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, prepareLocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';

/**
 * One IR home region, end to end on moto: the deployment in us-east-1 (the home region), the victims in
 * eu-west-1. Every assertion reads AWS state back through the SDK:
 *
 * 1. single account: the evidence snapshots exist in the HOME region, IR-owned, encrypted with a key that exists
 *    there (DescribeKey in the home region), and the source region holds the originals and nothing else;
 * 2. two accounts (listed): the workload account's copy in the source region is under the evidence key's REPLICA
 *    there (DescribeKey in the source region: a replica of the home key) and shared with the IR account; nothing was
 *    created in the home region. moto does not make a shared snapshot visible to the other account, so the IR copy
 *    into the home region cannot be made here (recorded as that volume's evidence error, as in
 *    cross-account.e2e.test.ts); that link is covered by test/unit/handlers/adapters/home-region-chain.test.ts;
 * 3. organisation mode: a member account that no list names is acquired in its own account and region.
 *
 * One moto server for the three; each scenario re-points the handler environment at it (as run-local does).
 */
const HOME = 'us-east-1';
const SOURCE = 'eu-west-1';
const IR = '123456789012';
const WORKLOAD = '111111111111';
const MEMBER = '222222222222';
const ROLE = 'ForensicsResponder';

let endpoint: string;
let stopMoto: () => Promise<void>;

/** The handler environment for a scenario, against the shared moto server (idempotent provisioning). */
async function scenario(overrides: Record<string, string>): Promise<LocalEnvironment> {
  const env = await prepareLocalEnvironment({ endpoint, handlerLogs: 'silent', overrides: { WORKLOAD_REGIONS: `${HOME},${SOURCE}`, ...overrides } as never });
  resetResponderCredentials();
  return env;
}

/** Credentials of another emulated account (moto maps an assumed role's credentials to the role's account). */
async function accountContext(env: LocalEnvironment, accountId: string, region: string): Promise<EmulatorContext> {
  const sts = new STSClient(emulatorClientConfig(env));
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/seeder`, RoleSessionName: 'seed' }));
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('moto returned no credentials');
  return { endpoint: env.endpoint, region, accountId, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) } };
}

const ec2Of = (ctx: Pick<EmulatorContext, 'endpoint' | 'region' | 'credentials'>) => new EC2Client(emulatorClientConfig(ctx));
const caseSnapshots = async (ec2: EC2Client, caseId: string): Promise<Snapshot[]> =>
  (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:forensics:case-id', Values: [caseId] }] }))).Snapshots ?? [];
const tag = (s: Snapshot, key: string) => s.Tags?.find((t) => t.Key === key)?.Value;

async function manifestOf(env: LocalEnvironment, result: RunLocalResult): Promise<ManifestV1> {
  const s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
  const body = await s3.send(new GetObjectCommand({ Bucket: result.manifest?.bucket, Key: result.manifest?.key }));
  return JSON.parse((await body.Body?.transformToString()) ?? '{}') as ManifestV1;
}

async function isolated(ec2: EC2Client, victim: Victim, groupId: string | null): Promise<void> {
  const inst = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim.instanceId] }));
  const enis = inst.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? [];
  expect(enis.length).toBeGreaterThan(0);
  for (const eni of enis) expect(eni.Groups?.map((g) => g.GroupId)).toEqual([groupId]);
}

beforeAll(async () => {
  const first = await prepareE2eEnvironment({ handlerLogs: 'silent', overrides: { WORKLOAD_REGIONS: `${HOME},${SOURCE}` } as never });
  endpoint = first.endpoint;
  stopMoto = first.stop;
}, 120_000);

afterAll(async () => {
  await stopMoto?.();
});

describe('single account: a victim in another region than the home region', () => {
  let env: LocalEnvironment;
  let victim: Victim;
  let result: RunLocalResult;
  const source = () => ec2Of({ endpoint, region: SOURCE });
  const home = () => ec2Of({ endpoint, region: HOME });

  beforeAll(async () => {
    env = await scenario({});
    victim = await seedVictim({ endpoint, region: SOURCE, accountId: IR });
    result = await executeLocal(env, findingEventFor(victim, { accountId: IR, region: SOURCE }, { id: 'e2ehomeregion001' }));
  }, 180_000);

  it('acquires and seals; acts on the instance in its own region', async () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    await isolated(source(), victim, result.isolation.securityGroupId);
  });

  it('each evidence snapshot exists in the home region, IR-owned, under a key that exists in the home region', async () => {
    expect(result.snapshots).toHaveLength(victim.volumeIds.length);
    const kms = new KMSClient(emulatorClientConfig({ endpoint, region: HOME }));
    for (const entry of result.snapshots) {
      expect(entry.region).toBe(HOME);
      const [snap] = (await home().send(new DescribeSnapshotsCommand({ SnapshotIds: [entry.evidenceSnapshotId as string] }))).Snapshots ?? [];
      expect(snap).toMatchObject({ OwnerId: IR, State: 'completed', Encrypted: true, KmsKeyId: env.handlerEnv.EVIDENCE_KEY_ARN });
      expect(tag(snap as Snapshot, 'forensics:evidence')).toBe('true');
      expect(tag(snap as Snapshot, 'forensics:source-snapshot')).toBe(entry.snapshotId);
      const key = (await kms.send(new DescribeKeyCommand({ KeyId: snap?.KmsKeyId }))).KeyMetadata;
      expect(key?.Arn).toBe(snap?.KmsKeyId);
      expect(key?.Arn?.split(':')[3]).toBe(HOME);
      expect(key?.KeyState).toBe('Enabled');
    }
  });

  it('nothing was left half-done in the source region: the originals, completed, and no copy', async () => {
    const there = await caseSnapshots(source(), result.caseId as string);
    expect(there.map((s) => s.VolumeId).sort()).toEqual([...victim.volumeIds].sort());
    for (const s of there) {
      expect(s.State).toBe('completed');
      expect(tag(s, 'forensics:evidence')).toBeUndefined();
    }
    // ...and in the home region only the evidence copies, one per volume.
    const here = await caseSnapshots(home(), result.caseId as string);
    expect(here.map((s) => tag(s, 'forensics:source-snapshot')).sort()).toEqual(result.snapshots.map((s) => s.snapshotId).sort());
  });

  it('the manifest records the source and evidence regions and the hop', async () => {
    const manifest = await manifestOf(env, result);
    for (const s of manifest.snapshots) {
      expect(s).toMatchObject({ sourceRegion: SOURCE, evidenceRegion: HOME, evidenceState: 'completed' });
      expect(s.hops?.[0]).toMatchObject({ kind: 'ir-copy', accountId: IR, region: HOME, sourceRegion: SOURCE });
    }
  });
});

describe('two accounts: a workload account\'s victim in another region than the home region', () => {
  let env: LocalEnvironment;
  let workload: EmulatorContext;
  let victim: Victim;
  let result: RunLocalResult;

  beforeAll(async () => {
    env = await scenario({ WORKLOAD_ACCOUNTS: `${IR},${WORKLOAD}`, RESPONDER_ROLE_NAME: ROLE, RESPONDER_EXTERNAL_ID: 'e2e-external-id' });
    workload = await accountContext(env, WORKLOAD, SOURCE);
    victim = await seedVictim(workload);
    result = await executeLocal(env, findingEventFor(victim, workload, { id: 'e2ehomeregion002' }));
  }, 180_000);

  it('acquires in the workload account\'s region through the responder role', async () => {
    expect(result.status).toBe('SUCCEEDED');
    await isolated(ec2Of(workload), victim, result.isolation.securityGroupId);
  });

  it('re-encrypts in the source region under the evidence key\'s replica there, and shares that copy with the IR account', async () => {
    const replica = env.handlerEnv.EVIDENCE_KEY_ARN.replace(`:kms:${HOME}:`, `:kms:${SOURCE}:`);
    const intermediates = (await caseSnapshots(ec2Of(workload), result.caseId as string)).filter((s) => tag(s, 'forensics:evidence') === 'intermediate');
    expect(intermediates).toHaveLength(victim.volumeIds.length);
    const kms = new KMSClient(emulatorClientConfig({ endpoint, region: SOURCE }));
    for (const copy of intermediates) {
      expect(copy).toMatchObject({ State: 'completed', KmsKeyId: replica });
      const key = (await kms.send(new DescribeKeyCommand({ KeyId: copy.KmsKeyId }))).KeyMetadata;
      expect(key?.Arn).toBe(replica);
      expect(key?.MultiRegionConfiguration?.PrimaryKey?.Arn).toBe(env.handlerEnv.EVIDENCE_KEY_ARN);
      const attr = await ec2Of(workload).send(new DescribeSnapshotAttributeCommand({ SnapshotId: copy.SnapshotId, Attribute: 'createVolumePermission' }));
      expect(attr.CreateVolumePermissions).toEqual([{ UserId: IR }]);
    }
  });

  it('nothing half-done: the originals and one completed copy each in the source region; nothing in the home region', async () => {
    const there = await caseSnapshots(ec2Of(workload), result.caseId as string);
    expect(there.filter((s) => !tag(s, 'forensics:evidence')).map((s) => s.VolumeId).sort()).toEqual([...victim.volumeIds].sort());
    expect(there.every((s) => s.State === 'completed')).toBe(true);
    expect(there).toHaveLength(2 * victim.volumeIds.length);
    // The IR copy (moto: a shared snapshot is invisible to the other account) was refused before creating anything.
    expect(await caseSnapshots(ec2Of({ endpoint, region: HOME }), result.caseId as string)).toEqual([]);
    expect(await caseSnapshots(ec2Of({ endpoint, region: SOURCE }), result.caseId as string)).toEqual([]);
    const manifest = await manifestOf(env, result);
    for (const s of manifest.snapshots) {
      expect(s).toMatchObject({ sourceRegion: SOURCE, originalAccountId: WORKLOAD, intermediateCopy: { region: SOURCE, kmsKeyId: expect.stringContaining(`:kms:${SOURCE}:`), sharedWith: IR } });
      expect(s.evidenceStateMessage).toMatch(/CopySnapshot in the IR account/);
    }
  });
});

describe('organisation mode: a member account no list names', () => {
  let env: LocalEnvironment;
  let member: EmulatorContext;
  let victim: Victim;
  let result: RunLocalResult;

  beforeAll(async () => {
    // Only the IR account is listed: the member is acquired because it is in the organisation.
    env = await scenario({ ORGANIZATION_ID: 'o-e2eorganisation', WORKLOAD_ACCOUNTS: IR, RESPONDER_ROLE_NAME: ROLE, RESPONDER_EXTERNAL_ID: 'e2e-external-id' });
    member = await accountContext(env, MEMBER, SOURCE);
    victim = await seedVictim(member, { lean: true });
    result = await executeLocal(env, findingEventFor(victim, member, { id: 'e2ehomeregion003' }));
  }, 180_000);

  it('is acquired, in the member account and its region, with the evidence chain under the replica there', async () => {
    expect(result.reason).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.caseId).toMatch(new RegExp(`${victim.instanceId}$`));
    await isolated(ec2Of(member), victim, result.isolation.securityGroupId);
    const replica = env.handlerEnv.EVIDENCE_KEY_ARN.replace(`:kms:${HOME}:`, `:kms:${SOURCE}:`);
    const copies = (await caseSnapshots(ec2Of(member), result.caseId as string)).filter((s) => tag(s, 'forensics:evidence') === 'intermediate');
    expect(copies.map((s) => s.KmsKeyId)).toEqual(victim.volumeIds.map(() => replica));
    const manifest = await manifestOf(env, result);
    expect(manifest.target).toEqual({ accountId: MEMBER, region: SOURCE, instanceId: victim.instanceId });
  });
});
