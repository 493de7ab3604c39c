import { ec2AdaptersFor, jsonLog } from './adapters/ec2-side-adapters';
import { environment } from './config/env';
import { errorMessage, errorName, InvalidInput } from './domain/errors';
import type { AcquisitionState, ContainmentResult } from './domain/types';
import type { EntryDeps } from './describe-instance';
import { type EvidenceDeps, evidenceDeps } from './evidence-deps';
import { isolateNetwork } from './use-cases/isolate-network';
import { recordContainment } from './use-cases/record-containment';

/**
 * "Isolate network": contain first, then write the custody records the path to containment deferred.
 *
 * If writing the records fails, the containment result is still returned (and so kept in the execution state):
 * losing the record of an isolation that did happen would be worse than a late record. The failure is reported in
 * `recording`, and the seal step writes the deferred records again (they are written once, marked in the case).
 */
export function createIsolateNetworkHandler(deps: EntryDeps & { evidence?: () => EvidenceDeps } = {}) {
  return async (state: AcquisitionState): Promise<ContainmentResult & { recording?: { error: string } }> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.describe) throw new InvalidInput('describe', 'missing: the describe step has not run');
    const env = (deps.env ?? environment)();
    const clock = deps.clock ?? (() => new Date());
    const adapters = (deps.adaptersFor ?? ec2AdaptersFor)(state.case.target);
    const containment = await isolateNetwork(
      { securityGroups: adapters.securityGroups, clock, tagPrefix: env.TAG_PREFIX },
      { caseRef: state.case, describe: state.describe },
    );
    try {
      await recordContainment((deps.evidence ?? evidenceDeps)(), state, containment);
      return containment;
    } catch (err) {
      jsonLog({ level: 'ERROR', message: 'containment recorded late', caseId: state.case.caseId, error: errorName(err), detail: errorMessage(err) });
      return { ...containment, recording: { error: `${errorName(err)}: ${errorMessage(err)}` } };
    }
  };
}

export const handler = createIsolateNetworkHandler();
