import { ec2AdaptersFor } from './adapters/ec2-side-adapters';
import type { Ec2EntryDeps } from './composition/entry-deps';
import { environment } from './config/env';
import { requireDrillCanary } from './domain/drill';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, DescribeResult } from './domain/types';
import { describeInstance } from './use-cases/describe-instance';

/** "Describe instance": receives the whole execution state, returns `$.describe`. */
export function createDescribeInstanceHandler(deps: Ec2EntryDeps = {}) {
  return async (state: AcquisitionState): Promise<DescribeResult> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    const env = (deps.env ?? environment)();
    const adapters = (deps.adaptersFor ?? ec2AdaptersFor)(state.case.target, { caseId: state.case.caseId });
    const described = await describeInstance(
      { ...adapters, clock: deps.clock ?? (() => new Date()), tagPrefix: env.TAG_PREFIX },
      state.case.target,
    );
    // Before anything is changed on the instance: a drill case acquires only the canary its drill launched.
    requireDrillCanary(state.case.options, described.preIncident.tags, env.TAG_PREFIX);
    return described;
  };
}

export const handler = createDescribeInstanceHandler();
