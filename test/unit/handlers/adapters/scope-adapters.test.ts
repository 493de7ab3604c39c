import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { KMSClient, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { CopyObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudTrailLookupAdapter } from '../../../../handlers/adapters/cloudtrail-lookup-adapter';
import { FlowLogRecordsAdapter } from '../../../../handlers/adapters/flow-log-records-adapter';
import { IamSimulationAdapter } from '../../../../handlers/adapters/iam-simulation-adapter';
import { LogCopyAdapter } from '../../../../handlers/adapters/log-copy-adapter';
import { ReadInventoryAdapter } from '../../../../handlers/adapters/read-inventory-adapter';
import { ACCOUNT, ROLE_ARN, SECRET_ARN, record } from '../../../support/cloudtrail-records';

const cloudtrail = mockClient(CloudTrailClient);
const iam = mockClient(IAMClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);

const WINDOW = { from: '2025-03-16T20:00:00.000Z', to: '2025-03-17T21:00:00.000Z', lookBackHours: 24 };
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

/** One LookupEvents `Events` element, shaped as CloudTrail returns it (the record as a JSON string). */
const lookupEvent = (id: string) => ({
  EventId: id,
  EventName: 'GetSecretValue',
  ReadOnly: 'true',
  AccessKeyId: 'ASIAINSTANCEROLE0001',
  EventTime: new Date('2025-03-17T20:20:00Z'),
  EventSource: 'secretsmanager.amazonaws.com',
  Username: 'i-0abc',
  Resources: [{ ResourceType: 'AWS::SecretsManager::Secret', ResourceName: SECRET_ARN }],
  CloudTrailEvent: JSON.stringify(record({ eventID: id })),
});

beforeEach(() => {
  for (const m of [cloudtrail, iam, s3, secrets, ssm, kms, logs]) m.reset();
});

describe('CloudTrailLookupAdapter', () => {
  /** A fake clock that the adapter's sleeps advance. */
  const fakeTime = () => {
    let t = 1_000_000;
    const sleeps: number[] = [];
    return { now: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; }, sleeps };
  };

  it('pages by NextToken with one lookup attribute and 50 events a page, paced to 2 requests per second', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolvesOnce({ Events: [lookupEvent('a')], NextToken: 't1' }).resolvesOnce({ Events: [lookupEvent('b')] });
    const time = fakeTime();
    const adapter = new CloudTrailLookupAdapter(new CloudTrailClient({ region: 'eu-west-1' }), 'eu-west-1', time);

    // Act
    const out = await adapter.lookup({ key: 'Username', value: 'i-0abc' }, WINDOW, { maxEvents: 100, deadline: Number.MAX_SAFE_INTEGER });

    // Assess
    expect(out.events.map((e) => e.record.eventID)).toEqual(['a', 'b']);
    expect(out.events[0]?.resources).toEqual([{ type: 'AWS::SecretsManager::Secret', name: SECRET_ARN }]);
    expect(out.gaps).toEqual([]);
    const inputs = cloudtrail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'i-0abc' }],
      StartTime: new Date(WINDOW.from),
      EndTime: new Date(WINDOW.to),
      MaxResults: 50,
    });
    expect(inputs[1]?.NextToken).toBe('t1');
    expect(time.sleeps).toEqual([500]);
  });

  it('retries ThrottlingException, then records a gap instead of failing when it persists', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).rejectsOnce(throttled()).resolvesOnce({ Events: [lookupEvent('a')], NextToken: 't1' }).rejects(throttled());
    const time = fakeTime();
    const adapter = new CloudTrailLookupAdapter(new CloudTrailClient({ region: 'eu-west-1' }), 'eu-west-1', { ...time, random: () => 0.5 });

    // Act
    const out = await adapter.lookup({ key: 'AccessKeyId', value: 'AKIALEAKEDKEY0000001' }, WINDOW, { maxEvents: 100, deadline: Number.MAX_SAFE_INTEGER });

    // Assess
    expect(out.events).toHaveLength(1);
    expect(out.gaps).toEqual([{ source: 'lookup-events', region: 'eu-west-1', kind: 'error', detail: expect.stringMatching(/^AccessKeyId=AKIALEAKEDKEY0000001: ThrottlingException/) }]);
    expect(cloudtrail.commandCalls(LookupEventsCommand)).toHaveLength(7);
  });

  it('stops at the event bound and at the deadline, and says so', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [lookupEvent('a'), lookupEvent('b'), lookupEvent('c')], NextToken: 'more' });
    const time = fakeTime();
    const adapter = new CloudTrailLookupAdapter(new CloudTrailClient({ region: 'eu-west-1' }), 'eu-west-1', time);

    // Act
    const bounded = await adapter.lookup({ key: 'Username', value: 'i-0abc' }, WINDOW, { maxEvents: 2, deadline: Number.MAX_SAFE_INTEGER });
    const late = await adapter.lookup({ key: 'Username', value: 'i-0abc' }, WINDOW, { maxEvents: 100, deadline: time.now() });

    // Assess
    expect(bounded.events).toHaveLength(2);
    expect(bounded.gaps[0]).toMatchObject({ kind: 'limit', detail: expect.stringContaining('event bound 2') });
    expect(late.events).toEqual([]);
    expect(late.gaps[0]).toMatchObject({ kind: 'limit', detail: expect.stringContaining('time cap') });
  });
});

describe('IamSimulationAdapter', () => {
  it('simulates in batches of resources and reads each resource’s decision from ResourceSpecificResults', async () => {
    // Prepare: 25 resources → two calls (20 + 5); the second call's answer is paged.
    const arns = Array.from({ length: 25 }, (_, i) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:s${i}-AbCdEf`);
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolvesOnce({
        IsTruncated: false,
        EvaluationResults: [
          {
            EvalActionName: 'secretsmanager:GetSecretValue',
            EvalDecision: 'implicitDeny',
            ResourceSpecificResults: [
              { EvalResourceName: arns[0], EvalResourceDecision: 'allowed' },
              { EvalResourceName: arns[1], EvalResourceDecision: 'implicitDeny' },
              { EvalResourceName: arns[2], EvalResourceDecision: 'explicitDeny' },
            ],
          },
        ],
      })
      .resolvesOnce({ IsTruncated: true, Marker: 'm1', EvaluationResults: [] })
      .resolvesOnce({
        IsTruncated: false,
        // The older form: one result per action and resource.
        EvaluationResults: [{ EvalActionName: 'secretsmanager:GetSecretValue', EvalResourceName: arns[24], EvalDecision: 'allowed' }],
      });

    // Act
    const { allowed, explicitlyDenied } = await new IamSimulationAdapter(new IAMClient({ region: 'eu-west-1' })).decisions(ROLE_ARN, ['secretsmanager:GetSecretValue'], arns);

    // Assess
    expect([...allowed.entries()]).toEqual([
      [arns[0], ['secretsmanager:GetSecretValue']],
      [arns[24], ['secretsmanager:GetSecretValue']],
    ]);
    // An explicit deny is kept apart: no resource policy can allow it.
    expect([...explicitlyDenied.entries()]).toEqual([[arns[2], ['secretsmanager:GetSecretValue']]]);
    const inputs = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ResourceArns?.length)).toEqual([20, 5, 5]);
    expect(inputs[0]).toMatchObject({ PolicySourceArn: ROLE_ARN, ActionNames: ['secretsmanager:GetSecretValue'] });
    expect(inputs[2]?.Marker).toBe('m1');
  });
});

describe('ReadInventoryAdapter', () => {
  const adapter = () =>
    new ReadInventoryAdapter(
      { secrets: new SecretsManagerClient({ region: 'eu-west-1' }), ssm: new SSMClient({ region: 'eu-west-1' }), kms: new KMSClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }) },
      ACCOUNT,
      'eu-west-1',
    );

  it('lists secrets and SecureString parameters only, paging, bounded', async () => {
    // Prepare
    secrets.on(ListSecretsCommand).resolvesOnce({ SecretList: [{ ARN: SECRET_ARN, Name: 'prod/db' }], NextToken: 'n' }).resolvesOnce({ SecretList: [{ ARN: `${SECRET_ARN}x`, Name: 'other' }] });
    ssm.on(DescribeParametersCommand).resolves({ Parameters: [{ Name: '/app/token', Type: 'SecureString', ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/app/token` }], NextToken: 'more' });

    // Act
    const s = await adapter().secrets(10);
    const p = await adapter().secureStringParameters(1);

    // Assess
    expect(s).toEqual({ items: [{ kind: 'secret', arn: SECRET_ARN, name: 'prod/db', region: 'eu-west-1' }, { kind: 'secret', arn: `${SECRET_ARN}x`, name: 'other', region: 'eu-west-1' }], truncated: false });
    expect(p.truncated).toBe(true);
    expect(ssm.commandCalls(DescribeParametersCommand)[0]?.args[0].input.ParameterFilters).toEqual([{ Key: 'Type', Option: 'Equals', Values: ['SecureString'] }]);
  });

  it('skips AWS managed keys (only alias/aws/… aliases) and names a customer key by its alias', async () => {
    // Prepare
    kms.on(ListAliasesCommand).resolves({
      Truncated: false,
      Aliases: [
        { AliasName: 'alias/aws/ebs', TargetKeyId: 'aws-key' },
        { AliasName: 'alias/app', TargetKeyId: 'cust-key' },
        { AliasName: 'alias/aws/s3' },
      ],
    });
    kms.on(ListKeysCommand).resolves({
      Truncated: false,
      Keys: [
        { KeyId: 'aws-key', KeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/aws-key` },
        { KeyId: 'cust-key', KeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/cust-key` },
        { KeyId: 'bare-key', KeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/bare-key` },
      ],
    });
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'app-data', BucketRegion: 'us-east-1' }] });

    // Act
    const keys = await adapter().customerKeys(10);
    const buckets = await adapter().buckets(10);

    // Assess
    expect(keys.items.map((k) => k.name)).toEqual(['alias/app', 'bare-key']);
    expect(buckets.items).toEqual([{ kind: 's3-bucket', arn: 'arn:aws:s3:::app-data', name: 'app-data', region: 'us-east-1' }]);
  });
});

describe('LogCopyAdapter', () => {
  const NOW = new Date('2025-03-17T21:30:00.000Z');
  const copier = () => new LogCopyAdapter(new S3Client({ region: 'eu-west-1' }), 'evidence', { mode: 'COMPLIANCE', days: 365 }, () => NOW);
  const body = Buffer.from('gzip bytes');
  const digest = createHash('sha256').update(body).digest();
  const stream = () => Readable.from([body]);

  it('copies server-side under legal hold, explicit retention, write-once and SHA-256, and records the full-object hash', async () => {
    // Prepare
    s3.on(CopyObjectCommand).resolves({ VersionId: 'v1', CopyObjectResult: { ChecksumSHA256: digest.toString('base64'), ChecksumType: 'FULL_OBJECT' } });

    // Act
    const out = await copier().copy({ bucket: 'trail', key: 'AWSLogs/o-x/1/CloudTrail/eu-west-1/2025/03/17/f name.json.gz', size: 10 }, 'cases/c/logs/cloudtrail/f.json.gz');

    // Assess
    expect(out).toEqual({ key: 'cases/c/logs/cloudtrail/f.json.gz', sha256: digest.toString('hex'), versionId: 'v1', sourceBucket: 'trail', sourceKey: 'AWSLogs/o-x/1/CloudTrail/eu-west-1/2025/03/17/f name.json.gz', bytes: 10, existed: false });
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'evidence',
      Key: 'cases/c/logs/cloudtrail/f.json.gz',
      CopySource: 'trail/AWSLogs/o-x/1/CloudTrail/eu-west-1/2025/03/17/f%20name.json.gz',
      ChecksumAlgorithm: 'SHA256',
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date('2026-03-17T21:30:00.000Z'),
      ObjectLockLegalHoldStatus: 'ON',
      IfNoneMatch: '*',
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('hashes the source itself when S3 reports a composite checksum, or the copy already existed', async () => {
    // Prepare
    s3.on(CopyObjectCommand)
      .resolvesOnce({ CopyObjectResult: { ChecksumSHA256: 'abc=-3', ChecksumType: 'COMPOSITE' } })
      .rejectsOnce(Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }));
    s3.on(GetObjectCommand).callsFake(() => ({ Body: stream() as never }));

    // Act
    const composite = await copier().copy({ bucket: 'trail', key: 'k' }, 'cases/c/logs/cloudtrail/k');
    const existed = await copier().copy({ bucket: 'trail', key: 'k' }, 'cases/c/logs/cloudtrail/k');

    // Assess
    expect(composite.sha256).toBe(digest.toString('hex'));
    expect(composite.bytes).toBe(body.length);
    expect(existed).toMatchObject({ sha256: digest.toString('hex'), existed: true });
  });

  it('lists a prefix page by page, bounded', async () => {
    // Prepare
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'a', Size: 1 }], IsTruncated: true, NextContinuationToken: 'c' })
      .resolvesOnce({ Contents: [{ Key: 'b', Size: 2 }, { Key: 'c', Size: 3 }], IsTruncated: false });

    // Act
    const out = await copier().list('trail', 'p/', 2);

    // Assess
    expect(out).toEqual({ objects: [{ key: 'a', size: 1 }, { key: 'b', size: 2 }], truncated: true });
    expect(s3.commandCalls(ListObjectsV2Command)[1]?.args[0].input.ContinuationToken).toBe('c');
  });
});

describe('FlowLogRecordsAdapter', () => {
  it('reads a CloudWatch Logs flow log’s ENI streams over the window, paged and bounded', async () => {
    // Prepare
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: 1, message: '2 111122223333 eni-1 10.0.0.1 203.0.113.5 443 50000 6 10 840 1 2 ACCEPT OK', logStreamName: 'eni-1', eventId: 'x' }], nextToken: 'n' })
      .resolvesOnce({ events: [{ timestamp: 2, message: 'm2', logStreamName: 'eni-1', eventId: 'y' }] });
    const adapter = new FlowLogRecordsAdapter(new CloudWatchLogsClient({ region: 'eu-west-1' }));

    // Act
    const read = await adapter.records('vpc-flow', ['eni-1'], new Date(WINDOW.from), new Date(WINDOW.to), 100);

    // Assess
    expect(read.records.map((r) => r.eventId)).toEqual(['x', 'y']);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toMatchObject({ logGroupName: 'vpc-flow', logStreamNames: ['eni-1'], startTime: Date.parse(WINDOW.from), endTime: Date.parse(WINDOW.to) });
    expect(logs.commandCalls(FilterLogEventsCommand)[1]?.args[0].input.nextToken).toBe('n');
  });
});
