import { instanceKey, rawFindingKey } from '../domain/case-evidence';
import { drillObjectRetention } from '../domain/drill';
import { CaseNotFound, EvidenceExists } from '../domain/evidence-errors';
import { canonicalBody } from '../domain/hashing';
import { preIncidentOf } from '../domain/instance-store';
import type { CaseRecord, CaseTable, EvidenceCaseTable, EvidenceStore } from '../domain/ports';
import type { AcquisitionState, SealedObject } from '../domain/types';

/**
 * Writing the case's evidence objects other than custody records (instance.json, the raw finding), once.
 *
 * Same discipline as the custody log: the object's key and hash go into the case's evidence index first, then the
 * object is written. Bodies are canonical JSON of the step's input, so a retried step computes the same hash and
 * finishes a write its earlier attempt reserved. An object that exists but that this case never indexed was
 * written by someone else: it is left alone (never overwritten) and not listed with a hash we cannot vouch for.
 */
export interface WrittenEvidence {
  written: SealedObject[];
  /** Keys left alone because an object was already there. */
  skipped: string[];
}

export async function writeEvidenceOnce(
  deps: { cases: EvidenceCaseTable; store: EvidenceStore; clock?: () => Date },
  caseRecord: Pick<CaseRecord, 'caseId' | 'evidence'> & Partial<Pick<CaseRecord, 'details'>>,
  objects: { key: string; value: unknown }[],
): Promise<WrittenEvidence> {
  const retention = drillObjectRetention(caseRecord.details?.options as never, (deps.clock ?? (() => new Date()))());
  const indexed = new Map((caseRecord.evidence ?? []).map((o) => [o.key, o.sha256]));
  const result: WrittenEvidence = { written: [], skipped: [] };
  for (const { key, value } of objects) {
    const { body, sha256 } = canonicalBody(value);
    const indexedSha = indexed.get(key);
    if (indexedSha !== undefined) {
      // Reserved by this case before. Finish the write only if it is ours (same bytes) and it is missing.
      if (indexedSha !== sha256 || (await deps.store.exists(key))) {
        result.skipped.push(key);
        continue;
      }
    } else {
      if (await deps.store.exists(key)) {
        result.skipped.push(key);
        continue;
      }
      await deps.cases.appendEvidence(caseRecord.caseId, [{ key, sha256 }]);
    }
    try {
      result.written.push(await deps.store.put(key, body, 'application/json', retention));
    } catch (err) {
      if (!(err instanceof EvidenceExists)) throw err;
      result.skipped.push(key);
    }
  }
  return result;
}

/** The pre-incident state and the raw input of the case, as far as the state has them. */
export function caseEvidenceObjects(state: AcquisitionState, rawEvent: unknown): { key: string; value: unknown }[] {
  const objects: { key: string; value: unknown }[] = [];
  const caseId = state.case.caseId;
  if (rawEvent !== undefined && rawEvent !== null) {
    objects.push({ key: rawFindingKey(caseId, state.case.finding.id), value: rawEvent });
  }
  const pre = preIncidentOf(state);
  if (pre) objects.push({ key: instanceKey(caseId), value: pre });
  return objects;
}

export async function requireCase(cases: Pick<CaseTable, 'getCase'>, caseId: string): Promise<CaseRecord> {
  const record = await cases.getCase(caseId);
  if (!record) throw new CaseNotFound(caseId);
  return record;
}
