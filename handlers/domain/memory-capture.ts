/**
 * Memory capture: the contract between the workflow that orchestrates it (plan before containment, acquisition
 * channel, capture volume, SSM Run Command, snapshot into the evidence chain), the host-side capture script on the
 * tools volume, the `forensics tools build` command that makes that volume's snapshot, and the CLI that reads the
 * manifest's `memory` section. Pure types, constants and functions: no SDK imports here.
 *
 * The design in one paragraph: containment is unchanged (same round trips, same transitions). The plan is made in
 * "Preserve and snapshot", beside CreateSnapshots, from facts read in that same round trip (the VPC's SSM interface
 * endpoints, the instance's SSM registration and platform, its memory size). When the plan is `capture`, the deny
 * policy applied at containment exempts exactly the SSM agent's own actions (MEMORY_AGENT_ACTIONS), and after
 * containment the interfaces move from the rule-less isolation group into the VPC's acquisition-channel group
 * (no inbound; egress only TCP 443 to the SSM endpoints' security groups). A volume made from the region's tools
 * snapshot (pinned AVML + capture script) is attached, the script runs under Run Command with a hard
 * `executionTimeout`, writes the compressed image and its SHA-256 onto that volume (never onto the network), and
 * prints one result line. When the capture ends (captured, failed or timed out) the interfaces go back to the
 * rule-less isolation group and the deny becomes total; the volume is detached and snapshotted, and that snapshot
 * follows the disks' evidence chain (re-encrypted, IR-owned, locked). No AWS credential ever goes to the host.
 */

/** Where memory capture stands; `skipped` and `failed` always carry a reason. */
export type MemoryStatus = 'planned' | 'capturing' | 'captured' | 'skipped' | 'failed';

/** Why memory was not captured, when it was decided before anything was done. */
export type MemorySkipReason =
  | 'disabled'
  | 'not-configured-for-region'
  | 'no-ssm-endpoints'
  | 'not-ssm-managed'
  | 'windows'
  | 'unsupported-architecture'
  | 'quarantine-profile'
  | 'no-credentials-to-exempt'
  | 'instance-not-running'
  | 'facts-unavailable';

/** The SSM interface endpoints the acquisition channel may reach (all three are needed by Run Command). */
export const SSM_ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;

/**
 * The actions the SSM agent signs with the instance profile's credentials to receive and answer a Run Command,
 * exempted from the case's deny policy while memory is captured and nothing else (why each: see docs/memory.md).
 */
export const MEMORY_AGENT_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:SendReply',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:OpenControlChannel',
] as const;

/** Decided in "Preserve and snapshot" (stored with `$.acquisition`): capture, or skip with the reason. */
export type MemoryPlan =
  | {
      decision: 'capture';
      /** Tools snapshot of the instance's region (configuration), with the pinned tool it holds. */
      toolsSnapshotId: string;
      tool: MemoryTool;
      availabilityZone: string;
      /** Size of the capture volume: memory plus margin, at least the tools snapshot's size. */
      volumeSizeGiB: number;
      memoryMiB: number;
      /** Per VPC of the instance's interfaces: the security groups of its ssm, ssmmessages and ec2messages endpoints. */
      endpoints: { vpcId: string; securityGroupIds: string[] }[];
      platform: 'linux';
      architecture: 'x86_64' | 'arm64';
      /** Hard cap of the capture (Run Command `executionTimeout`), in seconds. */
      timeoutSeconds: number;
      plannedAt: string;
    }
  | { decision: 'skip'; reason: MemorySkipReason; detail: string; plannedAt: string };

/** The pinned capture tool, as configured and as written on the tools snapshot. */
export interface MemoryTool {
  name: 'avml';
  version: string;
  /** SHA-256 (hex) of the AVML binary on the tools snapshot; the script refuses to run any other binary. */
  sha256: string;
}

/** Layout of the tools volume (ext4, label below) that `forensics tools build` writes and the command mounts. */
export const TOOLS_VOLUME = {
  label: 'FORENSICTOOLS',
  avml: 'bin/avml',
  script: 'bin/capture-memory.sh',
  /** `{ "tool": MemoryTool, "script": { "sha256" }, "builtAt" }` */
  manifest: 'TOOLS.json',
  /** The image and its hash are written here on the capture volume (a copy of the tools volume). */
  imageDir: 'memory',
  image: 'memory/memory.lime.snappy',
  imageSha256: 'memory/memory.lime.snappy.sha256',
} as const;

/**
 * How the Run Command runs the script (the command text is built by the workflow, the script ships on the tools
 * snapshot): the command finds the capture volume's device by its volume id (NVMe serial `vol…` without the hyphen,
 * or the attach device name on Xen), mounts it read-write at a fresh mount point, runs
 * `/bin/sh <mount>/bin/capture-memory.sh <mount> <tool sha256>`, then `sync` and unmounts, whatever the script's
 * exit. The script never touches the network and never reads AWS credentials; it verifies the binary's SHA-256
 * before running it (`refused` otherwise), writes TOOLS_VOLUME.image and TOOLS_VOLUME.imageSha256, and prints one
 * MEMORY_RESULT_PREFIX line.
 */
export const CAPTURE_SCRIPT_ARGS = ['mountPoint', 'toolSha256'] as const;

/** Tags on a tools snapshot (`forensics tools build`): how doctor and the plan recognise one. */
export const TOOLS_SNAPSHOT_TAGS = {
  role: 'memory-tools',
  toolVersion: 'tool-version',
  toolSha256: 'tool-sha256',
} as const;

/** The one line of the capture script's standard output the workflow reads (Run Command output is bounded). */
export const MEMORY_RESULT_PREFIX = 'FORENSICS_MEMORY_RESULT ';

/** What the capture script prints after MEMORY_RESULT_PREFIX, as one JSON object. */
export interface MemoryScriptResult {
  status: 'captured' | 'refused' | 'failed';
  /** SHA-256 (hex) of the image file as written on the capture volume, computed on the host. */
  sha256?: string;
  sizeBytes?: number;
  /** The image's path relative to the volume's root (TOOLS_VOLUME.image). */
  image?: string;
  /** The SHA-256 of the binary actually run (equal to the pinned one, or the reason for `refused`). */
  toolSha256?: string;
  reason?: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Reads the capture script's result from Run Command's standard output (the last result line wins; anything else
 * on stdout is ignored). Returns null when no well-formed result line is there: the caller records the capture as
 * failed with the output's tail, never as captured.
 */
export function parseMemoryScriptResult(stdout: string): MemoryScriptResult | null {
  const lines = stdout.split(/\r?\n/).filter((l) => l.startsWith(MEMORY_RESULT_PREFIX));
  const last = lines.at(-1);
  if (!last) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(last.slice(MEMORY_RESULT_PREFIX.length));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const r = parsed as Record<string, unknown>;
  if (r.status !== 'captured' && r.status !== 'refused' && r.status !== 'failed') return null;
  if (r.status === 'captured') {
    if (typeof r.sha256 !== 'string' || !SHA256_HEX.test(r.sha256)) return null;
    if (typeof r.sizeBytes !== 'number' || !Number.isSafeInteger(r.sizeBytes) || r.sizeBytes <= 0) return null;
  }
  const out: MemoryScriptResult = { status: r.status };
  if (typeof r.sha256 === 'string' && SHA256_HEX.test(r.sha256)) out.sha256 = r.sha256;
  if (typeof r.sizeBytes === 'number' && Number.isSafeInteger(r.sizeBytes)) out.sizeBytes = r.sizeBytes;
  if (typeof r.image === 'string') out.image = r.image;
  if (typeof r.toolSha256 === 'string' && SHA256_HEX.test(r.toolSha256)) out.toolSha256 = r.toolSha256;
  if (typeof r.reason === 'string') out.reason = r.reason.slice(0, 500);
  return out;
}

/** The manifest's `memory` section (optional, additive to schema 1.0). */
export interface ManifestMemory {
  status: Exclude<MemoryStatus, 'planned' | 'capturing'>;
  /** Why skipped or failed. */
  reason: string | null;
  tool: MemoryTool | null;
  imageSizeBytes: number | null;
  /** The SHA-256 the host computed and printed; recorded in the custody log the moment it was read. */
  hostSha256: string | null;
  /** The capture volume in the workload account, its snapshot, and the IR-owned evidence snapshot. */
  volumeId: string | null;
  snapshotId: string | null;
  evidenceSnapshotId: string | null;
  commandId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The acquisition-channel group per VPC, and the seconds the interfaces spent in it. */
  channel: { groups: { vpcId: string; groupId: string }[]; openedAt: string | null; closedAt: string | null; seconds: number | null } | null;
}
