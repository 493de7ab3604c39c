import { caseLog } from './adapters/logger';
import { type HandlerEnvironment, environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { EvidenceProgress, Target } from './domain/types';
import { type PollPayload, pollPayload } from './domain/poll-payload';
import type { SnapshotEntryDeps } from './composition/entry-deps';
import { workloadSnapshotsFor } from './composition/workload';
import { chainSettingsFor, withDrillLock } from './composition/evidence-chain';
import type { ChainSettings } from './use-cases/evidence-chain';
import { checkEvidenceCopies } from './use-cases/check-evidence-copies';

/**
 * "Check evidence copies". Payload: the whole execution state at `state` and the loop's poll bound at `maxPolls`.
 * Returns the updated `$.evidence`.
 */
export function createCheckEvidenceCopiesHandler(deps: SnapshotEntryDeps & { chain?: (target: Target, env: HandlerEnvironment) => ChainSettings } = {}) {
  return async (payload: PollPayload): Promise<EvidenceProgress> => {
    const { state, maxPolls } = pollPayload(payload);
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.evidence) throw new InvalidInput('evidence', 'missing: no evidence copy was requested');
    const env = (deps.env ?? environment)();
    const snapshots = (deps.snapshotsFor ?? workloadSnapshotsFor)(state.case.target, { caseId: state.case.caseId });
    return checkEvidenceCopies(
      {
        snapshots,
        clock: deps.clock ?? (() => new Date()),
        tagPrefix: env.TAG_PREFIX,
        evidenceKeyArn: env.EVIDENCE_KEY_ARN,
        concurrency: env.COPY_CONCURRENCY,
        maxWaitMinutes: env.MAX_WAIT_MINUTES,
        maxPolls,
        log: caseLog(state.case.caseId, 'checkEvidenceCopies'),
        chain: withDrillLock((deps.chain ?? chainSettingsFor)(state.case.target, env), state.case.options),
      },
      { caseRef: state.case, evidence: state.evidence, ...(state.acquisition ? { acquisition: state.acquisition } : {}) },
    );
  };
}

export const handler = createCheckEvidenceCopiesHandler();
