import { ec2AdaptersFor } from './adapters/ec2-side-adapters';
import type { Ec2EntryDeps } from './composition/entry-deps';
import { environment } from './config/env';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, DescribeResult } from './domain/types';
import { describeInstance } from './use-cases/describe-instance';

/** "Describe instance": receives the whole execution state, returns `$.describe`. */
export function createDescribeInstanceHandler(deps: Ec2EntryDeps = {}) {
  return async (state: AcquisitionState): Promise<DescribeResult> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    const env = (deps.env ?? environment)();
    const adapters = (deps.adaptersFor ?? ec2AdaptersFor)(state.case.target, { caseId: state.case.caseId });
    return describeInstance(
      { ...adapters, clock: deps.clock ?? (() => new Date()), tagPrefix: env.TAG_PREFIX },
      state.case.target,
    );
  };
}

export const handler = createDescribeInstanceHandler();
