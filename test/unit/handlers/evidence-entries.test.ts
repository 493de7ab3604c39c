import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resetEnvironment } from '../../../handlers/config/env';
import { evidenceDeps, resetEvidenceDeps } from '../../../handlers/composition/evidence';
import { handler as notifyHandler } from '../../../handlers/notify';
import { createRecordFailureHandler } from '../../../handlers/record-failure';
import { FakeCaseTable, RAW_EVENT, describedState, mockEvidenceBucket, steppingClock } from '../../support/evidence-test-kit';
import { ChainedCustodyLog } from '../../../handlers/use-cases/custody-log';

const ENV = {
  CASE_TABLE_NAME: 'ir-cases',
  EVIDENCE_BUCKET: 'ir-evidence-bucket',
  EVIDENCE_KEY_ARN: 'arn:aws:kms:eu-west-1:999988887777:key/evidence',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:999988887777:ir',
  EVIDENCE_RETENTION_DAYS: '365',
  OBJECT_LOCK_MODE: 'COMPLIANCE',
  MIN_SEVERITY: '7',
  ACQUIRE_CONTAINER_HOSTS: 'false',
  MAX_WAIT_MINUTES: '60',
  COPY_CONCURRENCY: '5',
  TAG_PREFIX: 'forensics',
  DEFAULT_WORKSTATION: 'false',
  DEFAULT_REVOKE_MODE: 'instance',
  WORKLOAD_ACCOUNTS: '111122223333',
};

describe('evidence entries', () => {
  const saved = { ...process.env };
  const sns = mockClient(SNSClient);

  beforeAll(() => {
    Object.assign(process.env, ENV, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
    resetEnvironment();
    resetEvidenceDeps();
  });
  afterAll(() => {
    process.env = saved;
    resetEnvironment();
    resetEvidenceDeps();
    sns.restore();
  });
  afterEach(() => sns.reset());

  it('notify publishes to the configured topic from the execution state', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    const out = await notifyHandler(describedState());

    // Assess
    expect(out).toEqual({ notified: true, messageId: 'm-1' });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.TopicArn).toBe(ENV.TOPIC_ARN);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain(`s3://${ENV.EVIDENCE_BUCKET}/cases/`);
  });

  it('record-failure takes the raw event from the payload', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({});
    const bucket = mockEvidenceBucket();
    const cases = new FakeCaseTable();
    const clock = steppingClock();
    const state = { ...describedState(), rawEvent: RAW_EVENT, failure: { Error: 'SnapshotFailed', Cause: 'x' } };
    cases.seed(state.case);
    const run = createRecordFailureHandler({
      recordFailure: () => ({
      cases,
      store: bucket.store,
      clock,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: {}, sleep: async () => {} }),
      notifier: { publish: async () => ({}) },
      log: () => {},
      }),
    });

    // Act
    const summary = await run(state);

    // Assess
    expect(summary.status).toBe('FAILED');
    expect(JSON.parse(bucket.objects.get('cases/case-20250301-0001/finding-a1b2c3d4e5f60718293a4b5c6d7e8f90.json')!.body)).toEqual(RAW_EVENT);
    bucket.s3.restore();
  });

  it('the evidence writers\' store writes with the retention of the environment, from the time of writing', async () => {
    // Prepare: EVIDENCE_RETENTION_DAYS=365, OBJECT_LOCK_MODE=COMPLIANCE (ENV above)
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    const before = Date.now();

    // Act
    await evidenceDeps().store.put('cases/c/instance.json', '{}');

    // Assess
    const after = Date.now();
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Bucket: ENV.EVIDENCE_BUCKET, ObjectLockMode: 'COMPLIANCE', ObjectLockLegalHoldStatus: 'ON', IfNoneMatch: '*' });
    const until = (input.ObjectLockRetainUntilDate as Date).getTime();
    const days = 365 * 24 * 60 * 60 * 1000;
    expect(until).toBeGreaterThanOrEqual(before + days);
    expect(until).toBeLessThanOrEqual(after + days);
    s3.restore();
  });
});
