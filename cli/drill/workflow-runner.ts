import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ManualRequest } from '../../handlers/domain/manual-request';
import type { ReleaseRunInput } from '../local/local-runner';
import type { Io } from '../commands/common';
import { follow } from '../commands/acquire';

/**
 * How a drill runs the two workflows: against AWS, StartExecution on the deployed state machines and the execution
 * history; against an emulator (whose Step Functions stores machines but does not run them), the same synthesized
 * definitions executed by the local runner. Either way the drill gets the same `WorkflowRun`, with every state's
 * entry and exit time as the execution recorded them — the drill's figures come from there.
 */

export interface StepTiming {
  state: string;
  /** Milliseconds from the execution's start to the state's entry. */
  startMs: number;
  /** Time in the state (absent when the execution ended inside it). */
  durationMs?: number;
}

export interface WorkflowRun {
  executionArn: string;
  status: string;
  /** Epoch milliseconds of the execution's start and end, as recorded by the engine. */
  startedAt: number;
  stoppedAt: number;
  steps: StepTiming[];
  /** The execution's output (parsed), when it succeeded. */
  output?: unknown;
  error?: { name: string; cause?: string };
}

export interface WorkflowRunner {
  acquire(request: ManualRequest, name: string): Promise<WorkflowRun>;
  release(request: ReleaseRunInput, name: string): Promise<WorkflowRun>;
}

/** Transitions as a list of (time, entered|exited, state), in order. */
export interface Transition {
  at: number;
  kind: 'entered' | 'exited';
  state: string;
}

/**
 * One timing per visit of a state (a polling loop visits its states many times): entered→exited pairs in order. Pure.
 */
export function stepTimings(transitions: readonly Transition[], startedAt: number): StepTiming[] {
  const out: StepTiming[] = [];
  const open = new Map<string, StepTiming[]>();
  for (const t of transitions) {
    if (t.kind === 'entered') {
      const step: StepTiming = { state: t.state, startMs: t.at - startedAt };
      out.push(step);
      open.set(t.state, [...(open.get(t.state) ?? []), step]);
    } else {
      const pending = open.get(t.state);
      const step = pending?.shift();
      if (step) step.durationMs = t.at - startedAt - step.startMs;
    }
  }
  return out;
}

/** The transitions and bounds of an execution from its Step Functions history. Pure. */
export function historyTransitions(events: readonly HistoryEvent[]): { transitions: Transition[]; startedAt?: number; stoppedAt?: number } {
  const transitions: Transition[] = [];
  let startedAt: number | undefined;
  let stoppedAt: number | undefined;
  for (const e of events) {
    const at = e.timestamp?.getTime();
    if (at === undefined) continue;
    if (e.type === 'ExecutionStarted') startedAt = at;
    else if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(e.type ?? '')) stoppedAt = at;
    else if (e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name) transitions.push({ at, kind: 'entered', state: e.stateEnteredEventDetails.name });
    else if (e.type?.endsWith('StateExited') && e.stateExitedEventDetails?.name) transitions.push({ at, kind: 'exited', state: e.stateExitedEventDetails.name });
  }
  return { transitions, ...(startedAt !== undefined ? { startedAt } : {}), ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
}

/** Against AWS: StartExecution, follow it (progress on stderr), then read its whole history. */
export class StepFunctionsRunner implements WorkflowRunner {
  constructor(
    private readonly sfn: SFNClient,
    private readonly machines: { acquisition: string; release: string },
    private readonly io: Io,
    private readonly follow: { timeoutMs: number; pollIntervalMs: number },
  ) {}

  acquire(request: ManualRequest, name: string): Promise<WorkflowRun> {
    return this.run(this.machines.acquisition, request, name);
  }

  release(request: ReleaseRunInput, name: string): Promise<WorkflowRun> {
    return this.run(this.machines.release, request, name);
  }

  private async run(stateMachineArn: string, input: unknown, name: string): Promise<WorkflowRun> {
    const started = await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    const executionArn = started.executionArn ?? '';
    this.io.err(`drill: started ${executionArn}`);
    const final = await follow(this.sfn, executionArn, this.io, this.follow);
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    // Bounded like the execution itself (25,000 events at most, 1,000 per page).
    for (let page = 0; page < 25; page++) {
      const out = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...(out.events ?? []));
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    const h = historyTransitions(events);
    const startedAt = h.startedAt ?? started.startDate?.getTime() ?? Date.now();
    let output: unknown;
    try {
      output = final.output ? (JSON.parse(final.output) as unknown) : undefined;
    } catch {
      output = undefined;
    }
    return {
      executionArn,
      status: final.status,
      startedAt,
      stoppedAt: h.stoppedAt ?? Date.now(),
      steps: stepTimings(h.transitions, startedAt),
      ...(output !== undefined ? { output } : {}),
      ...(final.error ? { error: { name: final.error, ...(final.cause ? { cause: final.cause } : {}) } } : {}),
    };
  }
}

/** Against an emulator: the local runner (cli/local/local-runner.ts), with its state transitions recorded. */
export class LocalWorkflowRunner implements WorkflowRunner {
  constructor(
    private readonly env: import('../local/local-runner').LocalEnvironment,
    private readonly io: Io,
    /** Passed to the local runner (tests: observe or slow a step). */
    private readonly wrapHandler?: import('../local/local-runner').RunLocalOptions['wrapHandler'],
  ) {}

  async acquire(request: ManualRequest, name: string): Promise<WorkflowRun> {
    const { executeLocal } = await import('../local/local-runner');
    const transitions: Transition[] = [];
    const startedAt = Date.now();
    const result = await executeLocal(this.env, request, {
      executionName: name,
      onProgress: (p) => this.record(transitions, p, startedAt),
      ...(this.wrapHandler ? { wrapHandler: this.wrapHandler } : {}),
    });
    const stoppedAt = Date.now();
    return {
      executionArn: `arn:aws:states:${this.env.region}:${this.env.accountId}:execution:ForensicAcquisition:${name}`,
      status: result.status === 'FAILED' ? 'FAILED' : 'SUCCEEDED',
      startedAt: transitions[0]?.at ?? startedAt,
      stoppedAt,
      steps: stepTimings(transitions, transitions[0]?.at ?? startedAt),
      output: result,
      ...(result.error ? { error: result.error } : {}),
    };
  }

  async release(request: ReleaseRunInput, name: string): Promise<WorkflowRun> {
    const { executeLocalRelease } = await import('../local/local-runner');
    const transitions: Transition[] = [];
    const startedAt = Date.now();
    const result = await executeLocalRelease(this.env, request, {
      executionName: name,
      onProgress: (p) => this.record(transitions, p, startedAt),
      ...(this.wrapHandler ? { wrapHandler: this.wrapHandler } : {}),
    });
    return {
      executionArn: result.executionArn,
      status: result.status,
      startedAt: transitions[0]?.at ?? startedAt,
      stoppedAt: Date.now(),
      steps: stepTimings(transitions, transitions[0]?.at ?? startedAt),
      output: result,
      ...(result.error ? { error: result.error } : {}),
    };
  }

  private record(transitions: Transition[], p: import('../local/local-runner').ProgressEvent, startedAt: number): void {
    if (p.kind === 'entered' || p.kind === 'exited') transitions.push({ at: p.at, kind: p.kind, state: p.state });
    if (p.kind === 'entered') this.io.err(`[${((p.at - startedAt) / 1000).toFixed(2).padStart(7)}s] entered  ${p.state}`);
    if (p.kind === 'failed') this.io.err(`[${((p.at - startedAt) / 1000).toFixed(2).padStart(7)}s] failed   ${p.state}: ${p.detail ?? ''}`);
  }
}

/** The case id an acquisition opened, from its output (deployed: the final state; local: the runner's result). */
export function caseIdOf(run: WorkflowRun): string | undefined {
  const o = run.output as { caseId?: unknown; case?: { caseId?: unknown }; closure?: { caseId?: unknown }; failureRecord?: { caseId?: unknown } } | undefined;
  const id = o?.caseId ?? o?.closure?.caseId ?? o?.case?.caseId ?? o?.failureRecord?.caseId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}
