import type { AutoScalingAdapter } from '../adapters/auto-scaling-adapter';
import type { Ec2FlowLogAdapter } from '../adapters/ec2-flow-log-adapter';
import type { Ec2InstanceAdapter } from '../adapters/ec2-instance-adapter';
import type { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import type { Ec2SnapshotAdapter, TakenSnapshot } from '../adapters/ec2-snapshot-adapter';
import type { TargetGroupAdapter } from '../adapters/target-group-adapter';
import { prepareIsolationGroups } from './isolate-network';
import { type PlanMemoryDeps, planMemory } from './plan-memory-capture';
import { isThrottlingError, mapSettledWithConcurrency } from '../domain/concurrency';
import { errorMessage, errorName, errorSummary, SnapshotFailed } from '../domain/errors';
import type { Clock } from '../domain/ports';
import { type InstanceStoreDevice, instanceStoreOfType } from '../domain/instance-store';
import { READ_BACK_PENDING } from '../domain/preservation';
import type {
  AcquisitionResult,
  CaseRef,
  CustodyAction,
  DescribeResult,
  FlowLogSources,
  PreservationOutcome,
  SnapshotRef,
} from '../domain/types';

export interface PreserveAndSnapshotDeps {
  instances: Ec2InstanceAdapter;
  securityGroups: Ec2SecurityGroupAdapter;
  snapshots: Ec2SnapshotAdapter;
  autoScaling: AutoScalingAdapter;
  targetGroups: TargetGroupAdapter;
  flowLogs: Ec2FlowLogAdapter;
  clock: Clock;
  tagPrefix: string;
  /** The memory plan's reads and settings; absent: no plan is made (the case records no memory section). */
  memory?: Omit<PlanMemoryDeps, 'clock'>;
}

const STEP = 'preserveAndSnapshot';
/** EC2 limits: snapshot descriptions to 255 characters, tag values to 256. */
const DESCRIPTION_MAX = 255;
const TAG_VALUE_MAX = 256;

/** Lifecycle states in which the instance is already out of (or leaving) its group's service. */
const ALREADY_OUT_OF_SERVICE = new Set(['Standby', 'EnteringStandby', 'Detaching', 'Detached']);

interface Outcome {
  preservation: PreservationOutcome;
  action: CustodyAction;
}

/**
 * Fixes the evidence's point in time and keeps the instance and its volumes from disappearing, all at once:
 * ONE CreateSnapshots call (crash-consistent across volumes) runs in parallel with the preservation calls (case
 * tag, termination protection, shutdown = stop, volumes kept on termination, ASG standby or detach, target group
 * deregistration), with the instance type's instance-store lookup (a record of what cannot be acquired) and with the
 * lookup of the flow logs covering the ENIs (which "Scope the incident" reads from `$.acquisition.flowLogSources`).
 *
 * Each instance attribute changed (termination protection, shutdown behaviour, DeleteOnTermination) is returned
 * `applied, verified: false`: a call AWS accepted is not proof that the attribute holds, so "Isolate network" reads
 * it back right after the last interface is isolated (verify-preservation.ts) and its read-back replaces this
 * outcome in every record (`preservationOf`). Reading back here would put one more sequential round trip (a describe
 * after each modify) before containment.
 *
 * Preservation failures are recorded, never thrown: they must not delay containment. Only CreateSnapshots can fail
 * the step — by its AWS error name when it is throttling (the state machine retries; every preservation call is
 * idempotent), as `SnapshotFailed` otherwise or when no snapshot at all was taken. Volumes that CreateSnapshots
 * skipped are recorded in its custody action.
 */
export async function preserveAndSnapshot(
  deps: PreserveAndSnapshotDeps,
  input: { caseRef: CaseRef; describe: DescribeResult },
): Promise<AcquisitionResult> {
  const { caseRef, describe } = input;
  const pre = describe.preIncident;
  const { instanceId } = caseRef.target;
  const tag = (name: string) => `${deps.tagPrefix}:${name}`;

  const snapshotRequestedAt = deps.clock().toISOString();
  const snapshotCall = deps.snapshots.createInstanceSnapshots({
    instanceId,
    description: `Forensic acquisition case ${caseRef.caseId}: ${instanceId} (finding ${caseRef.finding.id})`.slice(
      0,
      DESCRIPTION_MAX,
    ),
    tags: {
      [tag('case-id')]: caseRef.caseId,
      [tag('finding-id')]: caseRef.finding.id.slice(0, TAG_VALUE_MAX),
    },
  });

  const attempt = async (
    action: string,
    request: Record<string, unknown>,
    previous: unknown,
    fn: () => Promise<string | undefined>,
  ): Promise<Outcome> => {
    try {
      const detail = await fn();
      return outcome(deps.clock, action, 'applied', request, previous, detail);
    } catch (err) {
      return outcome(deps.clock, action, 'failed', request, previous, errorSummary(err));
    }
  };
  const skip = (action: string, previous: unknown, detail: string): Promise<Outcome> =>
    Promise.resolve(outcome(deps.clock, action, 'skipped', { instanceId }, previous, detail));

  /**
   * A change whose effect "Isolate network" reads back after containment (verify-preservation.ts): until then it is
   * applied but not verified, which is what a case that fails before containment keeps.
   */
  const attemptChange = async (
    action: string,
    request: Record<string, unknown>,
    previous: unknown,
    change: () => Promise<void>,
  ): Promise<Outcome> => {
    try {
      await change();
    } catch (err) {
      return outcome(deps.clock, action, 'failed', request, previous, errorSummary(err));
    }
    return outcome(deps.clock, action, 'applied', request, previous, READ_BACK_PENDING, { verified: false });
  };

  const keptVolumes = pre.volumes.filter((v) => v.deleteOnTermination);
  // The target groups the describe left unread are read now, beside CreateSnapshots; each is deregistered from
  // once its registrations are known (two round trips beside the snapshot call, never one more before it).
  const registrationsCall = lookUpRegistrations(deps, instanceId, describe.targetGroupCandidates ?? []);
  const deregistrations = registrationsCall.then(({ found }) =>
    Promise.all(deregisterTargets(deps, instanceId, [...pre.targetGroups, ...found], attempt, skip)),
  );

  const preservationCalls: Promise<Outcome>[] = [
    attempt(
      'tag-instance',
      { instanceId, tags: { [tag('case-id')]: caseRef.caseId } },
      { [tag('case-id')]: pre.tags[tag('case-id')] ?? null },
      async () => {
        await deps.instances.tag([instanceId], { [tag('case-id')]: caseRef.caseId });
        return undefined;
      },
    ),
    pre.terminationProtection === true
      ? skip('enable-termination-protection', true, 'already enabled')
      : attemptChange(
          'enable-termination-protection',
          { instanceId, disableApiTermination: true },
          pre.terminationProtection ?? null,
          () => deps.instances.enableTerminationProtection(instanceId),
        ),
    pre.shutdownBehavior === 'stop'
      ? skip('shutdown-behavior-stop', 'stop', 'already stop')
      : attemptChange(
          'shutdown-behavior-stop',
          { instanceId, instanceInitiatedShutdownBehavior: 'stop' },
          pre.shutdownBehavior ?? null,
          () => deps.instances.setShutdownBehaviorStop(instanceId),
        ),
    keptVolumes.length === 0
      ? skip('keep-volumes-on-termination', [], 'no volume is deleted on termination')
      : attemptChange(
          'keep-volumes-on-termination',
          { instanceId, deleteOnTermination: false, devices: keptVolumes.map((v) => v.deviceName) },
          keptVolumes.map((v) => ({ deviceName: v.deviceName, volumeId: v.volumeId, deleteOnTermination: true })),
          () =>
            deps.instances.keepVolumesOnTermination(
              instanceId,
              keptVolumes.map((v) => v.deviceName),
            ),
        ),
    leaveAutoScalingGroup(deps, instanceId, pre.autoScalingGroup, attempt, skip),
  ];

  // The instance type's instance store, when the mappings showed none: a record of what cannot be acquired, looked
  // up here beside CreateSnapshots rather than as one more round trip of the describe step.
  const storageCall: Promise<InstanceStoreLookup | undefined> =
    pre.instanceStoreDevices.length === 0 && pre.instanceType
      ? lookUpInstanceStore(deps, instanceId, pre.instanceType)
      : Promise.resolve(undefined);

  // The first case in a VPC: its isolation groups are made ready now, beside CreateSnapshots, instead of on the
  // path to containment in "Isolate network" (creation and rules are two round trips there).
  const groupsCall = prepareIsolationGroups(
    { securityGroups: deps.securityGroups, clock: deps.clock, tagPrefix: deps.tagPrefix },
    describe,
  );

  // The flow logs of the ENIs, read here beside CreateSnapshots for "Scope the incident" (which then needs no EC2
  // client in its bundle): never one more round trip before containment, and a failure is recorded, not thrown.
  const flowLogsCall = lookUpFlowLogs(deps, instanceId, pre.networkInterfaces);
  // The memory plan's facts, read beside CreateSnapshots too (never fails the step: a failed read is a skip).
  const memoryCall = deps.memory
    ? planMemory({ ...deps.memory, clock: deps.clock }, { caseRef, describe }).catch(() => undefined)
    : Promise.resolve(undefined);

  const [memory, storage, prepared, registrations, deregistered, flowLogs, [snapshotR, ...preserved]] = await Promise.all([
    memoryCall,
    storageCall,
    groupsCall,
    registrationsCall,
    deregistrations,
    flowLogsCall,
    Promise.allSettled([snapshotCall, ...preservationCalls]),
  ]);
  // Preservation calls never reject (failures are outcomes), but stay defensive: a bug must not hide the snapshot.
  const outcomes = [...preserved.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...deregistered];
  const preservation = outcomes.map((o) => o.preservation);

  if (snapshotR.status === 'rejected') {
    const err = snapshotR.reason;
    if (isThrottlingError(err)) throw err;
    throw new SnapshotFailed(
      `CreateSnapshots for ${instanceId} failed (${errorSummary(err)}); preservation=${JSON.stringify(preservation)}`,
      { cause: err },
    );
  }

  const { snapshots, missingVolumeIds } = matchSnapshots(snapshotR.value, describe);
  if (snapshots.length === 0) {
    throw new SnapshotFailed(
      `CreateSnapshots for ${instanceId} returned no snapshot (volumes: ${missingVolumeIds.join(', ') || 'none'}); preservation=${JSON.stringify(preservation)}`,
    );
  }

  const snapshotAction: CustodyAction = {
    step: STEP,
    action: 'create-snapshots',
    status: 'succeeded',
    performedAt: snapshotRequestedAt,
    request: {
      instanceId,
      excludeBootVolume: false,
      tags: { [tag('case-id')]: caseRef.caseId, [tag('finding-id')]: caseRef.finding.id },
    },
    result: {
      snapshots: snapshots.map((s) => ({ volumeId: s.volumeId, snapshotId: s.snapshotId, deviceName: s.deviceName ?? null })),
      missingVolumeIds,
    },
  };

  return {
    snapshotRequestedAt,
    snapshots,
    preservation,
    actions: [
      snapshotAction,
      ...outcomes.map((o) => o.action),
      ...(storage ? [storage.action] : []),
      ...(registrations.action ? [registrations.action] : []),
      ...(flowLogs ? [flowLogs.action] : []),
      ...(memory ? [memory.action] : []),
    ],
    ...(storage ? { instanceStoreDevices: storage.devices } : {}),
    ...(registrations.found.length > 0 ? { targetGroups: registrations.found } : {}),
    ...(prepared.length > 0 ? { isolationGroups: prepared } : {}),
    ...(flowLogs ? { flowLogSources: flowLogs.found } : {}),
    ...(memory ? { memoryPlan: memory.plan } : {}),
  };
}

interface InstanceStoreLookup {
  devices: InstanceStoreDevice[];
  action: CustodyAction;
}

/** DescribeInstanceTypes for the instance store; never throws (a failure is a recorded gap, not a failed step). */
async function lookUpInstanceStore(deps: PreserveAndSnapshotDeps, instanceId: string, instanceType: string): Promise<InstanceStoreLookup> {
  const performedAt = deps.clock().toISOString();
  const request = { instanceId, instanceType };
  try {
    const devices = instanceStoreOfType(await deps.instances.describeInstanceStorage(instanceType));
    return { devices, action: { step: STEP, action: 'describe-instance-store', status: 'succeeded', performedAt, request, result: { devices } } };
  } catch (err) {
    return {
      devices: [],
      action: { step: STEP, action: 'describe-instance-store', status: 'failed', performedAt, request, result: { error: errorName(err), message: errorMessage(err) } },
    };
  }
}

/** Flow logs kept at most (each is a few hundred bytes of the execution state, which Step Functions caps at 256 KB). */
const MAX_FLOW_LOG_SOURCES = 50;

/**
 * DescribeFlowLogs on the ENIs, their subnets and VPCs (a flow log of any of them records the ENIs' traffic); never
 * throws: a failure is kept as `failed` with its error (the scope records the gap) and a failed custody action.
 * Undefined when the instance had no network interface recorded.
 */
async function lookUpFlowLogs(
  deps: PreserveAndSnapshotDeps,
  instanceId: string,
  interfaces: DescribeResult['preIncident']['networkInterfaces'],
): Promise<{ found: FlowLogSources; action: CustodyAction } | undefined> {
  if (interfaces.length === 0) return undefined;
  const resourceIds = [...new Set(interfaces.flatMap((n) => [n.networkInterfaceId, n.subnetId, n.vpcId].filter((v): v is string => Boolean(v))))];
  const performedAt = deps.clock().toISOString();
  const request = { instanceId, resourceIds };
  try {
    const { sources, truncated } = await deps.flowLogs.flowLogsOf(resourceIds, MAX_FLOW_LOG_SOURCES);
    const found: FlowLogSources = { status: 'read', sources, ...(truncated ? { truncated } : {}) };
    return { found, action: { step: STEP, action: 'describe-flow-logs', status: 'succeeded', performedAt, request, result: { flowLogIds: sources.map((s) => s.flowLogId), truncated } } };
  } catch (err) {
    return {
      found: { status: 'failed', error: errorSummary(err) },
      action: { step: STEP, action: 'describe-flow-logs', status: 'failed', performedAt, request, result: { error: errorName(err), message: errorMessage(err) } },
    };
  }
}

type PreIncidentTargets = DescribeResult['preIncident']['targetGroups'];

/** DescribeTargetHealth calls in flight at once (ELBv2 API rate limits are per account). */
const TARGET_HEALTH_CONCURRENCY = 8;

/**
 * The instance's registrations in the target groups the describe left unread (target health deferred), recorded
 * as part of the pre-incident state (`preIncidentOf`). Never throws: a group that could not be read is a recorded
 * gap (a group deleted meanwhile simply holds nothing), and nothing is deregistered from it.
 */
async function lookUpRegistrations(
  deps: PreserveAndSnapshotDeps,
  instanceId: string,
  targetGroupArns: string[],
): Promise<{ found: PreIncidentTargets; action?: CustodyAction }> {
  if (targetGroupArns.length === 0) return { found: [] };
  const performedAt = deps.clock().toISOString();
  const perGroup = await mapSettledWithConcurrency(targetGroupArns, TARGET_HEALTH_CONCURRENCY, (arn) => deps.targetGroups.registrationsOf(arn, instanceId));
  const found: PreIncidentTargets = [];
  const gaps: { targetGroupArn: string; error: string; message: string }[] = [];
  perGroup.forEach((r, i) => {
    const targetGroupArn = targetGroupArns[i] as string;
    if (r.status === 'rejected') {
      if (errorName(r.reason) !== 'TargetGroupNotFoundException') gaps.push({ targetGroupArn, error: errorName(r.reason), message: errorMessage(r.reason) });
      return;
    }
    for (const reg of r.value) {
      found.push({
        targetGroupArn,
        ...(reg.port !== undefined ? { port: reg.port } : {}),
        ...(reg.availabilityZone ? { availabilityZone: reg.availabilityZone } : {}),
      });
    }
  });
  return {
    found,
    action: {
      step: STEP,
      action: 'describe-target-registrations',
      status: gaps.length === 0 ? 'succeeded' : 'failed',
      performedAt,
      request: { instanceId, targetGroupArns },
      result: { registrations: found, gaps },
    },
  };
}

/** One DeregisterTargets per target group the instance is registered in (with the recorded ports and zones). */
function deregisterTargets(
  deps: PreserveAndSnapshotDeps,
  instanceId: string,
  registered: PreIncidentTargets,
  attempt: Attempt,
  skip: Skip,
): Promise<Outcome>[] {
  const byTargetGroup = new Map<string, PreIncidentTargets>();
  for (const tg of registered) {
    const list = byTargetGroup.get(tg.targetGroupArn) ?? [];
    list.push(tg);
    byTargetGroup.set(tg.targetGroupArn, list);
  }
  if (byTargetGroup.size === 0) return [skip('deregister-targets', [], 'not registered in any target group')];
  return [...byTargetGroup].map(([targetGroupArn, registrations]) => {
    const targets = registrations.map((r) => ({
      id: instanceId,
      ...(r.port !== undefined ? { port: r.port } : {}),
      ...(r.availabilityZone ? { availabilityZone: r.availabilityZone } : {}),
    }));
    return attempt('deregister-targets', { targetGroupArn, targets }, registrations, async () => {
      await deps.targetGroups.deregister(targetGroupArn, targets);
      return undefined;
    });
  });
}
type Attempt = (
  action: string,
  request: Record<string, unknown>,
  previous: unknown,
  fn: () => Promise<string | undefined>,
) => Promise<Outcome>;
type Skip = (action: string, previous: unknown, detail: string) => Promise<Outcome>;

/**
 * Standby first: the instance stays a member (release puts it back in service) but leaves health checks and
 * scaling. When standby is refused — typically because decrementing the desired capacity would go below the
 * minimum — detach WITHOUT decrementing: the group launches a replacement, which keeps the service up, and the
 * evidence is safe from the group either way. A refusal because a previous attempt of this step already put it in
 * standby is recognised by describing the membership again.
 */
async function leaveAutoScalingGroup(
  deps: PreserveAndSnapshotDeps,
  instanceId: string,
  asg: DescribeResult['preIncident']['autoScalingGroup'],
  attempt: Attempt,
  skip: Skip,
): Promise<Outcome> {
  if (!asg) return skip('leave-auto-scaling-group', null, 'not in an Auto Scaling group');
  const previous = { autoScalingGroupName: asg.name, lifecycleState: asg.lifecycleState };
  if (ALREADY_OUT_OF_SERVICE.has(asg.lifecycleState)) {
    return skip('leave-auto-scaling-group', previous, `already ${asg.lifecycleState}`);
  }
  if (asg.lifecycleState !== 'InService') {
    return attempt('leave-auto-scaling-group', { autoScalingGroupName: asg.name, instanceId }, previous, async () => {
      throw Object.assign(new Error(`lifecycle state ${asg.lifecycleState}: cannot enter standby or detach now`), {
        name: 'UnsupportedLifecycleState',
      });
    });
  }
  return attempt(
    'leave-auto-scaling-group',
    { autoScalingGroupName: asg.name, instanceId, enterStandby: true, shouldDecrementDesiredCapacity: true },
    previous,
    async () => {
      try {
        await deps.autoScaling.enterStandby(asg.name, instanceId);
        return 'EnterStandby';
      } catch (standbyErr) {
        const now = await deps.autoScaling.describeMembership(instanceId).catch(() => undefined);
        if (now && ALREADY_OUT_OF_SERVICE.has(now.lifecycleState)) return `already ${now.lifecycleState}`;
        if (!now) return 'no longer in an Auto Scaling group';
        try {
          await deps.autoScaling.detach(asg.name, instanceId, false);
        } catch (detachErr) {
          throw Object.assign(
            new Error(
              `EnterStandby: ${errorSummary(standbyErr)}; DetachInstances: ${errorSummary(detachErr)}`,
            ),
            { name: errorName(detachErr) },
          );
        }
        return `DetachInstances (ShouldDecrementDesiredCapacity=false) after EnterStandby was refused: ${errorSummary(standbyErr)}`;
      }
    },
  );
}

function matchSnapshots(
  taken: TakenSnapshot[],
  describe: DescribeResult,
): { snapshots: SnapshotRef[]; missingVolumeIds: string[] } {
  const volumes = new Map(describe.preIncident.volumes.map((v) => [v.volumeId, v]));
  const snapshots: SnapshotRef[] = taken.map((s) => {
    const v = volumes.get(s.volumeId);
    return {
      volumeId: s.volumeId,
      snapshotId: s.snapshotId,
      ...(v?.deviceName ? { deviceName: v.deviceName } : {}),
      ...(s.sizeGiB !== undefined ? { sizeGiB: s.sizeGiB } : v ? { sizeGiB: v.sizeGiB } : {}),
      ...(s.startTime ? { startTime: s.startTime } : {}),
    };
  });
  const covered = new Set(taken.map((s) => s.volumeId));
  return { snapshots, missingVolumeIds: [...volumes.keys()].filter((id) => !covered.has(id)) };
}

function outcome(
  clock: Clock,
  action: string,
  status: PreservationOutcome['status'],
  request: Record<string, unknown>,
  previous: unknown,
  detail: string | undefined,
  check: Pick<PreservationOutcome, 'verified' | 'readBack'> = {},
): Outcome {
  const checked = {
    ...(check.verified !== undefined ? { verified: check.verified } : {}),
    ...(check.readBack !== undefined ? { readBack: check.readBack } : {}),
  };
  return {
    preservation: { action, status, ...(detail ? { detail } : {}), previous, ...checked },
    action: {
      step: STEP,
      action,
      status: status === 'applied' ? 'succeeded' : status,
      performedAt: clock().toISOString(),
      request,
      result: { status, ...(detail ? { detail } : {}), previous, ...checked },
    },
  };
}
