import { MAX_POLL_SECONDS, MIN_POLL_SECONDS } from '../../workflows/acquisition-steps';

/**
 * When to look again at snapshots (or copies) in progress. Pure.
 *
 * Before any progress is visible, the interval comes from the total size (a large first snapshot takes long; a small
 * one often completes within a minute) and grows with each fruitless attempt. Once progress is visible, the
 * remaining time is estimated from the observed rate, and the next check aims at the estimated completion.
 * Always within [MIN_POLL_SECONDS, MAX_POLL_SECONDS]: the lower bound keeps the poll count within what the state
 * machine's Choice rule allows; the upper bound keeps an `error` state from going unnoticed for long.
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
}

/** Rough EBS snapshot pace before any progress is reported: seconds per GiB, plus a fixed start-up cost. */
const SECONDS_PER_GIB = 1.5;
const STARTUP_SECONDS = 30;
/** Growth of the interval per attempt while nothing is reported. */
const GROWTH = 1.5;

export function nextCheckSeconds(input: PollInput): number {
  const { attempt, elapsedSeconds, totalGiB, progressPercent } = input;
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
  return Math.round(Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, seconds)));
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
