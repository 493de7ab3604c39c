import { caseTable } from './composition/case-table';
import type { CaseTable } from './domain/ports';
import { type ReleaseState, validateRelease } from './use-cases/release-workflow';

/**
 * "Validate release request" (release state machine). Payload: `{request: <execution input>, executionArn,
 * startedAt}`. Returns the release state; refusals are thrown by name (InvalidInput, CaseNotFound,
 * CaseStillAcquiring, CaseAlreadyReleased). Read-only.
 */
export function createValidateReleaseHandler(deps: { cases?: () => Pick<CaseTable, 'getCase'> } = {}) {
  return (event: { request: unknown; executionArn: string; startedAt?: string }): Promise<ReleaseState> => {
    const cases = deps.cases?.() ?? caseTable();
    return validateRelease({ cases }, event);
  };
}

export const handler = createValidateReleaseHandler();
