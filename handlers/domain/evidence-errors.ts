/**
 * Named errors of the evidence side (case table, evidence store). Kept apart from `errors.ts` only so that file's
 * owner can move them in; the names are what the state machine's Catch rules and the logs see.
 */

/** The case record does not exist (a step ran for a case the table does not know). */
export class CaseNotFound extends Error {
  override readonly name = 'CaseNotFound';
  constructor(readonly caseId: string, options?: { cause?: unknown }) {
    super(`case ${caseId} was not found in the case table`, options);
  }
}

/** An evidence object already exists at the key: evidence is written once and never replaced. */
export class EvidenceExists extends Error {
  override readonly name = 'EvidenceExists';
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`evidence object ${key} already exists and is never overwritten`, options);
  }
}
