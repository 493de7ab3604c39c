import { preserveAdaptersFor } from './adapters/preserve-side-adapters';
import { environment, toolsSnapshotsOf } from './config/env';
import { InvalidInput } from './domain/errors';
import type { AcquisitionResult, AcquisitionState } from './domain/types';
import type { Ec2EntryDeps } from './composition/entry-deps';
import { preserveAndSnapshot } from './use-cases/preserve-and-snapshot';

/** "Preserve and snapshot": receives the whole execution state, returns `$.acquisition`. */
export function createPreserveAndSnapshotHandler(deps: Ec2EntryDeps = {}) {
  return async (state: AcquisitionState): Promise<AcquisitionResult> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.describe) throw new InvalidInput('describe', 'missing: the describe step has not run');
    const env = (deps.env ?? environment)();
    const adapters = (deps.adaptersFor ?? preserveAdaptersFor)(state.case.target, { caseId: state.case.caseId });
    const { vpcEndpoints, ssm, memoryVolumes } = adapters;
    const memory =
      vpcEndpoints && ssm && memoryVolumes
        ? {
            endpoints: vpcEndpoints,
            ssm,
            volumes: memoryVolumes,
            instanceTypes: adapters.instances,
            settings: {
              enabled: env.MEMORY_CAPTURE !== 'false',
              tagPrefix: env.TAG_PREFIX,
              toolsSnapshots: toolsSnapshotsOf(env),
              ...(env.MEMORY_TOOL_VERSION ? { toolVersion: env.MEMORY_TOOL_VERSION } : {}),
              ...(env.MEMORY_TOOL_SHA256 ? { toolSha256: env.MEMORY_TOOL_SHA256 } : {}),
              timeoutMinutes: env.MEMORY_CAPTURE_TIMEOUT_MINUTES ?? 30,
              defaultQuarantineProfile: env.DEFAULT_QUARANTINE_PROFILE === 'true',
            },
          }
        : undefined;
    return preserveAndSnapshot(
      { ...adapters, clock: deps.clock ?? (() => new Date()), tagPrefix: env.TAG_PREFIX, ...(memory ? { memory } : {}) },
      { caseRef: state.case, describe: state.describe },
    );
  };
}

export const handler = createPreserveAndSnapshotHandler();
