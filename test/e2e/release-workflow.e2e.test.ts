import { DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { HeadObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import {
  executeLocal,
  executeLocalRelease,
  type LocalEnvironment,
  type RunLocalResult,
} from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RELEASE_STEPS } from '../../workflows/release-steps';

/**
 * The release STATE MACHINE end to end on moto: the synthesized release definition, run by the local runner with the
 * real release handlers, after a real acquisition. Every assertion reads the emulator through the SDK.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let iam: IAMClient;
let s3: S3Client;
let victim: Victim;
let acquired: RunLocalResult;
const policyName = () => `forensics-deny-${acquired.caseId}`;

async function groupsByEni(): Promise<Record<string, string[]>> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: victim.networkInterfaceIds }));
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId ?? '', (n.Groups ?? []).map((g) => g.GroupId ?? '').sort()]),
  );
}

async function evidenceState(): Promise<{ snapshots: string[]; manifest: unknown; versions: string[] }> {
  const snaps = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
  const m = acquired.manifest;
  const head = await s3.send(new HeadObjectCommand({ Bucket: m?.bucket, Key: m?.key, ChecksumMode: 'ENABLED' }));
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: m?.bucket, Prefix: `cases/${acquired.caseId}/` }));
  return {
    snapshots: (snaps.Snapshots ?? []).map((s) => `${s.SnapshotId}:${s.State}:${s.KmsKeyId ?? ''}`).sort(),
    manifest: { versionId: head.VersionId, hold: head.ObjectLockLegalHoldStatus, checksum: head.ChecksumSHA256 },
    // Every evidence object version that existed before release (custody records are added, none replaced).
    versions: (versions.Versions ?? []).filter((v) => !v.Key?.includes('/custody/')).map((v) => `${v.Key}@${v.VersionId}`).sort(),
  };
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  iam = new IAMClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  victim = await seedVictim(env);
  acquired = await executeLocal(env, findingEventFor(victim, env, { id: 'e2ereleasesm01' }));
});

afterAll(async () => {
  await env?.stop();
});

describe('release state machine (emulator, local runner)', () => {
  it('refuses an unknown case and an invalid request as execution failures, changing nothing', async () => {
    const unknown = await executeLocalRelease(env, { caseId: '20260101T000000Z-i-0123456789abcdef0', reason: 'x', requestedBy: 'e2e' });
    expect(unknown).toMatchObject({ status: 'FAILED', error: { name: 'CaseNotFound' } });
    const invalid = await executeLocalRelease(env, { caseId: acquired.caseId ?? '', reason: ' ', requestedBy: 'e2e' });
    expect(invalid).toMatchObject({ status: 'FAILED', error: { name: 'InvalidInput' } });
    expect(invalid.error?.cause).toContain('reason');
  });

  it('a failure after validation is recorded in the case and custody log; the case stays CONTAINED', async () => {
    const failing = await executeLocalRelease(
      env,
      { caseId: acquired.caseId ?? '', reason: 'e2e: injected failure', requestedBy: 'e2e' },
      {
        wrapHandler: (state, fn) =>
          state === RELEASE_STEPS.releaseContainment.state
            ? async () => {
                throw Object.assign(new Error('injected: restore failed'), { name: 'ReleaseIncomplete' });
              }
            : fn,
      },
    );
    expect(failing).toMatchObject({ status: 'FAILED', error: { name: 'ReleaseIncomplete' } });
    const cases = new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(env)), env.handlerEnv.CASE_TABLE_NAME, () => new Date());
    const record = await cases.getCase(acquired.caseId ?? '');
    expect(record?.status).toBe('CONTAINED');
    expect(record?.details.releaseFailure).toMatchObject({ error: 'ReleaseIncomplete', executionArn: failing.executionArn });
    const last = record?.custody.at(-1);
    expect(last?.key).toContain(`cases/${acquired.caseId}/custody/`);
  });

  it('restores every ENI\'s original groups, deletes the deny policy, re-registers the target; evidence untouched', async () => {
    expect(acquired.status).toBe('SUCCEEDED');
    await iam.send(new GetRolePolicyCommand({ RoleName: victim.roleName, PolicyName: policyName() }));
    const before = await evidenceState();
    const entered: string[] = [];

    const result = await executeLocalRelease(
      env,
      { caseId: acquired.caseId ?? '', reason: 'e2e: cleared by the investigation', requestedBy: 'e2e-responder' },
      { onProgress: (p) => p.kind === 'entered' && entered.push(p.state) },
    );
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.release).toMatchObject({ caseId: acquired.caseId, status: 'RELEASED', lockReleased: true });
    expect(entered).toEqual([
      RELEASE_STEPS.validateRelease.state,
      RELEASE_STEPS.releaseContainment.state,
      RELEASE_STEPS.notifyRelease.state,
      'Containment released',
    ]);

    const restored = await groupsByEni();
    for (const eni of victim.networkInterfaceIds) expect(restored[eni], eni).toEqual([...(victim.originalGroups[eni] ?? [])].sort());
    await expect(iam.send(new GetRolePolicyCommand({ RoleName: victim.roleName, PolicyName: policyName() }))).rejects.toMatchObject({
      name: expect.stringMatching(/^NoSuchEntity/),
    });
    const elbv2 = new ElasticLoadBalancingV2Client(emulatorClientConfig(env));
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: victim.targetGroupArn }));
    expect((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id)).toContain(victim.instanceId);

    expect(await evidenceState()).toEqual(before);

    const cases = new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(env)), env.handlerEnv.CASE_TABLE_NAME, () => new Date());
    const record = await cases.getCase(acquired.caseId ?? '');
    expect(record?.status).toBe('RELEASED');
    expect(record?.details.release).toMatchObject({ reason: 'e2e: cleared by the investigation', requestedBy: 'e2e-responder' });
  });

  it('refuses a second release with CaseAlreadyReleased', async () => {
    const again = await executeLocalRelease(env, { caseId: acquired.caseId ?? '', reason: 'again', requestedBy: 'e2e' });
    expect(again).toMatchObject({ status: 'FAILED', error: { name: 'CaseAlreadyReleased' } });
  });
});
