import { ssmClient } from '../adapters/clients/ssm';
import { SsmCommandAdapter } from '../adapters/ssm-command-adapter';
import { scopeFor } from '../adapters/workload-scope';
import type { Target } from '../domain/types';
import { type MemoryChannelAdapters, memoryChannelAdaptersFor } from './memory-channel';

/** Every adapter of the memory capture on the instance's side, Run Command included ("Check snapshot progress"). */
export interface MemoryAdapters extends MemoryChannelAdapters {
  ssm: SsmCommandAdapter;
}

export function memoryAdaptersFor(target: Target, via: { caseId: string }): MemoryAdapters {
  return { ...memoryChannelAdaptersFor(target, via), ssm: new SsmCommandAdapter(ssmClient(scopeFor(target, via), target.region)) };
}
