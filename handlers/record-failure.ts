import type { CaseSummary } from './domain/case-summary';
import { caseLog } from './adapters/logger';
import type { AcquisitionState } from './domain/types';
import { evidenceDeps } from './composition/evidence';
import { memoryAdaptersFor } from './composition/memory';
import { notifier } from './composition/notifier';
import { type RecordFailureDeps, recordFailure } from './use-cases/record-failure';

/**
 * "Record failure". Payload: the whole execution state with `failure` ({Error, Cause}) from the Catch, and the
 * execution input at `rawEvent` (carried in the state since triage; also accepted when the Task payload adds it).
 * Returns the case summary with status FAILED (at `$.failureRecord`).
 */
export function createRecordFailureHandler(deps: RecordFailureDeps) {
  return (event: AcquisitionState): Promise<CaseSummary> => recordFailure(deps, event, event.rawEvent);
}

export const handler = (event: AcquisitionState): Promise<CaseSummary> =>
  createRecordFailureHandler({
    ...evidenceDeps(),
    notifier: notifier(),
    log: caseLog(event?.case?.caseId, 'recordFailure'),
    // Only a case whose memory capture may still hold the channel open builds the instance-side clients.
    memory: () => {
      const adapters = memoryAdaptersFor(event.case.target, { caseId: event.case.caseId });
      return { securityGroups: adapters.securityGroups, iam: () => adapters.iam, clock: () => new Date() };
    },
  })(event);
