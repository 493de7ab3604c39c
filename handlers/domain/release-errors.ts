/**
 * Named refusals and failures of `release` (the CLI prints the name; a release state machine would Catch on it).
 * `CaseNotFound` (evidence-errors.ts) covers an unknown case id.
 */

/** The acquisition is still running: releasing now would race the workflow's own changes. */
export class CaseStillAcquiring extends Error {
  override readonly name = 'CaseStillAcquiring';
  constructor(readonly caseId: string) {
    super(`case ${caseId} is still ACQUIRING: wait for the acquisition to end (CONTAINED or FAILED) before releasing`);
  }
}

/** The case was released already; nothing is done twice. */
export class CaseAlreadyReleased extends Error {
  override readonly name = 'CaseAlreadyReleased';
  constructor(readonly caseId: string, readonly releasedAt?: string) {
    super(`case ${caseId} was already released${releasedAt ? ` at ${releasedAt}` : ''}`);
  }
}

/** Some restore actions failed; what succeeded is recorded, the case stays open and the release can be rerun. */
export class ReleaseIncomplete extends Error {
  override readonly name = 'ReleaseIncomplete';
  constructor(readonly caseId: string, readonly failures: string[]) {
    super(`release of case ${caseId} incomplete: ${failures.join('; ')}`);
  }
}
