import type { Target } from '../domain/types';
import { ssmClient } from './clients/ssm';
import { type Ec2SideAdapters, ec2AdaptersFor } from './ec2-side-adapters';
import { SsmCommandAdapter } from './ssm-command-adapter';
import { type ClientSource, scopeFor } from './workload-scope';

/**
 * The adapters of "Preserve and snapshot": the instance-side ones triage uses too, plus Systems Manager for the
 * memory plan's DescribeInstanceInformation. Kept out of ec2-side-adapters.ts so that triage, on the path to
 * containment like this step, does not bundle (nor build) the SSM client.
 */
export function preserveAdaptersFor(target: Target, via?: ClientSource): Ec2SideAdapters {
  return { ...ec2AdaptersFor(target, via), ssm: new SsmCommandAdapter(ssmClient(scopeFor(target, via), target.region)) };
}
