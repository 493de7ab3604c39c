import type { Ec2SnapshotAdapter, SnapshotStatus } from '../adapters/ec2-snapshot-adapter';
import { errorMessage, errorName } from '../domain/errors';
import { isPollBudgetSpent, isTimedOut, nextCheckSeconds, slowestProgress, stalledChecks, untilCap, withinPollBudget } from '../domain/poll-schedule';
import type { Clock, Log } from '../domain/ports';
import { type MemoryState, memoryInFlight } from '../domain/memory-state';
import type { AcquisitionResult, AcquisitionState, ProgressState, SnapshotProgress, SnapshotRef, VolumeProgress } from '../domain/types';
import { type AdvanceMemoryDeps, advanceMemoryCapture } from './advance-memory-capture';
import { memoryAfterStepFailure } from './start-memory-capture';

export interface CheckSnapshotsDeps {
  snapshots: Ec2SnapshotAdapter;
  clock: Clock;
  tagPrefix: string;
  maxWaitMinutes: number;
  /**
   * Checks the state machine allows in this wait loop (its Choice rule, from the history budget; passed in the Task's
   * payload). The last allowed check settles what is still pending as a timeout. Undefined: no count limit known.
   */
  maxPolls?: number;
  /** Structured log line for what is worth knowing but not worth failing for. */
  log?: Log;
  /** The memory capture's calls (built on first use: only a case with a capture in flight needs them). */
  memory?: () => AdvanceMemoryDeps;
}

/** Poll intervals while memory is in flight: short around the volume, longer while the command runs. */
const MEMORY_VOLUME_POLL_SECONDS = 20;
const MEMORY_CAPTURE_POLL_SECONDS = 120;

/**
 * EC2 is eventually consistent: a snapshot created a moment ago may not be listed yet. Only after this long is a
 * snapshot that DescribeSnapshots does not return treated as lost.
 */
export const NOT_FOUND_GRACE_SECONDS = 300;

const seconds = (from: string, to: Date) => Math.max(0, (to.getTime() - Date.parse(from)) / 1000);

/** EC2 snapshot state → our progress state. `recoverable` means the snapshot was deleted (it is in the Recycle Bin). */
export function progressStateOf(state: string): ProgressState {
  switch (state) {
    case 'completed':
      return 'completed';
    case 'error':
    case 'recoverable':
      return 'error';
    default:
      return 'pending';
  }
}

/**
 * One poll of the snapshots' progress. Each snapshot settles on its own: one in `error` (with EC2's StateMessage)
 * never stops the others. Once the time cap has passed, those still pending become `timeout` and the loop ends.
 * Settled snapshots are not described again.
 *
 * The first check also tags each snapshot with its source volume and device — deliberately here, off the path to
 * containment; later checks repair the tags of any snapshot described without them. Tagging failures are logged,
 * never fatal: the volume ↔ snapshot mapping is in the acquisition result and the manifest anyway.
 */
export async function checkSnapshots(
  deps: CheckSnapshotsDeps,
  input: { acquisition: AcquisitionResult; previous?: SnapshotProgress; state?: AcquisitionState; memory?: MemoryState },
): Promise<SnapshotProgress> {
  const now = deps.clock();
  const checkedAt = now.toISOString();
  const attempt = (input.previous?.attempt ?? 0) + 1;
  const firstCheckAt = input.previous?.firstCheckAt ?? checkedAt;
  const lastPoll = isTimedOut(seconds(firstCheckAt, now), deps.maxWaitMinutes) || isPollBudgetSpent(attempt, deps.maxPolls);

  // The memory capture moves one stage per poll (handlers/domain/memory-state.ts); its snapshot, once requested,
  // is polled with the disks' and carried through the same evidence chain. It moves AFTER the disks' calls below,
  // which may throw: a retry of this step then starts from the same memory stage without having acted on it, so no
  // stage (attach, Run Command, snapshot) is ever done twice. The advance itself never throws.
  let memory = input.previous?.memory ?? input.memory ?? (input.state ? memoryAfterStepFailure(input.state, checkedAt) : undefined);
  const memoryRefOf = (m: MemoryState | undefined): SnapshotRef[] =>
    m?.snapshot && m.volume ? [{ volumeId: m.volume.volumeId, snapshotId: m.snapshot.snapshotId, sizeGiB: m.volume.sizeGiB }] : [];
  let refs = [...input.acquisition.snapshots, ...memoryRefOf(memory)];
  const previous = new Map(input.previous?.volumes.map((v) => [v.snapshotId, v]));
  const sourceVolumeKey = `${deps.tagPrefix}:source-volume`;
  const tagsOf = (ref: (typeof refs)[number]) => ({
    [sourceVolumeKey]: ref.volumeId,
    ...(ref.deviceName ? { [`${deps.tagPrefix}:device`]: ref.deviceName } : {}),
  });
  const tagAll = (toTag: typeof refs) =>
    Promise.allSettled(toTag.map((ref) => deps.snapshots.tag([ref.snapshotId], tagsOf(ref)))).then((results) =>
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          deps.log?.({
            level: 'warn',
            message: 'tagging snapshot failed',
            snapshotId: toTag[i]?.snapshotId,
            error: errorName(r.reason),
            detail: errorMessage(r.reason),
          });
        }
      }),
    );

  const toDescribe = refs.filter((r) => (previous.get(r.snapshotId)?.state ?? 'pending') === 'pending');
  const [described] = await Promise.all([
    toDescribe.length ? deps.snapshots.describeSnapshots(toDescribe.map((r) => r.snapshotId)) : Promise.resolve([]),
    attempt === 1 ? tagAll(refs) : Promise.resolve(),
  ]);
  const byId = new Map<string, SnapshotStatus>(described.map((s) => [s.snapshotId, s]));

  if (attempt > 1) {
    const untagged = toDescribe.filter((r) => {
      const s = byId.get(r.snapshotId);
      return s !== undefined && s.tags[sourceVolumeKey] === undefined;
    });
    if (untagged.length) await tagAll(untagged);
  }

  if (memory && input.state && deps.memory && (memoryInFlight(memory) || memory.unrecorded || (memory.endedAt && !memory.channel?.closedAt && memory.channel?.openedAt) || memory.fullDeny?.status === 'failed')) {
    memory = await advanceMemoryCapture(deps.memory(), { state: input.state, memory, lastPoll });
    // A memory snapshot requested by this very advance is listed now (pending, "not listed yet") and described from
    // the next check on.
    const requested = memoryRefOf(memory).filter((r) => !refs.some((known) => known.snapshotId === r.snapshotId));
    refs = [...refs, ...requested];
  }

  const timeCapReached = isTimedOut(seconds(firstCheckAt, now), deps.maxWaitMinutes);
  const budgetSpent = isPollBudgetSpent(attempt, deps.maxPolls);
  const timedOut = timeCapReached || budgetSpent;
  const timeoutMessage = timeCapReached
    ? `still pending after ${deps.maxWaitMinutes} minutes`
    : `still pending after ${attempt} checks (the most the execution's history allows)`;
  const sinceRequested = seconds(input.acquisition.snapshotRequestedAt, now);
  const volumes: VolumeProgress[] = refs.map((ref) => {
    const before = previous.get(ref.snapshotId);
    if (before && before.state !== 'pending') return before;
    const s = byId.get(ref.snapshotId);
    let v: VolumeProgress;
    if (!s) {
      // The memory snapshot is requested long after the disks': its grace runs from its own request.
      const requested = memory?.snapshot?.snapshotId === ref.snapshotId ? seconds(memory.snapshot.requestedAt, now) : sinceRequested;
      v =
        requested < NOT_FOUND_GRACE_SECONDS
          ? { volumeId: ref.volumeId, snapshotId: ref.snapshotId, state: 'pending', stateMessage: 'not listed yet' }
          : {
              volumeId: ref.volumeId,
              snapshotId: ref.snapshotId,
              state: 'error',
              stateMessage: 'snapshot not found (DescribeSnapshots does not list it)',
            };
    } else {
      v = {
        volumeId: ref.volumeId,
        snapshotId: ref.snapshotId,
        state: progressStateOf(s.state),
        ...(s.progress !== undefined ? { progress: s.progress } : {}),
        ...(s.stateMessage
          ? { stateMessage: s.stateMessage }
          : s.state === 'recoverable'
            ? { stateMessage: 'snapshot was deleted (recoverable from the Recycle Bin)' }
            : {}),
      };
    }
    if (v.state === 'pending' && timedOut) {
      return { ...v, state: 'timeout', stateMessage: timeoutMessage };
    }
    return v;
  });

  const pending = volumes.filter((v) => v.state === 'pending');
  const memoryBusy = memoryInFlight(memory);
  const allSettled = pending.length === 0 && !memoryBusy;
  const sizeOf = new Map(refs.map((r) => [r.snapshotId, r.sizeGiB ?? byId.get(r.snapshotId)?.sizeGiB ?? 0]));
  const slowest = slowestProgress(pending.map((v) => v.progress));
  const stalled = stalledChecks(input.previous, slowest);
  const elapsed = seconds(firstCheckAt, now);
  const scheduled = nextCheckSeconds({
    attempt,
    elapsedSeconds: sinceRequested,
    totalGiB: pending.reduce((sum, v) => sum + (sizeOf.get(v.snapshotId) ?? 0), 0),
    progressPercent: slowest,
    stalledChecks: stalled,
  });
  const budgeted =
    deps.maxPolls === undefined ? scheduled : withinPollBudget(scheduled, attempt, elapsed, { maxPolls: deps.maxPolls, maxWaitMinutes: deps.maxWaitMinutes });
  const memoryInterval = !memoryBusy
    ? undefined
    : memory?.stage === 'capturing'
      ? MEMORY_CAPTURE_POLL_SECONDS
      : MEMORY_VOLUME_POLL_SECONDS;
  const interval = memoryInterval === undefined ? budgeted : pending.length === 0 ? memoryInterval : Math.min(budgeted, memoryInterval);
  return {
    attempt,
    firstCheckAt,
    checkedAt,
    allSettled,
    nextCheckSeconds: allSettled ? 0 : untilCap(interval, elapsed, deps.maxWaitMinutes),
    volumes,
    ...(memory ? { memory } : {}),
    ...(slowest !== undefined && !allSettled ? { slowestProgress: slowest, stalledChecks: stalled } : {}),
  };
}
