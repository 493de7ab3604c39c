import { ec2Client } from '../adapters/clients/ec2';
import { iamClient } from '../adapters/clients/iam';
import { Ec2MemoryVolumeAdapter } from '../adapters/ec2-memory-volume-adapter';
import { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import { IamRoleAdapter } from '../adapters/iam-role-adapter';
import { scopeFor } from '../adapters/workload-scope';
import type { HandlerEnvironment } from '../config/env';
import { evidenceKeyInRegion } from '../domain/evidence-regions';
import type { Target } from '../domain/types';

/**
 * The memory capture's adapters that open and close the acquisition channel and make the capture volume (EC2, IAM),
 * on the instance's side (its account and region: the responder session, or own). "Start memory capture" and
 * "Record failure" need no more: they do not bundle the SSM client, which only the poll step (./memory.ts) uses.
 */
export interface MemoryChannelAdapters {
  securityGroups: Ec2SecurityGroupAdapter;
  volumes: Ec2MemoryVolumeAdapter;
  iam: IamRoleAdapter;
}

export function memoryChannelAdaptersFor(target: Target, via: { caseId: string }): MemoryChannelAdapters {
  const scope = scopeFor(target, via);
  const ec2 = ec2Client(scope, target.region);
  return {
    securityGroups: new Ec2SecurityGroupAdapter(ec2),
    volumes: new Ec2MemoryVolumeAdapter(ec2),
    iam: new IamRoleAdapter(iamClient(scope)),
  };
}

/**
 * The key the capture volume is encrypted with: the evidence key of the instance's region (the one the workload
 * copies use, handlers/domain/evidence-regions.ts). Undefined when no evidence key exists there (a single-Region key
 * elsewhere): the volume is then encrypted with the account's EBS default key, and its evidence copy re-encrypts it.
 */
export function memoryVolumeKey(env: Pick<HandlerEnvironment, 'EVIDENCE_KEY_ARN'>, region: string): string | undefined {
  try {
    return evidenceKeyInRegion(env.EVIDENCE_KEY_ARN, region);
  } catch {
    return undefined;
  }
}
