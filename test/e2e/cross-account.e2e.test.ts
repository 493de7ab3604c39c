import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetResponderCredentials } from '../../handlers/adapters/responder-credentials';
import { emulatorClientConfig, type EmulatorContext } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';

/**
 * Cross-account acquisition on moto, with two emulated accounts: the IR account (moto's default, 123456789012) and a
 * workload account (111111111111) whose victim is seeded — and then acquired — through credentials from assuming
 * the responder role there (moto maps an assumed role's credentials to the role's account).
 *
 * Covered here: assume-role per case; describe, preserve, snapshot, isolate and credential containment in the
 * workload account; the intermediate copy under the IR evidence key in the workload account; its share with the IR
 * account (createVolumePermission). NOT coverable on moto: the IR-side copy of the shared snapshot (moto does not
 * make a shared snapshot visible to the other account, so the IR CopySnapshot fails with InvalidSnapshot.NotFound,
 * which the workflow records as that volume's evidence error) and the lock of the IR copy. Those links are covered
 * by the unit tests (test/unit/handlers/use-cases/evidence-chain.test.ts).
 */
const WORKLOAD = '111111111111';
const ROLE = 'ForensicsResponder';

let env: LocalEnvironment;
let workloadCtx: EmulatorContext;
let workloadEc2: EC2Client;
let irEc2: EC2Client;
let victim: Victim;
let result: RunLocalResult;

beforeAll(async () => {
  env = await prepareE2eEnvironment({
    handlerLogs: 'silent',
    overrides: {
      WORKLOAD_ACCOUNTS: `123456789012,${WORKLOAD}`,
      RESPONDER_ROLE_NAME: ROLE,
      RESPONDER_EXTERNAL_ID: 'e2e-external-id',
    },
  });
  resetResponderCredentials();
  // Seed the victim in the workload account, as that account (assumed-role credentials).
  const sts = new STSClient(emulatorClientConfig(env));
  const assumed = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${WORKLOAD}:role/seeder`, RoleSessionName: 'seed' }),
  );
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('moto returned no credentials');
  workloadCtx = {
    endpoint: env.endpoint,
    region: env.region,
    accountId: WORKLOAD,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) },
  };
  workloadEc2 = new EC2Client(emulatorClientConfig(workloadCtx));
  irEc2 = new EC2Client(emulatorClientConfig(env));
  victim = await seedVictim(workloadCtx);
  result = await executeLocal(env, findingEventFor(victim, workloadCtx, { id: 'e2ecrossaccount01' }));
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe('cross-account acquisition (two emulated accounts)', () => {
  it('the instance exists only in the workload account', async () => {
    const inIr = await irEc2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [victim.instanceId] }] }));
    expect(inIr.Reservations ?? []).toHaveLength(0);
  });

  it('runs to the end and seals the evidence (the IR copy is recorded as the emulator gap)', () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.caseId).toMatch(new RegExp(`${victim.instanceId}$`));
  });

  it('acts on the instance in the workload account through the responder role', async () => {
    const attr = await workloadEc2.send(new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }));
    expect(attr.DisableApiTermination?.Value).toBe(true);
    const inst = await workloadEc2.send(new DescribeInstancesCommand({ InstanceIds: [victim.instanceId] }));
    const enis = inst.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? [];
    expect(enis.length).toBeGreaterThan(0);
    for (const eni of enis) {
      expect(eni.Groups?.map((g) => g.GroupId)).toEqual([result.isolation.securityGroupId]);
    }
  });

  it('snapshots in the workload account, copies each with the IR evidence key there, and shares the copy with the IR account', async () => {
    const mine = await workloadEc2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:forensics:case-id', Values: [result.caseId ?? ''] }] }),
    );
    const snaps = mine.Snapshots ?? [];
    const intermediates = snaps.filter((s) => s.Tags?.some((t) => t.Key === 'forensics:evidence' && t.Value === 'intermediate'));
    const originals = snaps.filter((s) => !s.Tags?.some((t) => t.Key === 'forensics:evidence'));
    expect(originals.map((s) => s.VolumeId).sort()).toEqual([...victim.volumeIds].sort());
    expect(intermediates).toHaveLength(victim.volumeIds.length);
    for (const copy of intermediates) {
      expect(copy.KmsKeyId).toBe(env.handlerEnv.EVIDENCE_KEY_ARN);
      const attr = await workloadEc2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: copy.SnapshotId, Attribute: 'createVolumePermission' }),
      );
      expect(attr.CreateVolumePermissions).toEqual([{ UserId: '123456789012' }]);
    }
    // Nothing of the case was created in the IR account's EC2 (the IR copy is refused by the emulator).
    const inIr = await irEc2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:forensics:case-id', Values: [result.caseId ?? ''] }] }),
    );
    expect(inIr.Snapshots ?? []).toHaveLength(0);
  });

  it('never deletes an original snapshot; the manifest records the chain per volume up to the share', async () => {
    const s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
    const manifest = result.manifest;
    expect(manifest).not.toBeNull();
    const body = await s3.send(new GetObjectCommand({ Bucket: manifest?.bucket, Key: manifest?.key }));
    const parsed = JSON.parse((await body.Body?.transformToString()) ?? '{}') as {
      target: { accountId: string };
      snapshots: { originalSnapshotId: string; originalAccountId: string; intermediateCopy: { snapshotId: string; sharedWith: string } | null; evidenceState: string; evidenceStateMessage: string | null }[];
    };
    expect(parsed.target.accountId).toBe(WORKLOAD);
    expect(parsed.snapshots).toHaveLength(victim.volumeIds.length);
    const originals = await workloadEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: parsed.snapshots.map((s) => s.originalSnapshotId) }));
    expect(originals.Snapshots).toHaveLength(victim.volumeIds.length);
    for (const s of parsed.snapshots) {
      expect(s.originalAccountId).toBe(WORKLOAD);
      expect(s.intermediateCopy?.sharedWith).toBe('123456789012');
      // The emulator gap, recorded rather than hidden.
      expect(s.evidenceState).toBe('error');
      expect(s.evidenceStateMessage).toMatch(/CopySnapshot in the IR account/);
    }
  });
});
