import { describe, expect, it } from 'vitest';
import {
  STALLED_MAX_POLL_SECONDS,
  budgetInterval,
  isTimedOut,
  nextCheckSeconds,
  slowestProgress,
  stalledChecks,
  untilCap,
  withinPollBudget,
} from '../../../../handlers/domain/poll-schedule';
import { MAX_POLL_SECONDS, MIN_POLL_SECONDS } from '../../../../workflows/acquisition-steps';

describe('nextCheckSeconds', () => {
  it('stays within [MIN_POLL_SECONDS, MAX_POLL_SECONDS] whatever the input', () => {
    // Prepare
    const sizes = [0, 1, 8, 100, 1_000, 16_384, Number.NaN];
    const progresses = [undefined, 0, 0.01, 1, 50, 99.9, 100, 150, Number.NaN];
    const elapsed = [0, 1, 30, 600, 86_400];
    for (const totalGiB of sizes)
      for (const progressPercent of progresses)
        for (const elapsedSeconds of elapsed)
          for (const attempt of [1, 2, 10, 1_000]) {
            // Act
            const s = nextCheckSeconds({ attempt, elapsedSeconds, totalGiB, progressPercent });
            // Assess
            expect(s).toBeGreaterThanOrEqual(MIN_POLL_SECONDS);
            expect(s).toBeLessThanOrEqual(MAX_POLL_SECONDS);
            expect(Number.isInteger(s)).toBe(true);
          }
  });

  it('sizes the first interval from the total size, monotonically, up to the cap', () => {
    const first = (totalGiB: number) => nextCheckSeconds({ attempt: 1, elapsedSeconds: 0, totalGiB });
    const values = [1, 8, 32, 64, 128, 512, 4_096].map(first);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number);
    expect(first(1)).toBeLessThan(first(128));
    expect(first(16_384)).toBe(MAX_POLL_SECONDS);
  });

  it('grows with attempts while no progress is reported, never beyond the cap', () => {
    const at = (attempt: number) => nextCheckSeconds({ attempt, elapsedSeconds: 60, totalGiB: 8, progressPercent: 0 });
    const values = [1, 2, 3, 4, 5, 10, 50].map(at);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number);
    expect(at(50)).toBe(MAX_POLL_SECONDS);
  });

  it('estimates the remaining time from the observed rate once progress shows', () => {
    // 25% after 40 s → 120 s to go.
    expect(nextCheckSeconds({ attempt: 2, elapsedSeconds: 40, totalGiB: 500, progressPercent: 25 })).toBe(120);
    // 80% after 40 s → 10 s to go, raised to the minimum.
    expect(nextCheckSeconds({ attempt: 2, elapsedSeconds: 40, totalGiB: 500, progressPercent: 80 })).toBe(MIN_POLL_SECONDS);
  });

  it('shortens monotonically as progress rises at a fixed elapsed time', () => {
    const values = [1, 5, 10, 25, 50, 75, 99, 100].map((p) =>
      nextCheckSeconds({ attempt: 3, elapsedSeconds: 120, totalGiB: 64, progressPercent: p }),
    );
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1] as number);
  });
});

describe('isTimedOut and untilCap', () => {
  it('times out exactly at the cap', () => {
    expect(isTimedOut(59 * 60 + 59, 60)).toBe(false);
    expect(isTimedOut(60 * 60, 60)).toBe(true);
  });

  it('never schedules past the cap, nor below the minimum', () => {
    expect(untilCap(300, 60 * 60 - 100, 60)).toBe(100);
    expect(untilCap(300, 60 * 60 - 5, 60)).toBe(MIN_POLL_SECONDS);
    expect(untilCap(40, 0, 60)).toBe(40);
  });

  it('reads the slowest of EC2 progress strings', () => {
    expect(slowestProgress(['100%', '35%', undefined, '70%'])).toBe(35);
    expect(slowestProgress([undefined, ''])).toBeUndefined();
  });
});

describe('back-off while progress stands still', () => {
  it('a snapshot reading 100% while pending: 15 s, then doubling per unchanged check, up to 15 minutes', () => {
    // Prepare: the same 100% at every check, as EC2 reports a snapshot that is finishing (or stuck) at 100%.
    let previous: { slowestProgress?: number; stalledChecks?: number } | undefined;
    const intervals: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      // Act
      const stalled = stalledChecks(previous, 100);
      intervals.push(nextCheckSeconds({ attempt, elapsedSeconds: 600 + attempt * 60, totalGiB: 8, progressPercent: 100, stalledChecks: stalled }));
      previous = { slowestProgress: 100, stalledChecks: stalled };
    }
    // Assess
    expect(intervals).toEqual([15, 30, 60, 120, 240, 480, 900, 900, 900, 900]);
    expect(Math.max(...intervals)).toBe(STALLED_MAX_POLL_SECONDS);
  });

  it('counts unchanged checks, and starts again when progress moves or is unknown', () => {
    expect(stalledChecks(undefined, 42)).toBe(0);
    expect(stalledChecks({ slowestProgress: 42 }, 42)).toBe(1);
    expect(stalledChecks({ slowestProgress: 42, stalledChecks: 3 }, 42)).toBe(4);
    expect(stalledChecks({ slowestProgress: 42, stalledChecks: 3 }, 43)).toBe(0);
    expect(stalledChecks({ slowestProgress: 42, stalledChecks: 3 }, undefined)).toBe(0);
  });

  it('a stall never shortens the regular schedule', () => {
    const regular = nextCheckSeconds({ attempt: 3, elapsedSeconds: 600, totalGiB: 64, progressPercent: 10 });
    expect(nextCheckSeconds({ attempt: 3, elapsedSeconds: 600, totalGiB: 64, progressPercent: 10, stalledChecks: 1 })).toBeGreaterThanOrEqual(regular);
  });
});

describe('withinPollBudget', () => {
  it('leaves early intervals alone', () => {
    expect(withinPollBudget(15, 1, 0, { maxPolls: 356, maxWaitMinutes: 1440 })).toBe(15);
  });

  it('checks as often as the schedule allows still reach the time cap within the poll bound, for any cap the schema allows', () => {
    for (const maxWaitMinutes of [1, 60, 1440, 7 * 24 * 60]) {
      for (const maxPolls of [2, 10, 356]) {
        // Prepare: the most frequent schedule (every check at the minimum interval the schedule may ask for).
        const budget = { maxPolls, maxWaitMinutes };
        let elapsed = 0;
        let attempt = 1;
        // Act: check until the cap, as the handler does (untilCap after the budget).
        while (!isTimedOut(elapsed, maxWaitMinutes) && attempt < maxPolls) {
          const next = untilCap(withinPollBudget(MIN_POLL_SECONDS, attempt, elapsed, budget), elapsed, maxWaitMinutes);
          expect(next).toBeLessThanOrEqual(Math.max(budgetInterval(budget), MIN_POLL_SECONDS));
          elapsed += next;
          attempt++;
        }
        // Assess: the last check the Choice rule allows is at or past the cap, so the handler settles the rest.
        expect(isTimedOut(elapsed, maxWaitMinutes), `${maxWaitMinutes} min, ${maxPolls} polls: ${attempt} checks, ${elapsed} s`).toBe(true);
      }
    }
  });
});
