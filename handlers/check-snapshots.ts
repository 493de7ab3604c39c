import { ec2AdaptersFor } from './adapters/ec2-side-adapters';
import { caseLog } from './adapters/logger';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, SnapshotProgress } from './domain/types';
import type { EntryDeps } from './describe-instance';
import { checkSnapshots } from './use-cases/check-snapshots';

/** "Check snapshot progress": receives the whole execution state, returns `$.snapshotProgress`. */
export function createCheckSnapshotsHandler(deps: EntryDeps = {}) {
  return async (state: AcquisitionState): Promise<SnapshotProgress> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.acquisition) throw new InvalidInput('acquisition', 'missing: no snapshot was requested');
    const env = (deps.env ?? environment)();
    const { snapshots } = (deps.adaptersFor ?? ec2AdaptersFor)(state.case.target, { caseId: state.case.caseId });
    return checkSnapshots(
      {
        snapshots,
        clock: deps.clock ?? (() => new Date()),
        tagPrefix: env.TAG_PREFIX,
        maxWaitMinutes: env.MAX_WAIT_MINUTES,
        log: caseLog(state.case.caseId, 'checkSnapshots'),
      },
      { acquisition: state.acquisition, ...(state.snapshotProgress ? { previous: state.snapshotProgress } : {}) },
    );
  };
}

export const handler = createCheckSnapshotsHandler();
