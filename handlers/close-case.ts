import type { CaseSummary } from './domain/case-summary';
import { evidenceDeps } from './composition/evidence';
import { type CloseCaseDeps, type CloseCaseInput, closeCase } from './use-cases/close-case';

/**
 * "Close case". Payload: the whole execution state, with `notificationFailure` when the notify step's Catch led
 * here. Returns the case summary (at `$.closure`), the shape `run-local` prints.
 */
export function createCloseCaseHandler(deps: { evidence?: () => CloseCaseDeps } = {}) {
  return (event: CloseCaseInput): Promise<CaseSummary> => closeCase((deps.evidence ?? evidenceDeps)(), event);
}

export const handler = createCloseCaseHandler();
