import type { Ec2MemoryVolumeAdapter } from '../adapters/ec2-memory-volume-adapter';
import type { Ec2VpcEndpointAdapter } from '../adapters/ec2-vpc-endpoint-adapter';
import type { SsmCommandAdapter } from '../adapters/ssm-command-adapter';
import { errorSummary } from '../domain/errors';
import { type MemoryPlan, SSM_ENDPOINT_SERVICES } from '../domain/memory-capture';
import { type MemoryFacts, type MemorySettings, planMemoryCapture, skipBySettings } from '../domain/memory-plan';
import type { Clock } from '../domain/ports';
import type { CaseRef, CustodyAction, DescribeResult } from '../domain/types';

/** The reads the plan needs, on the instance's side; each built on first use (a skip by settings builds none). */
export interface PlanMemoryDeps {
  endpoints: Pick<Ec2VpcEndpointAdapter, 'interfaceEndpoints'>;
  ssm: Pick<SsmCommandAdapter, 'instanceInformation'>;
  instanceTypes: { describeInstanceTypeMemory(instanceType: string): Promise<{ memoryMiB?: number; architectures: string[] }> };
  volumes: Pick<Ec2MemoryVolumeAdapter, 'describeToolsSnapshot'>;
  clock: Clock;
  /** Deployment settings; the case's options (memory, quarantine profile, revoke mode) are added from the case. */
  settings: Omit<MemorySettings, 'region' | 'caseOption' | 'quarantineProfile' | 'revokeMode'> & { defaultQuarantineProfile: boolean };
}

const STEP = 'preserveAndSnapshot';

/**
 * The memory plan, made in "Preserve and snapshot" beside CreateSnapshots: the facts are read in parallel (VPC
 * endpoints, SSM registration, instance type, tools snapshot) and handed to the pure decision. Never throws and never
 * delays the snapshot: a failed read is a skip `facts-unavailable` naming the error.
 */
export async function planMemory(
  deps: PlanMemoryDeps,
  input: { caseRef: CaseRef; describe: DescribeResult },
): Promise<{ plan: MemoryPlan; action: CustodyAction }> {
  const { caseRef, describe } = input;
  const pre = describe.preIncident;
  const region = caseRef.target.region;
  const settings: MemorySettings = {
    ...deps.settings,
    region,
    ...(caseRef.options?.memory !== undefined ? { caseOption: caseRef.options.memory } : {}),
    quarantineProfile: caseRef.options?.quarantineProfile ?? deps.settings.defaultQuarantineProfile,
    revokeMode: caseRef.options?.revoke ?? 'instance',
  };
  const startedAt = deps.clock().toISOString();
  const bySettings = skipBySettings(settings, startedAt);
  if (bySettings) return { plan: bySettings, action: planAction(bySettings, { instanceId: caseRef.target.instanceId }) };

  const vpcIds = [...new Set(pre.networkInterfaces.map((e) => e.vpcId).filter((v) => v))].sort();
  const toolsSnapshotId = settings.toolsSnapshots[region] as string;
  const errors: string[] = [];
  const read = <T>(what: string, p: Promise<T>): Promise<T | undefined> =>
    p.catch((err: unknown) => {
      errors.push(`${what}: ${errorSummary(err)}`);
      return undefined;
    });
  const [endpoints, ssm, type, tools] = await Promise.all([
    read('DescribeVpcEndpoints', deps.endpoints.interfaceEndpoints(vpcIds, SSM_ENDPOINT_SERVICES.map((s) => `com.amazonaws.${region}.${s}`))),
    read('DescribeInstanceInformation', deps.ssm.instanceInformation(caseRef.target.instanceId)),
    pre.instanceType
      ? read('DescribeInstanceTypes', deps.instanceTypes.describeInstanceTypeMemory(pre.instanceType))
      : Promise.resolve(undefined),
    read('DescribeSnapshots (tools snapshot)', deps.volumes.describeToolsSnapshot(toolsSnapshotId)),
  ]);
  const facts: MemoryFacts = {
    instanceState: pre.instanceState,
    ...(pre.availabilityZone ? { availabilityZone: pre.availabilityZone } : {}),
    vpcIds,
    endpoints: endpoints ?? [],
    ssm: ssm ?? null,
    ...(type?.memoryMiB !== undefined ? { memoryMiB: type.memoryMiB } : {}),
    architectures: type?.architectures ?? [],
    ...(tools !== undefined ? { toolsSnapshot: tools } : {}),
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
  };
  const plan = planMemoryCapture(facts, settings, deps.clock().toISOString());
  return {
    plan,
    action: planAction(plan, {
      instanceId: caseRef.target.instanceId,
      toolsSnapshotId,
      vpcIds,
      facts: {
        endpoints: facts.endpoints,
        ssm: facts.ssm,
        memoryMiB: facts.memoryMiB ?? null,
        architectures: facts.architectures,
        toolsSnapshot: facts.toolsSnapshot ?? null,
      },
    }),
  };
}

function planAction(plan: MemoryPlan, request: Record<string, unknown>): CustodyAction {
  return {
    step: STEP,
    action: 'memory-plan',
    status: plan.decision === 'capture' ? 'succeeded' : 'skipped',
    performedAt: plan.plannedAt,
    request,
    result: { ...plan },
  };
}
