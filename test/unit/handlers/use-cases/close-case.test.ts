import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../../../handlers/adapters/sns-notifier';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { closeCase } from '../../../../handlers/use-cases/close-case';
import { notifyResponders } from '../../../../handlers/use-cases/notify-responders';
import type { AcquisitionState } from '../../../../handlers/domain/types';
import { BUCKET, FakeCaseTable, fullState, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

const CASE = 'case-20250301-0001';
const sns = mockClient(SNSClient);
const notifier = () => new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:1:ir');

function sealedState(): AcquisitionState {
  return {
    ...fullState(),
    seal: { manifest: { bucket: BUCKET, key: `cases/${CASE}/manifest.json`, sha256: 'd'.repeat(64) }, objects: [] },
  };
}

describe('notifyResponders', () => {
  beforeEach(() => sns.reset());

  it('publishes case, instance, finding, actions, evidence location and time to containment', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    const out = await notifyResponders({ notifier: notifier(), bucket: BUCKET }, sealedState());

    // Assess
    expect(out).toEqual({ notified: true, messageId: 'm-1' });
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.Subject!.length).toBeLessThanOrEqual(100);
    expect(input.Subject).toContain('i-0123456789abcdef0');
    for (const text of [CASE, 'i-0123456789abcdef0', 'Backdoor:EC2/C&CActivity.B!DNS', 'snap-0aaa', 'snap-0ccc', 'eni-0aaa isolated with sg-0iso', `s3://${BUCKET}/cases/${CASE}/`, 'manifest', 'Time to containment: 7 s']) {
      expect(input.Message).toContain(text);
    }
    expect(input.MessageAttributes?.caseId).toEqual({ DataType: 'String', StringValue: CASE });
  });

  it('throws a publish error for the state machine to catch', async () => {
    sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
    await expect(notifyResponders({ notifier: notifier(), bucket: BUCKET }, sealedState())).rejects.toThrow();
  });
});

describe('closeCase', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  let deps: Parameters<typeof closeCase>[0];

  beforeEach(() => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    const clock = steppingClock();
    deps = { cases, clock, custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: {}, sleep: async () => {} }) };
    cases.seed(fullState().case);
  });
  afterEach(() => bucket.s3.restore());

  const lastActions = () =>
    cases.cases.get(CASE)!.custody.map((o) => JSON.parse(bucket.objects.get(o.key)!.body) as { step: string; action: string; status: string; result: Record<string, unknown> });

  it('marks the case CONTAINED, keeps the lock, writes a close record and returns the run-local summary', async () => {
    // Act
    const summary = await closeCase(deps, { ...sealedState(), notification: { notified: true, messageId: 'm-1' } });

    // Assess
    expect(summary).toEqual({
      caseId: CASE,
      status: 'SUCCEEDED',
      manifest: { bucket: BUCKET, key: `cases/${CASE}/manifest.json`, sha256: 'd'.repeat(64) },
      snapshots: [
        { volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', region: 'eu-west-1' },
        { volumeId: 'vol-0bbb', snapshotId: 'snap-0bbb', evidenceSnapshotId: null, kmsKeyId: null },
      ],
      isolation: { securityGroupId: 'sg-0iso', networkInterfaceIds: ['eni-0aaa'] },
      forensicInstanceId: null,
    });
    expect(cases.cases.get(CASE)!.status).toBe('CONTAINED');
    expect(cases.locks.size).toBe(1);
    expect(cases.calls).not.toContain(`releaseLock:${CASE}`);
    expect(lastActions().map((a) => `${a.step}/${a.action}`)).toEqual(['close-case/close']);
  });

  it('records a notification failure left by the notify Catch', async () => {
    // Act
    await closeCase(deps, {
      ...sealedState(),
      notificationFailure: { Error: 'AuthorizationError', Cause: JSON.stringify({ errorType: 'AuthorizationError', errorMessage: 'not allowed to publish' }) },
    });

    // Assess
    const actions = lastActions();
    expect(actions.map((a) => `${a.step}/${a.action}/${a.status}`)).toEqual(['notify/notify-responders/failed', 'close-case/close/succeeded']);
    expect(actions[0]!.result).toEqual({ error: 'AuthorizationError', message: 'not allowed to publish' });
    expect(cases.cases.get(CASE)!.details.notification).toEqual({ notified: false, error: 'AuthorizationError', message: 'not allowed to publish' });
  });

  it('does not write a second close record when retried', async () => {
    await closeCase(deps, sealedState());
    await closeCase(deps, sealedState());
    expect(lastActions()).toHaveLength(1);
  });
});
