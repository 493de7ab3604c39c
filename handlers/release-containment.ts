import { releaseAdaptersFor } from './adapters/release-adapters';
import { InvalidInput } from './domain/errors';
import { type EvidenceDeps, evidenceDeps } from './composition/evidence';
import { type ReleasePorts, type ReleaseResult, releaseContainment } from './use-cases/release-containment';
import type { ReleaseState } from './use-cases/release-workflow';

/**
 * "Release containment" (release state machine). Payload: the whole release state. Runs the release use case with
 * this function's role; the execution ARN is the custody records' actor. Returns the result (at `$.release`);
 * `ReleaseIncomplete` (and the refusals, should the case change after validation) are thrown by name.
 */
export function createReleaseContainmentHandler(
  deps: { evidence?: () => EvidenceDeps; adaptersFor?: ReleasePorts['adaptersFor'] } = {},
) {
  return (state: ReleaseState): Promise<ReleaseResult> => {
    if (!state?.request?.caseId) throw new InvalidInput('request.caseId', 'missing from the execution state');
    const e = (deps.evidence ?? evidenceDeps)();
    return releaseContainment(
      {
        cases: e.cases,
        custody: e.custody,
        // In the target's account: the responder role's session for this case, or the own role in single-account mode.
        adaptersFor: deps.adaptersFor ?? ((target) => releaseAdaptersFor(target, { caseId: state.request.caseId })),
        clock: e.clock,
      },
      {
        caseId: state.request.caseId,
        reason: state.request.reason,
        requestedBy: state.request.requestedBy,
        actor: state.executionArn,
      },
    );
  };
}

export const handler = createReleaseContainmentHandler();
