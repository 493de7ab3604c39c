/**
 * Worst-case history event count of a Standard execution, read from the definition (ASL JSON). Pure: no CDK, no SDK.
 *
 * Step Functions stops a Standard execution at 25,000 history events, and a redriven execution appends to the same
 * history (RedriveExecution refuses an execution with 24,999 events or more). Every state, every retry and every
 * loop iteration adds events, so a definition whose loops are bounded by time alone can run out of history before
 * its time cap: this module computes the longest possible history of the whole execution and derives the loop
 * bound from it.
 *
 * Events per state, as the API's HistoryEvent types list them (API_HistoryEvent):
 * - Task: `TaskStateEntered` and `TaskStateExited`, and per attempt (the first and each retry) at most three:
 *   `LambdaFunctionScheduled`, `LambdaFunctionStarted`, then `LambdaFunctionSucceeded|Failed|TimedOut` for a Lambda
 *   function ARN resource (or `…ScheduleFailed`/`…StartFailed`, which replace two of those), and `TaskScheduled`,
 *   `TaskStarted`, `TaskSucceeded|Failed|TimedOut` for a service integration — plus `TaskSubmitted` for `.sync` and
 *   `.waitForTaskToken`. Retries counted at every retrier's MaxAttempts (retriers keep separate counts, so a Task
 *   can spend all of them; MaxAttempts defaults to 3).
 * - Choice, Wait, Pass, Succeed: `<Type>StateEntered` and `<Type>StateExited`.
 * - Fail: `FailStateEntered` (the execution's `ExecutionFailed` is counted with the execution).
 * - The execution: `ExecutionStarted` and one of `ExecutionSucceeded|Failed|TimedOut|Aborted`.
 * - Each redrive: `ExecutionRedriven`, the failed state run again, and `ExecutionFailed` if it fails again.
 * Parallel and Map states are not modelled (this product has none): the analysis refuses them rather than guess.
 *
 * Loops: every cycle of the state graph must be a simple cycle through a Choice whose numeric rule
 * (`NumericGreaterThanEquals` / `NumericGreaterThan` on a counter) leaves the cycle; the cycle is counted at
 * (bound + 1) passes of every state in it. That holds when the counter starts at 0 or more and grows by at least one
 * per pass — the contract of the poll steps, whose `attempt` is the previous one plus one (their unit tests). A
 * cycle without such a rule is an error: there is no loop without a bound.
 */
export const HISTORY_EVENT_LIMIT = 25_000;
/** What a definition may use of the limit: the rest is margin (e.g. for a state this model counts too low). */
export const HISTORY_EVENT_BUDGET = 20_000;

export const EXECUTION_EVENTS = 2;
export const EVENTS_PER_ATTEMPT = 3;
/** ASL default of a retrier's MaxAttempts. */
const DEFAULT_MAX_ATTEMPTS = 3;

export interface AslRetrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
}
export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
}
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Record<string, unknown>[];
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
  Resource?: string;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

export class HistoryBudgetError extends Error {
  override readonly name = 'HistoryBudgetError';
}

export interface BudgetOptions {
  /** Automatic redrives of one execution (handlers/domain/redrive.ts). */
  readonly maxRedrives: number;
  /** Error names that are redriven: a Task whose Catch lets any of them through can fail and be run again. */
  readonly redriveErrors: readonly string[];
  /** Replaces every loop's bound read from its Choice rule (to find the largest bound that fits a budget). */
  readonly loopBound?: number;
}

export interface LoopBudget {
  /** The states of the cycle, in cycle order from the bounding Choice. */
  readonly states: string[];
  readonly boundState: string;
  readonly bound: number;
  readonly eventsPerPass: number;
  readonly events: number;
}

export interface HistoryBudget {
  /** Worst case of the whole execution, redrives included. */
  readonly total: number;
  /** The longest path (loops as one entry each, named by their Choice), the failure paths included. */
  readonly path: string[];
  readonly pathEvents: number;
  readonly loops: LoopBudget[];
  /** Tasks that can fail on a redriven error (their Catch lets it through), and what the redrives may add. */
  readonly redrive: { readonly states: string[]; readonly events: number };
}

/** Attempts of one visit of a Task whose every retrier is spent: the first plus each retrier's MaxAttempts. */
export function taskAttempts(state: AslState): number {
  return 1 + (state.Retry ?? []).reduce((sum, r) => sum + Math.max(0, r.MaxAttempts ?? DEFAULT_MAX_ATTEMPTS), 0);
}

/** Worst-case history events of one visit of a state (retries spent, see the module comment). */
export function eventsPerVisit(name: string, state: AslState): number {
  switch (state.Type) {
    case 'Task': {
      const waits = /\.(sync|waitForTaskToken)(:\d+)?$/.test(state.Resource ?? '') ? 1 : 0;
      return 2 + (EVENTS_PER_ATTEMPT + waits) * taskAttempts(state);
    }
    case 'Choice':
    case 'Wait':
    case 'Pass':
    case 'Succeed':
      return 2;
    case 'Fail':
      return 1;
    default:
      throw new HistoryBudgetError(`state "${name}": ${state.Type} states are not modelled`);
  }
}

/** Successors of a state, Catch targets included (a failure path is a path too). */
function successors(state: AslState): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Choices ?? []).map((c) => String(c.Next)),
    ...(state.Default ? [state.Default] : []),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

/** True when some catcher of the state catches the error. */
export function catches(state: AslState, error: string): boolean {
  return (state.Catch ?? []).some(
    (c) =>
      c.ErrorEquals.includes('States.ALL') ||
      c.ErrorEquals.includes(error) ||
      (c.ErrorEquals.includes('States.TaskFailed') && error !== 'States.Timeout'),
  );
}

/** Strongly connected components (Tarjan), each as a list of state names. */
function components(asl: AslDefinition): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of successors(stateOf(asl, v))) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component);
    }
  };
  for (const name of Object.keys(asl.States)) if (!index.has(name)) visit(name);
  return out;
}

function stateOf(asl: AslDefinition, name: string): AslState {
  const state = asl.States[name];
  if (!state) throw new HistoryBudgetError(`state "${name}" is referenced but not defined`);
  return state;
}

/** The loop a cycle forms: checked to be a simple cycle with a numeric bounding rule that leaves it. */
function loopOf(asl: AslDefinition, component: string[], loopBound: number | undefined): LoopBudget {
  const members = new Set(component);
  for (const name of component) {
    const inside = new Set(successors(stateOf(asl, name)).filter((s) => members.has(s)));
    if (inside.size !== 1) {
      throw new HistoryBudgetError(`loop through ${component.join(', ')} is not a simple cycle (at "${name}")`);
    }
  }
  let bound: number | undefined;
  let boundState: string | undefined;
  for (const name of component) {
    const state = stateOf(asl, name);
    if (state.Type !== 'Choice') continue;
    for (const rule of state.Choices ?? []) {
      if (members.has(String(rule.Next)) || typeof rule.Variable !== 'string') continue;
      const gte = rule.NumericGreaterThanEquals;
      const gt = rule.NumericGreaterThan;
      const value = typeof gte === 'number' ? gte : typeof gt === 'number' ? gt + 1 : undefined;
      if (value !== undefined && (bound === undefined || value < bound)) {
        bound = value;
        boundState = name;
      }
    }
  }
  if (bound === undefined || boundState === undefined) {
    throw new HistoryBudgetError(`loop through ${component.join(', ')} has no numeric bound that leaves it`);
  }
  const effective = loopBound ?? bound;
  const ordered: string[] = [boundState];
  for (let s = successors(stateOf(asl, boundState)).find((x) => members.has(x)); s && s !== boundState; ) {
    ordered.push(s);
    s = successors(stateOf(asl, s)).find((x) => members.has(x));
  }
  const eventsPerPass = component.reduce((sum, name) => sum + eventsPerVisit(name, stateOf(asl, name)), 0);
  return { states: ordered, boundState, bound: effective, eventsPerPass, events: (Math.max(0, effective) + 1) * eventsPerPass };
}

/** The worst-case history of the whole execution (see the module comment). */
export function worstCaseHistory(asl: AslDefinition, options: BudgetOptions): HistoryBudget {
  const comps = components(asl);
  const compOf = new Map<string, number>();
  comps.forEach((c, i) => {
    for (const name of c) compOf.set(name, i);
  });
  const loops = new Map<number, LoopBudget>();
  const weight = comps.map((c, i) => {
    const single = c[0]!;
    const selfLoop = c.length === 1 && successors(stateOf(asl, single)).includes(single);
    if (c.length > 1 || selfLoop) {
      const loop = loopOf(asl, c, options.loopBound);
      loops.set(i, loop);
      return loop.events;
    }
    return eventsPerVisit(single, stateOf(asl, single));
  });

  // Longest path over the components (a DAG), memoized from each component to any terminal state.
  const best = new Map<number, { events: number; path: number[] }>();
  const longest = (i: number): { events: number; path: number[] } => {
    const known = best.get(i);
    if (known) return known;
    const exits = new Set<number>();
    for (const name of comps[i]!) {
      for (const s of successors(stateOf(asl, name))) {
        const j = compOf.get(s)!;
        if (j !== i) exits.add(j);
      }
    }
    let tail = { events: 0, path: [] as number[] };
    for (const j of exits) {
      const candidate = longest(j);
      if (candidate.events > tail.events) tail = candidate;
    }
    const result = { events: weight[i]! + tail.events, path: [i, ...tail.path] };
    best.set(i, result);
    return result;
  };
  const start = compOf.get(asl.StartAt);
  if (start === undefined) throw new HistoryBudgetError(`StartAt "${asl.StartAt}" is not a state`);
  const { events: pathEvents, path } = longest(start);

  const redrivable = Object.entries(asl.States)
    .filter(([, s]) => s.Type === 'Task' && options.redriveErrors.some((e) => !catches(s, e)))
    .map(([name]) => name);
  const worstRerun = Math.max(0, ...redrivable.map((name) => eventsPerVisit(name, stateOf(asl, name))));
  const redriveEvents = redrivable.length > 0 ? options.maxRedrives * (1 + worstRerun + 1) : 0;

  return {
    total: EXECUTION_EVENTS + pathEvents + redriveEvents,
    path: path.map((i) => loops.get(i)?.boundState ?? comps[i]![0]!),
    pathEvents,
    loops: [...loops.values()],
    redrive: { states: redrivable, events: redriveEvents },
  };
}

/**
 * The largest loop bound (the same for every loop) whose worst-case history stays within `budget` events, so the
 * Choice rules' poll counters follow from the budget rather than from a time cap. Throws when not even one pass of
 * each loop fits.
 */
export function largestLoopBoundWithin(asl: AslDefinition, options: Omit<BudgetOptions, 'loopBound'> & { budget: number }): number {
  const fits = (bound: number) => worstCaseHistory(asl, { ...options, loopBound: bound }).total <= options.budget;
  if (!fits(1)) throw new HistoryBudgetError(`not even one pass of each loop fits in ${options.budget} history events`);
  let lo = 1;
  let hi = 2;
  while (fits(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1_000_000) return lo; // no loop on any path: the bound does not matter to the history
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
