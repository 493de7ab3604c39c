import type { CustodyAction } from './types';
import { ZERO_SHA256, canonicalBody, sha256Hex, canonicalJson } from './hashing';

/**
 * Custody records: one immutable JSON object per action taken on the case, hash chained.
 *
 * Record n carries the SHA-256 of record n-1 (`prevSha256`); the first carries 64 zeros. The hash of a record is
 * the SHA-256 of its stored body, which is the canonical JSON of the record (see `hashing.ts`), so anybody can
 * re-verify the chain from the objects alone. Sequence numbers start at 1; the chain head of a case without
 * records is `{ seq: 0, sha256: GENESIS_SHA256 }`. Pure module: no I/O.
 */

export const CUSTODY_SCHEMA_VERSION = '1.0';
export const GENESIS_SHA256 = ZERO_SHA256;
export const GENESIS_HEAD: ChainHead = Object.freeze({ seq: 0, sha256: GENESIS_SHA256 });

export interface ChainHead {
  /** Sequence number of the last record written (0 when none). */
  seq: number;
  /** SHA-256 (hex) of the last record written (zeros when none). */
  sha256: string;
}

export interface CustodyActor {
  /** The Step Functions execution that acted. */
  executionArn: string;
  /** The Lambda function that wrote the record (absent outside Lambda, e.g. the CLI). */
  functionName?: string;
}

export interface CustodyRecord {
  schemaVersion: string;
  caseId: string;
  seq: number;
  step: string;
  action: string;
  status: CustodyAction['status'];
  /** When the action happened (may be earlier than `recordedAt`: containment defers its records). */
  performedAt: string;
  /** When this record was written. */
  recordedAt: string;
  actor: CustodyActor;
  request: Record<string, unknown>;
  result: Record<string, unknown>;
  prevSha256: string;
}

export interface BuiltCustodyRecord {
  key: string;
  record: CustodyRecord;
  /** Exactly the bytes to store (canonical JSON). */
  body: string;
  /** SHA-256 (hex) of `body`. */
  sha256: string;
}

/** Key characters kept as they are; anything else in a step name becomes `-` so keys stay URL-safe. */
function keySegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned.length > 0 ? cleaned.slice(0, 64) : 'step';
}

export function caseEvidencePrefix(caseId: string): string {
  return `cases/${caseId}/`;
}

/** `cases/<caseId>/custody/<seq, 6 digits>-<step>.json`: zero padding keeps a listing in chain order. */
export function custodyKey(caseId: string, seq: number, step: string): string {
  return `${caseEvidencePrefix(caseId)}custody/${String(seq).padStart(6, '0')}-${keySegment(step)}.json`;
}

/** Hash of a record as stored: SHA-256 of its canonical JSON. */
export function custodyRecordSha256(record: CustodyRecord): string {
  return sha256Hex(canonicalJson(record));
}

/**
 * Builds the records for `actions`, chained after `head`, in the given order.
 * Returns the records with their keys, bodies and hashes, and the chain head after the last one.
 */
export function buildCustodyRecords(input: {
  caseId: string;
  head: ChainHead;
  actor: CustodyActor;
  actions: readonly CustodyAction[];
  recordedAt: string;
}): { records: BuiltCustodyRecord[]; head: ChainHead } {
  let head: ChainHead = { seq: input.head.seq, sha256: input.head.sha256 };
  const records: BuiltCustodyRecord[] = [];
  for (const action of input.actions) {
    const seq = head.seq + 1;
    const record: CustodyRecord = {
      schemaVersion: CUSTODY_SCHEMA_VERSION,
      caseId: input.caseId,
      seq,
      step: action.step,
      action: action.action,
      status: action.status,
      performedAt: action.performedAt,
      recordedAt: input.recordedAt,
      actor: {
        executionArn: input.actor.executionArn,
        ...(input.actor.functionName ? { functionName: input.actor.functionName } : {}),
      },
      request: action.request ?? {},
      result: action.result ?? {},
      prevSha256: head.sha256,
    };
    const { body, sha256 } = canonicalBody(record);
    records.push({ key: custodyKey(input.caseId, seq, action.step), record, body, sha256 });
    head = { seq, sha256 };
  }
  return { records, head };
}

export interface ChainProblem {
  seq: number | null;
  problem: string;
}

export interface ChainVerification {
  valid: boolean;
  /** Number of records checked. */
  length: number;
  /** Head of the verified chain (the last record's seq and hash). */
  head: ChainHead;
  problems: ChainProblem[];
}

/**
 * Verifies a whole chain: records in seq order from 1, one case, each `prevSha256` equal to the hash of the record
 * before it (zeros for the first). Accepts parsed records, or stored bodies (strings) — pass bodies when you have
 * them: the hash is then taken over the exact stored bytes, so a body that is not canonical JSON is detected too.
 * Optionally checks the final head against the one the case table holds.
 */
export function verifyChain(
  records: readonly (CustodyRecord | string)[],
  options: { expectedHead?: ChainHead; caseId?: string } = {},
): ChainVerification {
  const problems: ChainProblem[] = [];
  let head: ChainHead = { ...GENESIS_HEAD };
  const caseId = options.caseId;
  let firstCaseId: string | undefined = caseId;

  records.forEach((entry, index) => {
    let record: CustodyRecord;
    let sha256: string;
    if (typeof entry === 'string') {
      try {
        record = JSON.parse(entry) as CustodyRecord;
      } catch {
        problems.push({ seq: null, problem: `record #${index + 1} is not valid JSON` });
        return;
      }
      sha256 = sha256Hex(entry);
      if (canonicalJson(record) !== entry) {
        problems.push({ seq: record.seq ?? null, problem: 'stored body is not the canonical JSON of the record' });
      }
    } else {
      record = entry;
      sha256 = custodyRecordSha256(record);
    }
    const expectedSeq = head.seq + 1;
    if (record.seq !== expectedSeq) {
      problems.push({ seq: record.seq ?? null, problem: `expected seq ${expectedSeq}, found ${String(record.seq)}` });
    }
    if (record.prevSha256 !== head.sha256) {
      problems.push({
        seq: record.seq ?? null,
        problem: `prevSha256 ${String(record.prevSha256)} does not match the previous record's hash ${head.sha256}`,
      });
    }
    firstCaseId ??= record.caseId;
    if (record.caseId !== firstCaseId) {
      problems.push({ seq: record.seq ?? null, problem: `record belongs to case ${record.caseId}, not ${firstCaseId}` });
    }
    head = { seq: typeof record.seq === 'number' ? record.seq : expectedSeq, sha256 };
  });

  if (options.expectedHead) {
    if (options.expectedHead.seq !== head.seq || options.expectedHead.sha256 !== head.sha256) {
      problems.push({
        seq: head.seq,
        problem: `chain ends at seq ${head.seq} (${head.sha256}); the case table says seq ${options.expectedHead.seq} (${options.expectedHead.sha256})`,
      });
    }
  }
  return { valid: problems.length === 0, length: records.length, head, problems };
}
