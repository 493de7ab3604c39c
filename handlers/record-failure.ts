import type { CaseSummary } from './domain/case-summary';
import { caseLog } from './adapters/logger';
import type { AcquisitionState } from './domain/types';
import { evidenceDeps } from './composition/evidence';
import { memoryChannelAdaptersFor } from './composition/memory-channel';
import { notifier } from './composition/notifier';
import { type RecordFailureDeps, recordFailure } from './use-cases/record-failure';

/** The step's dependencies from its composition roots; the logger carries the case id of the failed execution. */
function recordFailureDeps(state: AcquisitionState): RecordFailureDeps {
  return {
    ...evidenceDeps(),
    notifier: notifier(),
    log: caseLog(state?.case?.caseId, 'recordFailure'),
    // Only a case whose memory capture may still hold the channel open builds the instance-side clients.
    memory: () => {
      const adapters = memoryChannelAdaptersFor(state.case.target, { caseId: state.case.caseId });
      return { securityGroups: adapters.securityGroups, iam: () => adapters.iam, clock: () => new Date() };
    },
  };
}

/**
 * "Record failure". Payload: the whole execution state with `failure` ({Error, Cause}) from the Catch, and the
 * execution input at `rawEvent` (carried in the state since triage; also accepted when the Task payload adds it).
 * Returns the case summary with status FAILED (at `$.failureRecord`).
 */
export function createRecordFailureHandler(deps: { recordFailure?: (state: AcquisitionState) => RecordFailureDeps } = {}) {
  return (event: AcquisitionState): Promise<CaseSummary> => recordFailure((deps.recordFailure ?? recordFailureDeps)(event), event, event.rawEvent);
}

export const handler = createRecordFailureHandler();
