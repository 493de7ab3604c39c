import { caseLog } from './adapters/logger';
import type { EntryDeps } from './composition/entry-deps';
import { type MemoryChannelAdapters, memoryChannelAdaptersFor, memoryVolumeKey } from './composition/memory-channel';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { MemoryState } from './domain/memory-state';
import type { AcquisitionState, Target } from './domain/types';
import { notCaptured, startMemoryCapture } from './use-cases/start-memory-capture';

/** "Start memory capture": receives the whole execution state, returns `$.memory` (its custody actions in `unrecorded`). */
export function createStartMemoryCaptureHandler(
  deps: EntryDeps & { adaptersFor?: (target: Target, via: { caseId: string }) => MemoryChannelAdapters } = {},
) {
  return async (state: AcquisitionState): Promise<MemoryState> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    const env = (deps.env ?? environment)();
    const { target, caseId } = state.case;
    const clock = deps.clock ?? (() => new Date());
    // Nothing to build for a case that captures nothing.
    if (state.acquisition?.memoryPlan?.decision !== 'capture') return notCaptured(state.acquisition?.memoryPlan, clock().toISOString());
    const adapters = (deps.adaptersFor ?? memoryChannelAdaptersFor)(target, { caseId });
    const key = memoryVolumeKey(env, target.region);
    return startMemoryCapture(
      {
        securityGroups: adapters.securityGroups,
        volumes: adapters.volumes,
        iam: () => adapters.iam,
        clock,
        tagPrefix: env.TAG_PREFIX,
        ...(key ? { volumeKmsKeyId: key } : {}),
        log: caseLog(caseId, 'startMemoryCapture'),
      },
      state,
    );
  };
}

export const handler = createStartMemoryCaptureHandler();
