import { describe, expect, it } from 'vitest';
import {
  GENESIS_HEAD,
  GENESIS_SHA256,
  buildCustodyRecords,
  custodyKey,
  custodyRecordSha256,
  verifyChain,
} from '../../../../handlers/domain/custody-record';
import { canonicalJson, sha256Hex } from '../../../../handlers/domain/hashing';
import type { CustodyAction } from '../../../../handlers/domain/types';

const actor = { executionArn: 'arn:aws:states:eu-west-1:1:execution:sm:e1', functionName: 'isolate' };
const action = (n: number, step = 'isolate-network'): CustodyAction => ({
  step,
  action: `act-${n}`,
  status: 'succeeded',
  performedAt: `2025-03-01T10:00:0${n}.000Z`,
  request: { n },
  result: { ok: true },
});

describe('custody records', () => {
  it('keys records by zero-padded sequence and a key-safe step name', () => {
    expect(custodyKey('case-1', 7, 'seal-evidence')).toBe('cases/case-1/custody/000007-seal-evidence.json');
    expect(custodyKey('case-1', 123456, 'Odd step/name')).toBe('cases/case-1/custody/123456-Odd-step-name.json');
  });

  it('chains records from the genesis head, each carrying the hash of the previous body', () => {
    // Act
    const { records, head } = buildCustodyRecords({
      caseId: 'case-1',
      head: GENESIS_HEAD,
      actor,
      actions: [action(1), action(2), action(3)],
      recordedAt: '2025-03-01T10:01:00.000Z',
    });

    // Assess
    expect(records.map((r) => r.record.seq)).toEqual([1, 2, 3]);
    expect(records[0]?.record.prevSha256).toBe(GENESIS_SHA256);
    expect(records[1]?.record.prevSha256).toBe(records[0]?.sha256);
    expect(records[2]?.record.prevSha256).toBe(records[1]?.sha256);
    for (const r of records) {
      expect(r.body).toBe(canonicalJson(r.record));
      expect(r.sha256).toBe(sha256Hex(r.body));
      expect(r.record).toMatchObject({ schemaVersion: '1.0', caseId: 'case-1', actor, recordedAt: '2025-03-01T10:01:00.000Z' });
    }
    expect(head).toEqual({ seq: 3, sha256: records[2]?.sha256 });
  });

  it('continues a chain from a given head', () => {
    // Prepare
    const first = buildCustodyRecords({ caseId: 'c', head: GENESIS_HEAD, actor, actions: [action(1)], recordedAt: 't' });

    // Act
    const second = buildCustodyRecords({ caseId: 'c', head: first.head, actor, actions: [action(2)], recordedAt: 't' });

    // Assess
    expect(second.records[0]?.record.seq).toBe(2);
    expect(second.records[0]?.record.prevSha256).toBe(first.head.sha256);
    expect(verifyChain([...first.records, ...second.records].map((r) => r.body))).toMatchObject({ valid: true, length: 2 });
  });

  it('verifies a chain from records or stored bodies, and checks the expected head', () => {
    // Prepare
    const { records, head } = buildCustodyRecords({ caseId: 'c', head: GENESIS_HEAD, actor, actions: [action(1), action(2)], recordedAt: 't' });

    // Act
    const fromRecords = verifyChain(records.map((r) => r.record), { expectedHead: head });
    const fromBodies = verifyChain(records.map((r) => r.body), { expectedHead: head, caseId: 'c' });

    // Assess
    expect(fromRecords).toEqual({ valid: true, length: 2, head, problems: [] });
    expect(fromBodies.valid).toBe(true);
    expect(custodyRecordSha256(records[1]!.record)).toBe(head.sha256);
  });

  it('detects a tampered record, a gap, a foreign record, a non-canonical body and a wrong head', () => {
    // Prepare
    const { records, head } = buildCustodyRecords({ caseId: 'c', head: GENESIS_HEAD, actor, actions: [action(1), action(2), action(3)], recordedAt: 't' });
    const [r1, r2, r3] = records.map((r) => r.record) as [typeof records[0]['record'], typeof records[0]['record'], typeof records[0]['record']];

    // Act
    const tampered = verifyChain([{ ...r1, result: { ok: false } }, r2, r3]);
    const gap = verifyChain([r1, r3]);
    const foreign = verifyChain([r1, { ...r2, caseId: 'other' }]);
    const pretty = verifyChain([JSON.stringify(r1, null, 2)]);
    const wrongHead = verifyChain([r1, r2], { expectedHead: head });
    const garbage = verifyChain(['not json']);

    // Assess
    expect(tampered.valid).toBe(false);
    expect(tampered.problems[0]).toMatchObject({ seq: 2 });
    expect(gap.problems.map((p) => p.problem).join()).toMatch(/expected seq 2, found 3/);
    expect(foreign.problems.map((p) => p.problem).join()).toMatch(/belongs to case other/);
    expect(pretty.problems.map((p) => p.problem).join()).toMatch(/not the canonical JSON/);
    expect(wrongHead.valid).toBe(false);
    expect(garbage.valid).toBe(false);
  });
});
