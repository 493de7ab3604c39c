import { caseLog } from './adapters/logger';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { SnapshotProgress } from './domain/types';
import { type PollPayload, pollPayload } from './domain/poll-payload';
import type { SnapshotEntryDeps } from './composition/entry-deps';
import { workloadSnapshotsFor } from './composition/workload';
import { type EvidenceDeps, evidenceDeps } from './composition/evidence';
import { type MemoryAdapters, memoryAdaptersFor } from './composition/memory';
import type { Target } from './domain/types';
import { checkSnapshots } from './use-cases/check-snapshots';

/**
 * "Check snapshot progress". Payload: the whole execution state at `state` and the loop's poll bound at `maxPolls`
 * (the state machine's Choice rule, handlers/domain/poll-schedule.ts). Returns `$.snapshotProgress`.
 */
export function createCheckSnapshotsHandler(
  deps: SnapshotEntryDeps & {
    memoryAdaptersFor?: (target: Target, via: { caseId: string }) => MemoryAdapters;
    evidence?: () => Pick<EvidenceDeps, 'custody'>;
  } = {},
) {
  return async (payload: PollPayload): Promise<SnapshotProgress> => {
    const { state, maxPolls } = pollPayload(payload);
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.acquisition) throw new InvalidInput('acquisition', 'missing: no snapshot was requested');
    const env = (deps.env ?? environment)();
    const snapshots = (deps.snapshotsFor ?? workloadSnapshotsFor)(state.case.target, { caseId: state.case.caseId });
    const clock = deps.clock ?? (() => new Date());
    const log = caseLog(state.case.caseId, 'checkSnapshots');
    // The memory capture's calls, built only when a poll has memory work to do.
    const memory = () => {
      const adapters = (deps.memoryAdaptersFor ?? memoryAdaptersFor)(state.case.target, { caseId: state.case.caseId });
      return {
        securityGroups: adapters.securityGroups,
        volumes: adapters.volumes,
        ssm: adapters.ssm,
        iam: () => adapters.iam,
        custody: () => (deps.evidence ?? evidenceDeps)().custody,
        clock,
        tagPrefix: env.TAG_PREFIX,
        log,
      };
    };
    return checkSnapshots(
      {
        snapshots,
        clock,
        tagPrefix: env.TAG_PREFIX,
        maxWaitMinutes: env.MAX_WAIT_MINUTES,
        maxPolls,
        log,
        memory,
      },
      {
        acquisition: state.acquisition,
        ...(state.snapshotProgress ? { previous: state.snapshotProgress } : {}),
        state,
        ...(state.memory ? { memory: state.memory } : {}),
      },
    );
  };
}

export const handler = createCheckSnapshotsHandler();
