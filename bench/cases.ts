import { withLocalRedrive } from '../cli/local/local-redrive';
import { executeLocal, type LocalEnvironment, type RunLocalResult, type RunStatus } from '../cli/local/local-runner';
import { securedSummary } from '../handlers/domain/case-evidence';
import type { AcquisitionState } from '../handlers/domain/types';
import { ACQUISITION_STEPS, CONTROL_STATES } from '../workflows/acquisition-steps';
import type { CallInstrument } from './aws-calls';
import { sequentialRoundTrips, timeline } from './metrics';
import type { SimulatedTime } from './simulated-time';

/**
 * One benchmarked execution: the real definition and handlers through the local runner, with every AWS call
 * attributed to this case, and the runner's event stream and the step outputs observed (not changed).
 */
export interface CaseMeasurement {
  caseKey: string;
  instanceId: string;
  volumes: number;
  status: RunStatus;
  error?: string;
  /** `$$.Execution.StartTime` as Triage received it (ms since epoch). */
  startedAt: number | null;
  /** The isolate step's `containedAt`: when the last interface was switched to the isolation group. */
  containedAt: number | null;
  containmentMs: number | null;
  /** Longest chain of non-overlapping AWS calls of this case between start and containment (metrics.ts). */
  roundTripsToContainment: number | null;
  /** State transitions (entered + retried) up to and including entering "Isolate network". */
  transitionsToContainment: number | null;
  stateEntered: number;
  stateRetried: number;
  /** What Step Functions Standard bills: every state entered, retries included. */
  transitions: number;
  /** Every attempt of every AWS call the handlers made for this case (SDK retries included). */
  awsCalls: number;
  throttledAttempts: number;
  endToEndMs: number;
  /** Simulated seconds that passed in Wait states (slow-snapshot scenario), 0 otherwise. */
  simulatedWaitSeconds: number;
  waits: number;
  /** Redrives of this execution by the (emulated) redrive function. */
  redrives: number;
  /** FAILED only: where and how it failed, and what was already secured then. */
  failure?: FailureDetail;
}

export interface FailureDetail {
  /** The step whose error ended the acquisition (the caught one, or the state it stopped in). */
  state: string;
  error: string;
  /** Who recorded the failure in the case: the state machine's Catch path, the redrive function, or nobody. */
  recordedBy: 'state machine' | 'redrive function' | 'not recorded (recording failed)' | 'not recorded' | 'nothing to record (no case)';
  secured: { snapshots: number; evidenceSnapshots: number; isolatedInterfaces: number; preservation: string[]; sealed: boolean };
}

const STATE = {
  triage: ACQUISITION_STEPS.triage.state,
  isolate: ACQUISITION_STEPS.isolateNetwork.state,
  polls: new Set<string>([
    ACQUISITION_STEPS.checkSnapshots.state,
    ACQUISITION_STEPS.copyEvidence.state,
    ACQUISITION_STEPS.checkEvidenceCopies.state,
  ]),
};

export interface CaseContext {
  env: LocalEnvironment;
  instrument: CallInstrument;
  /** When set, each poll's requested `nextCheckSeconds` is added to simulated time (Wait states take 0 ms). */
  clock?: SimulatedTime;
  /** State-level retry intervals: the definition's own (real time, full jitter) or a fixed override in ms. */
  retryIntervalMs?: number | 'as-defined';
}

const FAIL_STATES = new Set<string>([CONTROL_STATES.failed, CONTROL_STATES.unrecorded, CONTROL_STATES.rejected]);
function failureDetail(result: RunLocalResult, lastCaught: string | undefined, recordedByRedrive: boolean): FailureDetail | undefined {
  if (result.status !== 'FAILED') return undefined;
  const stopped = result.stoppedIn;
  const inFailState = stopped !== undefined && FAIL_STATES.has(stopped.name);
  const state = inFailState ? (lastCaught ?? stopped.name) : (stopped?.name ?? 'unknown');
  const input = stopped?.input as AcquisitionState | undefined;
  const hasCase = typeof input === 'object' && input !== null && typeof (input as { case?: { caseId?: unknown } }).case?.caseId === 'string';
  const summary = hasCase ? securedSummary(input) : undefined;
  return {
    state,
    error: result.error?.name ?? 'unknown',
    recordedBy: recordedByRedrive
      ? 'redrive function'
      : stopped?.name === CONTROL_STATES.failed
        ? 'state machine'
        : stopped?.name === CONTROL_STATES.unrecorded
          ? 'not recorded (recording failed)'
          : hasCase
            ? 'not recorded'
            : 'nothing to record (no case)',
    secured: {
      snapshots: summary?.snapshots.length ?? 0,
      evidenceSnapshots: summary?.evidenceSnapshots.length ?? 0,
      isolatedInterfaces: summary?.isolatedNetworkInterfaces.length ?? 0,
      preservation: summary?.preservationApplied ?? [],
      sealed: Boolean(summary?.manifest),
    },
  };
}

export async function runCase(
  ctx: CaseContext,
  caseKey: string,
  victim: { instanceId: string; volumes: number },
  event: unknown,
): Promise<CaseMeasurement> {
  let startedAt: number | null = null;
  let containedAt: number | null = null;
  let stateEntered = 0;
  let stateRetried = 0;
  let transitionsToContainment: number | null = null;
  let simulatedWaitSeconds = 0;
  let waits = 0;

  const wrapHandler = (state: string, handler: (input: unknown) => Promise<unknown>) => async (input: unknown) => {
    if (state === STATE.triage) {
      const at = Date.parse(String((input as { startedAt?: string }).startedAt));
      if (Number.isFinite(at)) startedAt = at;
    }
    const output = await handler(input);
    if (state === STATE.isolate) {
      const at = Date.parse(String((output as { containedAt?: string }).containedAt));
      if (Number.isFinite(at)) containedAt = at;
    }
    if (STATE.polls.has(state)) {
      const progress = output as { allSettled?: boolean; nextCheckSeconds?: number };
      if (progress.allSettled === false && typeof progress.nextCheckSeconds === 'number') {
        waits++;
        simulatedWaitSeconds += progress.nextCheckSeconds;
        ctx.clock?.advance(progress.nextCheckSeconds);
      }
    }
    return output;
  };

  const t0 = Date.now();
  let lastCaught: string | undefined;
  const startTime = new Date().toISOString();
  const run = (redrive?: { fromState: string; input: unknown; redriveCount: number; startedAt: string }) =>
    executeLocal(ctx.env, event, {
      executionName: caseKey,
      wrapHandler,
      ...(ctx.retryIntervalMs !== undefined ? { retryIntervalMs: ctx.retryIntervalMs } : {}),
      ...(redrive ? { redrive } : {}),
      onProgress: (e) => {
        if (e.kind === 'entered') {
          stateEntered++;
          if (e.state === STATE.isolate && transitionsToContainment === null) {
            transitionsToContainment = stateEntered + stateRetried;
          }
        } else if (e.kind === 'retried') {
          stateRetried++;
        } else if (e.kind === 'caught') {
          lastCaught = e.state;
        }
      },
    });
  // A FAILED run goes to the redrive function's decision, and a redrive continues it (cli/local/local-redrive.ts).
  const { result, redrives, outcomes } = await ctx.instrument.runAs(caseKey, async () => {
    const first = await run();
    // The execution's start time as Triage saw it: a redrive keeps it (and so the case id).
    const observed = startedAt as number | null;
    return withLocalRedrive(ctx.env, caseKey, observed !== null ? new Date(observed).toISOString() : startTime, first, run);
  });
  const recordedByRedrive = outcomes.some((o) => o.action === 'record');
  const endToEndMs = Date.now() - t0;
  const calls = ctx.instrument.callsOf(caseKey);
  // Assigned in the callbacks above, which the compiler's narrowing does not see.
  const start = startedAt as number | null;
  const end = containedAt as number | null;
  const contained = start !== null && end !== null;
  if (process.env.BENCH_TIMELINE && start !== null) process.stderr.write(timeline(caseKey, calls, start, end));
  return {
    caseKey,
    instanceId: victim.instanceId,
    volumes: victim.volumes,
    status: result.status,
    ...(result.error ? { error: `${result.error.name}: ${result.error.cause ?? ''}`.slice(0, 500) } : {}),
    startedAt: start,
    containedAt: end,
    containmentMs: start !== null && end !== null ? end - start : null,
    roundTripsToContainment: start !== null && end !== null ? sequentialRoundTrips(calls, start, end) : null,
    transitionsToContainment: contained ? transitionsToContainment : null,
    stateEntered,
    stateRetried,
    transitions: stateEntered + stateRetried,
    awsCalls: calls.length,
    throttledAttempts: calls.filter((c) => c.injected).length,
    endToEndMs,
    simulatedWaitSeconds,
    waits,
    redrives,
    ...(result.status === 'FAILED' ? { failure: failureDetail(result, lastCaught, recordedByRedrive) as FailureDetail } : {}),
  };
}
