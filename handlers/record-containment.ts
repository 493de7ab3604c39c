import { evidenceDeps } from './composition/evidence';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, ContainmentRecord } from './domain/types';
import { type RecordContainmentDeps, recordContainment } from './use-cases/record-containment';

/**
 * "Record containment": right after the containment, writes what the path to containment left in the execution state
 * (custody records, raw finding, pre-incident state, case details). Payload: the whole execution state. Returns
 * `$.containmentRecord`. A separate function from "Isolate network" so that the function on the path to containment
 * bundles no evidence-store client and its role holds no evidence write.
 */
export function createRecordContainmentHandler(deps: { evidence?: () => RecordContainmentDeps } = {}) {
  return async (state: AcquisitionState): Promise<ContainmentRecord> => {
    if (!state?.case?.caseId) throw new InvalidInput('case.caseId', 'missing from the execution state');
    if (!state.containment) throw new InvalidInput('containment', 'missing: "Isolate network" has not returned');
    return recordContainment((deps.evidence ?? evidenceDeps)(), state, state.containment);
  };
}

export const handler = createRecordContainmentHandler();
