import { caseLog } from './adapters/logger';
import { type HandlerEnvironment, environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, EvidenceProgress, Target } from './domain/types';
import type { SnapshotEntryDeps } from './composition/entry-deps';
import { workloadSnapshotsFor } from './composition/workload';
import { chainSettingsFor, withDrillLock } from './composition/evidence-chain';
import type { ChainSettings } from './use-cases/evidence-chain';
import { copyEvidence } from './use-cases/copy-evidence';

/** "Copy snapshots with evidence key": receives the whole execution state, returns `$.evidence`. */
export function createCopyEvidenceHandler(deps: SnapshotEntryDeps & { chain?: (target: Target, env: HandlerEnvironment) => ChainSettings } = {}) {
  return async (state: AcquisitionState): Promise<EvidenceProgress> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.acquisition) throw new InvalidInput('acquisition', 'missing: no snapshot was requested');
    if (!state.snapshotProgress) throw new InvalidInput('snapshotProgress', 'missing: snapshots were never checked');
    const env = (deps.env ?? environment)();
    const snapshots = (deps.snapshotsFor ?? workloadSnapshotsFor)(state.case.target, { caseId: state.case.caseId });
    return copyEvidence(
      {
        snapshots,
        clock: deps.clock ?? (() => new Date()),
        tagPrefix: env.TAG_PREFIX,
        evidenceKeyArn: env.EVIDENCE_KEY_ARN,
        concurrency: env.COPY_CONCURRENCY,
        log: caseLog(state.case.caseId, 'copyEvidence'),
        chain: withDrillLock((deps.chain ?? chainSettingsFor)(state.case.target, env), state.case.options),
      },
      { caseRef: state.case, acquisition: state.acquisition, snapshotProgress: state.snapshotProgress },
    );
  };
}

export const handler = createCopyEvidenceHandler();
