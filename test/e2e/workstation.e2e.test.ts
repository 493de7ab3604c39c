import { DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { runWorkstationLaunch, runWorkstationTerminate } from '../../cli/commands/workstation';
import { verifyCase } from '../../cli/commands/case-verify';

/**
 * End to end on moto: an acquisition with the workstation option on. Volumes are created from the IR-owned
 * evidence snapshots and attached, in the original device order, to a workstation launched from the hardened launch
 * template, whose metadata options require tokens. Assertions read the emulator through the SDK.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let s3: S3Client;
let victim: Victim;
let result: RunLocalResult;

beforeAll(async () => {
  // cdk.json's forensics:workstation is true: the default configuration launches the workstation.
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  victim = await seedVictim(env);
  result = await executeLocal(env, findingEventFor(victim, env, { id: 'e2eworkstation01' }));
});

afterAll(async () => {
  await env?.stop();
});

const workstationVolumes = async (caseId: string) =>
  (
    await ec2.send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: 'tag:forensics:case-id', Values: [caseId] },
          { Name: 'tag:forensics:role', Values: ['workstation-volume'] },
        ],
      }),
    )
  ).Volumes ?? [];

describe('forensic workstation (emulator)', () => {
  it('the acquisition succeeds and names the workstation', () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.forensicInstanceId).toMatch(/^i-[0-9a-f]+$/);
  });

  it('launches the workstation in the forensic subnet from the template, IMDSv2 required, hop limit 1, no public IP', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [result.forensicInstanceId ?? ''] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State?.Name).toBe('running');
    expect(instance?.MetadataOptions?.HttpTokens).toBe('required');
    expect(instance?.MetadataOptions?.HttpPutResponseHopLimit).toBe(1);
    expect(instance?.MetadataOptions?.InstanceMetadataTags).toBe('enabled');
    expect(process.env.WORKSTATION_SUBNET_IDS?.split(',')).toContain(instance?.SubnetId);
    expect(instance?.PublicIpAddress).toBeUndefined();
    expect(instance?.KeyName).toBeUndefined();
    // The one interface: the no-ingress workstation group, no public address.
    expect(instance?.NetworkInterfaces).toHaveLength(1);
    expect(instance?.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual([process.env.WORKSTATION_SECURITY_GROUP_ID]);
    expect(instance?.NetworkInterfaces?.[0]?.Association?.PublicIp).toBeUndefined();
    const tags = Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags['forensics:case-id']).toBe(result.caseId);
    expect(tags['aws:ec2launchtemplate:id']).toBe(process.env.WORKSTATION_LAUNCH_TEMPLATE_ID);
    expect(tags['forensics:evidence-volumes']).toBe(String(victim.volumeIds.length));
  });

  it('creates a volume from every evidence snapshot, encrypted with the evidence key, in the subnet AZ, all attached in device order', async () => {
    const volumes = await workstationVolumes(result.caseId ?? '');
    expect(volumes).toHaveLength(victim.volumeIds.length);
    const evidence = new Map(result.snapshots.map((s) => [s.evidenceSnapshotId ?? '', s.volumeId]));
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [result.forensicInstanceId ?? ''] }));
    const az = out.Reservations?.[0]?.Instances?.[0]?.Placement?.AvailabilityZone;
    const bySource = new Map<string, { device: string; sourceDevice: string }>();
    for (const v of volumes) {
      const tags = Object.fromEntries((v.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(evidence.get(v.SnapshotId ?? ''), v.VolumeId).toBe(tags['forensics:source-volume']);
      expect(v.KmsKeyId).toBe(env.handlerEnv.EVIDENCE_KEY_ARN);
      expect(v.AvailabilityZone).toBe(az);
      expect(v.Attachments).toHaveLength(1);
      expect(v.Attachments?.[0]).toMatchObject({ InstanceId: result.forensicInstanceId, State: 'attached', Device: tags['forensics:attach-device'] });
      bySource.set(tags['forensics:source-volume'] ?? '', { device: v.Attachments?.[0]?.Device ?? '', sourceDevice: tags['forensics:source-device'] ?? '' });
    }
    // /dev/sdf, /dev/sdg, … in the order of the original devices (root /dev/xvda first).
    const ordered = [...bySource.values()].sort((a, b) => a.device.localeCompare(b.device));
    expect(ordered.map((o) => o.device)).toEqual(['/dev/sdf', '/dev/sdg', '/dev/sdh', '/dev/sdi', '/dev/sdj', '/dev/sdk'].slice(0, ordered.length));
    expect(ordered[0]?.sourceDevice).toBe('/dev/xvda');
  });

  it('records the workstation (legal hold), in the custody chain, and case verify passes without unlisted objects', async () => {
    const key = `cases/${result.caseId}/workstation-${result.forensicInstanceId}.json`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key }));
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    const body = JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key }))).Body?.transformToString()) ?? '{}') as { instanceId: string; volumes: unknown[] };
    expect(body.instanceId).toBe(result.forensicInstanceId);
    expect(body.volumes).toHaveLength(victim.volumeIds.length);
    const report = await verifyCase(
      { stackName: 'local', region: env.region, endpoint: env.endpoint, bucket: env.handlerEnv.EVIDENCE_BUCKET, table: env.handlerEnv.CASE_TABLE_NAME, keyArn: env.handlerEnv.EVIDENCE_KEY_ARN, sources: {} },
      result.caseId ?? '',
      new Date(),
    );
    expect(report.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(report.checks.filter((c) => c.check === 'manifest.coverage')).toEqual([]);
    expect(report.checks.find((c) => c.subject === key && c.check === 'object.sha256')?.status).toBe('PASS');
  });

  it('CLI: terminate leaves the evidence snapshots, deletes the workstation volumes; launch brings a new workstation', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const opts = { endpoint: env.endpoint, region: env.region, bucket: env.handlerEnv.EVIDENCE_BUCKET, table: env.handlerEnv.CASE_TABLE_NAME, keyArn: env.handlerEnv.EVIDENCE_KEY_ARN, output: 'json' };
    const terminated = await runWorkstationTerminate(result.caseId ?? '', { ...opts, reason: 'analysis done (e2e)', waitSeconds: '5' }, io);
    expect(terminated, lines.join('\n')).toBe(0);
    expect(await workstationVolumes(result.caseId ?? '')).toEqual([]);
    const evidenceIds = result.snapshots.map((s) => s.evidenceSnapshotId ?? '');
    const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
    const snaps = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: evidenceIds }));
    expect(snaps.Snapshots?.map((s) => s.State)).toEqual(evidenceIds.map(() => 'completed'));

    const launched = await runWorkstationLaunch(result.caseId ?? '', opts, io);
    expect(launched, lines.join('\n')).toBe(0);
    const out = JSON.parse(lines.find((l) => l.includes('"instanceId"')) ?? '{}') as { instanceId: string; volumes: { attachmentState: string }[] };
    expect(out.instanceId).not.toBe(result.forensicInstanceId);
    expect(out.volumes.map((v) => v.attachmentState)).toEqual(victim.volumeIds.map(() => 'attached'));
  });
});
