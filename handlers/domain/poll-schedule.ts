
/**
 * When to look again at snapshots (or copies) in progress. Pure.
 *
 * Before any progress is visible, the interval comes from the total size (a large first snapshot takes long; a small
 * one often completes within a minute) and grows with each fruitless attempt. Once progress is visible, the
 * remaining time is estimated from the observed rate, and the next check aims at the estimated completion.
 * Once progress stands still (the same slowest percentage on consecutive checks, such as a snapshot reading 100% while
 * still `pending`), the interval doubles with every such check, up to STALLED_MAX_POLL_SECONDS: waiting on a stuck
 * snapshot must not spend the execution's history. Otherwise within [MIN_POLL_SECONDS, MAX_POLL_SECONDS]: the upper
 * bound keeps an `error` state from going unnoticed for long. The number of checks is bounded by the state machine's
 * Choice rule, derived from its history budget (workflows/history-budget.ts); `withinPollBudget` spreads the checks
 * still allowed so that they reach the time cap.
 */
export interface PollInput {
  /** Checks done so far, this one included (1 on the first check). */
  attempt: number;
  /** Seconds since the work started (snapshot or copy requested). */
  elapsedSeconds: number;
  /** Total size of what is still in progress, in GiB. */
  totalGiB: number;
  /** Progress of the slowest item still in progress, 0–100; undefined when unknown. */
  progressPercent?: number;
  /** Checks in a row (this one included) at which that progress had not moved; 0 or undefined when it moved. */
  stalledChecks?: number;
}

/**
 * Wait loops poll no faster than MIN_POLL_SECONDS and, while progress moves, no slower than MAX_POLL_SECONDS. The
 * number of checks is bounded by the execution's history budget (workflows/history-budget.ts), not by these.
 */
export const MIN_POLL_SECONDS = 15;
export const MAX_POLL_SECONDS = 300;

/** Longest interval while progress stands still: a stuck snapshot is still looked at every quarter of an hour. */
export const STALLED_MAX_POLL_SECONDS = 900;

/** Rough EBS snapshot pace before any progress is reported: seconds per GiB, plus a fixed start-up cost. */
const SECONDS_PER_GIB = 1.5;
const STARTUP_SECONDS = 30;
/** Growth of the interval per attempt while nothing is reported. */
const GROWTH = 1.5;

export function nextCheckSeconds(input: PollInput): number {
  const { attempt, elapsedSeconds, totalGiB, progressPercent } = input;
  const stalled = Math.max(0, Math.floor(input.stalledChecks ?? 0));
  let seconds: number;
  const progress = progressPercent !== undefined && Number.isFinite(progressPercent) ? progressPercent : 0;
  if (progress >= 100) {
    seconds = MIN_POLL_SECONDS;
  } else if (progress > 0 && elapsedSeconds > 0) {
    // Remaining time at the observed rate: elapsed * (100 - p) / p.
    seconds = (elapsedSeconds * (100 - progress)) / progress;
  } else {
    const size = Math.max(0, Number.isFinite(totalGiB) ? totalGiB : 0);
    seconds = (STARTUP_SECONDS + size * SECONDS_PER_GIB) * GROWTH ** Math.max(0, attempt - 1);
  }
  if (!Number.isFinite(seconds)) seconds = MAX_POLL_SECONDS;
  if (stalled > 0) {
    // Standing still: back off from the minimum, doubling per stalled check (an estimate from a stopped rate means
    // nothing), never shorter than the regular schedule.
    const backoff = MIN_POLL_SECONDS * 2 ** Math.min(stalled, 20);
    return Math.round(Math.min(STALLED_MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, seconds, backoff)));
  }
  return Math.round(Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, seconds)));
}

/**
 * Checks in a row at which the slowest progress stood still, this one included: the previous count plus one when
 * the percentage is the same as at the previous check, 0 when it moved or is not known.
 */
export function stalledChecks(previous: { slowestProgress?: number; stalledChecks?: number } | undefined, progress: number | undefined): number {
  if (progress === undefined || previous?.slowestProgress === undefined) return 0;
  return progress === previous.slowestProgress ? (previous.stalledChecks ?? 0) + 1 : 0;
}

/** The number of checks the state machine allows per wait loop (its Choice rule), and the loop's time cap. */
export interface PollBudget {
  maxPolls: number;
  maxWaitMinutes: number;
}

/**
 * The longest interval the poll budget may need: long enough that `maxPolls` checks span twice the time cap, and
 * never shorter than MAX_POLL_SECONDS.
 */
export function budgetInterval(budget: PollBudget): number {
  return Math.max(MAX_POLL_SECONDS, Math.ceil((2 * budget.maxWaitMinutes * 60) / Math.max(1, budget.maxPolls - 1)));
}

/**
 * Lengthens an interval so that the checks the Choice rule still allows after this one can reach the time cap, each
 * at most `budgetInterval` apart: then the time cap, not the poll count, ends the wait, and every pending item is
 * settled as a timeout by the handler rather than left pending by the Choice rule. Early checks stay as frequent as
 * the schedule wants; only a long run of frequent checks makes later ones longer.
 *
 * `attempt` is this check's number (1 for the first); `elapsedSeconds` counts from the first check, like the cap.
 */
export function withinPollBudget(seconds: number, attempt: number, elapsedSeconds: number, budget: PollBudget): number {
  const checksLeft = budget.maxPolls - attempt;
  if (checksLeft <= 0) return seconds;
  const remaining = budget.maxWaitMinutes * 60 - Math.max(0, elapsedSeconds);
  const floor = remaining - (checksLeft - 1) * budgetInterval(budget);
  return Math.max(seconds, Math.ceil(floor));
}

/** True when this check is the last the state machine's Choice rule allows. */
export function isPollBudgetSpent(attempt: number, maxPolls: number | undefined): boolean {
  return maxPolls !== undefined && attempt >= maxPolls;
}

/** True once the wait has reached its cap. */
export function isTimedOut(elapsedSeconds: number, maxWaitMinutes: number): boolean {
  return elapsedSeconds >= maxWaitMinutes * 60;
}

/**
 * Shortens an interval so the next check is not scheduled past the time cap (the last check lands on it), never
 * below the minimum interval.
 */
export function untilCap(seconds: number, elapsedSeconds: number, maxWaitMinutes: number): number {
  const remaining = maxWaitMinutes * 60 - Math.max(0, elapsedSeconds);
  return Math.max(MIN_POLL_SECONDS, Math.min(seconds, Math.ceil(remaining)));
}

/** Progress of the slowest of EC2's "NN%" strings (completion is gated by it); undefined when none is known. */
export function slowestProgress(progress: (string | undefined)[]): number | undefined {
  const values = progress
    .map((p) => (p === undefined ? Number.NaN : Number.parseFloat(p)))
    .filter((v) => Number.isFinite(v));
  if (values.length === 0) return undefined;
  return Math.min(...values);
}
