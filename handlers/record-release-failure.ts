import { caseLog } from './adapters/logger';
import { evidenceDeps } from './composition/evidence';
import { notifier } from './composition/notifier';
import { type RecordReleaseFailureDeps, recordReleaseFailure, type ReleaseState } from './use-cases/release-workflow';

/** The step's dependencies from its composition roots; the logger carries the case id of the release. */
function recordReleaseFailureDeps(state: ReleaseState): RecordReleaseFailureDeps {
  return { ...evidenceDeps(), notifier: notifier(), log: caseLog(state?.request?.caseId, 'recordReleaseFailure') };
}

/**
 * "Record release failure" (release state machine). Payload: the whole release state with `failure` ({Error, Cause})
 * from the Catch. Writes it to the case and the custody log, notifies (best effort); at `$.failureRecord`.
 */
export function createRecordReleaseFailureHandler(deps: { recordFailure?: (state: ReleaseState) => RecordReleaseFailureDeps } = {}) {
  return (state: ReleaseState) => recordReleaseFailure((deps.recordFailure ?? recordReleaseFailureDeps)(state), state);
}

export const handler = createRecordReleaseFailureHandler();
