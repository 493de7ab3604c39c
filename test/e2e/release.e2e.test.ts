import { DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRolePolicyCommand, IAMClient, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelease } from '../../cli/commands/release';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { decodePolicyDocument } from '../../handlers/adapters/iam-role-adapter';

/**
 * Credential containment and release, end to end on moto: the acquisition puts the instance-scoped deny policy on
 * the victim's role; `forensics release` restores every ENI's groups and removes the policy, and leaves the
 * evidence exactly as it was.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let iam: IAMClient;
let s3: S3Client;
let victim: Victim;
let result: RunLocalResult;
const policyName = () => `forensics-deny-${result.caseId}`;

async function snapshotState(): Promise<string[]> {
  const out = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
  return (out.Snapshots ?? []).map((s) => `${s.SnapshotId}:${s.State}:${s.KmsKeyId ?? ''}`).sort();
}

async function groupsByEni(): Promise<Record<string, string[]>> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: victim.networkInterfaceIds }));
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId ?? '', (n.Groups ?? []).map((g) => g.GroupId ?? '').sort()]),
  );
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  iam = new IAMClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  victim = await seedVictim(env);
  result = await executeLocal(env, findingEventFor(victim, env, { id: 'e2erelease0001' }));
});

afterAll(async () => {
  await env?.stop();
});

describe('credential containment and release (emulator)', () => {
  let snapshotsBefore: string[];
  let manifestBefore: { versionId?: string; hold?: string; checksum?: string };

  it('acquisition puts the instance-scoped deny policy on the victim\'s role', async () => {
    expect(result.status).toBe('SUCCEEDED');
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: victim.roleName, PolicyName: policyName() }));
    const doc = JSON.parse(decodePolicyDocument(out.PolicyDocument ?? '')) as {
      Statement: { Effect: string; Action: string; Resource: string; Condition: Record<string, Record<string, string>> }[];
    };
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0]).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    expect(doc.Statement[0]?.Condition).toEqual({
      StringEquals: { 'ec2:SourceInstanceARN': `arn:aws:ec2:${env.region}:${env.accountId}:instance/${victim.instanceId}` },
    });
    // The containment tag release's DeleteRolePolicy is conditioned on, with the case id.
    const tags = await iam.send(new ListRoleTagsCommand({ RoleName: victim.roleName }));
    expect(tags.Tags).toContainEqual({ Key: 'forensics:contained', Value: result.caseId });
  });

  it('release restores every ENI\'s original groups, removes the deny policy, re-registers the target', async () => {
    const isolated = await groupsByEni();
    for (const eni of victim.networkInterfaceIds) expect(isolated[eni]).not.toEqual([...(victim.originalGroups[eni] ?? [])].sort());
    snapshotsBefore = await snapshotState();
    const m = result.manifest;
    const head = await s3.send(new HeadObjectCommand({ Bucket: m?.bucket, Key: m?.key, ChecksumMode: 'ENABLED' }));
    manifestBefore = { versionId: head.VersionId, hold: head.ObjectLockLegalHoldStatus, checksum: head.ChecksumSHA256 };

    const released = await runRelease(result.caseId ?? '', {
      reason: 'e2e: cleared',
      endpoint: env.endpoint,
      table: env.handlerEnv.CASE_TABLE_NAME,
      bucket: env.handlerEnv.EVIDENCE_BUCKET,
      requestedBy: 'e2e',
    });
    expect(released.status).toBe('RELEASED');
    expect(released.lockReleased).toBe(true);

    const restored = await groupsByEni();
    for (const eni of victim.networkInterfaceIds) expect(restored[eni], eni).toEqual([...(victim.originalGroups[eni] ?? [])].sort());
    await expect(iam.send(new GetRolePolicyCommand({ RoleName: victim.roleName, PolicyName: policyName() }))).rejects.toMatchObject({
      // The SDK names the modelled error NoSuchEntityException (wire code NoSuchEntity).
      name: expect.stringMatching(/^NoSuchEntity/),
    });
    // No deny policy of this product is left on the role: its containment tag is gone too.
    const tags = await iam.send(new ListRoleTagsCommand({ RoleName: victim.roleName }));
    expect((tags.Tags ?? []).map((t) => t.Key)).not.toContain('forensics:contained');
    const elbv2 = new ElasticLoadBalancingV2Client(emulatorClientConfig(env));
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: victim.targetGroupArn }));
    expect((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id)).toContain(victim.instanceId);
  });

  it('leaves the evidence unchanged: snapshots, manifest version, legal hold', async () => {
    expect(await snapshotState()).toEqual(snapshotsBefore);
    const m = result.manifest;
    const head = await s3.send(new HeadObjectCommand({ Bucket: m?.bucket, Key: m?.key, ChecksumMode: 'ENABLED' }));
    expect({ versionId: head.VersionId, hold: head.ObjectLockLegalHoldStatus, checksum: head.ChecksumSHA256 }).toEqual(manifestBefore);
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
  });

  it('refuses a second release, and an unknown case', async () => {
    const opts = { reason: 'again', endpoint: env.endpoint, table: env.handlerEnv.CASE_TABLE_NAME, bucket: env.handlerEnv.EVIDENCE_BUCKET };
    await expect(runRelease(result.caseId ?? '', opts)).rejects.toMatchObject({ name: 'CaseAlreadyReleased' });
    await expect(runRelease('20260101T000000Z-i-0123456789abcdef0', opts)).rejects.toMatchObject({ name: 'CaseNotFound' });
  });
});
