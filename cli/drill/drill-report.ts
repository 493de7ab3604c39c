import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import type { StepTiming, WorkflowRun } from './workflow-runner';

/**
 * The drill's report: the DESIGN.md contract (`caseId, status, timeToContainmentMs, timeToSealedMs, verify, released,
 * canaryTerminated`) plus what a responder wants from an exercise — every step's duration, what was cleaned up, what
 * stays and until when. The two times are measured on the execution itself: from its start to the end of
 * "Isolate network" (containment) and of "Seal evidence" (sealed). Pure.
 */

export interface DrillReport {
  drillId: string;
  caseId: string | null;
  status: string;
  timeToContainmentMs: number | null;
  timeToSealedMs: number | null;
  verify: 'PASS' | 'FAIL';
  released: boolean;
  canaryTerminated: boolean;
  account: string;
  region: string;
  canaryInstanceId: string | null;
  executionArn: string | null;
  releaseExecutionArn: string | null;
  /** Every state the acquisition visited, in order, with its duration. */
  steps: StepTiming[];
  releaseSteps: StepTiming[];
  verifyCounts: Record<string, number> | null;
  /** What the drill removed after the exercise. */
  cleanedUp: string[];
  /** What it leaves, on purpose (evidence of the drill until its retention ends) or because removal failed. */
  retained: string[];
  errors: string[];
}

/** Time from the execution's start to the end of the (last visit of the) named state. */
export function timeToEndOf(run: WorkflowRun | undefined, state: string): number | null {
  const visits = (run?.steps ?? []).filter((s) => s.state === state && s.durationMs !== undefined);
  const last = visits.at(-1);
  return last ? last.startMs + (last.durationMs as number) : null;
}

export const CONTAINMENT_STATE = ACQUISITION_STEPS.isolateNetwork.state;
export const SEALED_STATE = ACQUISITION_STEPS.sealEvidence.state;

/** Exit 0 only when the acquisition, the verification, the release and the canary's removal all succeeded. */
export function drillSucceeded(r: DrillReport, keepCanary: boolean): boolean {
  return r.status === 'SUCCEEDED' && r.verify === 'PASS' && r.released && (keepCanary || r.canaryTerminated) && r.errors.length === 0;
}

function ms(value: number | null): string {
  return value === null ? '-' : `${(value / 1000).toFixed(3)} s`;
}

/** The text form: the figures first, then the steps, then the clean-up. */
export function renderDrillReport(r: DrillReport): string[] {
  const lines = [
    `Drill ${r.drillId}: ${r.status} in account ${r.account}, ${r.region} (canary ${r.canaryInstanceId ?? '-'})`,
    `  case                 ${r.caseId ?? '-'}`,
    `  time to containment  ${ms(r.timeToContainmentMs)}`,
    `  time to sealed       ${ms(r.timeToSealedMs)}`,
    `  case verify          ${r.verify}${r.verifyCounts ? ` (${r.verifyCounts.PASS ?? 0} passed, ${r.verifyCounts.FAIL ?? 0} failed, ${r.verifyCounts.WARN ?? 0} warnings)` : ''}`,
    `  released             ${r.released ? 'yes' : 'no'}`,
    `  canary terminated    ${r.canaryTerminated ? 'yes' : 'no'}`,
    '',
    'Acquisition steps:',
    ...r.steps.map((s) => `  ${ms(s.startMs).padStart(10)}  +${ms(s.durationMs ?? null).padEnd(9)}  ${s.state}`),
    'Release steps:',
    ...(r.releaseSteps.length > 0 ? r.releaseSteps.map((s) => `  ${ms(s.startMs).padStart(10)}  +${ms(s.durationMs ?? null).padEnd(9)}  ${s.state}`) : ['  -']),
    'Cleaned up:',
    ...(r.cleanedUp.length > 0 ? r.cleanedUp.map((c) => `  - ${c}`) : ['  - nothing']),
    'Retained:',
    ...(r.retained.length > 0 ? r.retained.map((c) => `  - ${c}`) : ['  - nothing']),
  ];
  if (r.errors.length > 0) lines.push('Errors:', ...r.errors.map((e) => `  - ${e}`));
  return lines;
}
