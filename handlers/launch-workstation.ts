import { snapshotLineage } from './domain/manifest';
import type { AcquisitionState } from './domain/types';
import type { WorkstationResult } from './domain/workstation';
import { workstationDeps } from './composition/workstation';
import { type WorkstationDeps, launchWorkstation } from './use-cases/launch-workstation';

/**
 * "Launch forensic workstation" (after "Seal evidence", only when the case's `options.workstation` is true).
 * Payload: the whole execution state. Returns the WorkstationResult (at `$.workstation`). Any error is caught by the
 * state machine into "Notify responders" at `$.workstationFailure`: the evidence is sealed, the acquisition succeeds.
 */
export function createLaunchWorkstationHandler(deps: { workstation?: (fallbackRegion: string) => WorkstationDeps } = {}) {
  return (state: AcquisitionState): Promise<WorkstationResult> =>
    launchWorkstation((deps.workstation ?? workstationDeps)(state.case.target.region), {
      caseRef: state.case,
      snapshots: snapshotLineage(state),
      rootDeviceName: state.describe?.preIncident.rootDeviceName ?? null,
      requestedBy: 'acquisition workflow',
    });
}

export const handler = createLaunchWorkstationHandler();
