import type { Log } from '../domain/ports';
import { errorMessage, errorName } from '../domain/errors';
import type { Clock } from '../domain/ports';
import { type RedriveDecision, type StoppedExecution, type StoppedState, decideRedrive, redriveToken } from '../domain/redrive';

/**
 * "Redrive failed acquisition": runs on every acquisition execution that stops FAILED or TIMED_OUT (EventBridge rule
 * on "Step Functions Execution Status Change"). Reads the execution back (it may have been redriven already, or the
 * event may be a duplicate), decides (handlers/domain/redrive.ts) and
 * - redrives it (RedriveExecution, with an idempotency token per redrive number) and notes the redrive in the case
 *   when one is open — nothing else changes: the case was never marked FAILED, since the execution stopped in a step
 *   before anything was changed;
 * - or records the failure the state machine did not record, by invoking the Record failure function with the
 *   stopped state's input and the error, exactly as the state machine's Catch would have;
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

  if (decision.action === 'record') {
    await deps.recordFailure(decision.state);
    deps.log({ level: 'info', message: 'redrive: failure recorded', executionArn, caseId: decision.caseId, reason: decision.reason });
    return { ...decision, executionArn };
  }
  deps.log({ level: 'info', message: 'redrive: nothing to do', executionArn, reason: decision.reason });
  return { ...decision, executionArn };
}
