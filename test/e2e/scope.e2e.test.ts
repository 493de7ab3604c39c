import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateFlowLogsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateSecretCommand, GetResourcePolicyCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { type AwsCallMiddleware, addClientMiddleware } from '../support/aws-call-hooks';

/**
 * "Scope the incident" end to end on moto: the trail bucket is seeded with gzip log files and digest files in the
 * organization layout, inside and outside the window; moto lacks CloudTrail LookupEvents and IAM
 * SimulatePrincipalPolicy, which are served from fixtures shaped like AWS's responses through the call middleware
 * (test/support/aws-call-hooks.ts); everything else (the copies into the evidence bucket, Secrets Manager, the
 * inventory, the secrets' resource policies, the VPC's flow log into S3) runs for real against moto. Every assertion
 * reads the emulator's state back through the SDK.
 */
const TRAIL_BUCKET = 'org-trail-e2e';
/** The VPC flow log's S3 destination (moto accepts a destination without a key prefix only). */
const FLOW_BUCKET = 'vpc-flow-e2e';
const ORG = 'o-e2eorgtrail';
let env: LocalEnvironment;
let s3: S3Client;
let victim: Victim;
let result: RunLocalResult;
let secretArn: string;
/** A secret the identity policies allow but whose own resource policy denies the instance role. */
let deniedSecretArn: string;
let flowLogId: string;
const flowSeeded: { inWindow: string[]; outside: string[] } = { inWindow: [], outside: [] };
let removeMiddleware: () => void;
const seeded: { inWindow: string[]; outside: string[] } = { inWindow: [], outside: [] };

const pad = (n: number) => String(n).padStart(2, '0');
const stamp = (d: Date, seconds = false) =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${seconds ? pad(d.getUTCSeconds()) : ''}Z`;
const day = (d: Date) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;

function trailKey(kind: 'log' | 'digest', at: Date): string {
  const { accountId } = env;
  const region = env.region;
  return kind === 'log'
    ? `AWSLogs/${ORG}/${accountId}/CloudTrail/${region}/${day(at)}/${accountId}_CloudTrail_${region}_${stamp(at)}_${createHash('md5').update(at.toISOString()).digest('hex').slice(0, 16)}.json.gz`
    : `AWSLogs/${ORG}/${accountId}/CloudTrail-Digest/${region}/${day(at)}/${accountId}_CloudTrail-Digest_${region}_org-trail_${region}_${stamp(at, true)}.json.gz`;
}

/** A CloudTrail record of the instance role's session, as CloudTrail documents it. */
function record(eventID: string, eventTime: Date, overrides: Record<string, unknown> = {}) {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAE2EROLEID:${victim.instanceId}`,
      arn: `arn:aws:sts::${env.accountId}:assumed-role/${victim.roleName}/${victim.instanceId}`,
      accountId: env.accountId,
      accessKeyId: 'ASIAE2EINSTANCEROLE1',
      sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${env.accountId}:role/${victim.roleName}`, userName: victim.roleName }, ec2RoleDelivery: '2.0' },
    },
    eventTime: eventTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    awsRegion: env.region,
    sourceIPAddress: '203.0.113.77',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { secretId: secretArn },
    responseElements: null,
    eventID,
    readOnly: true,
    resources: [{ accountId: env.accountId, type: 'AWS::SecretsManager::Secret', ARN: secretArn }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: env.accountId,
    eventCategory: 'Management',
    ...overrides,
  };
}

/** LookupEvents and SimulatePrincipalPolicy from fixtures (moto implements neither); every other call goes to moto. */
const fixtures: AwsCallMiddleware = async (call, next) => {
  const ok = (output: Record<string, unknown>) => ({ output: { $metadata: { httpStatusCode: 200 }, ...output }, response: { statusCode: 200, headers: {} } });
  if (call.service === 'CloudTrail' && call.command === 'LookupEvents') {
    const attribute = (call.input.LookupAttributes as { AttributeKey: string; AttributeValue: string }[])[0];
    if (attribute?.AttributeKey !== 'Username' || attribute.AttributeValue !== victim.instanceId) return ok({ Events: [] });
    const at = new Date(Date.now() - 40 * 60 * 1000);
    // Two pages, as CloudTrail pages them (NextToken), the secret read on the second.
    if (!call.input.NextToken) {
      const r = record('e2e00000-0000-4000-8000-000000000001', at, { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', requestParameters: {}, resources: [] });
      return ok({ Events: [{ EventId: r.eventID, EventName: r.eventName, CloudTrailEvent: JSON.stringify(r), Resources: [] }], NextToken: 'page-2' });
    }
    const r = record('e2e00000-0000-4000-8000-000000000002', new Date(at.getTime() + 60_000));
    return ok({ Events: [{ EventId: r.eventID, EventName: r.eventName, CloudTrailEvent: JSON.stringify(r), Resources: [{ ResourceType: 'AWS::SecretsManager::Secret', ResourceName: secretArn }] }] });
  }
  if (call.service === 'IAM' && call.command === 'SimulatePrincipalPolicy') {
    const resources = call.input.ResourceArns as string[];
    return ok({
      IsTruncated: false,
      EvaluationResults: (call.input.ActionNames as string[]).map((action) => ({
        EvalActionName: action,
        EvalDecision: 'implicitDeny',
        ResourceSpecificResults: resources.map((arn) => ({ EvalResourceName: arn, EvalResourceDecision: arn === secretArn || arn === deniedSecretArn ? 'allowed' : 'implicitDeny' })),
      })),
    });
  }
  if (call.service === 'S3' && call.command === 'CopyObject' && call.request) {
    // moto applies PutObject's rule (Object Lock headers need Content-MD5 or x-amz-sdk-checksum-algorithm) to copies
    // too; AWS documents no such requirement for CopyObject, whose checksum S3 computes itself.
    call.request.headers['x-amz-sdk-checksum-algorithm'] = 'SHA256';
  }
  return next();
};

async function seedTrailBucket(): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: TRAIL_BUCKET, ...(env.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: env.region as never } }) }));
  const now = Date.now();
  const put = async (key: string, records: unknown[], into: string[]) => {
    await s3.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: key, Body: gzipSync(JSON.stringify({ Records: records })) }));
    into.push(key);
  };
  const hour = 3600 * 1000;
  await put(trailKey('log', new Date(now - hour)), [record('e2e-data-1', new Date(now - hour - 120_000), { eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventCategory: 'Data', managementEvent: false, requestParameters: { bucketName: 'app-data', key: 'x' }, resources: [] })], seeded.inWindow);
  await put(trailKey('digest', new Date(now - 30 * 60 * 1000)), [], seeded.inWindow);
  // Outside the window: 30 h ago (a listed day folder, by name out of the window) and 3 days ago (a folder not listed).
  await put(trailKey('log', new Date(now - 30 * hour)), [], seeded.outside);
  await put(trailKey('log', new Date(now - 72 * hour)), [], seeded.outside);
}

/** A flow log file name as VPC Flow Logs writes it (`<account>_vpcflowlogs_<region>_<id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`). */
function flowKey(at: Date, id = flowLogId): string {
  const { accountId, region } = env;
  return `AWSLogs/${accountId}/vpcflowlogs/${region}/${day(at)}/${accountId}_vpcflowlogs_${region}_${id}_${stamp(at)}_${createHash('md5').update(id + at.toISOString()).digest('hex').slice(0, 8)}.log.gz`;
}

async function seedFlowLogBucket(): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: FLOW_BUCKET, ...(env.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: env.region as never } }) }));
  const created = await new EC2Client(emulatorClientConfig(env)).send(
    new CreateFlowLogsCommand({ ResourceIds: [victim.vpcId], ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 's3', LogDestination: `arn:aws:s3:::${FLOW_BUCKET}` }),
  );
  flowLogId = created.FlowLogIds?.[0] as string;
  const put = async (key: string, into: string[]) => {
    await s3.send(new PutObjectCommand({ Bucket: FLOW_BUCKET, Key: key, Body: gzipSync(`version account-id interface-id srcaddr dstaddr\n2 ${env.accountId} eni-x 10.20.1.5 203.0.113.77\n`) }));
    into.push(key);
  };
  const now = Date.now();
  await put(flowKey(new Date(now - 50 * 60 * 1000)), flowSeeded.inWindow);
  // Outside the window (30 h ago), and another flow log's file in the window.
  await put(flowKey(new Date(now - 30 * 3600 * 1000)), flowSeeded.outside);
  await put(flowKey(new Date(now - 50 * 60 * 1000), 'fl-0fffffffffffffff0'), flowSeeded.outside);
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({
    handlerLogs: 'silent',
    context: { 'forensics:cloudTrailBucket': TRAIL_BUCKET, 'forensics:flowLogBuckets': FLOW_BUCKET },
    // The organization trail's layout; set in the handlers only (organisation mode itself is not under test here).
    overrides: { ORGANIZATION_ID: ORG },
  });
  const config = emulatorClientConfig(env);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  victim = await seedVictim(env);
  const secrets = new SecretsManagerClient(config);
  const secret = await secrets.send(new CreateSecretCommand({ Name: 'prod/db-password', SecretString: 'hunter2' }));
  secretArn = secret.ARN as string;
  const denied = await secrets.send(new CreateSecretCommand({ Name: 'prod/payments-token', SecretString: 'tok' }));
  deniedSecretArn = denied.ARN as string;
  await secrets.send(
    new PutResourcePolicyCommand({
      SecretId: deniedSecretArn,
      ResourcePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${env.accountId}:role/${victim.roleName}` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
      }),
    }),
  );
  await seedTrailBucket();
  await seedFlowLogBucket();
  removeMiddleware = addClientMiddleware(fixtures);
  result = await executeLocal(env, findingEventFor(victim, env, { id: 'e2escope0001' }));
}, 300_000);

afterAll(async () => {
  removeMiddleware?.();
  await env?.stop();
});

const evidenceBucket = () => env.handlerEnv.EVIDENCE_BUCKET as string;
async function json<T>(key: string): Promise<T> {
  const out = await s3.send(new GetObjectCommand({ Bucket: evidenceBucket(), Key: key }));
  return JSON.parse((await out.Body?.transformToString()) ?? '') as T;
}

describe('Scope the incident (emulator)', () => {
  it('the acquisition succeeds with the scope step on its path', () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
  });

  it('copies exactly the window’s trail log and digest files, each held, retained and hashed', async () => {
    // Act
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: evidenceBucket(), Prefix: `cases/${result.caseId}/logs/cloudtrail/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key as string);
    // Assess
    expect(keys.sort()).toEqual(seeded.inWindow.map((k) => `cases/${result.caseId}/logs/cloudtrail/${k}`).sort());
    const manifest = await json<{ objects: { key: string; sha256: string }[]; logs: { cloudtrail: { logFiles: number; digestFiles: number } } }>(`cases/${result.caseId}/manifest.json`);
    expect(manifest.logs.cloudtrail).toMatchObject({ logFiles: 1, digestFiles: 1 });
    for (const key of keys) {
      // HeadObject reports the version's lock (moto's GetObjectRetention answer is not parseable by the SDK).
      const head = await s3.send(new HeadObjectCommand({ Bucket: evidenceBucket(), Key: key }));
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: evidenceBucket(), Key: key }))).Body!.transformToByteArray());
      expect(head.ObjectLockMode, key).toBe('COMPLIANCE');
      expect(head.ObjectLockRetainUntilDate?.getTime(), key).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
      expect(head.ObjectLockLegalHoldStatus, key).toBe('ON');
      expect(manifest.objects.find((o) => o.key === key)?.sha256, key).toBe(createHash('sha256').update(body).digest('hex'));
    }
  });

  it('copies the VPC flow log’s files of the window from the configured bucket, each held, retained and hashed', async () => {
    // Act
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: evidenceBucket(), Prefix: `cases/${result.caseId}/logs/flow-logs/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key as string);
    const manifest = await json<{ objects: { key: string; sha256: string }[]; logs: { flowLogs: { sources: { flowLogId: string; destinationType: string; objects: number }[] } } }>(`cases/${result.caseId}/manifest.json`);
    // Assess
    expect(keys).toEqual(flowSeeded.inWindow.map((k) => `cases/${result.caseId}/logs/flow-logs/${k}`));
    expect(manifest.logs.flowLogs.sources).toEqual([{ flowLogId, destinationType: 's3', objects: 1, records: 0 }]);
    for (const key of keys) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: evidenceBucket(), Key: key }));
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: evidenceBucket(), Key: key }))).Body!.transformToByteArray());
      const source = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: FLOW_BUCKET, Key: key.slice(`cases/${result.caseId}/logs/flow-logs/`.length) }))).Body!.transformToByteArray());
      expect(head.ObjectLockMode, key).toBe('COMPLIANCE');
      expect(head.ObjectLockLegalHoldStatus, key).toBe('ON');
      expect(body.equals(source), key).toBe(true);
      expect(manifest.objects.find((o) => o.key === key)?.sha256, key).toBe(createHash('sha256').update(body).digest('hex'));
    }
  });

  it('found the VPC’s flow log in "Preserve and snapshot", before containment (its custody record)', async () => {
    // Act: every custody record of the case, as written to the evidence bucket.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: evidenceBucket(), Prefix: `cases/${result.caseId}/custody/` }));
    const records = await Promise.all((listed.Contents ?? []).map((o) => json<{ step: string; action: string; status: string; performedAt: string; result: Record<string, unknown> }>(o.Key as string)));
    const lookup = records.find((r) => r.action === 'describe-flow-logs');
    const isolated = records.filter((r) => r.action === 'isolate-network-interface').map((r) => r.performedAt).sort();
    // Assess: the scope read no EC2 (its function has no EC2 client); the preserve step's lookup named the flow log.
    expect(lookup).toMatchObject({ step: 'preserveAndSnapshot', status: 'succeeded', result: { flowLogIds: [flowLogId], truncated: false } });
    expect(isolated.length).toBeGreaterThan(0);
    expect(Date.parse(lookup?.performedAt ?? '')).toBeLessThanOrEqual(Date.parse(isolated[0] as string));
  });

  it('drops from the rotate list the secret whose resource policy denies the role, though its identity policy allows it', async () => {
    // Act
    const policy = await new SecretsManagerClient(emulatorClientConfig(env)).send(new GetResourcePolicyCommand({ SecretId: deniedSecretArn }));
    const rotate = await json<{ items: { arn: string; basis: string }[]; gaps: unknown[] }>(`cases/${result.caseId}/rotate.json`);
    // Assess: the policy is in place (read back), and only the other secret remains, on its identity basis.
    expect(JSON.parse(policy.ResourcePolicy as string).Statement[0].Effect).toBe('Deny');
    expect(rotate.items.map((i) => i.arn)).not.toContain(deniedSecretArn);
    expect(rotate.items.find((i) => i.arn === secretArn)?.basis).toBe('identity-policy');
  });

  it('seals timeline.json and rotate.json; the rotate list marks the secret the timeline shows read', async () => {
    // Act
    const timeline = await json<{ events: { eventId: string; origin: string; flags: string[] }[] }>(`cases/${result.caseId}/timeline.json`);
    const rotate = await json<{ items: { arn: string; observed: boolean; rank: number; command: string }[] }>(`cases/${result.caseId}/rotate.json`);
    const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: evidenceBucket(), Key: `cases/${result.caseId}/rotate.json` }));
    const manifest = await json<{ timeline: { status: string; sha256: string }; rotate: { observed: number; top: { command: string }[] }; objects: { key: string; sha256: string }[] }>(
      `cases/${result.caseId}/manifest.json`,
    );
    // Assess
    expect(timeline.events.map((e) => [e.eventId, e.origin])).toEqual([
      ['e2e-data-1', 'trail-logs'],
      ['e2e00000-0000-4000-8000-000000000001', 'lookup-events'],
      ['e2e00000-0000-4000-8000-000000000002', 'lookup-events'],
    ]);
    expect(timeline.events[2]?.flags).toEqual(['outside-aws', 'secret-or-decrypt']);
    expect(rotate.items[0]).toMatchObject({ arn: secretArn, observed: true, rank: 1 });
    expect(hold.LegalHold?.Status).toBe('ON');
    expect(manifest.rotate.observed).toBe(1);
    expect(manifest.rotate.top[0]?.command).toContain(`rotate-secret --secret-id ${secretArn}`);
    const timelineBody = await (await s3.send(new GetObjectCommand({ Bucket: evidenceBucket(), Key: `cases/${result.caseId}/timeline.json` }))).Body!.transformToString();
    expect(manifest.objects.find((o) => o.key === `cases/${result.caseId}/timeline.json`)?.sha256).toBe(createHash('sha256').update(timelineBody).digest('hex'));
  });
});
