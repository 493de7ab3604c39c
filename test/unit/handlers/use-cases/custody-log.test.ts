import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../../../handlers/domain/custody-record';
import { CustodyConflict, EvidenceWriteFailed } from '../../../../handlers/domain/errors';
import { CaseNotFound } from '../../../../handlers/domain/evidence-errors';
import type { CustodyAction } from '../../../../handlers/domain/types';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { FakeCaseTable, caseRef, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

const action = (name: string): CustodyAction => ({
  step: 'isolate-network',
  action: name,
  status: 'succeeded',
  performedAt: '2025-03-01T10:00:07.000Z',
  request: {},
  result: {},
});

describe('ChainedCustodyLog', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  const ref = caseRef();
  const noSleep = async () => {};

  beforeEach(() => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    cases.seed(ref);
  });
  afterEach(() => bucket.s3.restore());

  const log = (extra: Partial<ConstructorParameters<typeof ChainedCustodyLog>[0]> = {}) =>
    new ChainedCustodyLog({ cases, store: bucket.store, clock: steppingClock(), actor: { functionName: 'fn-isolate' }, sleep: noSleep, ...extra });

  it('keeps one continuous hash chain across calls, and stores exactly the indexed bytes', async () => {
    // Act
    const first = await log().append(ref, [action('a'), action('b')]);
    const second = await log().append(ref, [action('c')]);

    // Assess
    expect([...first, ...second].map((o) => o.key)).toEqual([
      'cases/case-20250301-0001/custody/000001-isolate-network.json',
      'cases/case-20250301-0001/custody/000002-isolate-network.json',
      'cases/case-20250301-0001/custody/000003-isolate-network.json',
    ]);
    const record = cases.cases.get(ref.caseId)!;
    const bodies = record.custody.map((o) => bucket.objects.get(o.key)!.body);
    expect(verifyChain(bodies, { expectedHead: { seq: record.custodySeq, sha256: record.custodyHeadSha256 } }).valid).toBe(true);
    expect(record.custody.map((o) => o.sha256)).toEqual([...first, ...second].map((o) => o.sha256));
    expect(JSON.parse(bodies[0]!)).toMatchObject({ actor: { executionArn: ref.executionArn, functionName: 'fn-isolate' } });
  });

  it('reserves the slots in the case table before writing any object', async () => {
    // Prepare
    const order: string[] = [];
    cases.beforeAdvance = () => order.push(`advance (objects so far: ${bucket.objects.size})`);

    // Act
    await log().append(ref, [action('a')]);

    // Assess
    expect(order).toEqual(['advance (objects so far: 0)']);
    expect(bucket.objects.size).toBe(1);
  });

  it('writes every record with checksum and legal hold', async () => {
    // Act
    await log().append(ref, [action('a'), action('b')]);

    // Assess
    const puts = bucket.s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.args[0].input).toMatchObject({ ChecksumAlgorithm: 'SHA256', ObjectLockLegalHoldStatus: 'ON', IfNoneMatch: '*' });
      expect(put.args[0].input.ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    }
  });

  it('re-reads and rebuilds after another writer moved the head, without writing the lost slot', async () => {
    // Prepare: another writer appends one record just before our first advance.
    let raced = false;
    cases.beforeAdvance = () => {
      if (raced) return;
      raced = true;
      const c = cases.cases.get(ref.caseId)!;
      c.custodySeq = 1;
      c.custodyHeadSha256 = 'e'.repeat(64);
      c.custody.push({ key: 'cases/case-20250301-0001/custody/000001-other.json', sha256: 'e'.repeat(64) });
    };

    // Act
    const written = await log().append(ref, [action('mine')]);

    // Assess
    expect(written.map((o) => o.key)).toEqual(['cases/case-20250301-0001/custody/000002-isolate-network.json']);
    expect(JSON.parse(bucket.objects.get(written[0]!.key)!.body).prevSha256).toBe('e'.repeat(64));
    expect(bucket.objects.has('cases/case-20250301-0001/custody/000001-isolate-network.json')).toBe(false);
    expect(cases.calls.filter((c) => c.startsWith('advanceCustody'))).toEqual(['advanceCustody:0->1', 'advanceCustody:1->2']);
  });

  it('gives up with CustodyConflict after bounded attempts', async () => {
    // Prepare: the head moves before every attempt.
    cases.beforeAdvance = () => {
      const c = cases.cases.get(ref.caseId)!;
      c.custodySeq += 1;
    };

    // Act / Assess
    await expect(log({ maxAttempts: 3 }).append(ref, [action('a')])).rejects.toThrow(CustodyConflict);
    expect(cases.calls.filter((c) => c.startsWith('advanceCustody'))).toHaveLength(3);
    expect(bucket.objects.size).toBe(0);
  });

  it('retries a failed object write, then reports reserved-but-unwritten keys', async () => {
    // Prepare
    bucket.s3.on(PutObjectCommand).rejects(new Error('S3 unavailable'));

    // Act / Assess
    await expect(log({ putAttempts: 2 }).append(ref, [action('a')])).rejects.toThrow(EvidenceWriteFailed);
    expect(bucket.s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('fails with CaseNotFound for an unknown case and writes nothing for no actions', async () => {
    await expect(log().append(caseRef({ caseId: 'nope' }), [action('a')])).rejects.toThrow(CaseNotFound);
    await expect(log().append(ref, [])).resolves.toEqual([]);
    expect(cases.calls).toEqual(['getCase:nope']);
  });
});
