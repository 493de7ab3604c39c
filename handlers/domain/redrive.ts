import { newCaseId } from './case-id';
import { isTransientErrorName } from './errors';
import { type DecisionConfig, decide } from './finding-decision';
import { type NormalizedFinding, normalize } from './finding-normalizer';

/**
 * What to do about an acquisition execution that stopped unsuccessfully. Pure.
 *
 * Why redrive, and which failures. Step Functions' RedriveExecution (Standard workflows, within 14 days of the
 * stop, while the history has fewer than 24,999 events) continues an execution from the state that was entered and
 * never exited, with that state's original input, under the same execution ARN, start time and case. A failure the
 * state machine caught ends in a Fail state ("Acquisition failed", "Input rejected"): redriving it would only run
 * that Fail state again, so such failures are never redriven — their Catch path already recorded them (case FAILED,
 * what was secured, the lock released when nothing was changed), and the case stays as recorded.
 *
 * Only the step that changes nothing (triage, which opens the case and describes the instance) lets transient errors
 * through its Catch once its long retry window is spent (workflows/acquisition-state-machine.ts): the execution then
 * fails in that very Task, nothing has been recorded as failed, and a redrive runs the step again where it stopped.
 * Triage is idempotent for its own execution (same execution ARN and start time, so the same case id), and its
 * describe only reads. Its input is the execution input: a case it opened before it stopped is found again by id
 * (`caseIdsTriageMayOpen`) so that a failure past the bound is still recorded and the lock released.
 *
 * - FAILED in a Task on a transient error, fewer than `maxRedrives` redrives so far, and Step Functions says the
 *   execution is REDRIVABLE → redrive.
 * - FAILED in a Task otherwise (an error no Catch names, or transient past the bound), FAILED in a non-Fail state, or
 *   TIMED_OUT (never redriven: a redrive would reset the execution's time limit) → nothing recorded this failure:
 *   record it with the Record failure function, from the stopped state's input — when that input carries a case.
 * - FAILED in a Fail state, ABORTED (a person stopped it), or still running (already redriven) → nothing to do.
 */
export const MAX_AUTOMATIC_REDRIVES = 3;

/** The state an execution stopped in: the last state entered, from the execution history. */
export interface StoppedState {
  name: string;
  /** History event type of its entry, e.g. `TaskStateEntered`, `FailStateEntered`. */
  enteredEvent: string;
  /** The state's input (JSON-parsed), when the history kept it whole. */
  input?: unknown;
}

/** DescribeExecution's answer, plus where the execution stopped. */
export interface StoppedExecution {
  executionArn: string;
  stateMachineArn: string;
  status: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveStatus?: string;
  redriveStatusReason?: string;
  /** `$$.Execution.StartTime` (ISO 8601): with the instance, it names the case triage opens (case-id.ts). */
  startDate?: string;
  stoppedIn?: StoppedState;
}

export interface StepFailureRecord {
  Error: string;
  Cause: string;
}

export type RedriveDecision =
  | { action: 'redrive'; reason: string; redriveNumber: number; caseId?: string }
  | { action: 'record'; reason: string; state: Record<string, unknown> & { failure: StepFailureRecord }; caseId: string }
  | { action: 'none'; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The case id carried by a state's input (`$.case.caseId` after triage). */
export function caseIdOf(input: unknown): string | undefined {
  const ref = isObject(input) ? input.case : undefined;
  const id = isObject(ref) ? ref.caseId : undefined;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

export function decideRedrive(execution: StoppedExecution, maxRedrives: number = MAX_AUTOMATIC_REDRIVES): RedriveDecision {
  const { status, stoppedIn } = execution;
  if (status !== 'FAILED' && status !== 'TIMED_OUT') {
    return { action: 'none', reason: `execution is ${status}` };
  }
  if (!stoppedIn) return { action: 'none', reason: 'the state it stopped in is not in its history' };
  if (status === 'FAILED' && stoppedIn.enteredEvent === 'FailStateEntered') {
    return { action: 'none', reason: `ended in the Fail state "${stoppedIn.name}": the failure path recorded it` };
  }
  const caseId = caseIdOf(stoppedIn.input);
  const inTask = stoppedIn.enteredEvent === 'TaskStateEntered';
  if (status === 'FAILED' && inTask && isTransientErrorName(execution.error)) {
    if (execution.redriveCount < maxRedrives && execution.redriveStatus === 'REDRIVABLE') {
      return {
        action: 'redrive',
        reason: `${execution.error} in "${stoppedIn.name}" after its retries; redrive ${execution.redriveCount + 1} of ${maxRedrives}`,
        redriveNumber: execution.redriveCount + 1,
        ...(caseId ? { caseId } : {}),
      };
    }
  }
  const why =
    status === 'TIMED_OUT'
      ? `timed out in "${stoppedIn.name}"`
      : isTransientErrorName(execution.error)
        ? execution.redriveCount >= maxRedrives
          ? `${execution.error} in "${stoppedIn.name}" after ${execution.redriveCount} redrives`
          : `${execution.error} in "${stoppedIn.name}", not redrivable (${execution.redriveStatusReason ?? execution.redriveStatus ?? 'unknown'})`
        : `${execution.error ?? 'unknown error'} in "${stoppedIn.name}", not a transient error`;
  if (!caseId || !isObject(stoppedIn.input)) {
    return { action: 'none', reason: `${why}; no case was opened, nothing to record` };
  }
  const input = stoppedIn.input;
  const failure: StepFailureRecord = isObject(input.failure) && typeof input.failure.Error === 'string'
    ? { Error: input.failure.Error, Cause: String(input.failure.Cause ?? '') }
    : {
        Error: status === 'TIMED_OUT' ? 'States.Timeout' : (execution.error ?? 'States.Runtime'),
        Cause: status === 'TIMED_OUT' ? `the execution timed out in "${stoppedIn.name}"` : (execution.cause ?? ''),
      };
  return { action: 'record', reason: `${why}; recording the failure`, state: { ...input, failure }, caseId };
}

/** Any finding's target: only to name the cases an execution may have opened, never to decide an acquisition. */
const ANY_TARGET: DecisionConfig = { minSeverity: 0, acquireContainerHosts: true };

/**
 * The ids of the cases triage may have opened for this execution input and start time, one per instance the input
 * names (input order). Triage opens the case and describes the instance in one step: when it stopped there past its
 * retries after it had opened the case, the state's input is still the execution input, without the case; the case
 * id is found again from the instance and the start time. Input triage would reject names none.
 */
export function caseIdsTriageMayOpen(input: unknown, startDate: string | undefined): string[] {
  const at = startDate ? new Date(startDate) : undefined;
  if (!at || Number.isNaN(at.getTime())) return [];
  let items: NormalizedFinding[];
  try {
    items = normalize(input);
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const item of items) {
    try {
      const decision = decide(item, ANY_TARGET);
      if (decision.decision === 'acquire') ids.add(newCaseId(decision.target, at));
    } catch {
      // A finding triage would reject opens no case.
    }
  }
  return [...ids];
}

/** Idempotency token of the n-th redrive: a duplicate event for the same stop redrives once. */
export function redriveToken(redriveNumber: number): string {
  return `forensics-redrive-${redriveNumber}`;
}
