import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../../../handlers/adapters/sns-notifier';
import { verifyChain } from '../../../../handlers/domain/custody-record';
import type { AcquisitionState } from '../../../../handlers/domain/types';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { recordContainment } from '../../../../handlers/use-cases/record-containment';
import { recordFailure } from '../../../../handlers/use-cases/record-failure';
import {
  FakeCaseTable,
  RAW_EVENT,
  acquiredState,
  containedState,
  describedState,
  fullState,
  mockEvidenceBucket,
  steppingClock,
} from '../../../support/evidence-test-kit';

const CASE = 'case-20250301-0001';
const sns = mockClient(SNSClient);
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (index.js:1:1)'] });

type Record = { seq: number; step: string; action: string; status: string; request: { [k: string]: unknown }; result: { [k: string]: unknown } };

describe('recordFailure', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  let deps: Parameters<typeof recordFailure>[0];
  let logged: string[];

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-fail' });
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    logged = [];
    const clock = steppingClock();
    deps = {
      cases,
      store: bucket.store,
      clock,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'record-failure' }, sleep: async () => {} }),
      notifier: new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:1:ir'),
      log: (entry) => logged.push(entry.message),
    };
  });
  afterEach(() => bucket.s3.restore());

  const chain = (): Record[] => cases.cases.get(CASE)!.custody.map((o) => JSON.parse(bucket.objects.get(o.key)!.body));
  const message = () => sns.commandCalls(PublishCommand)[0]!.args[0].input;

  it('before the snapshot (instance not found): records the deferred records, FAILED, releases the lock, notifies', async () => {
    // Prepare: "Describe instance" failed in AWS (Lambda JSON cause); nothing was changed on the instance.
    const state: AcquisitionState = { ...describedState(), failure: { Error: 'InstanceNotFound', Cause: lambdaCause('InstanceNotFound', 'instance i-0123456789abcdef0 was not found') } };
    delete state.describe;
    cases.seed(state.case);

    // Act
    const summary = await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(summary).toEqual({
      caseId: CASE,
      status: 'FAILED',
      manifest: null,
      snapshots: [],
      isolation: { securityGroupId: null, networkInterfaceIds: [] },
      forensicInstanceId: null,
    });
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'failure']);
    expect(chain()[2]).toMatchObject({
      status: 'failed',
      request: { failedStep: 'describe-instance', error: 'InstanceNotFound', message: 'instance i-0123456789abcdef0 was not found', errorType: 'InstanceNotFound' },
      result: { instanceChanged: false, lockReleased: true },
    });
    const record = cases.cases.get(CASE)!;
    expect(record.status).toBe('FAILED');
    expect(record.failure).toEqual({ step: 'describe-instance', error: 'InstanceNotFound', cause: 'instance i-0123456789abcdef0 was not found', at: expect.any(String) });
    expect(cases.locks.size).toBe(0);
    expect(bucket.objects.has(`cases/${CASE}/finding-a1b2c3d4e5f60718293a4b5c6d7e8f90.json`)).toBe(true);
    expect(bucket.objects.has(`cases/${CASE}/instance.json`)).toBe(false);
    expect(message().Subject).toContain('FAILED');
    expect(message().Message).toContain('nothing: no change was made to the instance');
    expect(message().Message).toContain('lock was released');
    expect(record.details.notification).toEqual({ notified: true, messageId: 'm-fail' });
  });

  it('during preservation (not instance-not-found): keeps the lock, since preservation may be partly applied', async () => {
    // Prepare
    const state: AcquisitionState = { ...describedState(), failure: { Error: 'SnapshotFailed', Cause: 'CreateSnapshots returned no snapshot for vol-0bbb' } };
    cases.seed(state.case);

    // Act
    await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(cases.locks.size).toBe(1);
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'describe', 'failure']);
    expect(chain().at(-1)).toMatchObject({ request: { failedStep: 'preserve-and-snapshot', message: 'CreateSnapshots returned no snapshot for vol-0bbb' }, result: { lockReleased: false } });
    expect(bucket.objects.has(`cases/${CASE}/instance.json`)).toBe(true);
  });

  it('after the snapshot (containment failed): lists the snapshots as secured and keeps the lock', async () => {
    // Prepare
    const state: AcquisitionState = { ...acquiredState(), failure: { Error: 'ContainmentFailed', Cause: 'isolation failed on eni-0aaa | partial=[]' } };
    cases.seed(state.case);

    // Act
    const summary = await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(summary.snapshots.map((s) => s.snapshotId)).toEqual(['snap-0aaa', 'snap-0bbb']);
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'describe', 'create-snapshots', 'failure']);
    expect(chain().at(-1)!.result).toMatchObject({
      secured: { snapshots: [{ snapshotId: 'snap-0aaa' }, { snapshotId: 'snap-0bbb' }], isolatedNetworkInterfaces: [] },
      lockReleased: false,
    });
    expect(cases.cases.get(CASE)!.failure?.step).toBe('isolate-network');
    expect(cases.locks.size).toBe(1);
    expect(message().Message).toContain('snapshot snap-0aaa of vol-0aaa');
  });

  it('after containment: does not write the deferred records again, lists isolated ENIs', async () => {
    // Prepare: isolate-network returned (records written), then the snapshot check failed.
    const contained = containedState();
    cases.seed(contained.case);
    await recordContainment(deps, contained, contained.containment!, RAW_EVENT);
    const state: AcquisitionState = { ...contained, failure: { Error: 'States.Timeout', Cause: 'Task timed out' } };

    // Act
    const summary = await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'describe', 'create-snapshots', 'isolate-eni', 'failure']);
    expect(verifyChain(cases.cases.get(CASE)!.custody.map((o) => bucket.objects.get(o.key)!.body)).valid).toBe(true);
    expect(chain().at(-1)).toMatchObject({ request: { failedStep: 'check-snapshots', error: 'States.Timeout', message: 'Task timed out' } });
    expect(summary.isolation).toEqual({ securityGroupId: 'sg-0iso', networkInterfaceIds: ['eni-0aaa'] });
    expect(message().Message).toContain('eni-0aaa isolated');
  });

  it('when "Record containment" recorded but did not return (retried crash): relies on the case mark, no duplicates', async () => {
    // Prepare
    const contained = containedState();
    cases.seed(contained.case);
    await recordContainment(deps, contained, contained.containment!, RAW_EVENT);
    const { containment: _lost, ...state } = { ...contained, failure: { Error: 'Lambda.Unknown', Cause: 'runtime exited' } };

    // Act
    await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'describe', 'create-snapshots', 'isolate-eni', 'failure']);
  });

  it('when "Record containment" failed: writes the containment\'s records from the state, then the memory start\'s, then the failure', async () => {
    // Prepare: "Isolate network" and "Start memory capture" returned (their actions only in the state), then
    // "Record containment" failed before writing anything.
    const contained = containedState();
    cases.seed(contained.case);
    const state: AcquisitionState = {
      ...contained,
      memory: {
        status: 'skipped',
        stage: 'done',
        startedAt: '2025-03-01T10:00:00.000Z',
        unrecorded: [{ step: 'startMemoryCapture', action: 'create-memory-volume', status: 'failed', performedAt: '2025-03-01T10:00:01.000Z', request: {}, result: { error: 'x' } }],
      },
      failure: { Error: 'EvidenceWriteFailed', Cause: 'bucket unavailable' },
    };

    // Act
    await recordFailure(deps, state, RAW_EVENT);

    // Assess: nothing the state held is lost, in the order it happened, on one valid chain.
    expect(chain().map((r) => r.action)).toEqual(['open-case', 'receive-finding', 'describe', 'create-snapshots', 'isolate-eni', 'create-memory-volume', 'failure']);
    expect(verifyChain(cases.cases.get(CASE)!.custody.map((o) => bucket.objects.get(o.key)!.body)).valid).toBe(true);
    expect(bucket.objects.has(`cases/${CASE}/instance.json`)).toBe(true);
  });

  it('at seal: lists snapshots, evidence copies and isolation as secured', async () => {
    // Prepare
    const full = fullState();
    cases.seed(full.case);
    await recordContainment(deps, full, full.containment!, RAW_EVENT);
    const state: AcquisitionState = { ...full, failure: { Error: 'EvidenceWriteFailed', Cause: lambdaCause('EvidenceWriteFailed', 'S3 unavailable') } };

    // Act
    const summary = await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(cases.cases.get(CASE)!.failure).toMatchObject({ step: 'seal-evidence', error: 'EvidenceWriteFailed', cause: 'S3 unavailable' });
    expect(summary.snapshots[0]).toEqual({ volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', region: 'eu-west-1' });
    expect(chain().at(-1)!.result).toMatchObject({ secured: { evidenceSnapshots: [{ evidenceSnapshotId: 'snap-0ccc' }], isolatedNetworkInterfaces: ['eni-0aaa'] } });
    expect(message().Message).toContain('evidence copy snap-0ccc');
    expect(message().Message).toContain('Failed step: seal-evidence');
  });

  it('does not throw when SNS is down: the notification failure is recorded in the case and the custody log', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(new Error('SNS unavailable'));
    const state: AcquisitionState = { ...acquiredState(), failure: { Error: 'ContainmentFailed', Cause: 'x' } };
    cases.seed(state.case);

    // Act
    const summary = await recordFailure(deps, state, RAW_EVENT);

    // Assess
    expect(summary.status).toBe('FAILED');
    expect(chain().at(-1)).toMatchObject({ step: 'notify', action: 'notify-responders', status: 'failed', result: { notified: false, message: 'SNS unavailable' } });
    expect(cases.cases.get(CASE)!.details.notification).toMatchObject({ notified: false, message: 'SNS unavailable' });
    expect(cases.cases.get(CASE)!.status).toBe('FAILED');
    expect(logged).toContain('failure notification not sent');
  });

  it('still marks the case FAILED and notifies when the evidence bucket is down, then surfaces the error', async () => {
    // Prepare
    bucket.s3.reset();
    bucket.s3.rejects(new Error('S3 unavailable'));
    const state: AcquisitionState = { ...acquiredState(), failure: { Error: 'ContainmentFailed', Cause: 'x' } };
    cases.seed(state.case);

    // Act
    const run = recordFailure(deps, state, RAW_EVENT);

    // Assess
    await expect(run).rejects.toThrow();
    expect(cases.cases.get(CASE)!.status).toBe('FAILED');
    expect(message().Message).toContain('Recording this failure was incomplete');
  });

  it('a failure during a memory capture: the ENIs go back to the isolation group and the deny is made total, both recorded', async () => {
    // Prepare: "Check snapshot progress" failed for good while the command ran (channel open, agent exempted).
    const base = containedState();
    const moves: string[] = [];
    const policies: string[] = [];
    const state: AcquisitionState = {
      ...base,
      containment: {
        ...base.containment!,
        credentials: {
          mode: 'instance',
          status: 'applied',
          policies: [{ roleName: 'app', roleArn: 'arn:aws:iam::111122223333:role/app', policyName: `forensics-deny-${CASE}`, instanceArn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0', previouslyExisted: false, previousDocument: null, appliedAt: 'x', exempt: ['ssm:UpdateInstanceInformation'] }],
        },
      },
      memory: {
        status: 'capturing',
        stage: 'capturing',
        startedAt: '2025-03-01T10:00:00.000Z',
        channel: { groups: [{ vpcId: 'vpc-0aaa', groupId: 'sg-0chan', isolationGroupId: 'sg-0iso' }], interfaces: [{ networkInterfaceId: 'eni-0aaa', vpcId: 'vpc-0aaa' }], openedAt: '2025-03-01T10:00:30.000Z' },
      },
      failure: { Error: 'States.Timeout', Cause: 'Check snapshot progress timed out' },
    };
    cases.seed(state.case);
    const withMemory = {
      ...deps,
      memory: () => ({
        securityGroups: { setInterfaceGroups: async (eni: string, groups: string[]) => void moves.push(`${eni} ${groups.join(',')}`) } as never,
        iam: () => ({ putRolePolicy: async (_r: string, _n: string, doc: string) => void policies.push(doc) }),
        clock: steppingClock(),
      }),
    };

    // Act
    await recordFailure(withMemory, state, RAW_EVENT);

    // Assess
    expect(moves).toEqual(['eni-0aaa sg-0iso']);
    expect(JSON.parse(policies[0] ?? '{}').Statement[0].Action).toBe('*');
    const actions = chain().map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['close-acquisition-channel', 'put-full-deny-role-policy', 'failure']));
    const failure = chain().find((r) => r.action === 'failure');
    expect(failure?.result.secured).toMatchObject({ memory: { status: 'failed', channel: { closedAt: expect.any(String) } } });
  });
});
