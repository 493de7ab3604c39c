import { errorMessage, errorName } from '../domain/errors';
import type { Clock } from '../domain/ports';
import { type RedriveDecision, type StoppedExecution, decideRedrive, redriveToken } from '../domain/redrive';

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
    describeStopped(executionArn: string): Promise<StoppedExecution>;
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
  log: (entry: Record<string, unknown>) => void;
}

export type RedriveOutcome = RedriveDecision & { executionArn: string };

export async function redriveFailedAcquisition(deps: RedriveDeps, executionArn: string): Promise<RedriveOutcome> {
  const execution = await deps.executions.describeStopped(executionArn);
  if (execution.stateMachineArn !== deps.stateMachineArn) {
    const outcome: RedriveOutcome = { action: 'none', reason: `not an execution of ${deps.stateMachineArn}`, executionArn };
    deps.log({ level: 'WARN', message: 'redrive: ignored', ...outcome });
    return outcome;
  }
  let decision = decideRedrive(execution, deps.maxRedrives);

  if (decision.action === 'redrive') {
    try {
      const at = (await deps.executions.redrive(executionArn, redriveToken(decision.redriveNumber))) ?? deps.clock();
      deps.log({ level: 'INFO', message: 'redrive: execution redriven', executionArn, reason: decision.reason, redriveNumber: decision.redriveNumber });
      const caseId = decision.caseId;
      if (caseId) {
        const note = {
          count: decision.redriveNumber,
          at: at.toISOString(),
          state: execution.stoppedIn?.name,
          error: execution.error,
        };
        await deps.noteRedrive(caseId, note).catch((err: unknown) =>
          deps.log({ level: 'WARN', message: 'redrive: note in the case failed', caseId, error: errorName(err), detail: errorMessage(err) }),
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
    deps.log({ level: 'INFO', message: 'redrive: failure recorded', executionArn, caseId: decision.caseId, reason: decision.reason });
    return { ...decision, executionArn };
  }
  deps.log({ level: 'INFO', message: 'redrive: nothing to do', executionArn, reason: decision.reason });
  return { ...decision, executionArn };
}
