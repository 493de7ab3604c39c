import { type MemoryPlan, type MemorySkipReason, type MemoryTool, SSM_ENDPOINT_SERVICES, TOOLS_SNAPSHOT_TAGS } from './memory-capture';
import type { RevokeMode } from './types';

/**
 * The memory-capture decision, pure: made in "Preserve and snapshot" from facts read beside CreateSnapshots (so the
 * path to containment gains no round trip) and from the deployment's settings. Every branch is a unit test.
 */

/** Deployment settings (forensics:memoryCapture…, handlers/config/env.ts) and the case's own choices. */
export interface MemorySettings {
  /** The instance's region (the tools snapshot is per region). */
  region: string;
  /** `forensics:memoryCapture`. */
  enabled: boolean;
  /** The product's tag prefix (the tools snapshot's tags are under it). */
  tagPrefix?: string;
  /** The case's `options.memory` (a manual request may set false); absent: the deployment setting. */
  caseOption?: boolean;
  /** `forensics:memoryToolsSnapshots`: region → tools snapshot id. */
  toolsSnapshots: Record<string, string>;
  toolVersion?: string;
  toolSha256?: string;
  timeoutMinutes: number;
  /** The case's credential containment and quarantine choice (case option over deployment default). */
  revokeMode: RevokeMode;
  quarantineProfile: boolean;
}

/** What the facts calls found; `error` when one of them failed (the plan is then a skip, never a failed step). */
export interface MemoryFacts {
  instanceState: string;
  availabilityZone?: string;
  /** The VPCs of the instance's interfaces. */
  vpcIds: string[];
  /** The VPCs' interface endpoints (any service; filtered here). */
  endpoints: { vpcId: string; serviceName: string; state: string; securityGroupIds: string[] }[];
  /** DescribeInstanceInformation for the instance; null when SSM does not know it. */
  ssm: { pingStatus: string; platformType: string } | null;
  /** DescribeInstanceTypes of the instance's type. */
  memoryMiB?: number;
  architectures: string[];
  /**
   * The tools snapshot as DescribeSnapshots sees it; null when not found. Its tags are visible to its owner only (a
   * snapshot shared from the IR account shows none).
   */
  toolsSnapshot?: { sizeGiB: number; state: string; tags?: Record<string, string> } | null;
  /** The first error of the facts calls. */
  error?: string;
}

/** Capture volume: the image (compressed, but never assume compression) plus a tenth, plus the tools. */
export function memoryVolumeSizeGiB(memoryMiB: number, toolsSnapshotGiB: number): number {
  return Math.max(Math.ceil((memoryMiB * 1.1) / 1024) + 1, Math.ceil(toolsSnapshotGiB), 1);
}

const endpointService = (region: string, service: string) => `com.amazonaws.${region}.${service}`;

/**
 * The skip that the settings alone decide (memory off, no tools snapshot for the region, quarantine profile): then
 * no facts call is made at all. Undefined when the facts decide.
 */
export function skipBySettings(settings: MemorySettings, now: string): MemoryPlan | undefined {
  const skip = (reason: MemorySkipReason, detail: string): MemoryPlan => ({ decision: 'skip', reason, detail, plannedAt: now });
  if (!settings.enabled) return skip('disabled', 'forensics:memoryCapture is false');
  if (settings.caseOption === false) return skip('disabled', 'the case asked for no memory capture (options.memory = false)');
  if (!settings.toolsSnapshots[settings.region]) {
    return skip('not-configured-for-region', `no tools snapshot configured for ${settings.region} (forensics:memoryToolsSnapshots)`);
  }
  if (!settings.toolVersion || !settings.toolSha256) {
    return skip('not-configured-for-region', 'forensics:memoryToolVersion or forensics:memoryToolSha256 is not set');
  }
  if (settings.quarantineProfile) {
    return skip('quarantine-profile', 'the quarantine instance profile is requested: the SSM agent would lose its credentials');
  }
  return undefined;
}

/** The case's memory plan. `now` is the plan's time; `facts` undefined when they could not be read at all. */
export function planMemoryCapture(facts: MemoryFacts | undefined, settings: MemorySettings, now: string): MemoryPlan {
  const bySettings = skipBySettings(settings, now);
  if (bySettings) return bySettings;
  const skip = (reason: MemorySkipReason, detail: string): MemoryPlan => ({ decision: 'skip', reason, detail, plannedAt: now });
  const region = settings.region;
  const toolsSnapshotId = settings.toolsSnapshots[region] as string;
  if (!facts) return skip('facts-unavailable', 'no facts were read');
  if (facts.error) return skip('facts-unavailable', facts.error);
  if (facts.instanceState !== 'running') return skip('instance-not-running', `instance state is ${facts.instanceState}`);
  if (facts.toolsSnapshot === null) return skip('not-configured-for-region', `tools snapshot ${toolsSnapshotId} not found in ${region}`);
  if (facts.toolsSnapshot && facts.toolsSnapshot.state !== 'completed') {
    return skip('not-configured-for-region', `tools snapshot ${toolsSnapshotId} is ${facts.toolsSnapshot.state}`);
  }
  // A tools snapshot tagged with another tool than the configured one is not used (shared ones carry no tags here).
  const taggedSha = facts.toolsSnapshot?.tags?.[`${settings.tagPrefix ?? 'forensics'}:${TOOLS_SNAPSHOT_TAGS.toolSha256}`];
  if (taggedSha !== undefined && taggedSha !== settings.toolSha256) {
    return skip('not-configured-for-region', `tools snapshot ${toolsSnapshotId} holds a tool with SHA-256 ${taggedSha}, not the configured forensics:memoryToolSha256`);
  }
  if (!facts.ssm) return skip('not-ssm-managed', 'Systems Manager does not know the instance (DescribeInstanceInformation)');
  if (facts.ssm.platformType === 'Windows') return skip('windows', 'the instance runs Windows: AVML captures Linux only');
  if (facts.ssm.platformType !== 'Linux') return skip('not-ssm-managed', `platform ${facts.ssm.platformType || 'unknown'} is not Linux`);
  if (facts.ssm.pingStatus !== 'Online') return skip('not-ssm-managed', `the SSM agent is ${facts.ssm.pingStatus || 'not reporting'}`);

  const architecture = facts.architectures.includes('arm64') ? 'arm64' : facts.architectures.includes('x86_64') ? 'x86_64' : undefined;
  if (!architecture) return skip('unsupported-architecture', `architectures ${facts.architectures.join(', ') || 'unknown'}: AVML ships x86_64 and arm64`);
  if (!facts.memoryMiB || facts.memoryMiB <= 0) return skip('facts-unavailable', 'the instance type reports no memory size');
  if (!facts.availabilityZone) return skip('facts-unavailable', 'the instance has no availability zone');

  if (facts.vpcIds.length === 0) return skip('no-ssm-endpoints', 'the instance has no interface in a VPC');
  const endpoints: { vpcId: string; securityGroupIds: string[] }[] = [];
  for (const vpcId of facts.vpcIds) {
    const inVpc = facts.endpoints.filter((e) => e.vpcId === vpcId && e.state.toLowerCase() === 'available');
    const missing = SSM_ENDPOINT_SERVICES.filter((s) => !inVpc.some((e) => e.serviceName === endpointService(region, s)));
    if (missing.length > 0) {
      return skip('no-ssm-endpoints', `VPC ${vpcId} has no available interface endpoint for ${missing.join(', ')}`);
    }
    const groups = [
      ...new Set(
        inVpc.filter((e) => SSM_ENDPOINT_SERVICES.some((s) => e.serviceName === endpointService(region, s))).flatMap((e) => e.securityGroupIds),
      ),
    ].sort();
    if (groups.length === 0) return skip('no-ssm-endpoints', `the SSM endpoints of VPC ${vpcId} have no security group`);
    endpoints.push({ vpcId, securityGroupIds: groups });
  }

  const tool: MemoryTool = { name: 'avml', version: settings.toolVersion as string, sha256: settings.toolSha256 as string };
  return {
    decision: 'capture',
    toolsSnapshotId,
    tool,
    availabilityZone: facts.availabilityZone,
    volumeSizeGiB: memoryVolumeSizeGiB(facts.memoryMiB, facts.toolsSnapshot?.sizeGiB ?? 1),
    memoryMiB: facts.memoryMiB,
    endpoints,
    platform: 'linux',
    architecture,
    timeoutSeconds: settings.timeoutMinutes * 60,
    plannedAt: now,
  };
}
