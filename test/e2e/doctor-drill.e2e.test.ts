import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteRuleCommand, DisableRuleCommand, EnableRuleCommand, EventBridgeClient, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteRoleCommand, IAMClient, ListInstanceProfilesCommand, ListPoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListSubscriptionsByTopicCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../cli/commands/common';
import { runDoctor } from '../../cli/commands/doctor';
import { runDrillCleanCommand, runDrillCommand } from '../../cli/commands/drill';
import type { DoctorCheck } from '../../cli/doctor/check';
import type { DrillReport } from '../../cli/drill/drill-report';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { localForwarderName } from '../../cli/local/local-controls';
import { accountContext, provisionWorkloadAccount } from './support/local-deployment';

/**
 * `forensics doctor` and `forensics drill` on moto, one server for both (the state machines are synthesized once).
 *
 * The local deployment is what `run-local -c forensics:workloadRegions=us-east-1,eu-west-1` provisions: the IR
 * resources with the template's controls, the key's replica and the forwarding rule in eu-west-1, registered as the
 * IR stack with that context (doctor and drill find it and its settings with --endpoint alone). For doctor's
 * multi-account checks (`-c forensics:workloadAccounts=111111111111`) a workload account gets its responder role,
 * GuardDuty in both regions and the key policy statement; an SQS subscription on the topic lets the test read the
 * notifications. Doctor must pass on it; then the drill runs end to end and must leave the account as it
 * found it; then each deliberate breakage, made through the SDK, must be caught by the check that names it.
 * Every assertion about AWS state reads it back through the SDK. DOCTOR_DRILL_SAMPLES=1 prints the text outputs
 * (docs/responder-guide.md shows them).
 */
const samples = process.env.DOCTOR_DRILL_SAMPLES === '1';
const WORKLOAD = '111111111111';
const OTHER_REGION = 'eu-west-1';
const REGIONS = ['us-east-1', OTHER_REGION];
const multiAccount = { 'forensics:workloadAccounts': [WORKLOAD] };

let env: LocalEnvironment;
let queueUrl: string;
let subscriptionArn: string;
let baseline: DoctorCheck[];
let drill: DrillReport;
let inventoryBefore: Inventory;
/** Wall-clock times seen from inside the run: when triage started, when the isolate step's handler returned. */
const observed: { triageStart?: number; isolateEnd?: number } = {};

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

function show(title: string, io: { stdout: string[]; stderr: string[] }, code: number): void {
  if (samples) process.stdout.write(`\n===== ${title} (exit ${code}) =====\n${[...io.stdout, ...io.stderr.filter((l) => !/^\[/.test(l))].join('\n')}\n`);
}

async function showDoctor(title: string): Promise<void> {
  if (!samples) return;
  const io = capture();
  show(title, io, await runDoctor({ endpoint: env.endpoint, contextOverrides: multiAccount }, io, {}));
}

async function doctor(): Promise<{ code: number; checks: DoctorCheck[] }> {
  const io = capture();
  const code = await runDoctor({ endpoint: env.endpoint, output: 'json', contextOverrides: multiAccount }, io, {});
  expect(io.stdout, io.stderr.join('\n')).toHaveLength(1);
  return { code, checks: (JSON.parse(io.stdout[0] as string) as { checks: DoctorCheck[] }).checks };
}

/** The checks whose status differs from the fresh deployment's. */
function changed(checks: DoctorCheck[]): Record<string, string> {
  const before = new Map(baseline.map((c) => [c.name, c.status]));
  return Object.fromEntries(checks.filter((c) => before.get(c.name) !== c.status).map((c) => [c.name, c.status]));
}

interface Inventory {
  instances: string[];
  volumes: string[];
  snapshots: string[];
  securityGroups: string[];
  vpcs: string[];
  subnets: string[];
  roles: string[];
  policies: string[];
  instanceProfiles: string[];
}

/** Everything of the IR account a drill could touch, read through the SDK (snapshots the drill tagged excluded). */
async function inventory(): Promise<Inventory> {
  const config = emulatorClientConfig(env);
  const ec2 = new EC2Client(config);
  const iam = new IAMClient(config);
  try {
    const instances = ((await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== 'terminated')
      .map((i) => `${i.InstanceId}:${i.State?.Name}:${(i.SecurityGroups ?? []).map((g) => g.GroupId).join(',')}`);
    const volumes = ((await ec2.send(new DescribeVolumesCommand({}))).Volumes ?? []).map((v) => `${v.VolumeId}:${v.State}`);
    const snapshots = ((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? [])
      .filter((s) => !(s.Tags ?? []).some((t) => t.Key === 'forensics:drill'))
      .map((s) => s.SnapshotId as string);
    const securityGroups = ((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).map(
      (g) => `${g.GroupId}:${JSON.stringify(g.IpPermissions)}:${JSON.stringify(g.IpPermissionsEgress)}`,
    );
    const vpcs = ((await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId as string);
    const subnets = ((await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).map((s) => s.SubnetId as string);
    const roles = ((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName as string);
    const policies = ((await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? []).map((p) => p.Arn as string);
    const instanceProfiles = ((await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []).map((p) => p.InstanceProfileName as string);
    const sorted = (xs: string[]) => [...xs].sort();
    return {
      instances: sorted(instances),
      volumes: sorted(volumes),
      snapshots: sorted(snapshots),
      securityGroups: sorted(securityGroups),
      vpcs: sorted(vpcs),
      subnets: sorted(subnets),
      roles: sorted(roles),
      policies: sorted(policies),
      instanceProfiles: sorted(instanceProfiles),
    };
  } finally {
    ec2.destroy();
    iam.destroy();
  }
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent', context: { 'forensics:workloadRegions': REGIONS.join(',') } });
  await provisionWorkloadAccount(env, { accountId: WORKLOAD, regions: REGIONS, roleName: 'ForensicsResponder', externalId: 'forensic-acquisition' });
  // A subscriber on the topic (an SQS queue: the test reads the notifications from it).
  const sqs = new SQSClient(emulatorClientConfig(env));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'doctor-drill-notifications' }))).QueueUrl as string;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const sns = new SNSClient(emulatorClientConfig(env));
  subscriptionArn = (await sns.send(new SubscribeCommand({ TopicArn: env.handlerEnv.TOPIC_ARN, Protocol: 'sqs', Endpoint: queueArn }))).SubscriptionArn as string;
  sqs.destroy();
  sns.destroy();
}, 240_000);

afterAll(async () => {
  await env?.stop();
});

describe('forensics doctor on a fresh local deployment', () => {
  it('passes: no check FAILs, and the per-account and per-region checks ran', async () => {
    const { code, checks } = await doctor();
    baseline = checks;
    await showDoctor('forensics doctor --endpoint URL');
    expect(checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(code).toBe(0);
    for (const name of [
      'stack',
      'key.enabled',
      'key.rotation',
      'key.policy',
      'table.pitr',
      'state-machine.acquisition.logging',
      'rule.pattern',
      'rule.dlq',
      'recovery.rule',
      'recovery.alarms',
      'topic.subscriptions',
      `responder.assume[${WORKLOAD}]`,
      `guardduty.detector[${WORKLOAD}/${OTHER_REGION}]`,
      `findings.forwarding[${OTHER_REGION}]`,
      `key.replica[${OTHER_REGION}]`,
    ]) {
      expect(checks.find((c) => c.name === name)?.status, name).toBe('PASS');
    }
    // What the emulator cannot do, or what is not built yet, is a WARN that says so — never a PASS.
    expect(checks.find((c) => c.name === 'snapshot-lock[us-east-1]')?.detail).toContain('emulator');
  });
});

describe('forensics drill against the emulator', () => {
  beforeAll(async () => {
    inventoryBefore = await inventory();
    const io = capture();
    // The containment step takes at least 400 ms more than it would: the report must show it, being measured.
    const code = await runDrillCommand(
      {
        endpoint: env.endpoint,
        account: env.accountId,
        region: env.region,
        output: 'json',
        testHooks: {
          wrapHandler: (state, handler) => async (input) => {
            if (state === 'Triage, open case and describe instance') observed.triageStart ??= Date.now();
            if (state !== 'Isolate network') return handler(input);
            await new Promise((r) => setTimeout(r, 400));
            const out = await handler(input);
            observed.isolateEnd = Date.now();
            return out;
          },
        },
      },
      io,
      {},
    );
    expect(io.stdout, io.stderr.join('\n')).toHaveLength(1);
    drill = JSON.parse(io.stdout[0] as string) as DrillReport;
    expect(code, JSON.stringify(drill.errors)).toBe(0);
    if (samples) {
      const text = capture();
      show('forensics drill --account 123456789012 --region us-east-1 --endpoint URL', text, await runDrillCommand({ endpoint: env.endpoint, account: env.accountId, region: env.region }, text, {}));
    }
  }, 180_000);

  it('reports the contract: succeeded, verified, released, canary terminated', () => {
    expect(drill).toMatchObject({ status: 'SUCCEEDED', verify: 'PASS', released: true, canaryTerminated: true });
    expect(drill.caseId).toMatch(new RegExp(`-${drill.canaryInstanceId}$`));
  });

  it('measures the figures on the execution, step by step', async () => {
    const isolate = drill.steps.find((s) => s.state === 'Isolate network');
    expect(isolate?.durationMs).toBeGreaterThanOrEqual(400);
    expect(drill.timeToContainmentMs).toBe((isolate?.startMs ?? 0) + (isolate?.durationMs ?? 0));
    expect(drill.timeToSealedMs).toBeGreaterThan(drill.timeToContainmentMs ?? Infinity);
    expect(drill.releaseSteps.map((s) => s.state)).toContain('Release containment');
    // An independent stopwatch around the handlers agrees with the execution's own timestamps.
    expect(Math.abs((observed.isolateEnd ?? 0) - (observed.triageStart ?? 0) - (drill.timeToContainmentMs ?? 0))).toBeLessThan(250);
    // The case's own record (manifest: case opened → last interface isolated) is of the same order; the report's point
    // is the end of the step, after credential containment and its custody records.
    const s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
    const manifest = JSON.parse(
      (await (await s3.send(new GetObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: `cases/${drill.caseId}/manifest.json` }))).Body?.transformToString()) ?? '{}',
    ) as { drill?: unknown; timings: { timeToContainmentSeconds: number } };
    expect(manifest.timings.timeToContainmentSeconds * 1000).toBeGreaterThan(400);
    expect(Math.abs(manifest.timings.timeToContainmentSeconds * 1000 - (drill.timeToContainmentMs ?? 0))).toBeLessThan(5_000);
    expect(manifest.drill).toEqual({ retentionDays: 1 });
    s3.destroy();
  });

  it('the canary ends terminated (as EC2 reports it)', async () => {
    const ec2 = new EC2Client(emulatorClientConfig(env));
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [drill.canaryInstanceId as string] }));
    expect(out.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('terminated');
    ec2.destroy();
  });

  it('nothing else in the account changed: instances, volumes, snapshots, groups, VPCs, roles, policies, profiles', async () => {
    expect(await inventory()).toEqual(inventoryBefore);
  });

  it('the case is a drill everywhere: case table, evidence retention, notification subjects', async () => {
    const ddb = new DynamoDBClient(emulatorClientConfig(env));
    const item = await ddb.send(new GetItemCommand({ TableName: env.handlerEnv.CASE_TABLE_NAME, Key: { pk: { S: `CASE#${drill.caseId}` }, sk: { S: 'CASE' } } }));
    expect(item.Item?.details?.M?.options?.M?.drill?.M?.retentionDays?.N).toBe('1');
    expect(item.Item?.status?.S).toBe('RELEASED');
    ddb.destroy();

    const s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
    const head = await s3.send(new HeadObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: `cases/${drill.caseId}/manifest.json` }));
    // The configured mode (COMPLIANCE), as for any evidence: only the date is the drill's.
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    const hours = ((head.ObjectLockRetainUntilDate?.getTime() ?? 0) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23);
    expect(hours).toBeLessThanOrEqual(24);
    s3.destroy();

    const sqs = new SQSClient(emulatorClientConfig(env));
    const subjects: string[] = [];
    for (let i = 0; i < 5; i++) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      for (const m of got.Messages ?? []) subjects.push((JSON.parse(m.Body ?? '{}') as { Subject?: string }).Subject ?? '');
      if ((got.Messages ?? []).length === 0) break;
    }
    sqs.destroy();
    expect(subjects.filter((s) => s.includes(drill.canaryInstanceId as string))).toEqual([
      expect.stringMatching(/^\[IR\] \[DRILL\] Contained /),
      expect.stringMatching(/^\[IR\] \[DRILL\] Released /),
    ]);
  });

  it('drill clean removes a kept canary (only drill-tagged resources) and keeps the evidence until its retention passes', async () => {
    const kept = capture();
    expect(await runDrillCommand({ endpoint: env.endpoint, account: env.accountId, region: env.region, output: 'json', keepCanary: true }, kept, {})).toBe(0);
    const report = JSON.parse(kept.stdout[0] as string) as DrillReport;
    const ec2 = new EC2Client(emulatorClientConfig(env));
    const stateOf = async () => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [report.canaryInstanceId as string] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
    expect(await stateOf()).toBe('running');

    const io = capture();
    expect(await runDrillCleanCommand({ endpoint: env.endpoint, olderThan: 0, output: 'json' }, io, {})).toBe(0);
    show('forensics drill clean --older-than 0 --endpoint URL --output json', io, 0);
    const cleaned = JSON.parse(io.stdout[0] as string) as { removed: string[]; retained: string[] };
    expect(await stateOf()).toBe('terminated');
    expect(cleaned.removed).toContain(`instance ${report.canaryInstanceId}`);
    expect(cleaned.retained.some((r) => r.includes(`drill case ${report.caseId}`) && r.includes('under retention'))).toBe(true);
    expect(await inventory()).toEqual(inventoryBefore);
    ec2.destroy();
  }, 180_000);
});

describe('forensics doctor catches each deliberate breakage', () => {
  it('a disabled evidence key: key.enabled FAILs', async () => {
    const kms = new KMSClient(emulatorClientConfig(env));
    const keyId = env.handlerEnv.EVIDENCE_KEY_ARN.split('/').pop();
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    const { code, checks } = await doctor();
    await showDoctor('forensics doctor --endpoint URL (evidence key disabled)');
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    kms.destroy();
    expect(code).toBe(1);
    expect(changed(checks)).toEqual({ 'key.enabled': 'FAIL' });
    expect(checks.find((c) => c.name === 'key.enabled')?.detail).toContain('enable-key');
  });

  it('a disabled redrive rule: recovery.rule FAILs (failed acquisitions would be neither redriven nor recorded)', async () => {
    const events = new EventBridgeClient(emulatorClientConfig(env));
    const rule = `${env.stackName}-acquisition-stopped`;
    await events.send(new DisableRuleCommand({ Name: rule }));
    const { code, checks } = await doctor();
    await showDoctor('forensics doctor --endpoint URL (redrive rule disabled)');
    await events.send(new EnableRuleCommand({ Name: rule }));
    events.destroy();
    expect(code).toBe(1);
    expect(changed(checks)).toEqual({ 'recovery.rule': 'FAIL' });
  });

  it('no subscription left on the topic: topic.subscriptions WARNs (nobody would be told)', async () => {
    const sns = new SNSClient(emulatorClientConfig(env));
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    expect((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: env.handlerEnv.TOPIC_ARN }))).Subscriptions ?? []).toEqual([]);
    const { code, checks } = await doctor();
    sns.destroy();
    expect(code).toBe(0);
    expect(changed(checks)).toEqual({ 'topic.subscriptions': 'WARN' });
  });

  it('a deleted forwarder rule: findings.forwarding of that region FAILs', async () => {
    const events = new EventBridgeClient(emulatorClientConfig({ ...env, region: OTHER_REGION }));
    const forwarder = localForwarderName(env.stackName);
    await events.send(new RemoveTargetsCommand({ Rule: forwarder, Ids: ['Target0'] }));
    await events.send(new DeleteRuleCommand({ Name: forwarder }));
    events.destroy();
    const { code, checks } = await doctor();
    expect(code).toBe(1);
    expect(changed(checks)).toMatchObject({ [`findings.forwarding[${OTHER_REGION}]`]: 'FAIL' });
    // The topic stays without its subscriber from the breakage before: nothing else changed.
    expect(Object.keys(changed(checks)).sort()).toEqual([`findings.forwarding[${OTHER_REGION}]`, 'topic.subscriptions']);
  });

  it('a removed responder role: responder.assume of that account FAILs, and its account is not checked further', async () => {
    const ctx = await accountContext(env, WORKLOAD);
    const iam = new IAMClient(emulatorClientConfig(ctx));
    await iam.send(new DeleteRoleCommand({ RoleName: 'ForensicsResponder' }));
    iam.destroy();
    const { code, checks } = await doctor();
    await showDoctor('forensics doctor --endpoint URL (responder role deleted, forwarder rule deleted, no subscription)');
    expect(code).toBe(1);
    const responder = checks.find((c) => c.name === `responder.assume[${WORKLOAD}]`);
    expect(responder).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('does not exist — deploy the responder stack') });
    expect(checks.find((c) => c.name === `guardduty.detector[${WORKLOAD}/us-east-1]`)?.detail).toContain(`see responder.assume[${WORKLOAD}]`);
  });
});
