import { awsClients } from './adapters/aws-clients';
import { DynamoCaseTable } from './adapters/case-table';
import { environment } from './config/env';
import type { CaseTable } from './domain/ports';
import { type ReleaseState, validateRelease } from './use-cases/release-workflow';

/**
 * "Validate release request" (release state machine). Payload: `{request: <execution input>, executionArn,
 * startedAt}`. Returns the release state; refusals are thrown by name (InvalidInput, CaseNotFound,
 * CaseStillAcquiring, CaseAlreadyReleased). Read-only.
 */
export function createValidateReleaseHandler(deps: { cases?: () => Pick<CaseTable, 'getCase'> } = {}) {
  return (event: { request: unknown; executionArn: string; startedAt?: string }): Promise<ReleaseState> => {
    const cases = deps.cases?.() ?? new DynamoCaseTable(awsClients().dynamodb(), environment().CASE_TABLE_NAME, () => new Date());
    return validateRelease({ cases }, event);
  };
}

export const handler = createValidateReleaseHandler();
