import { ec2AdaptersFor } from './adapters/ec2-side-adapters';
import { caseLog } from './adapters/logger';
import { caseTable } from './composition/case-table';
import type { Ec2EntryDeps } from './composition/entry-deps';
import { triageConfigFrom } from './composition/triage-config';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { CaseTable } from './domain/ports';
import type { TriageResult } from './domain/types';
import { describeCaseInstance } from './use-cases/describe-instance';
import { triage } from './use-cases/triage';

export interface TriageEntryDeps extends Ec2EntryDeps {
  cases?: CaseTable;
}

/**
 * "Triage, open case and describe instance": receives `{event, executionArn, startedAt}` (the state machine builds
 * it from the execution input and context) and returns the whole new state: ACQUIRE with the case and the
 * instance's pre-incident state (or the describe's failure), DUPLICATE or IGNORED.
 */
export function createTriageHandler(deps: TriageEntryDeps = {}) {
  return async (payload: unknown): Promise<TriageResult> => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new InvalidInput('payload', 'expected {event, executionArn, startedAt}');
    }
    const { event, executionArn, startedAt } = payload as Record<string, unknown>;
    const env = (deps.env ?? environment)();
    const clock = deps.clock ?? (() => new Date());
    const result = await triage(
      { event, executionArn: executionArn as string, startedAt: startedAt as string },
      {
        cases: deps.cases ?? caseTable(env.CASE_TABLE_NAME),
        config: triageConfigFrom(env),
        clock,
        // In the target's account: the responder role's session for this case (or the own role in single-account mode).
        describe: async (caseRef) =>
          describeCaseInstance(
            {
              ...(deps.adaptersFor ?? ec2AdaptersFor)(caseRef.target, { caseId: caseRef.caseId }),
              clock,
              tagPrefix: env.TAG_PREFIX,
              // Target health is read by "Preserve and snapshot", beside CreateSnapshots: one round here, always.
              deferTargetHealth: true,
            },
            caseRef,
          ),
      },
    );
    // One line per triage, so "why was this finding ignored?" is answered from the logs as well as the history.
    const { caseId, ...rest } = summary(result);
    caseLog(caseId, 'triage')({ level: 'info', message: `triage: ${result.outcome}`, executionArn, ...rest });
    return result;
  };
}

function summary(result: TriageResult): { caseId?: string } & Record<string, unknown> {
  switch (result.outcome) {
    case 'ACQUIRE':
      return {
        outcome: result.outcome,
        caseId: result.case.caseId,
        target: result.case.target,
        finding: result.case.finding,
        ...(result.failure ? { describeFailure: result.failure.Error } : {}),
      };
    case 'DUPLICATE':
      return { outcome: result.outcome, caseId: result.caseId, target: result.target, finding: result.finding };
    case 'IGNORED':
      return { outcome: result.outcome, reason: result.reason, finding: result.finding };
  }
}

export const handler = createTriageHandler();
