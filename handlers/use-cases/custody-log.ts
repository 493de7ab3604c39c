import { buildCustodyRecords, type BuiltCustodyRecord } from '../domain/custody-record';
import { CustodyConflict, EvidenceWriteFailed, errorMessage } from '../domain/errors';
import { CaseNotFound, EvidenceExists } from '../domain/evidence-errors';
import type { CaseTable, Clock, CustodyLog, EvidenceStore } from '../domain/ports';
import type { CaseRef, CustodyAction, SealedObject } from '../domain/types';
import { drillObjectRetention, type ObjectRetention } from '../domain/drill';

export interface ChainedCustodyLogDeps {
  cases: CaseTable;
  store: EvidenceStore;
  clock: Clock;
  actor: { functionName?: string };
  /** Attempts when another writer moved the chain head first (default 5). */
  maxAttempts?: number;
  /** Attempts per object write after the slots are reserved (default 3). */
  putAttempts?: number;
  /** Pause between attempts; injectable so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The custody log: hash-chained records in the evidence bucket, with the chain head in the case record.
 *
 * Order of an append: read the head (consistent read), build the records after it, move the head in the case table
 * with a conditional write (this reserves the sequence numbers), and only then write the objects. Objects under
 * Object Lock can never be deleted, so two writers must never both write seq N: the conditional write decides who
 * owns N before anything immutable exists. A writer that loses re-reads the head and rebuilds its records.
 *
 * If an object write still fails after the reservation, the chain has a reserved slot without its object: the
 * append fails with `EvidenceWriteFailed` naming the keys (verifying the chain will show the gap; it is never
 * silently refilled with different content).
 */
export class ChainedCustodyLog implements CustodyLog {
  private readonly maxAttempts: number;
  private readonly putAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: ChainedCustodyLogDeps) {
    this.maxAttempts = deps.maxAttempts ?? 5;
    this.putAttempts = deps.putAttempts ?? 3;
    this.sleep = deps.sleep ?? defaultSleep;
  }

  async append(
    caseRef: Pick<CaseRef, 'caseId' | 'executionArn'>,
    actions: CustodyAction[],
  ): Promise<SealedObject[]> {
    if (actions.length === 0) return [];
    const { cases, clock, actor } = this.deps;
    let lastConflict: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await cases.getCase(caseRef.caseId);
      if (!current) throw new CaseNotFound(caseRef.caseId);
      const expected = { seq: current.custodySeq, sha256: current.custodyHeadSha256 };
      const built = buildCustodyRecords({
        caseId: caseRef.caseId,
        head: expected,
        actor: {
          executionArn: caseRef.executionArn,
          ...(actor.functionName ? { functionName: actor.functionName } : {}),
        },
        actions,
        recordedAt: clock().toISOString(),
      });
      try {
        await cases.advanceCustody(
          caseRef.caseId,
          expected,
          built.records.map((r) => ({ key: r.key, sha256: r.sha256 })),
          built.head,
        );
      } catch (err) {
        if (!(err instanceof CustodyConflict) && (err as Error)?.name !== 'CustodyConflict') throw err;
        lastConflict = err;
        // Small jittered pause: the other writer is usually another step of the same case finishing its append.
        await this.sleep(Math.floor(Math.random() * 50 * attempt) + 10 * attempt);
        continue;
      }
      // A drill case's records get the drill's short retention (the case record carries its options).
      return this.writeReserved(built.records, drillObjectRetention(current.details?.options as never, clock()));
    }
    throw new CustodyConflict(
      `custody chain of case ${caseRef.caseId} kept moving: gave up after ${this.maxAttempts} attempts`,
      { cause: lastConflict },
    );
  }

  /** Writes the objects of slots this writer reserved, in parallel, each retried a few times. */
  private async writeReserved(records: BuiltCustodyRecord[], retention?: ObjectRetention): Promise<SealedObject[]> {
    const results = await Promise.allSettled(records.map((r) => this.putReserved(r, retention)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ key: records[i]?.key, reason: r.reason }] : []));
    if (failed.length > 0) {
      throw new EvidenceWriteFailed(
        `custody records reserved but not written: ${failed.map((f) => `${f.key} (${errorMessage(f.reason)})`).join('; ')}`,
        { cause: failed[0]?.reason },
      );
    }
    return results.map((r) => (r as PromiseFulfilledResult<SealedObject>).value);
  }

  private async putReserved(record: BuiltCustodyRecord, retention?: ObjectRetention): Promise<SealedObject> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.putAttempts; attempt++) {
      try {
        return await this.deps.store.put(record.key, record.body, 'application/json', retention);
      } catch (err) {
        if (err instanceof EvidenceExists) {
          // Only this writer holds the slot, so an object already there is our own earlier attempt that landed
          // although its response was lost (same body: records are built once per reservation).
          return { key: record.key, sha256: record.sha256 };
        }
        lastError = err;
        if (attempt < this.putAttempts) await this.sleep(100 * 2 ** attempt);
      }
    }
    throw lastError;
  }
}
