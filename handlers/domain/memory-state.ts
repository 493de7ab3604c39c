import {
  CAPTURE_SCRIPT_ARGS,
  type ManifestMemory,
  MEMORY_RESULT_PREFIX,
  type MemoryScriptResult,
  type MemoryStatus,
  type MemoryTool,
  parseMemoryScriptResult,
  TOOLS_VOLUME,
} from './memory-capture';

/** A custody action (types.ts's CustodyAction, same shape: types.ts imports this file, not the other way round). */
interface PendingCustodyAction {
  step: string;
  action: string;
  status: 'succeeded' | 'failed' | 'skipped';
  performedAt: string;
  request: Record<string, unknown>;
  result: Record<string, unknown>;
}

/**
 * Where a case's memory capture stands after containment, and what the next poll of "Check snapshot progress" does
 * about it. Pure: the use cases (handlers/use-cases/start-memory-capture.ts, advance-memory-capture.ts) make the
 * calls, this file decides them.
 *
 * Stages, one per poll at most: `creating-volume` (CreateVolume from the tools snapshot) → `attaching`
 * (AttachVolume) → `capturing` (SendCommand, then GetCommandInvocation until terminal) → `detaching` (the channel
 * was closed and the deny made total in the poll that saw the end; DetachVolume, retried) → `done` (the volume's
 * snapshot was requested and joined the disks' snapshots, or nothing was left to snapshot).
 */

export type MemoryStage = 'creating-volume' | 'attaching' | 'capturing' | 'detaching' | 'done';

/** The acquisition channel of one VPC: the group the interfaces sit in while capturing, and where they go back. */
export interface ChannelGroup {
  vpcId: string;
  groupId: string;
  isolationGroupId: string;
}

/** Stored at `$.memory` by "Start memory capture", then at `$.snapshotProgress.memory` by each poll. */
export interface MemoryState {
  status: MemoryStatus;
  stage: MemoryStage;
  /** Why skipped or failed. */
  reason?: string;
  tool?: MemoryTool;
  timeoutSeconds?: number;
  startedAt: string;
  /** When the capture ended (the channel closed and the deny became total), whatever the outcome. */
  endedAt?: string;
  volume?: { volumeId: string; sizeGiB: number; availabilityZone: string; kmsKeyId?: string; createdAt: string };
  attachment?: { device: string; requestedAt: string };
  command?: { commandId: string; sentAt: string; status?: string; cancelRequestedAt?: string };
  /** The capture script's result line, as read from the command output. */
  result?: MemoryScriptResult;
  /** The custody record of the host SHA-256 was written (in the poll that read it). */
  hashRecordedAt?: string;
  channel?: {
    groups: ChannelGroup[];
    interfaces: { networkInterfaceId: string; vpcId: string }[];
    openedAt?: string;
    closedAt?: string;
    /** Interfaces that could not be moved back to the isolation group (retried every poll). */
    closeError?: string;
  };
  /** The case's deny policy made total again when the capture ended. */
  fullDeny?: { status: 'applied' | 'failed' | 'not-needed'; at: string; detail?: string };
  detach?: { attempts: number; requestedAt?: string; detachedAt?: string; lastError?: string; gaveUp?: boolean };
  snapshot?: { snapshotId: string; requestedAt: string; volumeAttached: boolean };
  /** Custody actions a step could not append yet: the next poll appends them first. */
  unrecorded?: PendingCustodyAction[];
}

/** What a poll observed before deciding. */
export interface MemoryObservation {
  /** DescribeVolumes: the capture volume's state and its attachment's state (absent when not attached). */
  volume?: { state: string; attachmentState?: string } | null;
  /** GetCommandInvocation: status and standard output (absent before the command exists, or when not yet listed). */
  command?: { status: string; stdout: string; stderr?: string };
  /** This is the last poll the loop allows: whatever is in flight must end now. */
  lastPoll: boolean;
}

export type MemoryAction =
  | { kind: 'none' }
  | { kind: 'wait' }
  | { kind: 'attach' }
  | { kind: 'send-command' }
  | {
      kind: 'end';
      status: 'captured' | 'failed';
      reason?: string;
      /** Ask Run Command to cancel the command (the cap, or the loop's last poll, while it still runs). */
      cancel: boolean;
      result?: MemoryScriptResult;
    }
  | { kind: 'detach' }
  | { kind: 'snapshot'; volumeAttached: boolean };

/** Margin on top of the capture's own timeout for creating and attaching the volume, before the hard cap. */
export const MEMORY_CAP_MARGIN_SECONDS = 10 * 60;
/** DetachVolume attempts before the volume is snapshotted where it is (still attached, but unmounted and synced). */
export const MAX_DETACH_ATTEMPTS = 5;
/** Run Command's terminal statuses (GetCommandInvocation `Status`). */
const TERMINAL = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut', 'Cancelling', 'Undeliverable', 'Terminated', 'InvalidPlatform', 'AccessDenied', 'DeliveryTimedOut', 'ExecutionTimedOut']);

/** The memory work still needs polls (the snapshot loop does not settle before this is false). */
export function memoryInFlight(state: MemoryState | undefined): boolean {
  return state !== undefined && state.stage !== 'done';
}

/** Past the hard cap: the plan's timeout plus a margin, counted from the start of the memory step. */
export function pastHardCap(state: MemoryState, now: Date): boolean {
  const cap = (state.timeoutSeconds ?? 0) + MEMORY_CAP_MARGIN_SECONDS;
  return now.getTime() - Date.parse(state.startedAt) > cap * 1000;
}

/** The next step of the capture, one per poll. */
export function nextMemoryAction(state: MemoryState, observed: MemoryObservation, now: Date): MemoryAction {
  if (state.stage === 'done') return { kind: 'none' };
  const capped = pastHardCap(state, now);
  const forced = capped || observed.lastPoll;
  const forcedReason = capped
    ? `timeout: the capture did not end within ${state.timeoutSeconds ?? 0} s plus ${MEMORY_CAP_MARGIN_SECONDS} s`
    : 'timeout: the snapshot loop reached its last allowed check';

  switch (state.stage) {
    case 'creating-volume': {
      const v = observed.volume;
      if (v === null) return { kind: 'end', status: 'failed', reason: 'the capture volume is not found', cancel: false };
      if (v?.state === 'error') return { kind: 'end', status: 'failed', reason: 'the capture volume is in state error', cancel: false };
      if (forced) return { kind: 'end', status: 'failed', reason: forcedReason, cancel: false };
      if (v?.state === 'available') return { kind: 'attach' };
      return { kind: 'wait' };
    }
    case 'attaching': {
      const v = observed.volume;
      if (v === null) return { kind: 'end', status: 'failed', reason: 'the capture volume is not found', cancel: false };
      if (forced) return { kind: 'end', status: 'failed', reason: forcedReason, cancel: false };
      if (v?.attachmentState === 'attached') return { kind: 'send-command' };
      if (v?.state === 'available' && !v.attachmentState) {
        return { kind: 'end', status: 'failed', reason: 'the capture volume did not attach', cancel: false };
      }
      return { kind: 'wait' };
    }
    case 'capturing': {
      const c = observed.command;
      if (c && TERMINAL.has(c.status)) {
        const result = readResult(c.stdout);
        if (c.status === 'Success' && result?.status === 'captured') return { kind: 'end', status: 'captured', cancel: false, result };
        const why = result?.reason ?? (result ? `script status ${result.status}` : 'no result line in the command output');
        return { kind: 'end', status: 'failed', reason: `Run Command ${c.status}: ${why}`, cancel: false, ...(result ? { result } : {}) };
      }
      if (forced) return { kind: 'end', status: 'failed', reason: forcedReason, cancel: true };
      return { kind: 'wait' };
    }
    case 'detaching': {
      const v = observed.volume;
      if (v === null) return { kind: 'snapshot', volumeAttached: false };
      if (v && (v.state === 'available' || v.attachmentState === 'detached')) return { kind: 'snapshot', volumeAttached: false };
      if ((state.detach?.attempts ?? 0) >= MAX_DETACH_ATTEMPTS || observed.lastPoll) return { kind: 'snapshot', volumeAttached: true };
      if (v?.attachmentState === 'detaching' && !state.detach?.lastError) return { kind: 'wait' };
      return { kind: 'detach' };
    }
  }
}

function readResult(stdout: string): MemoryScriptResult | undefined {
  return parseMemoryScriptResult(stdout) ?? undefined;
}

/** Device names the capture volume may take: /dev/sdf … /dev/sdp, the range AWS recommends for EBS data volumes. */
const CANDIDATE_DEVICES = 'fghijklmnop'.split('').map((c) => `/dev/sd${c}`);

/** The first candidate device name the instance does not use (its block device mappings, any spelling). */
export function freeDeviceName(used: string[]): string | undefined {
  const letters = new Set(used.map((d) => /^\/dev\/(?:sd|xvd)([a-z])/.exec(d)?.[1]).filter((l): l is string => Boolean(l)));
  return CANDIDATE_DEVICES.find((d) => !letters.has(d.slice(-1)));
}

/** NVMe serial of an EBS volume as Linux lists it under /dev/disk/by-id (the volume id without its hyphen). */
export function nvmeByIdPath(volumeId: string): string {
  return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`;
}

/** Where the command mounts the capture volume on the host. */
export const MEMORY_MOUNT_POINT = '/mnt/forensics-memory';

const SHELL_SAFE = /^[A-Za-z0-9_./-]+$/;

/**
 * The Run Command (AWS-RunShellScript `commands`) that runs the capture script from the capture volume: find the
 * volume's device by its id (NVMe by-id link; on Xen the attach device or its xvd spelling), mount it, run the script
 * with CAPTURE_SCRIPT_ARGS, then sync and unmount whatever the script's exit. Every value put in the text is checked
 * against a strict pattern: nothing from the host or the finding reaches the command line. No credential is in it.
 */
export function captureCommands(input: { volumeId: string; device: string; toolSha256: string }): string[] {
  const { volumeId, device, toolSha256 } = input;
  if (!/^vol-[0-9a-f]{8,17}$/.test(volumeId)) throw new TypeError(`not a volume id: ${volumeId}`);
  if (!/^\/dev\/sd[f-p]$/.test(device)) throw new TypeError(`not a capture device name: ${device}`);
  if (!/^[0-9a-f]{64}$/.test(toolSha256)) throw new TypeError('the tool SHA-256 must be 64 lowercase hex characters');
  const xen = device.replace('/dev/sd', '/dev/xvd');
  const byId = nvmeByIdPath(volumeId);
  const mount = MEMORY_MOUNT_POINT;
  for (const v of [byId, xen, mount, TOOLS_VOLUME.script]) if (!SHELL_SAFE.test(v)) throw new TypeError(`unsafe path ${v}`);
  const fail = (reason: string) => `echo '${MEMORY_RESULT_PREFIX}{"status":"failed","reason":"${reason}"}'`;
  // The script's arguments, in CAPTURE_SCRIPT_ARGS order.
  const args: Record<(typeof CAPTURE_SCRIPT_ARGS)[number], string> = { mountPoint: mount, toolSha256 };
  return [
    'set -u',
    'DEV=""',
    'for i in $(seq 1 60); do',
    `  if [ -e ${byId} ]; then DEV=$(readlink -f ${byId}); break; fi`,
    `  for d in ${device} ${xen}; do if [ -b "$d" ]; then DEV="$d"; break 2; fi; done`,
    '  sleep 2',
    'done',
    `if [ -z "$DEV" ]; then ${fail('capture volume device not found')}; exit 1; fi`,
    // The tools file system is on the device itself, or on its first partition.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'for p in "${DEV}p1" "${DEV}1"; do if [ -b "$p" ]; then DEV="$p"; break; fi; done',
    `mkdir -p ${mount}`,
    `if ! mount -o rw,nosuid,nodev "$DEV" ${mount}; then ${fail('mount failed')}; exit 1; fi`,
    `/bin/sh ${mount}/${TOOLS_VOLUME.script} ${CAPTURE_SCRIPT_ARGS.map((a) => args[a]).join(' ')}`,
    'RC=$?',
    'sync',
    `umount ${mount} || umount -l ${mount}`,
    'sync',
    'exit $RC',
  ];
}

/** The manifest's `memory` section from the state (skipped plans have no state: see `skippedManifestMemory`). */
export function manifestMemoryOf(
  state: MemoryState,
  evidence: { evidenceSnapshotId?: string | null } = {},
): ManifestMemory {
  const status: ManifestMemory['status'] = state.status === 'captured' || state.status === 'skipped' ? state.status : 'failed';
  const channel = state.channel
    ? {
        groups: state.channel.groups.map((g) => ({ vpcId: g.vpcId, groupId: g.groupId })),
        openedAt: state.channel.openedAt ?? null,
        closedAt: state.channel.closedAt ?? null,
        seconds:
          state.channel.openedAt && state.channel.closedAt
            ? Math.max(0, Math.round((Date.parse(state.channel.closedAt) - Date.parse(state.channel.openedAt)) / 1000))
            : null,
      }
    : null;
  return {
    status,
    reason:
      status === 'captured'
        ? null
        : (state.reason ?? (state.status === 'capturing' || state.status === 'planned' ? `not finished (stage ${state.stage})` : 'unknown')),
    tool: state.tool ?? null,
    imageSizeBytes: state.result?.sizeBytes ?? null,
    hostSha256: state.result?.sha256 ?? null,
    volumeId: state.volume?.volumeId ?? null,
    snapshotId: state.snapshot?.snapshotId ?? null,
    evidenceSnapshotId: evidence.evidenceSnapshotId ?? null,
    commandId: state.command?.commandId ?? null,
    startedAt: state.startedAt,
    endedAt: state.endedAt ?? null,
    channel,
  };
}

/** The manifest's `memory` section of a plan that skipped. */
export function skippedManifestMemory(reason: string, detail: string): ManifestMemory {
  return {
    status: 'skipped',
    reason: `${reason}: ${detail}`,
    tool: null,
    imageSizeBytes: null,
    hostSha256: null,
    volumeId: null,
    snapshotId: null,
    evidenceSnapshotId: null,
    commandId: null,
    startedAt: null,
    endedAt: null,
    channel: null,
  };
}
