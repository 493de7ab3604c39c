import { parseFailureCause } from '../domain/case-evidence';
import { drillOf } from '../domain/drill';
import { errorMessage, errorName } from '../domain/errors';
import { CaseNotFound } from '../domain/evidence-errors';
import type { CaseStatus, StepFailure, Target } from '../domain/types';
import type { CaseTable, Clock, CustodyLog, Log, Notifier } from '../domain/ports';
import { parseReleaseRequest, type ReleaseRequestInput } from '../domain/release-request';
import { CaseAlreadyReleased, CaseStillAcquiring } from '../domain/release-errors';
import type { ReleaseResult } from './release-containment';

/**
 * The release state machine's own steps around the release use case (`releaseContainment`):
 * validating the request, notifying responders, recording a failure. The execution state they share:
 *
 *   { request: {caseId, reason, requestedBy}, executionArn, startedAt, case: {caseId, status, target},
 *     release?: ReleaseResult, notification?, failure?: {Error, Cause}, failureRecord? }
 */
export interface ReleaseState {
  request: ReleaseRequestInput;
  executionArn: string;
  startedAt?: string;
  /** `drill`: a drill case (`forensics drill`), so its notification says so. */
  case: { caseId: string; status: CaseStatus; target: Target; drill?: boolean };
  release?: ReleaseResult;
  notification?: { notified: boolean; messageId?: string };
  failure?: StepFailure;
}

/** Custody step name of everything release records (the release use case uses the same). */
const STEP = 'release';

/**
 * "Validate release request": the input, then the case. Refuses (named errors, nothing changed) an invalid request
 * (`InvalidInput`), an unknown case, a case still ACQUIRING and a released one. Returns the whole state.
 */
export async function validateRelease(
  deps: { cases: Pick<CaseTable, 'getCase'> },
  input: { request: unknown; executionArn: string; startedAt?: string },
): Promise<ReleaseState> {
  const request = parseReleaseRequest(input.request);
  const record = await deps.cases.getCase(request.caseId);
  if (!record) throw new CaseNotFound(request.caseId);
  if (record.status === 'ACQUIRING') throw new CaseStillAcquiring(request.caseId);
  if (record.status === 'RELEASED') {
    const release = record.details.release as { releasedAt?: string } | undefined;
    throw new CaseAlreadyReleased(request.caseId, release?.releasedAt);
  }
  return {
    request,
    executionArn: input.executionArn,
    ...(input.startedAt ? { startedAt: input.startedAt } : {}),
    case: { caseId: record.caseId, status: record.status, target: record.target, ...(drillOf(record.details?.options as never) ? { drill: true } : {}) },
  };
}

/** The responders' release notification, plain text like the acquisition's. Pure. */
export function releaseNotification(state: ReleaseState): { subject: string; message: string; attributes: Record<string, string> } {
  const c = state.case;
  const r = state.release;
  const lines = (r?.actions ?? [])
    .filter((a) => a.action !== 'release-case')
    .map((a) => `- ${a.action}: ${a.status} ${JSON.stringify(a.request)}`);
  const message = [
    'The containment of an EC2 instance was released.',
    '',
    `Case:      ${c.caseId}`,
    `Instance:  ${c.target.instanceId} (account ${c.target.accountId}, ${c.target.region})`,
    `Requested: by ${state.request.requestedBy} — ${state.request.reason}`,
    `Execution: ${state.executionArn}`,
    `Released:  ${r?.releasedAt ?? 'unknown'} (was ${c.status})`,
    '',
    'Actions taken:',
    ...(lines.length > 0 ? lines : ['- none recorded']),
    '',
    'The evidence (snapshots, objects, legal holds, manifest) is unchanged.',
  ].join('\n');
  return {
    subject: `[IR] ${c.drill ? '[DRILL] ' : ''}Released ${c.target.instanceId} - case ${c.caseId}`,
    message,
    attributes: { caseId: c.caseId, status: 'RELEASED', instanceId: c.target.instanceId },
  };
}

/** "Notify responders" after a release; a publish error is thrown for the state machine's Catch (best effort). */
export async function notifyRelease(deps: { notifier: Notifier }, state: ReleaseState): Promise<{ notified: boolean; messageId?: string }> {
  const n = releaseNotification(state);
  const out = await deps.notifier.publish(n.subject, n.message, n.attributes);
  return { notified: true, ...(out.messageId ? { messageId: out.messageId } : {}) };
}

export interface RecordReleaseFailureDeps {
  cases: Pick<CaseTable, 'getCase' | 'updateCase'>;
  custody: CustodyLog;
  notifier?: Notifier;
  clock: Clock;
  /** Where a notification that could not be sent is logged (ERROR; the entry's logger adds the case id). */
  log?: Log;
}

/**
 * "Record release failure": the failure goes to the case (`details.releaseFailure`, the status is kept: the case
 * is still contained, and a new release retries what did not succeed) and to the custody log; responders are told,
 * best effort. Throws when the case or the custody record cannot be written, so "Release failure not recorded" shows it.
 */
export async function recordReleaseFailure(
  deps: RecordReleaseFailureDeps,
  state: ReleaseState,
): Promise<{ recorded: true; caseId: string; status: CaseStatus; error: string; notified: boolean }> {
  const caseId = state.case?.caseId ?? state.request?.caseId;
  const record = await deps.cases.getCase(caseId);
  if (!record) throw new CaseNotFound(caseId);
  const failure = parseFailureCause(state.failure);
  const at = deps.clock().toISOString();
  const releaseFailure = {
    at,
    executionArn: state.executionArn,
    error: failure.error,
    message: failure.message,
    reason: state.request.reason,
    requestedBy: state.request.requestedBy,
  };
  await deps.custody.append({ caseId, executionArn: state.executionArn }, [
    {
      step: STEP,
      action: 'release-failed',
      status: 'failed',
      performedAt: at,
      request: { caseId, reason: state.request.reason, requestedBy: state.request.requestedBy },
      result: { error: failure.error, message: failure.message, status: record.status, evidence: 'unchanged' },
    },
  ]);
  await deps.cases.updateCase(caseId, { details: { releaseFailure } });
  let notified = false;
  if (deps.notifier) {
    try {
      await deps.notifier.publish(
        `[IR] FAILED release ${record.target.instanceId} - case ${caseId}`,
        [
          'The release of a contained EC2 instance FAILED; the case keeps its status and the instance stays contained',
          'where the release did not succeed. Start the release again once the cause is fixed.',
          '',
          `Case:      ${caseId}`,
          `Instance:  ${record.target.instanceId} (account ${record.target.accountId}, ${record.target.region})`,
          `Execution: ${state.executionArn}`,
          `Error:     ${failure.error}`,
          `Message:   ${failure.message}`,
        ].join('\n'),
        { caseId, status: 'RELEASE_FAILED', instanceId: record.target.instanceId },
      );
      notified = true;
    } catch (err) {
      deps.log?.({ level: 'error', message: 'release failure notification failed', error: errorName(err), detail: errorMessage(err) });
    }
  }
  return { recorded: true, caseId, status: record.status, error: failure.error, notified };
}
