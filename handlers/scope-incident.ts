import { caseLog } from './adapters/logger';
import type { EntryDeps } from './composition/entry-deps';
import { type EvidenceDeps, evidenceDeps } from './composition/evidence';
import { scopeDepsFor } from './composition/scope';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, ScopeResult } from './domain/types';
import { type ScopeIncidentDeps, scopeIncident } from './use-cases/scope-incident';

/**
 * "Scope the incident". Payload: the whole execution state (after "Isolate network"). Returns `$.scope`. A failure of
 * the step is caught by the state machine into `$.scopeFailure` and never fails the acquisition.
 */
export function createScopeIncidentHandler(
  deps: EntryDeps & { evidence?: () => EvidenceDeps; scope?: (state: AcquisitionState) => Omit<ScopeIncidentDeps, 'log'> } = {},
) {
  return async (state: AcquisitionState): Promise<ScopeResult> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    const env = (deps.env ?? environment)();
    const built = deps.scope ? deps.scope(state) : scopeDepsFor(state.case.target, { caseId: state.case.caseId }, env, (deps.evidence ?? evidenceDeps)());
    return scopeIncident({ ...built, ...(deps.clock ? { clock: deps.clock } : {}), log: caseLog(state.case.caseId, 'scopeIncident') }, state);
  };
}

export const handler = createScopeIncidentHandler();
