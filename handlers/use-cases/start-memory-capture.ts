import type { Ec2MemoryVolumeAdapter } from '../adapters/ec2-memory-volume-adapter';
import type { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import { errorSummary } from '../domain/errors';
import type { MemoryPlan } from '../domain/memory-capture';
import type { MemoryState } from '../domain/memory-state';
import type { Clock, Log } from '../domain/ports';
import type { AcquisitionState, CustodyAction } from '../domain/types';
import { MEMORY_STEP, closeChannelAndDeny, ensureChannelGroup, moveInterfaces, type CloseDeps } from './memory-channel';

export interface StartMemoryCaptureDeps extends CloseDeps {
  securityGroups: Ec2SecurityGroupAdapter;
  volumes: Pick<Ec2MemoryVolumeAdapter, 'createVolume'>;
  clock: Clock;
  tagPrefix: string;
  /** The evidence key of the instance's region (what the workload copies use); undefined: the account's EBS default. */
  volumeKmsKeyId?: string;
  log?: Log;
}

/**
 * "Start memory capture", right after "Isolate network" (off the containment path). For a `capture` plan: the VPCs'
 * acquisition-channel groups are made exact and the capture volume is created from the tools snapshot, at once;
 * then every interface moves from the rule-less isolation group into its VPC's channel group (`openedAt`). The
 * attach, the command and the rest are advanced by "Check snapshot progress" (advance-memory-capture.ts).
 *
 * Any plan other than `capture` returns a settled state (`skipped`). A failure after the channel opened closes it
 * and restores the full deny before it is returned as `failed`: the step itself never fails the acquisition (the
 * state machine also catches into `$.memoryFailure`).
 *
 * Its custody actions are returned in `unrecorded`, not written: "Record containment" runs next and writes the
 * containment's records, and the first "Check snapshot progress" appends these after them, so the chain keeps the
 * order in which things happened and this function carries no evidence-store client.
 */
export async function startMemoryCapture(deps: StartMemoryCaptureDeps, state: AcquisitionState): Promise<MemoryState> {
  const startedAt = deps.clock().toISOString();
  const plan = state.acquisition?.memoryPlan;
  if (plan?.decision !== 'capture') return notCaptured(plan, startedAt);
  const containment = state.containment;
  const base: MemoryState = { status: 'capturing', stage: 'creating-volume', tool: plan.tool, timeoutSeconds: plan.timeoutSeconds, startedAt };
  const interfaces = (containment?.networkInterfaces ?? []).map((e) => ({ networkInterfaceId: e.networkInterfaceId, vpcId: e.vpcId }));
  if (!containment || interfaces.length === 0) {
    // Never capture from an instance whose isolation is not recorded; the exemption (if any) is closed at once.
    return finish(deps, state, { ...base, status: 'failed', stage: 'done', reason: 'the network containment is not recorded' }, []);
  }
  const caseId = state.case.caseId;
  const tag = (k: string) => `${deps.tagPrefix}:${k}`;
  const actions: CustodyAction[] = [];

  const volumeRequest = {
    snapshotId: plan.toolsSnapshotId,
    availabilityZone: plan.availabilityZone,
    sizeGiB: plan.volumeSizeGiB,
    ...(deps.volumeKmsKeyId ? { kmsKeyId: deps.volumeKmsKeyId } : {}),
    tags: { [tag('case-id')]: caseId, [tag('role')]: 'memory', Name: `forensics-memory-${caseId}`.slice(0, 255) },
    clientToken: `memory-${caseId}`.slice(0, 64),
  };
  const [groups, volume] = await Promise.all([
    Promise.allSettled(
      plan.endpoints.map((e) => ensureChannelGroup(deps, { vpcId: e.vpcId, endpointGroupIds: e.securityGroupIds })),
    ),
    deps.volumes.createVolume(volumeRequest).then(
      (volumeId) => ({ volumeId }),
      (err: unknown) => ({ error: errorSummary(err) }),
    ),
  ]);
  const createdAt = deps.clock().toISOString();
  actions.push({
    step: MEMORY_STEP,
    action: 'create-memory-volume',
    status: 'volumeId' in volume ? 'succeeded' : 'failed',
    performedAt: createdAt,
    request: { ...volumeRequest, encrypted: true, volumeType: 'gp3' },
    result: 'volumeId' in volume ? { volumeId: volume.volumeId } : { error: volume.error },
  });
  const channelGroups: { vpcId: string; groupId: string; isolationGroupId: string }[] = [];
  const groupErrors: string[] = [];
  groups.forEach((g, i) => {
    const vpcId = plan.endpoints[i]?.vpcId ?? '';
    if (g.status === 'fulfilled') {
      actions.push(g.value.action);
      const isolation = containment.groups.find((c) => c.vpcId === vpcId);
      if (isolation) channelGroups.push({ vpcId, groupId: g.value.groupId, isolationGroupId: isolation.isolationGroupId });
      else groupErrors.push(`${vpcId}: no isolation group recorded`);
    } else {
      groupErrors.push(`${vpcId}: ${errorSummary(g.reason)}`);
      actions.push({ step: MEMORY_STEP, action: 'ensure-channel-group', status: 'failed', performedAt: createdAt, request: { vpcId }, result: { error: errorSummary(g.reason) } });
    }
  });
  const withVolume: MemoryState =
    'volumeId' in volume
      ? {
          ...base,
          volume: {
            volumeId: volume.volumeId,
            sizeGiB: plan.volumeSizeGiB,
            availabilityZone: plan.availabilityZone,
            ...(deps.volumeKmsKeyId ? { kmsKeyId: deps.volumeKmsKeyId } : {}),
            createdAt,
          },
        }
      : base;
  if ('error' in volume || groupErrors.length > 0) {
    const reason = 'error' in volume ? `CreateVolume: ${volume.error}` : `acquisition channel: ${groupErrors.join('; ')}`;
    return finish(deps, state, { ...withVolume, status: 'failed', stage: 'done', reason }, actions);
  }

  // Open the channel: every interface from the isolation group into its VPC's channel group.
  const channel = { groups: channelGroups, interfaces };
  const failed = await moveInterfaces(deps, interfaces, (vpcId) => channelGroups.find((g) => g.vpcId === vpcId)?.groupId);
  const openedAt = deps.clock().toISOString();
  actions.push({
    step: MEMORY_STEP,
    action: 'open-acquisition-channel',
    status: failed.length === 0 ? 'succeeded' : 'failed',
    performedAt: openedAt,
    request: { interfaces, channelGroups: channelGroups.map((g) => ({ vpcId: g.vpcId, groupId: g.groupId })) },
    result: failed.length === 0 ? { openedAt } : { failed },
  });
  if (failed.length > 0) {
    // Some interfaces may have moved: put every one back (closing), then stop.
    return finish(
      deps,
      state,
      { ...withVolume, channel: { ...channel, openedAt }, status: 'failed', stage: 'done', reason: `opening the channel: ${failed.map((f) => f.error).join('; ')}` },
      actions,
    );
  }
  const opened: MemoryState = { ...withVolume, channel: { ...channel, openedAt } };
  return deferred(opened, actions);
}

/** The settled state of a case whose plan is not `capture` (no plan at all: a case planned before memory existed). */
export function notCaptured(plan: MemoryPlan | undefined, startedAt: string): MemoryState {
  if (!plan) return { status: 'skipped', stage: 'done', reason: 'no memory plan was made', startedAt };
  if (plan.decision === 'skip') return { status: 'skipped', stage: 'done', reason: `${plan.reason}: ${plan.detail}`, startedAt };
  throw new TypeError('a capture plan is started, not skipped');
}

/** Ends a capture that could not start: channel closed, full deny, then recorded. */
async function finish(deps: StartMemoryCaptureDeps, state: AcquisitionState, memory: MemoryState, actions: CustodyAction[]): Promise<MemoryState> {
  const closed = await closeChannelAndDeny(deps, memory, state.containment?.credentials);
  const ended = { ...closed.state, endedAt: deps.clock().toISOString() };
  return deferred(ended, [...actions, ...closed.actions]);
}

/** The state with its custody actions left for the next poll to append (after the containment's records). */
function deferred(memory: MemoryState, actions: CustodyAction[]): MemoryState {
  const all = [...(memory.unrecorded ?? []), ...actions];
  return all.length > 0 ? { ...memory, unrecorded: all } : memory;
}



/**
 * When "Start memory capture" itself failed (caught into `$.memoryFailure`) for a case that planned a capture, the
 * channel may have opened and the deny still carries the agent exemption: this state makes the first poll close
 * both (every interface back to its isolation group, full deny), whatever had happened.
 */
export function memoryAfterStepFailure(state: AcquisitionState, now: string): MemoryState | undefined {
  const plan = state.acquisition?.memoryPlan;
  if (plan?.decision !== 'capture' || state.memory || !state.memoryFailure) return undefined;
  const containment = state.containment;
  return {
    status: 'failed',
    stage: 'done',
    reason: `Start memory capture failed: ${state.memoryFailure.Error}${state.memoryFailure.Cause ? `: ${state.memoryFailure.Cause.slice(0, 300)}` : ''}`,
    tool: plan.tool,
    timeoutSeconds: plan.timeoutSeconds,
    startedAt: now,
    endedAt: now,
    channel: {
      groups: (containment?.groups ?? []).map((g) => ({ vpcId: g.vpcId, groupId: '', isolationGroupId: g.isolationGroupId })),
      interfaces: (containment?.networkInterfaces ?? []).map((e) => ({ networkInterfaceId: e.networkInterfaceId, vpcId: e.vpcId })),
      // Not known: assumed open, so that the interfaces are put back in any case.
      openedAt: now,
    },
  };
}
