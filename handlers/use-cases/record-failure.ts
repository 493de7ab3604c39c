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
import { memoryOfState } from '../domain/manifest';
import { type CloseDeps, closeChannelAndDeny } from './memory-channel';
import { memoryAfterStepFailure } from './start-memory-capture';

export interface RecordFailureDeps {
  cases: EvidenceCaseTable;
  store: EvidenceStore;
  custody: CustodyLog;
  notifier: Notifier;
  clock: Clock;
  /** Problems of the recording itself, logged at ERROR (the entry's logger adds the case id). */
  log: Log;
  /**
   * The instance-side calls that end a memory capture the failure interrupted (ENIs back to the isolation group,
   * the full deny); built on first use. Absent: nothing is closed here (recorded as still open).
   */
  memory?: () => CloseDeps;
}

/**
 * "Record failure", the Catch of every step after triage: records what failed and what was already secured, then
 * tells responders.
 *
 * Every part is attempted even if an earlier one fails (a broken custody write must not keep the case from being
 * marked FAILED, nor the responders from being told):
 * 1. the deferred custody records, when "Record containment" had not written them, and instance.json / the raw finding;
 * 2. a `failure` custody record listing what was already secured;
 * 3. case status FAILED with the failure;
 * 4. the target lock released when nothing was changed on the instance (so a later finding can retry);
 * 5. the failure notification — best effort: a publish error is recorded in the case and the custody log.
 * Before all that, a memory capture the failure interrupted is ended: ENIs back to the isolation group, full deny.
 * If any of 1–4 failed, the first such error is thrown after the notification, so the state machine's retry or
 * "Failure not recorded" state shows it.
 */
export async function recordFailure(
  deps: RecordFailureDeps,
  input: AcquisitionState,
  rawEvent: unknown = input.rawEvent,
): Promise<CaseSummary> {
  let state = input;
  const caseId = state.case.caseId;
  const failure = parseFailureCause(state.failure);
  const failedStep = inferFailedStep(state);
  const untouched = instanceUntouched(state, failure);
  const problems: { part: string; error: unknown }[] = [];
  // A memory capture the failure interrupted: its channel closed and its deny made total before anything is recorded.
  const closing = await closeInterruptedCapture(deps, state).catch((error: unknown) => {
    problems.push({ part: 'memory capture closing', error });
    return { state, actions: [] as CustodyAction[] };
  });
  state = closing.state;
  const secured = securedSummary(state);
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

  // 1. What "Record containment" would have written had it run (whatever part of the path to containment happened,
  // the containment included when "Isolate network" returned but the recording did not finish).
  if (current && !current.details[DEFERRED_CUSTODY_MARK]) {
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
  // The memory capture's records not appended yet (its start's, left for the first poll) come before the closing.
  const unrecordedMemory = memoryOfState(state)?.unrecorded ?? [];
  await attempt('failure custody record', () => deps.custody.append(state.case, [...unrecordedMemory, ...closing.actions, failureAction]));
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

/** Closes the acquisition channel and restores the full deny of a capture still open when the workflow failed. */
async function closeInterruptedCapture(
  deps: RecordFailureDeps,
  state: AcquisitionState,
): Promise<{ state: AcquisitionState; actions: CustodyAction[] }> {
  const memory = memoryOfState(state) ?? memoryAfterStepFailure(state, deps.clock().toISOString());
  if (!memory || !deps.memory) return { state, actions: [] };
  const channelOpen = Boolean(memory.channel?.openedAt && !memory.channel.closedAt);
  const denyOpen = !memory.fullDeny || memory.fullDeny.status === 'failed';
  if (!channelOpen && !denyOpen) return { state, actions: [] };
  const closed = await closeChannelAndDeny(deps.memory(), memory, state.containment?.credentials);
  const ended = {
    ...closed.state,
    ...(closed.state.status === 'capturing' || closed.state.status === 'planned'
      ? { status: 'failed' as const, reason: 'the acquisition failed during the capture' }
      : {}),
    endedAt: closed.state.endedAt ?? deps.clock().toISOString(),
  };
  const next: AcquisitionState = state.snapshotProgress?.memory
    ? { ...state, snapshotProgress: { ...state.snapshotProgress, memory: ended } }
    : { ...state, memory: ended };
  return { state: next, actions: closed.actions };
}
