import { executeLocal, type LocalEnvironment, type RunStatus } from '../cli/local/local-runner';
import { ACQUISITION_STEPS } from '../workflows/acquisition-steps';
import type { CallInstrument } from './aws-calls';
import { sequentialRoundTrips } from './metrics';
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
  const result = await ctx.instrument.runAs(caseKey, () =>
    executeLocal(ctx.env, event, {
      executionName: caseKey,
      wrapHandler,
      onProgress: (e) => {
        if (e.kind === 'entered') {
          stateEntered++;
          if (e.state === STATE.isolate && transitionsToContainment === null) {
            transitionsToContainment = stateEntered + stateRetried;
          }
        } else if (e.kind === 'retried') {
          stateRetried++;
        }
      },
    }),
  );
  const endToEndMs = Date.now() - t0;
  const calls = ctx.instrument.callsOf(caseKey);
  // Assigned in the callbacks above, which the compiler's narrowing does not see.
  const start = startedAt as number | null;
  const end = containedAt as number | null;
  const contained = start !== null && end !== null;
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
  };
}
