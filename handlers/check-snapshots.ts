import { caseLog } from './adapters/logger';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { SnapshotProgress } from './domain/types';
import { type PollPayload, pollPayload } from './domain/poll-payload';
import type { SnapshotEntryDeps } from './composition/entry-deps';
import { workloadSnapshotsFor } from './composition/workload';
import { checkSnapshots } from './use-cases/check-snapshots';

/**
 * "Check snapshot progress". Payload: the whole execution state at `state` and the loop's poll bound at `maxPolls`
 * (the state machine's Choice rule, handlers/domain/poll-schedule.ts). Returns `$.snapshotProgress`.
 */
export function createCheckSnapshotsHandler(deps: SnapshotEntryDeps = {}) {
  return async (payload: PollPayload): Promise<SnapshotProgress> => {
    const { state, maxPolls } = pollPayload(payload);
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.acquisition) throw new InvalidInput('acquisition', 'missing: no snapshot was requested');
    const env = (deps.env ?? environment)();
    const snapshots = (deps.snapshotsFor ?? workloadSnapshotsFor)(state.case.target, { caseId: state.case.caseId });
    return checkSnapshots(
      {
        snapshots,
        clock: deps.clock ?? (() => new Date()),
        tagPrefix: env.TAG_PREFIX,
        maxWaitMinutes: env.MAX_WAIT_MINUTES,
        maxPolls,
        log: caseLog(state.case.caseId, 'checkSnapshots'),
      },
      { acquisition: state.acquisition, ...(state.snapshotProgress ? { previous: state.snapshotProgress } : {}) },
    );
  };
}

export const handler = createCheckSnapshotsHandler();
