import { caseLog } from './adapters/logger';
import { evidenceDeps } from './composition/evidence';
import { notifier } from './composition/notifier';
import { type RecordReleaseFailureDeps, recordReleaseFailure, type ReleaseState } from './use-cases/release-workflow';

/**
 * "Record release failure" (release state machine). Payload: the whole release state with `failure` ({Error, Cause})
 * from the Catch. Writes it to the case and the custody log, notifies (best effort); at `$.failureRecord`.
 */
export function createRecordReleaseFailureHandler(deps?: () => RecordReleaseFailureDeps) {
  return (state: ReleaseState) =>
    recordReleaseFailure({ log: caseLog(state?.request?.caseId, 'recordReleaseFailure'), ...(deps ?? (() => ({ ...evidenceDeps(), notifier: notifier() })))() }, state);
}

export const handler = createRecordReleaseFailureHandler();
