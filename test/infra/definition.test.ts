import { beforeAll, describe, expect, it } from 'vitest';
import { THROTTLING_ERRORS, TRANSIENT_ERRORS } from '../../handlers/domain/errors';
import { ACQUISITION_STEPS, CONTROL_STATES } from '../../workflows/acquisition-steps';
import { aslValidator, renderAsl, synth } from '../support/synthesis';

/** The synthesized definition (as deployed, references replaced by placeholder ARNs), checked as ASL. */
interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Record<string, unknown>[];
  Retry?: { ErrorEquals: string[]; JitterStrategy?: string; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  SecondsPath?: string;
  Parameters?: Record<string, unknown>;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
}

let asl: Definition;
let maxPolls: number;
beforeAll(() => {
  const synthesized = synth();
  asl = renderAsl(synthesized.json) as unknown as Definition;
  maxPolls = synthesized.stack.acquisition.maxPolls;
});

const state = (name: string): State => {
  const found = asl.States[name];
  if (!found) throw new Error(`no state "${name}"`);
  return found;
};

/** Successors along the normal flow (Next, Choice branches and Default); Catch edges are the failure path. */
const successors = (s: State): string[] => [
  ...(s.Next ? [s.Next] : []),
  ...(s.Choices ?? []).map((c) => c.Next as string),
  ...(s.Default ? [s.Default] : []),
];

describe('acquisition state machine definition', () => {
  it('is valid ASL (asl-validator, including ARN and path checks)', () => {
    const result = aslValidator(asl, { checkPaths: true, checkArn: true });
    expect(result.errors, result.errorsText('\n')).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('reaches "Isolate network" in 4 states from the start: triage (which describes), its outcome, preserve, isolate', () => {
    // Prepare: the shortest path along the normal flow, breadth first.
    const target = ACQUISITION_STEPS.isolateNetwork.state;
    const depth = new Map<string, number>([[asl.StartAt, 1]]);
    const queue = [asl.StartAt];
    // Act
    while (queue.length > 0) {
      const name = queue.shift() as string;
      for (const next of successors(state(name))) {
        if (depth.has(next)) continue;
        depth.set(next, (depth.get(name) ?? 0) + 1);
        queue.push(next);
      }
    }
    // Assess
    expect(depth.get(target)).toBe(4);
    expect(state(CONTROL_STATES.outcome).Default).toBe(ACQUISITION_STEPS.preserveAndSnapshot.state);
  });

  it('sends a case opened on an instance that could not be described ($.failure) to "Record failure"', () => {
    const choices = state(CONTROL_STATES.outcome).Choices ?? [];
    expect(choices).toContainEqual({ Variable: '$.failure', IsPresent: true, Next: ACQUISITION_STEPS.recordFailure.state });
  });

  it('has a Task for every acquisition step, each naming a Lambda function', () => {
    for (const { state: name } of Object.values(ACQUISITION_STEPS)) {
      expect(state(name).Type, name).toBe('Task');
      expect(JSON.stringify(state(name))).toMatch(/arn:aws:lambda:[^"]+:function:/);
    }
  });

  it('every Task retries throttling with full jitter; every Task catches everything but the transient errors of the steps before any change', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBe(Object.keys(ACQUISITION_STEPS).length);
    const beforeChange = new Set<string>([ACQUISITION_STEPS.triage.state]);
    for (const [name, task] of tasks) {
      const throttling = (task.Retry ?? []).find((r) => THROTTLING_ERRORS.every((e) => r.ErrorEquals.includes(e)));
      expect(throttling, `${name}: Retry on throttling`).toBeDefined();
      expect(throttling?.JitterStrategy, name).toBe('FULL');
      const catchers = task.Catch ?? [];
      if (beforeChange.has(name)) {
        // Transient errors past the retries fail the execution in this Task, where a redrive can run it again.
        expect(catchers.length, `${name}: catches the errors no retry fixes`).toBeGreaterThan(0);
        for (const error of [...TRANSIENT_ERRORS, 'States.ALL', 'States.TaskFailed']) {
          expect(catchers.some((c) => c.ErrorEquals.includes(error)), `${name} must not catch ${error}`).toBe(false);
        }
        expect(catchers.some((c) => c.ErrorEquals.includes('InvalidInput')), `${name}: InvalidInput caught`).toBe(true);
      } else {
        expect(catchers.some((c) => c.ErrorEquals.includes('States.ALL')), `${name}: Catch States.ALL`).toBe(true);
      }
    }
  });

  it('the idempotent steps after containment run again after a timeout (twice, jittered); no step that changes the instance does', () => {
    // Prepare
    const timeoutRetried = (name: string) =>
      ((asl.States[name] as State | undefined)?.Retry ?? []).find((r) => r.ErrorEquals.includes('Sandbox.Timedout') && r.ErrorEquals.includes('States.Timeout'));
    // Act / Assess
    for (const name of ['Check snapshot progress', 'Copy snapshots with evidence key', 'Check evidence copies']) {
      expect(timeoutRetried(name), name).toMatchObject({ MaxAttempts: 2, JitterStrategy: 'FULL' });
    }
    for (const name of ['Preserve and snapshot', 'Isolate network', 'Seal evidence']) expect(timeoutRetried(name), name).toBeUndefined();
  });

  it('every Wait loop is bounded by a Choice rule on the poll count, which also leaves the loop', () => {
    const waits = Object.entries(asl.States).filter(([, s]) => s.Type === 'Wait');
    expect(waits.map(([n]) => n).sort()).toEqual([CONTROL_STATES.waitCopies, CONTROL_STATES.waitSnapshots].sort());
    for (const [name, wait] of waits) {
      // Follow the loop from the Wait until we are back at it; it must pass through a bounding Choice.
      const check = state(wait.Next!);
      expect(check.Type, name).toBe('Task');
      // The poll step is told the same bound, so it can settle what is still pending at the last check.
      expect(check.Parameters, name).toEqual({ 'state.$': '$', maxPolls });
      const choiceName = check.Next!;
      const choice = state(choiceName);
      expect(choice.Type, name).toBe('Choice');
      expect(choice.Default, `${choiceName}: loops back through the wait`).toBe(name);
      const bounding = (choice.Choices ?? []).find(
        (c) => c.NumericGreaterThanEquals === maxPolls && String(c.Variable).endsWith('.attempt'),
      );
      expect(bounding, `${choiceName}: bound of ${maxPolls} polls`).toBeDefined();
      expect(bounding?.Next, `${choiceName}: bound exits the loop`).not.toBe(name);
      expect(wait.SecondsPath, name).toMatch(/nextCheckSeconds$/);
    }
  });

  it('the execution timeout follows forensics:maxWaitMinutes; the poll bound does not (it follows the history budget)', () => {
    const short = synth({ 'forensics:maxWaitMinutes': 60 });
    const definition = renderAsl(short.json) as unknown as Definition;
    expect(definition.TimeoutSeconds).toBe((60 * 2 + 60) * 60);
    expect(short.stack.acquisition.maxPolls).toBe(maxPolls);
    const choice = definition.States[CONTROL_STATES.snapshotsSettled]!;
    expect(JSON.stringify(choice.Choices)).toContain(`"NumericGreaterThanEquals":${maxPolls}`);
  });

  it('reaches "Isolate network" within 6 states of the start (containment is not delayed)', () => {
    const target = ACQUISITION_STEPS.isolateNetwork.state;
    const depth = new Map<string, number>([[asl.StartAt, 1]]);
    const queue = [asl.StartAt];
    while (queue.length > 0) {
      const name = queue.shift()!;
      for (const next of successors(state(name))) {
        if (!depth.has(next)) {
          depth.set(next, depth.get(name)! + 1);
          queue.push(next);
        }
      }
    }
    expect(depth.get(target)).toBeDefined();
    expect(depth.get(target)!).toBeLessThanOrEqual(6);
  });

  it('every state is reachable and every non-terminal state leads somewhere', () => {
    const reachable = new Set<string>([asl.StartAt]);
    const queue = [asl.StartAt];
    while (queue.length > 0) {
      const s = state(queue.shift()!);
      for (const next of [...successors(s), ...(s.Catch ?? []).map((c) => c.Next)]) {
        if (!reachable.has(next)) {
          reachable.add(next);
          queue.push(next);
        }
      }
    }
    expect([...reachable].sort()).toEqual(Object.keys(asl.States).sort());
  });
});
