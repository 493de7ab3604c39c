import { errorMessage, errorName } from '../domain/errors';
import type { CaseRecord, CaseTable, Clock, Log } from '../domain/ports';
import {
  type RedriveDecision,
  type StoppedExecution,
  type StoppedState,
  caseIdOf,
  caseIdsTriageMayOpen,
  decideRedrive,
  redriveToken,
} from '../domain/redrive';
import type { CaseRef } from '../domain/types';

/**
 * "Redrive failed acquisition": runs on every acquisition execution that stops FAILED or TIMED_OUT (EventBridge rule
 * on "Step Functions Execution Status Change"). Reads the execution back (it may have been redriven already, or the
 * event may be a duplicate), decides (handlers/domain/redrive.ts) and
 * - redrives it (RedriveExecution, with an idempotency token per redrive number) and notes the redrive in the case
 *   when one is open — nothing else changes: the case was never marked FAILED, since the execution stopped in a step
 *   before anything was changed;
 * - or records the failure the state machine did not record, by invoking the Record failure function with the
 *   stopped state's input and the error, exactly as the state machine's Catch would have (an execution that stopped
 *   in triage after it had opened the case: the case found again by id, see `caseIdsTriageMayOpen`);
 * - or does nothing, saying why.
 */
export interface RedriveDeps {
  executions: {
    describe(executionArn: string): Promise<StoppedExecution>;
    /** The last state the execution entered (the one it stopped in), from its history. */
    lastStateEntered(executionArn: string): Promise<StoppedState | undefined>;
    redrive(executionArn: string, clientToken: string): Promise<Date | undefined>;
  };
  /** Invokes the Record failure function with the state (its result is the case summary). */
  recordFailure(state: Record<string, unknown>): Promise<unknown>;
  /** Notes the redrive in the case item (best effort). */
  noteRedrive(caseId: string, note: Record<string, unknown>): Promise<void>;
  /** Reads a case, to find the one an execution that stopped in triage had opened. */
  cases: Pick<CaseTable, 'getCase'>;
  /** The acquisition state machine: executions of any other are left alone. */
  stateMachineArn: string;
  maxRedrives: number;
  clock: Clock;
  log: Log;
}

export type RedriveOutcome = RedriveDecision & { executionArn: string };

export async function redriveFailedAcquisition(deps: RedriveDeps, executionArn: string): Promise<RedriveOutcome> {
  const described = await deps.executions.describe(executionArn);
  if (described.stateMachineArn !== deps.stateMachineArn) {
    const outcome: RedriveOutcome = { action: 'none', reason: `not an execution of ${deps.stateMachineArn}`, executionArn };
    deps.log({ level: 'warn', message: 'redrive: ignored', ...outcome });
    return outcome;
  }
  // A running execution (already redriven, or a late event) has not stopped anywhere: nothing to read.
  const stoppedIn = described.status === 'RUNNING' ? undefined : await deps.executions.lastStateEntered(executionArn);
  const execution: StoppedExecution = { ...described, ...(stoppedIn ? { stoppedIn } : {}) };
  let decision = decideRedrive(execution, deps.maxRedrives);

  if (decision.action === 'redrive') {
    try {
      const at = (await deps.executions.redrive(executionArn, redriveToken(decision.redriveNumber))) ?? deps.clock();
      deps.log({ level: 'info', message: 'redrive: execution redriven', executionArn, reason: decision.reason, redriveNumber: decision.redriveNumber });
      const caseId = decision.caseId;
      if (caseId) {
        const note = {
          count: decision.redriveNumber,
          at: at.toISOString(),
          state: execution.stoppedIn?.name,
          error: execution.error,
        };
        await deps.noteRedrive(caseId, note).catch((err: unknown) =>
          deps.log({ level: 'warn', message: 'redrive: note in the case failed', caseId, error: errorName(err), detail: errorMessage(err) }),
        );
      }
      return { ...decision, executionArn };
    } catch (err) {
      // Refused for a reason the description did not show (history limit reached meanwhile, ...): record instead.
      if (errorName(err) !== 'ExecutionNotRedrivable') throw err;
      decision = decideRedrive({ ...execution, redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: errorMessage(err) }, deps.maxRedrives);
    }
  }

  // Stopped with no case in its input (in triage): the case it may have opened before stopping is recorded too.
  if (decision.action === 'none' && execution.stoppedIn && !caseIdOf(execution.stoppedIn.input)) {
    const opened = await caseOpenedBy(deps.cases, execution, execution.stoppedIn.input);
    if (opened) {
      const stoppedIn = { ...execution.stoppedIn, input: { outcome: 'ACQUIRE', case: opened, rawEvent: execution.stoppedIn.input } };
      decision = decideRedrive({ ...execution, stoppedIn }, deps.maxRedrives);
    }
  }

  if (decision.action === 'record') {
    await deps.recordFailure(decision.state);
    deps.log({ level: 'info', message: 'redrive: failure recorded', executionArn, caseId: decision.caseId, reason: decision.reason });
    return { ...decision, executionArn };
  }
  deps.log({ level: 'info', message: 'redrive: nothing to do', executionArn, reason: decision.reason });
  return { ...decision, executionArn };
}

/** The case this execution opened, when its input names the instance and the case carries this execution's ARN. */
async function caseOpenedBy(cases: Pick<CaseTable, 'getCase'>, execution: StoppedExecution, input: unknown): Promise<CaseRef | undefined> {
  for (const caseId of caseIdsTriageMayOpen(input, execution.startDate)) {
    const record = await cases.getCase(caseId);
    if (record?.executionArn === execution.executionArn) return caseRefOf(record);
  }
  return undefined;
}

/** The case as triage returned it, from its record (the first finding is the one that opened it). */
function caseRefOf(record: CaseRecord): CaseRef | undefined {
  const finding = record.findings[0];
  if (!finding) return undefined;
  const options = (record.details.options ?? {}) as CaseRef['options'];
  return {
    caseId: record.caseId,
    target: record.target,
    finding,
    source: record.source,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.requestedBy !== undefined ? { requestedBy: record.requestedBy } : {}),
    options,
    openedAt: record.openedAt,
    executionArn: record.executionArn,
  };
}
