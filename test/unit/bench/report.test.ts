import { describe, expect, it } from 'vitest';
import { type BundleMeasurement, PUBLISHED_SDK_REFERENCE, REFERENCE } from '../../../bench/bundles';
import { type BenchReport, markdown, mergeScenarios, targetsOf } from '../../../bench/report';
import type { ScenarioResult } from '../../../bench/scenarios';

const stats = { p50: 1, p95: 1, max: 1, min: 1, mean: 1 };
const scenario = (id: string, extra: Partial<ScenarioResult> = {}): ScenarioResult =>
  ({
    id,
    title: id,
    config: { volumes: 1, instances: 1, findingsPerInstance: 1, repetitions: 1, latencyMs: 50, throttleRate: 0, snapshotMinutes: 0 },
    wallMs: 1000,
    executions: 1,
    outcomes: { SUCCEEDED: 1 },
    failures: [],
    redrives: { executions: 0, total: 0 },
    acquired: {
      count: 1,
      containmentMs: stats,
      roundTripsToContainment: stats,
      transitionsToContainment: stats,
      awsCallsPerCase: stats,
      awsCallsPerVolume: 1,
      transitionsPerCase: stats,
      stateRetriesPerCase: stats,
      endToEndMs: stats,
      simulatedWaitSeconds: stats,
      waitsPerCase: stats,
    },
    duplicates: { count: 0, awsCallsPerExecution: stats, transitionsPerExecution: stats, endToEndMs: stats },
    throttledAttempts: 0,
    callsByCommand: {},
    cases: [],
    ...extra,
  }) as ScenarioResult;

const SETTINGS: BenchReport['settings'] = { latencyMs: 50, throttleRate: 0, seed: 7, retryIntervals: '50 ms' };
const ORDER = ['a', 'b', 'c'];

describe('a partial benchmark run merged into the last full report', () => {
  it('replaces the scenarios it ran, keeps the others with the date of the run that measured them, in scenario order', () => {
    // Prepare
    const previous = { settings: SETTINGS, generatedAt: '2026-11-28T10:52:01.769Z', scenarios: [scenario('a'), scenario('b'), scenario('c')] };
    const ran = [scenario('b', { measuredAt: '2026-11-30T01:00:00.000Z', commit: 'abc1234', wallMs: 5 })];

    // Act
    const merged = mergeScenarios(previous, { settings: SETTINGS }, ran, ORDER);

    // Assess
    expect(merged.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(merged[1]).toMatchObject({ wallMs: 5, commit: 'abc1234', measuredAt: '2026-11-30T01:00:00.000Z' });
    expect(merged[0]!.measuredAt).toBe('2026-11-28T10:52:01.769Z');
    expect(merged[2]!.measuredAt).toBe('2026-11-28T10:52:01.769Z');
  });

  it('keeps with each row the background load it was measured under, also from a partial run recorded before rows carried it', () => {
    // Prepare: the last report was a partial run of "b" under load (the load only in its settings); "c" ran under load and says so.
    const load = 'two busy loops';
    const previous = {
      settings: { ...SETTINGS, backgroundLoad: load },
      generatedAt: '2026-11-30T03:50:00.000Z',
      partial: { ran: ['b'], bundlesMeasured: false },
      scenarios: [scenario('a'), scenario('b'), scenario('c', { backgroundLoad: 'npm test' })],
    };

    // Act: an idle partial run of "a".
    const merged = mergeScenarios(previous, { settings: SETTINGS }, [scenario('a', { measuredAt: '2026-11-30T04:00:00.000Z' })], ORDER);

    // Assess
    expect(merged.map((s) => s.backgroundLoad)).toEqual([undefined, load, 'npm test']);
  });

  it('is refused when the injected latency, throttling or retry intervals differ (unlike measurements in one table)', () => {
    // Prepare
    const previous = { settings: SETTINGS, generatedAt: '2026-11-28T10:52:01.769Z', scenarios: [scenario('a')] };

    // Act / Assess
    expect(() => mergeScenarios(previous, { settings: { ...SETTINGS, latencyMs: 10 } }, [scenario('a')], ORDER)).toThrow(/latencyMs is 50, not 10/);
    expect(() => mergeScenarios(previous, { settings: { ...SETTINGS, retryIntervals: 'as defined' } }, [], ORDER)).toThrow(/retryIntervals/);
    // A report from before the setting existed retried after a fixed 50 ms.
    const { retryIntervals: _, ...older } = SETTINGS;
    expect(mergeScenarios({ ...previous, settings: older }, { settings: SETTINGS }, [], ORDER)).toHaveLength(1);
  });

  it('the generated table dates every row and says the run was partial', () => {
    // Prepare
    const report: BenchReport = {
      schemaVersion: 1,
      generatedAt: '2026-11-30T01:10:00.000Z',
      mode: 'full',
      machine: { node: 'v20', platform: 'linux-x64', cpus: 2 },
      settings: SETTINGS,
      totalWallMs: 1000,
      scenarios: [scenario('a', { measuredAt: '2026-11-28T10:52:01.769Z' }), scenario('b', { measuredAt: '2026-11-30T01:00:00.000Z', commit: 'abc1234' })],
      callsVsVolumes: null,
      targets: [],
      bundles: [],
      partial: { ran: ['b'], bundlesMeasured: false },
    };

    // Act
    const text = markdown(report);

    // Assess
    expect(text).toContain('A partial run (b)');
    expect(text).toContain('| a | 2026-11-28 10:52 |');
    expect(text).toContain('| b | 2026-11-30 01:00 (abc1234) |');
  });
});

describe('the bundle targets', () => {
  const bundle = (step: string, coldImportRatio: number, coldImportRatioToPublished: number): BundleMeasurement => ({
    step,
    entry: `handlers/${step}.ts`,
    bytes: 1,
    sourceMapBytes: 1,
    coldImportMs: 1,
    coldImportRunsMs: [1],
    bytesRatio: 1,
    coldImportRatio,
    coldImportRatioToPublished,
  });

  it('judge every function against the reference the target was set against, report the rewritten one, never count the references themselves', () => {
    // Prepare: one function over 1.3× the rewritten reference, every one under the published-SDK reference.
    const references: BundleMeasurement[] = [
      { ...bundle('x', 1, 0.3), step: REFERENCE.step, entry: REFERENCE.entry },
      { ...bundle('x', 3.4, 1), step: PUBLISHED_SDK_REFERENCE.step, entry: PUBLISHED_SDK_REFERENCE.entry },
    ];
    // Act
    const targets = targetsOf([], null, [...references, bundle('notify', 1.1, 0.35), bundle('recordFailure', 1.8, 0.6)]);
    // Assess
    const [published, rewritten] = targets;
    expect(targets).toHaveLength(2);
    expect(published).toMatchObject({ met: true, measured: 'max ×0.6 (recordFailure) over 2 functions' });
    expect(published?.target).toContain('published SDK');
    expect(rewritten).toMatchObject({ met: null, measured: 'max ×1.8 (recordFailure; bytes ×1); 1 of 2 functions ≤ 1.3×' });
    expect(rewritten?.target).toContain('not a target');
  });
});
