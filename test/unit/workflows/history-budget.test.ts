import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  HistoryBudgetError,
  eventsPerVisit,
  largestLoopBoundWithin,
  worstCaseHistory,
} from '../../../workflows/history-budget';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:f';
const NO_REDRIVE = { maxRedrives: 0, redriveErrors: [] } as const;

/** Start → Check (Task) → Done? (Choice: bound) → Wait → Check …; Done? → Finish (Succeed). Catch → Failed (Fail). */
function pollLoop(bound: number, retry = [{ ErrorEquals: ['Throttling'], MaxAttempts: 2 }]): AslDefinition {
  return {
    StartAt: 'Check',
    States: {
      Check: { Type: 'Task', Resource: FN, Retry: retry, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }], Next: 'Done?' },
      'Done?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.allSettled', BooleanEquals: true, Next: 'Finish' },
          { Variable: '$.attempt', NumericGreaterThanEquals: bound, Next: 'Finish' },
        ],
        Default: 'Wait',
      },
      Wait: { Type: 'Wait', Next: 'Check' },
      Finish: { Type: 'Succeed' },
      Failed: { Type: 'Fail' },
    },
  };
}

describe('history budget (pure)', () => {
  it('counts a Lambda Task as entered + exited + 3 events per attempt, every retrier spent (MaxAttempts defaults to 3)', () => {
    // Prepare
    const task = { Type: 'Task', Resource: FN, Retry: [{ ErrorEquals: ['A'], MaxAttempts: 6 }, { ErrorEquals: ['B'] }] };
    // Act / Assess: 1 + 6 + 3 attempts.
    expect(eventsPerVisit('t', task)).toBe(2 + 3 * 10);
    expect(eventsPerVisit('t', { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync' })).toBe(2 + 4);
    expect(eventsPerVisit('c', { Type: 'Choice' })).toBe(2);
    expect(eventsPerVisit('f', { Type: 'Fail' })).toBe(1);
    expect(() => eventsPerVisit('m', { Type: 'Map' })).toThrow(HistoryBudgetError);
  });

  it('counts a bounded loop at (bound + 1) passes, plus the execution\'s own two events', () => {
    // Prepare: one pass = Task (2 + 3 × (1 + 2)) + Choice 2 + Wait 2 = 15.
    const asl = pollLoop(10);
    // Act
    const budget = worstCaseHistory(asl, NO_REDRIVE);
    // Assess: the loop component (11 passes) then Finish (2), plus ExecutionStarted/Succeeded.
    expect(budget.loops).toEqual([expect.objectContaining({ boundState: 'Done?', bound: 10, eventsPerPass: 15, events: 11 * 15 })]);
    expect(budget.total).toBe(2 + 11 * 15 + 2);
    expect(budget.path).toEqual(['Done?', 'Finish']);
  });

  it('refuses a loop without a numeric bound that leaves it', () => {
    // Prepare: the only way out is allSettled.
    const asl = pollLoop(10);
    asl.States['Done?']!.Choices = [{ Variable: '$.allSettled', BooleanEquals: true, Next: 'Finish' }];
    // Act / Assess
    expect(() => worstCaseHistory(asl, NO_REDRIVE)).toThrow(/no numeric bound/);
  });

  it('adds the redrives of a Task whose Catch lets a redriven error through, not of one that catches everything', () => {
    // Prepare
    const asl: AslDefinition = {
      StartAt: 'Triage',
      States: {
        Triage: { Type: 'Task', Resource: FN, Retry: [{ ErrorEquals: ['Throttling'], MaxAttempts: 4 }], Catch: [{ ErrorEquals: ['InvalidInput'], Next: 'Rejected' }], Next: 'Work' },
        Work: { Type: 'Task', Resource: FN, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Rejected' }], End: true },
        Rejected: { Type: 'Fail' },
      },
    };
    // Act
    const budget = worstCaseHistory(asl, { maxRedrives: 3, redriveErrors: ['Throttling'] });
    // Assess: Triage (2 + 3 × 5 = 17) re-run up to 3 times, each with ExecutionRedriven and ExecutionFailed; the
    // longest path is Triage, Work (no retrier: one attempt, 5 events) caught into Rejected (1).
    expect(budget.redrive).toEqual({ states: ['Triage'], events: 3 * (1 + 17 + 1) });
    expect(budget.total).toBe(2 + 17 + 5 + 1 + 3 * 19);
  });

  it('derives the largest loop bound that fits a budget', () => {
    // Prepare
    const asl = pollLoop(1);
    // Act
    const bound = largestLoopBoundWithin(asl, { ...NO_REDRIVE, budget: 1000 });
    // Assess: 4 + (bound + 1) × 15 ≤ 1000 < 4 + (bound + 2) × 15.
    expect(4 + (bound + 1) * 15).toBeLessThanOrEqual(1000);
    expect(4 + (bound + 2) * 15).toBeGreaterThan(1000);
    expect(() => largestLoopBoundWithin(asl, { ...NO_REDRIVE, budget: 10 })).toThrow(HistoryBudgetError);
  });
});
