import { STEP, parseFailureCause } from '../domain/case-evidence';
import { type CaseSummary, caseSummary } from '../domain/case-summary';
import type { CaseTable, Clock, CustodyLog } from '../domain/ports';
import type { AcquisitionState, CustodyAction, StepFailure } from '../domain/types';
import { requireCase } from './case-evidence-objects';

export interface CloseCaseDeps {
  cases: CaseTable;
  custody: CustodyLog;
  clock: Clock;
}

/** The state as "Close case" receives it: after "Notify responders", or from its Catch. */
export type CloseCaseInput = AcquisitionState & { notificationFailure?: StepFailure };

/**
 * "Close case": the case becomes CONTAINED. The target lock stays — the instance remains isolated until a
 * responder releases it, and a later finding for it is a DUPLICATE of this case. Records a notification failure
 * when the notify step's Catch left one. Idempotent: a case already closed is only summarized.
 */
export async function closeCase(deps: CloseCaseDeps, state: CloseCaseInput): Promise<CaseSummary> {
  const caseId = state.case.caseId;
  const current = await requireCase(deps.cases, caseId);
  if (current.status === 'CONTAINED' && current.details.closedAt) return caseSummary(state, 'SUCCEEDED');

  const now = deps.clock().toISOString();
  const actions: CustodyAction[] = [];
  let notification: Record<string, unknown> = state.notification ? { ...state.notification } : { notified: false };
  if (state.notificationFailure) {
    const failure = parseFailureCause(state.notificationFailure);
    notification = { notified: false, error: failure.error, message: failure.message };
    actions.push({
      step: STEP.notify,
      action: 'notify-responders',
      status: 'failed',
      performedAt: now,
      request: { channel: 'sns' },
      result: { error: failure.error, message: failure.message },
    });
  }
  // The workstation step's failure (caught into Notify): recorded in the case and the custody log, not fatal.
  const workstationFailure = state.workstationFailure ? parseFailureCause(state.workstationFailure) : undefined;
  if (workstationFailure) {
    actions.push({
      step: 'launch-workstation',
      action: 'launch-workstation',
      status: 'failed',
      performedAt: now,
      request: { requested: true },
      result: { error: workstationFailure.error, message: workstationFailure.message, evidence: 'sealed, unaffected' },
    });
  }
  actions.push({
    step: STEP.closeCase,
    action: 'close',
    status: 'succeeded',
    performedAt: now,
    request: { previousStatus: current.status },
    result: {
      status: 'CONTAINED',
      lock: 'kept until release',
      manifest: state.seal?.manifest ?? null,
      notification,
      workstation: state.workstation
        ? { instanceId: state.workstation.instanceId, record: state.workstation.record }
        : workstationFailure
          ? { failed: workstationFailure.error }
          : null,
    },
  });
  await deps.custody.append(state.case, actions);
  await deps.cases.updateCase(caseId, {
    status: 'CONTAINED',
    details: {
      closedAt: now,
      notification,
      ...(workstationFailure
        ? { workstationFailure: { error: workstationFailure.error, message: workstationFailure.message, at: now } }
        : {}),
    },
  });
  return caseSummary(state, 'SUCCEEDED');
}
