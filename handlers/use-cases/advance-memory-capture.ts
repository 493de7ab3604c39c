import type { Ec2MemoryVolumeAdapter } from '../adapters/ec2-memory-volume-adapter';
import type { SsmCommandAdapter } from '../adapters/ssm-command-adapter';
import { errorSummary } from '../domain/errors';
import { type MemoryState, captureCommands, freeDeviceName, nextMemoryAction } from '../domain/memory-state';
import type { CustodyLog, Log } from '../domain/ports';
import type { AcquisitionState, CustodyAction } from '../domain/types';
import { type CloseDeps, MEMORY_STEP, closeChannelAndDeny } from './memory-channel';

export interface AdvanceMemoryDeps extends CloseDeps {
  volumes: Pick<Ec2MemoryVolumeAdapter, 'describeVolume' | 'attachVolume' | 'detachVolume' | 'createSnapshot'>;
  ssm: Pick<SsmCommandAdapter, 'runShellScript' | 'invocation' | 'cancel'>;
  custody: () => Pick<CustodyLog, 'append'>;
  tagPrefix: string;
  log?: Log;
}

/** How long Run Command may wait for the agent to pick the command up (SendCommand TimeoutSeconds; AWS minimum 30). */
export const DELIVERY_TIMEOUT_SECONDS = 600;

/**
 * One poll's step of the memory capture (inside "Check snapshot progress"): observe, decide with the pure
 * `nextMemoryAction`, act, record. The host SHA-256 is written to the custody log in the very poll that reads it.
 * A channel or deny that could not be closed is retried on every later poll. Never throws: a failed call is
 * recorded on the state (the snapshot loop must go on for the disks).
 */
export async function advanceMemoryCapture(
  deps: AdvanceMemoryDeps,
  input: { state: AcquisitionState; memory: MemoryState; lastPoll: boolean },
): Promise<MemoryState> {
  const { state } = input;
  let memory = input.memory;
  const actions: CustodyAction[] = [];
  const instanceId = state.case.target.instanceId;
  const now = deps.clock();
  const at = () => deps.clock().toISOString();

  // A channel or full deny left open by an earlier poll: closed before anything else.
  if (memory.endedAt && ((memory.channel?.openedAt && !memory.channel.closedAt) || memory.fullDeny?.status === 'failed')) {
    const closed = await closeChannelAndDeny(deps, memory, state.containment?.credentials);
    memory = closed.state;
    actions.push(...closed.actions);
  }
  if (memory.stage === 'done') return recordMemoryActions(deps, state, memory, actions);

  try {
    const volumeId = memory.volume?.volumeId;
    const observed = {
      lastPoll: input.lastPoll,
      ...(memory.stage !== 'capturing' && volumeId ? { volume: await deps.volumes.describeVolume(volumeId) } : {}),
      ...(memory.stage === 'capturing' && memory.command
        ? await deps.ssm.invocation(memory.command.commandId, instanceId).then((c) => (c ? { command: c } : {}))
        : {}),
    };
    const action = nextMemoryAction(memory, observed, now);
    switch (action.kind) {
      case 'none':
      case 'wait':
        break;
      case 'attach': {
        const used = [
          ...(state.describe?.preIncident.volumes ?? []).map((v) => v.deviceName),
          ...(state.describe?.preIncident.instanceStoreDevices ?? []).map((d) => d.deviceName),
          ...(state.describe?.preIncident.rootDeviceName ? [state.describe.preIncident.rootDeviceName] : []),
        ];
        const device = freeDeviceName(used);
        const request = { volumeId, instanceId, device: device ?? null };
        try {
          if (!device || !volumeId) throw new Error('no free device name between /dev/sdf and /dev/sdp');
          await deps.volumes.attachVolume(volumeId, instanceId, device);
          actions.push({ step: MEMORY_STEP, action: 'attach-memory-volume', status: 'succeeded', performedAt: at(), request, result: {} });
          memory = { ...memory, stage: 'attaching', attachment: { device, requestedAt: at() } };
        } catch (err) {
          actions.push({ step: MEMORY_STEP, action: 'attach-memory-volume', status: 'failed', performedAt: at(), request, result: { error: errorSummary(err) } });
          memory = await end(deps, state, memory, { status: 'failed', reason: `AttachVolume: ${errorSummary(err)}` }, actions);
        }
        break;
      }
      case 'send-command': {
        const device = memory.attachment?.device ?? '';
        const commands = captureCommands({ volumeId: volumeId ?? '', device, toolSha256: memory.tool?.sha256 ?? '' });
        const request = {
          instanceId,
          documentName: 'AWS-RunShellScript',
          executionTimeout: memory.timeoutSeconds ?? 0,
          deliveryTimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
          commands,
        };
        try {
          const commandId = await deps.ssm.runShellScript({
            instanceId,
            commands,
            executionTimeoutSeconds: memory.timeoutSeconds ?? 0,
            deliveryTimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
            comment: `Forensic memory capture, case ${state.case.caseId}`,
          });
          const sentAt = at();
          actions.push({ step: MEMORY_STEP, action: 'send-memory-command', status: 'succeeded', performedAt: sentAt, request, result: { commandId } });
          memory = { ...memory, stage: 'capturing', command: { commandId, sentAt } };
        } catch (err) {
          actions.push({ step: MEMORY_STEP, action: 'send-memory-command', status: 'failed', performedAt: at(), request, result: { error: errorSummary(err) } });
          memory = await end(deps, state, memory, { status: 'failed', reason: `SendCommand: ${errorSummary(err)}` }, actions);
        }
        break;
      }
      case 'end': {
        if (action.cancel && memory.command) {
          const request = { commandId: memory.command.commandId, instanceId };
          try {
            await deps.ssm.cancel(memory.command.commandId, instanceId);
            actions.push({ step: MEMORY_STEP, action: 'cancel-memory-command', status: 'succeeded', performedAt: at(), request, result: {} });
          } catch (err) {
            actions.push({ step: MEMORY_STEP, action: 'cancel-memory-command', status: 'failed', performedAt: at(), request, result: { error: errorSummary(err) } });
          }
          memory = { ...memory, command: { ...memory.command, cancelRequestedAt: at() } };
        }
        if (observed.command && memory.command) memory = { ...memory, command: { ...memory.command, status: observed.command.status } };
        if (action.result) {
          memory = { ...memory, result: action.result };
          if (action.result.sha256) {
            // The host's hash goes into the custody log in this very poll, before anything else can happen.
            const hashAction: CustodyAction = {
              step: MEMORY_STEP,
              action: 'memory-host-sha256',
              status: action.status === 'captured' ? 'succeeded' : 'failed',
              performedAt: at(),
              request: { commandId: memory.command?.commandId ?? null, instanceId, volumeId: volumeId ?? null },
              result: { ...action.result, tool: memory.tool ?? null },
            };
            memory = await recordMemoryActions(deps, state, memory, [...actions.splice(0), hashAction]);
            if (!memory.unrecorded) memory = { ...memory, hashRecordedAt: at() };
          }
        }
        memory = await end(deps, state, memory, { status: action.status, ...(action.reason ? { reason: action.reason } : {}) }, actions);
        break;
      }
      case 'detach': {
        memory = await detach(deps, state, memory, actions);
        break;
      }
      case 'snapshot': {
        const request = { volumeId, volumeAttached: action.volumeAttached };
        try {
          const snapshotId = await deps.volumes.createSnapshot(
            volumeId ?? '',
            `Forensic memory image, case ${state.case.caseId}: ${instanceId} (capture volume ${volumeId})`,
            { [`${deps.tagPrefix}:case-id`]: state.case.caseId, [`${deps.tagPrefix}:role`]: 'memory', [`${deps.tagPrefix}:source-volume`]: volumeId ?? '' },
          );
          actions.push({ step: MEMORY_STEP, action: 'snapshot-memory-volume', status: 'succeeded', performedAt: at(), request, result: { snapshotId } });
          memory = { ...memory, stage: 'done', snapshot: { snapshotId, requestedAt: at(), volumeAttached: action.volumeAttached } };
        } catch (err) {
          actions.push({ step: MEMORY_STEP, action: 'snapshot-memory-volume', status: 'failed', performedAt: at(), request, result: { error: errorSummary(err) } });
          // Retried at the next poll; the last poll records the volume as left un-snapshotted.
          if (input.lastPoll) {
            memory = { ...memory, stage: 'done', status: 'failed', reason: `${memory.reason ? `${memory.reason}; ` : ''}CreateSnapshot of the capture volume: ${errorSummary(err)}` };
          }
        }
        break;
      }
    }
  } catch (err) {
    // An observation failed (throttling, a transient error): the next poll tries again; the last one ends it.
    deps.log?.({ level: 'warn', message: 'memory capture poll failed', detail: errorSummary(err) });
    if (input.lastPoll) memory = await end(deps, state, memory, { status: 'failed', reason: `poll: ${errorSummary(err)}` }, actions);
  }
  return recordMemoryActions(deps, state, memory, actions);
}

/** The capture is over: channel closed, full deny, then the detach (or nothing to detach). */
async function end(
  deps: AdvanceMemoryDeps,
  state: AcquisitionState,
  memory: MemoryState,
  outcome: { status: 'captured' | 'failed'; reason?: string },
  actions: CustodyAction[],
): Promise<MemoryState> {
  const closed = await closeChannelAndDeny(deps, memory, state.containment?.credentials);
  actions.push(...closed.actions);
  const ended: MemoryState = {
    ...closed.state,
    status: outcome.status,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    endedAt: deps.clock().toISOString(),
  };
  if (!ended.attachment) return { ...ended, stage: 'done' };
  return detach(deps, state, { ...ended, stage: 'detaching' }, actions);
}

async function detach(deps: AdvanceMemoryDeps, state: AcquisitionState, memory: MemoryState, actions: CustodyAction[]): Promise<MemoryState> {
  const volumeId = memory.volume?.volumeId ?? '';
  const instanceId = state.case.target.instanceId;
  const attempts = (memory.detach?.attempts ?? 0) + 1;
  const requestedAt = deps.clock().toISOString();
  try {
    await deps.volumes.detachVolume(volumeId, instanceId);
    actions.push({ step: MEMORY_STEP, action: 'detach-memory-volume', status: 'succeeded', performedAt: requestedAt, request: { volumeId, instanceId, attempt: attempts }, result: {} });
    return { ...memory, detach: { attempts, requestedAt } };
  } catch (err) {
    const error = errorSummary(err);
    actions.push({ step: MEMORY_STEP, action: 'detach-memory-volume', status: 'failed', performedAt: requestedAt, request: { volumeId, instanceId, attempt: attempts }, result: { error } });
    return { ...memory, detach: { attempts, requestedAt, lastError: error } };
  }
}

/** Appends the custody records (those left over first); when that fails, they are kept for the next poll. */
async function recordMemoryActions(
  deps: { custody: () => Pick<CustodyLog, 'append'>; log?: Log },
  state: Pick<AcquisitionState, 'case'>,
  memory: MemoryState,
  actions: CustodyAction[],
): Promise<MemoryState> {
  const all = [...(memory.unrecorded ?? []), ...actions];
  const { unrecorded: _previous, ...rest } = memory;
  if (all.length === 0) return rest;
  try {
    await deps.custody().append(state.case, all);
    return rest;
  } catch (err) {
    deps.log?.({ level: 'error', message: 'memory capture custody records not written yet', detail: errorSummary(err) });
    return { ...rest, unrecorded: all };
  }
}
