import {
  STEP,
  inferFailedStep,
  instanceUntouched,
  parseFailureCause,
  pendingCustodyActions,
  securedSummary,
} from '../domain/case-evidence';
import { type CaseSummary, caseSummary } from '../domain/case-summary';
import { errorMessage, errorName, errorSummary } from '../domain/errors';
import { failureNotification } from '../domain/notification-message';
import type { CaseRecord, Clock, CustodyLog, EvidenceCaseTable, EvidenceStore, Log, Notifier } from '../domain/ports';
import type { AcquisitionState, CustodyAction } from '../domain/types';
import { caseEvidenceObjects, writeEvidenceOnce } from './case-evidence-objects';
import { DEFERRED_CUSTODY_MARK } from './record-containment';

export interface RecordFailureDeps {
  cases: EvidenceCaseTable;
  store: EvidenceStore;
  custody: CustodyLog;
  notifier: Notifier;
  clock: Clock;
  /** Problems of the recording itself, logged at ERROR (the entry's logger adds the case id). */
  log: Log;
}

/**
 * "Record failure", the Catch of every step after triage: records what failed and what was already secured, then
 * tells responders.
 *
 * Every part is attempted even if an earlier one fails (a broken custody write must not keep the case from being
 * marked FAILED, nor the responders from being told):
 * 1. the deferred custody records, when "Isolate network" had not written them, and instance.json / the raw finding;
 * 2. a `failure` custody record listing what was already secured;
 * 3. case status FAILED with the failure;
 * 4. the target lock released when nothing was changed on the instance (so a later finding can retry);
 * 5. the failure notification — best effort: a publish error is recorded in the case and the custody log.
 * If any of 1–4 failed, the first such error is thrown after the notification, so the state machine's retry or
 * "Failure not recorded" state shows it.
 */
export async function recordFailure(
  deps: RecordFailureDeps,
  state: AcquisitionState,
  rawEvent: unknown = state.rawEvent,
): Promise<CaseSummary> {
  const caseId = state.case.caseId;
  const failure = parseFailureCause(state.failure);
  const failedStep = inferFailedStep(state);
  const untouched = instanceUntouched(state, failure);
  const secured = securedSummary(state);
  const problems: { part: string; error: unknown }[] = [];
  const attempt = async <T>(part: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      problems.push({ part, error });
      deps.log({ level: 'error', message: 'failure recording step failed', part, error: errorName(error), detail: errorMessage(error) });
      return undefined;
    }
  };

  const current: CaseRecord | undefined = await attempt('read case', () => deps.cases.getCase(caseId));

  // 1. What "Isolate network" would have written had it returned (it did not, or `containment` would be set).
  if (!state.containment && current && !current.details[DEFERRED_CUSTODY_MARK]) {
    await attempt('deferred custody records', async () => {
      await deps.custody.append(state.case, pendingCustodyActions(state));
      await deps.cases.updateCase(caseId, { details: { [DEFERRED_CUSTODY_MARK]: deps.clock().toISOString() } });
    });
  }
  if (current) {
    await attempt('case evidence objects', () => writeEvidenceOnce(deps, current, caseEvidenceObjects(state, rawEvent)));
  }

  // 2–4. The failure itself.
  const at = deps.clock().toISOString();
  let lockReleased = false;
  if (untouched) {
    lockReleased = (await attempt('release lock', () => deps.cases.releaseLock(state.case.target, caseId))) ?? false;
  }
  const failureAction: CustodyAction = {
    step: STEP.recordFailure,
    action: 'failure',
    status: 'failed',
    performedAt: at,
    request: {
      failedStep,
      error: failure.error,
      message: failure.message,
      ...(failure.errorType ? { errorType: failure.errorType } : {}),
    },
    result: { caseStatus: 'FAILED', secured, instanceChanged: !untouched, lockReleased },
  };
  await attempt('failure custody record', () => deps.custody.append(state.case, [failureAction]));
  await attempt('case status', () =>
    deps.cases.updateCase(caseId, {
      status: 'FAILED',
      failure: { step: failedStep, error: failure.error, cause: failure.message, at },
      details: { secured, lockReleased, failedAt: at },
    }),
  );

  // 5. Tell responders, whatever happened above; include the recording problems, they matter to them too.
  const note = failureNotification({
    state,
    failedStep,
    failure,
    secured,
    lockReleased,
    bucket: deps.store.bucket,
  });
  const message =
    problems.length === 0
      ? note.message
      : `${note.message}\n\nRecording this failure was incomplete:\n${problems
          .map((p) => `- ${p.part}: ${errorSummary(p.error)}`)
          .join('\n')}`;
  try {
    const out = await deps.notifier.publish(note.subject, message, note.attributes);
    await attempt('notification record', () =>
      deps.cases.updateCase(caseId, {
        details: { notification: { notified: true, ...(out.messageId ? { messageId: out.messageId } : {}) } },
      }),
    );
  } catch (err) {
    // Best effort: an unreachable topic must not hide the failure record; it is recorded instead.
    deps.log({ level: 'error', message: 'failure notification not sent', error: errorName(err), detail: errorMessage(err) });
    const notification = { notified: false, error: errorName(err), message: errorMessage(err) };
    await attempt('notification failure custody record', () =>
      deps.custody.append(state.case, [
        {
          step: STEP.notify,
          action: 'notify-responders',
          status: 'failed',
          performedAt: deps.clock().toISOString(),
          request: { channel: 'sns', subject: note.subject },
          result: notification,
        },
      ]),
    );
    await attempt('notification failure case record', () => deps.cases.updateCase(caseId, { details: { notification } }));
  }

  const first = problems[0];
  if (first) throw first.error;
  return caseSummary(state, 'FAILED');
}
