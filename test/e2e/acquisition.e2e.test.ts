import { createHash } from 'node:crypto';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';

/**
 * End to end on moto: the synthesized definition, the real handlers, a seeded victim. Every assertion reads the
 * emulator's state through the SDK — never the runner's own summary alone.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let s3: S3Client;
let victim: Victim;
let result: RunLocalResult;
let seeded: Awaited<ReturnType<typeof preservationState>>;
const event = () => findingEventFor(victim, env, { id: 'e2e0001finding' });

/** Every preservation attribute of the victim, read through the SDK. */
async function preservationState() {
  const config = emulatorClientConfig(env);
  const client = new EC2Client(config);
  const termination = await client.send(
    new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }),
  );
  const shutdown = await client.send(
    new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }),
  );
  const described = await client.send(new DescribeInstancesCommand({ InstanceIds: [victim.instanceId] }));
  const instance = described.Reservations?.[0]?.Instances?.[0];
  const membership = await new AutoScalingClient(config).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [victim.instanceId] }));
  const health = await new ElasticLoadBalancingV2Client(config).send(new DescribeTargetHealthCommand({ TargetGroupArn: victim.targetGroupArn }));
  return {
    terminationProtection: termination.DisableApiTermination?.Value,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    deleteOnTermination: Object.fromEntries((instance?.BlockDeviceMappings ?? []).map((m) => [m.Ebs?.VolumeId, m.Ebs?.DeleteOnTermination])),
    lifecycle: membership.AutoScalingInstances?.map((i) => [i.AutoScalingGroupName, i.LifecycleState]) ?? [],
    targets: (health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id),
    tags: instance?.Tags ?? [],
  };
}

async function bodyOf(bucket: string, key: string): Promise<string> {
  const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await obj.Body?.transformToString()) ?? '';
}
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  // Launched to terminate on shutdown, its launch volumes deleted on termination, in an Auto Scaling group and a
  // target group: every preservation has something to change.
  victim = await seedVictim(env, { autoScalingGroup: true });
  seeded = await preservationState();
  result = await executeLocal(env, event());
});

afterAll(async () => {
  await env?.stop();
});

describe('acquisition of a compromised instance (single account, emulator)', () => {
  it('succeeds and opens a case', () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.caseId).toMatch(new RegExp(`${victim.instanceId}$`));
  });

  it('snapshots every attached EBS volume, tagged with the case', async () => {
    const snaps = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:forensics:case-id', Values: [result.caseId ?? ''] }],
      }),
    );
    const originals = (snaps.Snapshots ?? []).filter((s) => !s.Tags?.some((t) => t.Key === 'forensics:evidence'));
    expect(originals.map((s) => s.VolumeId).sort()).toEqual([...victim.volumeIds].sort());
    for (const s of result.snapshots) {
      expect(originals.map((o) => o.SnapshotId)).toContain(s.snapshotId);
    }
  });

  it('copies every snapshot re-encrypted with the evidence key', async () => {
    expect(result.snapshots).toHaveLength(victim.volumeIds.length);
    const ids = result.snapshots.map((s) => s.evidenceSnapshotId ?? 'missing');
    const copies = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
    expect(copies.Snapshots).toHaveLength(victim.volumeIds.length);
    for (const copy of copies.Snapshots ?? []) {
      // moto keeps the source's Encrypted flag on copies; the key id is what it records faithfully.
      expect(copy.KmsKeyId).toBe(env.handlerEnv.EVIDENCE_KEY_ARN);
      expect(copy.State).toBe('completed');
    }
  });

  it('isolates every network interface with a rule-less group', async () => {
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: victim.networkInterfaceIds }));
    const groupIds = new Set((enis.NetworkInterfaces ?? []).flatMap((n) => n.Groups?.map((g) => g.GroupId) ?? []));
    expect(groupIds.size).toBe(1);
    const [isolationGroupId] = [...groupIds];
    expect(result.isolation.securityGroupId).toBe(isolationGroupId);
    expect([...result.isolation.networkInterfaceIds].sort()).toEqual([...victim.networkInterfaceIds].sort());
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [isolationGroupId ?? ''] }));
    const group = groups.SecurityGroups?.[0];
    expect(group?.IpPermissions ?? []).toEqual([]);
    expect(group?.IpPermissionsEgress ?? []).toEqual([]);
  });

  it('preserves the instance: termination protection, stop on shutdown, volumes kept, standby, out of the target group', async () => {
    // Prepare: as seeded, every attribute needed a change (the launch volumes are deleted on termination; the volume
    // attached later is kept by default, as on AWS).
    expect(seeded.terminationProtection).toBe(false);
    expect(seeded.shutdownBehavior).toBe('terminate');
    expect(Object.values(seeded.deleteOnTermination).filter((v) => v === true)).toHaveLength(2);
    expect(seeded.lifecycle).toEqual([[victim.autoScalingGroupName, 'InService']]);
    expect(seeded.targets).toContain(victim.instanceId);

    // Act: read the state after the acquisition back through the SDK.
    const now = await preservationState();

    // Assess
    expect(now.terminationProtection).toBe(true);
    expect(now.shutdownBehavior).toBe('stop');
    expect(Object.keys(now.deleteOnTermination).sort()).toEqual([...victim.volumeIds].sort());
    for (const [volumeId, deleted] of Object.entries(now.deleteOnTermination)) expect(deleted, volumeId).toBe(false);
    expect(now.lifecycle).toEqual([[victim.autoScalingGroupName, 'Standby']]);
    expect(now.targets).not.toContain(victim.instanceId);
    expect(now.tags).toContainEqual({ Key: 'forensics:case-id', Value: result.caseId });
  });

  it('records every preservation as applied and verified by its read-back', async () => {
    const bucket = env.handlerEnv.EVIDENCE_BUCKET;
    const manifest = JSON.parse(await bodyOf(bucket, result.manifest?.key ?? '')) as {
      preservation: { action: string; status: string; verified?: boolean }[];
    };
    expect(manifest.preservation.map((p) => [p.action, p.status, p.verified])).toEqual([
      ['tag-instance', 'applied', undefined],
      ['enable-termination-protection', 'applied', true],
      ['shutdown-behavior-stop', 'applied', true],
      ['keep-volumes-on-termination', 'applied', true],
      ['leave-auto-scaling-group', 'applied', undefined],
      ['deregister-targets', 'applied', undefined],
    ]);
  });

  it('seals a manifest under legal hold whose checksum and listed hashes match the stored objects', async () => {
    const manifest = result.manifest;
    expect(manifest).not.toBeNull();
    const head = await s3.send(new HeadObjectCommand({ Bucket: manifest?.bucket, Key: manifest?.key, ChecksumMode: 'ENABLED' }));
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    const body = await bodyOf(manifest?.bucket ?? '', manifest?.key ?? '');
    expect(sha256(body)).toBe(manifest?.sha256);
    expect(head.ChecksumSHA256).toBe(createHash('sha256').update(body).digest('base64'));
    const parsed = JSON.parse(body) as { caseId: string; objects: { key: string; sha256: string }[] };
    expect(parsed.caseId).toBe(result.caseId);
    const keys = parsed.objects.map((o) => o.key);
    expect(keys).toContain(`cases/${result.caseId}/instance.json`);
    expect(keys.some((k) => k.includes('/custody/'))).toBe(true);
    expect(keys.some((k) => /finding-.+\.json$/.test(k))).toBe(true);
    for (const o of parsed.objects) {
      expect(sha256(await bodyOf(manifest?.bucket ?? '', o.key)), o.key).toBe(o.sha256);
      const h = await s3.send(new HeadObjectCommand({ Bucket: manifest?.bucket, Key: o.key }));
      expect(h.ObjectLockLegalHoldStatus, o.key).toBe('ON');
    }
  });

  it('writes every object of the case with its own COMPLIANCE retention of the configured days and a legal hold', async () => {
    // Prepare: every version under the case prefix, whoever wrote it (custody, findings, instance.json, manifest, …).
    const bucket = env.handlerEnv.EVIDENCE_BUCKET;
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `cases/${result.caseId}/` }));
    const versions = listed.Versions ?? [];
    expect(listed.IsTruncated).toBeFalsy();
    expect(versions.length).toBeGreaterThanOrEqual(8);
    const day = 24 * 60 * 60 * 1000;

    for (const v of versions) {
      // Act: read the object lock state back through the SDK.
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));

      // Assess: explicit retention (not the bucket default, which moto skips with a legal hold), from its write time.
      expect(head.ObjectLockMode, v.Key).toBe('COMPLIANCE');
      expect(head.ObjectLockLegalHoldStatus, v.Key).toBe('ON');
      const until = head.ObjectLockRetainUntilDate?.getTime() ?? 0;
      const written = head.LastModified?.getTime() ?? 0;
      expect(until - written, v.Key).toBeGreaterThan(Number(env.handlerEnv.EVIDENCE_RETENTION_DAYS) * day - 60_000);
      expect(until - written, v.Key).toBeLessThan(Number(env.handlerEnv.EVIDENCE_RETENTION_DAYS) * day + 60_000);
    }
  });

  it('links every custody record to the previous one by SHA-256', async () => {
    const bucket = env.handlerEnv.EVIDENCE_BUCKET;
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `cases/${result.caseId}/custody/` }));
    const keys = (versions.Versions ?? []).map((v) => v.Key ?? '').sort();
    expect(keys.length).toBeGreaterThanOrEqual(5);
    expect(new Set(keys).size).toBe(keys.length); // one version per record: nothing overwritten
    let prev = '0'.repeat(64);
    for (const key of keys) {
      const body = await bodyOf(bucket, key);
      const record = JSON.parse(body) as { prevSha256: string };
      expect(record.prevSha256, key).toBe(prev);
      prev = sha256(body);
    }
  });

  it('records a replayed finding as a duplicate and takes no second snapshot', async () => {
    const before = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const replay = await executeLocal(env, findingEventFor(victim, env, { id: 'e2e0001finding', count: 2 }));
    expect(replay.status).toBe('DUPLICATE');
    expect(replay.caseId).toBe(result.caseId);
    const after = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    expect(after.Snapshots?.length).toBe(before.Snapshots?.length);
  });
});

describe('input that must change nothing', () => {
  it('rejects a malformed manual request with InvalidInput naming the field', async () => {
    const before = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const bad = await executeLocal(env, {
      instanceId: 'not-an-instance',
      accountId: env.accountId,
      region: env.region,
      reason: 'test',
      requestedBy: 'analyst',
    });
    expect(bad.status).toBe('FAILED');
    expect(bad.error?.name).toBe('InvalidInput');
    expect(bad.error?.cause).toContain('instanceId');
    const after = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    expect(after.Snapshots?.length).toBe(before.Snapshots?.length);
  });

  it('fails an unknown instance with InstanceNotFound and takes no snapshot', async () => {
    const before = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const unknown = await executeLocal(env, findingEventFor({ instanceId: 'i-0123456789abcdef0' }, env));
    expect(unknown.status).toBe('FAILED');
    expect(`${unknown.error?.name} ${unknown.error?.cause}`).toMatch(/InstanceNotFound|i-0123456789abcdef0/);
    const after = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    expect(after.Snapshots?.length).toBe(before.Snapshots?.length);
  });

  it('ignores a low-severity finding', async () => {
    const low = await executeLocal(env, findingEventFor(victim, env, { id: 'e2elow', severity: 2 }));
    expect(low.status).toBe('IGNORED');
  });
});
