import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../../../handlers/domain/custody-record';
import { canonicalBody } from '../../../../handlers/domain/hashing';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { InvalidInput } from '../../../../handlers/domain/errors';
import { createRecordContainmentHandler } from '../../../../handlers/record-containment';
import { recordContainment } from '../../../../handlers/use-cases/record-containment';
import { FakeCaseTable, RAW_EVENT, containedState, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

const CASE = 'case-20250301-0001';
const FINDING_KEY = `cases/${CASE}/finding-a1b2c3d4e5f60718293a4b5c6d7e8f90.json`;
const INSTANCE_KEY = `cases/${CASE}/instance.json`;

describe('recordContainment', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  let deps: Parameters<typeof recordContainment>[0];

  beforeEach(() => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    const clock = steppingClock();
    deps = {
      cases,
      store: bucket.store,
      clock,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'isolate' }, sleep: async () => {} }),
    };
  });
  afterEach(() => bucket.s3.restore());

  it('writes the deferred custody records in order, instance.json, the raw finding, and the case details', async () => {
    // Prepare
    const state = containedState();
    const { containment, ...before } = state;
    cases.seed(state.case);

    // Act
    await recordContainment(deps, before, containment!, RAW_EVENT);

    // Assess
    const record = cases.cases.get(CASE)!;
    const bodies = record.custody.map((o) => bucket.objects.get(o.key)!.body);
    expect(bodies.map((b) => JSON.parse(b).action)).toEqual(['open-case', 'receive-finding', 'describe', 'create-snapshots', 'isolate-eni']);
    expect(verifyChain(bodies).valid).toBe(true);
    expect(bucket.objects.get(INSTANCE_KEY)!.body).toBe(canonicalBody(state.describe!.preIncident).body);
    expect(JSON.parse(bucket.objects.get(FINDING_KEY)!.body)).toEqual(RAW_EVENT);
    expect(record.evidence!.map((o) => o.key)).toEqual([FINDING_KEY, INSTANCE_KEY]);
    expect(record.evidence![1]!.sha256).toBe(canonicalBody(state.describe!.preIncident).sha256);
    expect(record.details).toMatchObject({
      deferredCustodyRecordedAt: expect.any(String),
      preIncident: { instanceState: 'running', networkInterfaces: [{ networkInterfaceId: 'eni-0aaa', groupIds: ['sg-0web'] }] },
      snapshots: state.acquisition!.snapshots,
      containment: { containedAt: containment!.containedAt, networkInterfaces: containment!.networkInterfaces },
    });
    // Every object written with checksum and legal hold.
    for (const put of bucket.s3.commandCalls(PutObjectCommand)) {
      expect(put.args[0].input).toMatchObject({ ChecksumAlgorithm: 'SHA256', ObjectLockLegalHoldStatus: 'ON' });
      expect(put.args[0].input.ChecksumSHA256).toBeTruthy();
    }
  });

  it('takes the raw event from the state when not passed', async () => {
    const state = containedState();
    cases.seed(state.case);
    await recordContainment(deps, state, state.containment!);
    expect(bucket.objects.has(FINDING_KEY)).toBe(true);
  });

  it('never overwrites a raw finding already in the bucket', async () => {
    // Prepare: the finding was written earlier (e.g. by another execution for the same id).
    const state = containedState();
    cases.seed(state.case);
    bucket.objects.set(FINDING_KEY, { body: '{"original":true}', versionId: 'v0' });

    // Act
    await recordContainment(deps, state, state.containment!, { different: true });

    // Assess
    expect(bucket.objects.get(FINDING_KEY)!.body).toBe('{"original":true}');
    expect(bucket.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).not.toContain(FINDING_KEY);
    expect(cases.cases.get(CASE)!.evidence!.map((o) => o.key)).toEqual([INSTANCE_KEY]);
  });

  it('is idempotent when the step is retried: no duplicate records or objects', async () => {
    // Prepare
    const state = containedState();
    cases.seed(state.case);
    await recordContainment(deps, state, state.containment!, RAW_EVENT);
    const putsBefore = bucket.s3.commandCalls(PutObjectCommand).length;

    // Act
    const again = await recordContainment(deps, state, state.containment!, RAW_EVENT);

    // Assess
    expect(again).toMatchObject({ custody: 'already-written', custodyRecords: 0 });
    expect(cases.cases.get(CASE)!.custodySeq).toBe(5);
    expect(bucket.s3.commandCalls(PutObjectCommand)).toHaveLength(putsBefore);
  });

  it('completes an evidence write a crashed attempt had reserved', async () => {
    // Prepare: instance.json indexed (reserved) but never written.
    const state = containedState();
    cases.seed(state.case, {
      evidence: [{ key: INSTANCE_KEY, sha256: canonicalBody(state.describe!.preIncident).sha256 }],
      details: { deferredCustodyRecordedAt: 'earlier' },
    });

    // Act
    await recordContainment(deps, state, state.containment!, RAW_EVENT);

    // Assess
    expect(bucket.objects.has(INSTANCE_KEY)).toBe(true);
    expect(cases.cases.get(CASE)!.evidence!.filter((o) => o.key === INSTANCE_KEY)).toHaveLength(1);
    expect(cases.cases.get(CASE)!.custodySeq).toBe(0);
  });

  it('the "Record containment" entry refuses a state without the containment, naming the field, and writes nothing', async () => {
    // Prepare
    const { containment: _none, ...state } = containedState();
    cases.seed(state.case);
    const handler = createRecordContainmentHandler({ evidence: () => deps });

    // Act
    const refused = handler(state);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(InvalidInput);
    await expect(refused).rejects.toThrow(/containment/);
    expect(bucket.objects.size).toBe(0);
    expect(cases.cases.get(CASE)!.custodySeq).toBe(0);
  });

  it('the "Record containment" entry writes the containment from the execution state and says what it wrote', async () => {
    // Prepare
    const state = containedState();
    cases.seed(state.case);
    const handler = createRecordContainmentHandler({ evidence: () => deps });

    // Act
    const out = await handler(state);

    // Assess
    expect(out).toEqual({ recordedAt: expect.any(String), custody: 'written', custodyRecords: 5 });
    expect(cases.cases.get(CASE)!.custodySeq).toBe(5);
  });
});
