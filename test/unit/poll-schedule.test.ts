import { describe, expect, it } from 'vitest';
import { isTimedOut, nextCheckSeconds, slowestProgress, untilCap } from '../../handlers/domain/poll-schedule';
import { MAX_POLL_SECONDS, MIN_POLL_SECONDS } from '../../workflows/acquisition-steps';

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
