import { pendingCustodyActions } from '../domain/case-evidence';
import { preIncidentOf } from '../domain/instance-store';
import { preservationOf } from '../domain/preservation';
import { summarizePreIncident } from '../domain/manifest';
import type { Clock, CustodyLog, EvidenceCaseTable, EvidenceStore } from '../domain/ports';
import type { AcquisitionState, ContainmentRecord, ContainmentResult } from '../domain/types';
import { caseEvidenceObjects, requireCase, writeEvidenceOnce } from './case-evidence-objects';

export { pendingCustodyActions };

export interface RecordContainmentDeps {
  custody: CustodyLog;
  store: EvidenceStore;
  cases: EvidenceCaseTable;
  clock: Clock;
}

/** `details` key marking that the deferred custody records were written (read by the failure recorder too). */
export const DEFERRED_CUSTODY_MARK = 'deferredCustodyRecordedAt';

/**
 * "Record containment", the state after containment: writes what the path to containment deferred so that nothing
 * slowed it down (and so that no function on that path carries an evidence-store client).
 *
 * 1. The deferred custody records (case opened, finding received, describe, preservation and snapshot, containment),
 *    once: a mark in the case's details keeps a retried step from writing them twice.
 * 2. `instance.json` (the pre-incident state) and `finding-<id>.json` (the raw input), each written once.
 * 3. The case details: pre-incident summary, snapshots, preservation and containment (what `release` needs).
 */
export async function recordContainment(
  deps: RecordContainmentDeps,
  state: AcquisitionState,
  containment: ContainmentResult,
  rawEvent: unknown = state.rawEvent,
): Promise<ContainmentRecord> {
  const caseId = state.case.caseId;
  const full: AcquisitionState = { ...state, containment };
  const current = await requireCase(deps.cases, caseId);

  let custodyRecords = 0;
  if (!current.details[DEFERRED_CUSTODY_MARK]) {
    const actions = pendingCustodyActions(full);
    await deps.custody.append(state.case, actions);
    await deps.cases.updateCase(caseId, { details: { [DEFERRED_CUSTODY_MARK]: deps.clock().toISOString() } });
    custodyRecords = actions.length;
  }

  await writeEvidenceOnce(deps, current, caseEvidenceObjects(full, rawEvent));

  await deps.cases.updateCase(caseId, {
    details: {
      ...(state.describe
        ? {
            preIncident: summarizePreIncident(preIncidentOf(state) ?? state.describe.preIncident),
            // With ports and zones: what `release` registers again (the summary keeps only the ARNs).
            targetGroups: (preIncidentOf(state) ?? state.describe.preIncident).targetGroups,
          }
        : {}),
      ...(state.acquisition
        ? {
            snapshotRequestedAt: state.acquisition.snapshotRequestedAt,
            snapshots: state.acquisition.snapshots,
            preservation: preservationOf(full),
          }
        : {}),
      containment: {
        startedAt: containment.startedAt,
        containedAt: containment.containedAt,
        groups: containment.groups,
        networkInterfaces: containment.networkInterfaces,
        ...(containment.credentials ? { credentials: containment.credentials } : {}),
      },
    },
  });
  return { recordedAt: deps.clock().toISOString(), custody: custodyRecords > 0 ? 'written' : 'already-written', custodyRecords };
}
