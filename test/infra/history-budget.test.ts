import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { contextSchema } from '../../infra/config';
import { ACQUISITION_STEPS, CONTROL_STATES } from '../../workflows/acquisition-steps';
import { HISTORY_BUDGET_OPTIONS } from '../../workflows/acquisition-state-machine';
import {
  type AslDefinition,
  HISTORY_EVENT_BUDGET,
  HISTORY_EVENT_LIMIT,
  worstCaseHistory,
} from '../../workflows/history-budget';
import { renderAsl, synth } from '../support/synthesis';

/**
 * The acquisition's worst-case history, computed from the definition CDK synthesized (every Task's retries spent,
 * the longest path through both wait loops at their Choice bound and into the failure path, and the automatic
 * redrives), for the default configuration and for the longest wait the configuration schema allows.
 */
const MAX_WAIT_MINUTES = 7 * 24 * 60;

let defaults: { asl: AslDefinition; maxPolls: number };
let longest: { asl: AslDefinition; maxPolls: number; timeoutSeconds: number };
beforeAll(() => {
  const d = synth();
  defaults = { asl: renderAsl(d.json) as unknown as AslDefinition, maxPolls: d.stack.acquisition.maxPolls };
  const l = synth({ 'forensics:maxWaitMinutes': MAX_WAIT_MINUTES });
  const asl = renderAsl(l.json) as unknown as AslDefinition & { TimeoutSeconds: number };
  longest = { asl, maxPolls: l.stack.acquisition.maxPolls, timeoutSeconds: asl.TimeoutSeconds };
});

describe('acquisition history budget (synthesized definition)', () => {
  it('the schema\'s longest wait is the one measured here', () => {
    expect(contextSchema.safeParse({ 'forensics:maxWaitMinutes': MAX_WAIT_MINUTES }).success).toBe(true);
    expect(contextSchema.safeParse({ 'forensics:maxWaitMinutes': MAX_WAIT_MINUTES + 1 }).success).toBe(false);
    expect(longest.timeoutSeconds).toBe((MAX_WAIT_MINUTES * 2 + 60) * 60);
  });

  it('stays within the budget, 20% under the 25,000-event limit, at the default and at the longest wait', () => {
    for (const { asl } of [defaults, longest]) {
      // The bounds as deployed: read from the Choice rules, not overridden.
      const budget = worstCaseHistory(asl, HISTORY_BUDGET_OPTIONS);
      expect(budget.total, budget.path.join(' → ')).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
      expect(budget.total).toBeLessThan(HISTORY_EVENT_LIMIT * 0.8 + 1);
    }
  });

  it('counts both wait loops at their bound, on one path, and a redrive of the step before any change', () => {
    const budget = worstCaseHistory(longest.asl, HISTORY_BUDGET_OPTIONS);
    expect(budget.loops.map((l) => l.boundState).sort()).toEqual([CONTROL_STATES.copiesSettled, CONTROL_STATES.snapshotsSettled].sort());
    for (const loop of budget.loops) expect(loop.bound).toBe(longest.maxPolls);
    expect(budget.path).toEqual(expect.arrayContaining([CONTROL_STATES.snapshotsSettled, CONTROL_STATES.copiesSettled]));
    expect(budget.redrive.states).toEqual([ACQUISITION_STEPS.triage.state]);
    expect(budget.redrive.events).toBeGreaterThan(0);
  });

  it('docs/architecture.md states the poll bound this definition derives', () => {
    const doc = readFileSync(join(__dirname, '../../docs/architecture.md'), 'utf8');
    expect(doc).toContain(`(${defaults.maxPolls} per loop today`);
  });

  it('the poll bound is the largest that fits: one more poll per loop would exceed the budget', () => {
    expect(longest.maxPolls).toBe(defaults.maxPolls);
    const over = worstCaseHistory(longest.asl, { ...HISTORY_BUDGET_OPTIONS, loopBound: longest.maxPolls + 1 });
    expect(over.total).toBeGreaterThan(HISTORY_EVENT_BUDGET);
    // Enough checks to be useful: a day's wait can be watched at least every 5 minutes.
    expect(longest.maxPolls).toBeGreaterThanOrEqual(288);
  });
});
