import type { AutoScalingAdapter } from '../adapters/auto-scaling-adapter';
import type { Ec2InstanceAdapter, VolumeDescription } from '../adapters/ec2-instance-adapter';
import type { Ec2SecurityGroupAdapter, GroupDescription } from '../adapters/ec2-security-group-adapter';
import type { Registration, TargetGroupAdapter, TargetGroupSummary } from '../adapters/target-group-adapter';
import { isThrottlingError, mapSettledWithConcurrency } from '../domain/concurrency';
import { requireDrillCanary } from '../domain/drill';
import { InstanceNotFound, errorMessage, errorName } from '../domain/errors';
import { type IsolationRole, fitsRole, isolationGroupName } from '../domain/isolation-groups';
import type { Clock } from '../domain/ports';
import type {
  CaseRef,
  DescribeResult,
  IsolationGroups,
  NetworkInterfaceState,
  PreIncidentState,
  Target,
  VolumeState,
} from '../domain/types';

export interface DescribeInstanceDeps {
  instances: Ec2InstanceAdapter;
  securityGroups: Ec2SecurityGroupAdapter;
  autoScaling: AutoScalingAdapter;
  targetGroups: TargetGroupAdapter;
  clock: Clock;
  tagPrefix: string;
  /** DescribeTargetHealth calls in flight at once (ELBv2 API rate limits are per account). */
  targetHealthConcurrency?: number;
  /**
   * Leave the target health (round B) to "Preserve and snapshot", beside CreateSnapshots: the candidate groups are
   * returned as `targetGroupCandidates` instead, so the describe is always one round trip on the path.
   */
  deferTargetHealth?: boolean;
}

/** A describe call that failed without making the record useless; listed in the custody action. */
export interface DescribeGap {
  call: string;
  error: string;
  message: string;
}

const STEP = 'describeInstance';

/**
 * Captures the pre-incident state of the instance (what `release` restores) and finds this product's isolation
 * groups, in two rounds of parallel calls:
 *  A. instance, both attributes, attached volumes (by filter), profile association, ASG membership, every target
 *     group of the region, and the groups tagged with our role tag in every VPC;
 *  B. target health of the target groups in the instance's VPCs (bounded), and the instance type's storage.
 *
 * Only the instance itself is essential: when it is unknown the case fails with `InstanceNotFound`. Throttling
 * anywhere is rethrown by name (the step is read-only, so the state machine can simply retry it). Any other failed
 * call becomes a recorded gap rather than a blocked containment: a missing ELB permission must not leave a
 * compromised instance on the network.
 */
export async function describeInstance(deps: DescribeInstanceDeps, target: Target): Promise<DescribeResult> {
  const { instanceId } = target;
  const capturedAt = deps.clock().toISOString();
  const roleKey = `${deps.tagPrefix}:role`;
  const gaps: DescribeGap[] = [];

  const [instanceR, terminationR, shutdownR, volumesR, associationR, asgR, targetGroupsR, groupsR] =
    await Promise.allSettled([
      deps.instances.describeInstance(instanceId),
      deps.instances.describeAttribute(instanceId, 'disableApiTermination'),
      deps.instances.describeAttribute(instanceId, 'instanceInitiatedShutdownBehavior'),
      deps.instances.describeAttachedVolumes(instanceId),
      deps.instances.describeProfileAssociation(instanceId),
      deps.autoScaling.describeMembership(instanceId),
      deps.targetGroups.listTargetGroups(),
      deps.securityGroups.findByRole(roleKey),
    ]);

  if (instanceR.status === 'rejected') throw instanceR.reason;
  const instance = instanceR.value;
  if (!instance) throw new InstanceNotFound(instanceId);

  /** Value of an auxiliary call, or undefined with the failure recorded (throttling rethrown). */
  const aux = <T>(call: string, r: PromiseSettledResult<T>): T | undefined => {
    if (r.status === 'fulfilled') return r.value;
    if (isThrottlingError(r.reason)) throw r.reason;
    gaps.push({ call, error: errorName(r.reason), message: errorMessage(r.reason) });
    return undefined;
  };
  const terminationProtection = aux('ec2:DescribeInstanceAttribute(disableApiTermination)', terminationR);
  const shutdownBehavior = aux('ec2:DescribeInstanceAttribute(instanceInitiatedShutdownBehavior)', shutdownR);
  const volumes = aux('ec2:DescribeVolumes', volumesR) ?? [];
  const association = aux('ec2:DescribeIamInstanceProfileAssociations', associationR);
  const asg = aux('autoscaling:DescribeAutoScalingInstances', asgR);
  const allTargetGroups = aux('elasticloadbalancing:DescribeTargetGroups', targetGroupsR) ?? [];
  const taggedGroups = aux('ec2:DescribeSecurityGroups', groupsR) ?? [];

  const networkInterfaces: NetworkInterfaceState[] = [...instance.networkInterfaces]
    .sort((a, b) => a.networkCardIndex - b.networkCardIndex || a.deviceIndex - b.deviceIndex)
    .map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      deviceIndex: eni.deviceIndex,
      ...(eni.attachmentId ? { attachmentId: eni.attachmentId } : {}),
      vpcId: eni.vpcId ?? instance.vpcId ?? '',
      ...(eni.subnetId ? { subnetId: eni.subnetId } : {}),
      ...(eni.privateIpAddress ? { privateIpAddress: eni.privateIpAddress } : {}),
      ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
      groups: eni.groups,
    }));
  const vpcIds = [...new Set(networkInterfaces.map((e) => e.vpcId).filter((v) => v))].sort();

  // ── Round B ──
  // Only instance-type target groups of the instance's VPCs can hold it as an instance target.
  const candidateGroups = allTargetGroups.filter(
    (tg) => (tg.targetType ?? 'instance') === 'instance' && tg.vpcId !== undefined && vpcIds.includes(tg.vpcId),
  );
  // Only when there are such groups (and it is not deferred): round B is then one more round trip.
  const deferred = deps.deferTargetHealth === true && candidateGroups.length > 0;
  const [healthR] = await Promise.allSettled([
    candidateGroups.length === 0 || deferred
      ? Promise.resolve([])
      : mapSettledWithConcurrency(candidateGroups, deps.targetHealthConcurrency ?? 8, (tg) =>
          deps.targetGroups.registrationsOf(tg.targetGroupArn, instanceId),
        ),
  ]);
  const targetGroups = collectRegistrations(candidateGroups, healthR, aux);

  const preIncident: PreIncidentState = {
    capturedAt,
    target,
    instanceState: instance.state,
    ...optional({
      instanceType: instance.instanceType,
      imageId: instance.imageId,
      launchTime: instance.launchTime,
      availabilityZone: instance.availabilityZone,
      vpcId: instance.vpcId,
      subnetId: instance.subnetId,
      privateIpAddress: instance.privateIpAddress,
      publicIpAddress: instance.publicIpAddress,
      rootDeviceName: instance.rootDeviceName,
      terminationProtection,
      shutdownBehavior,
    }),
    tags: instance.tags,
    ...(instance.iamInstanceProfile
      ? {
          iamInstanceProfile: {
            arn: instance.iamInstanceProfile.arn,
            ...optional({ id: instance.iamInstanceProfile.id, associationId: association?.associationId }),
          },
        }
      : {}),
    networkInterfaces,
    volumes: joinVolumes(instance.blockDevices, volumes, gaps),
    instanceStoreDevices: instanceStore(instance.blockDevices),
    ...(asg ? { autoScalingGroup: asg } : {}),
    targetGroups,
  };

  const isolationGroups = vpcIds.map((vpcId) => pickGroups(vpcId, taggedGroups, deps.tagPrefix, roleKey));

  return {
    preIncident,
    isolationGroups,
    ...(deferred ? { targetGroupCandidates: candidateGroups.map((tg) => tg.targetGroupArn) } : {}),
    actions: [
      {
        step: STEP,
        action: 'capture-pre-incident-state',
        status: 'succeeded',
        performedAt: capturedAt,
        request: { instanceId, accountId: target.accountId, region: target.region },
        result: {
          instanceState: instance.state,
          networkInterfaceIds: networkInterfaces.map((e) => e.networkInterfaceId),
          volumeIds: preIncident.volumes.map((v) => v.volumeId),
          instanceStoreDevices: preIncident.instanceStoreDevices.length,
          autoScalingGroup: asg?.name ?? null,
          targetGroupArns: targetGroups.map((t) => t.targetGroupArn),
          isolationGroups,
          gaps,
        },
      },
    ],
  };
}

/**
 * The case's instance described (`describeInstance`), and — before anything is changed on it — a drill case held to
 * the canary its drill launched (`InvalidInput` otherwise).
 */
export async function describeCaseInstance(deps: DescribeInstanceDeps, caseRef: Pick<CaseRef, 'target' | 'options'>): Promise<DescribeResult> {
  const described = await describeInstance(deps, caseRef.target);
  requireDrillCanary(caseRef.options, described.preIncident.tags, deps.tagPrefix);
  return described;
}

function collectRegistrations(
  candidates: TargetGroupSummary[],
  healthR: PromiseSettledResult<PromiseSettledResult<Registration[]>[]>,
  aux: <T>(call: string, r: PromiseSettledResult<T>) => T | undefined,
): PreIncidentState['targetGroups'] {
  const perGroup = aux('elasticloadbalancing:DescribeTargetHealth', healthR) ?? [];
  const found: PreIncidentState['targetGroups'] = [];
  perGroup.forEach((r, i) => {
    const tg = candidates[i];
    if (!tg) return;
    // A target group deleted between the two rounds simply holds nothing any more.
    if (r.status === 'rejected' && errorName(r.reason) === 'TargetGroupNotFoundException') return;
    for (const reg of aux(`elasticloadbalancing:DescribeTargetHealth(${tg.targetGroupArn})`, r) ?? []) {
      found.push({ targetGroupArn: tg.targetGroupArn, ...optional({ port: reg.port, availabilityZone: reg.availabilityZone }) });
    }
  });
  return found;
}

function joinVolumes(
  blockDevices: { deviceName: string; volumeId?: string; deleteOnTermination?: boolean }[],
  volumes: VolumeDescription[],
  gaps: DescribeGap[],
): VolumeState[] {
  const byId = new Map(volumes.map((v) => [v.volumeId, v]));
  return blockDevices
    .filter((bd): bd is typeof bd & { volumeId: string } => Boolean(bd.volumeId))
    .map((bd) => {
      const v = byId.get(bd.volumeId);
      if (!v) {
        gaps.push({ call: 'ec2:DescribeVolumes', error: 'VolumeNotDescribed', message: `${bd.volumeId} (${bd.deviceName}) was not returned` });
      }
      return {
        volumeId: bd.volumeId,
        deviceName: bd.deviceName,
        sizeGiB: v?.sizeGiB ?? 0,
        ...optional({ volumeType: v?.volumeType, kmsKeyId: v?.kmsKeyId }),
        encrypted: v?.encrypted ?? false,
        deleteOnTermination: bd.deleteOnTermination ?? false,
      };
    });
}

/**
 * Instance-store devices in the block device mappings (not acquirable by EBS snapshot). They rarely show there (NVMe
 * instance store never does): when none does, "Preserve and snapshot" asks the instance type, beside CreateSnapshots.
 */
function instanceStore(
  blockDevices: { deviceName: string; volumeId?: string; virtualName?: string }[],
): PreIncidentState['instanceStoreDevices'] {
  return blockDevices
    .filter((bd) => !bd.volumeId)
    .map((bd) => ({
      deviceName: bd.deviceName,
      ...optional({ virtualName: bd.virtualName }),
      note: 'instance store: not acquirable by EBS snapshot; lost when the instance stops',
    }));
}

/** Per VPC, the groups we can trust as they are: the canonical name first, then the lowest id. */
function pickGroups(vpcId: string, groups: GroupDescription[], tagPrefix: string, roleKey: string): IsolationGroups {
  const pick = (role: IsolationRole): string | undefined => {
    const name = isolationGroupName(tagPrefix, role);
    return groups
      .filter((g) => g.vpcId === vpcId && g.tags[roleKey] === role && fitsRole(role, g))
      .sort((a, b) => Number(b.groupName === name) - Number(a.groupName === name) || a.groupId.localeCompare(b.groupId))[0]
      ?.groupId;
  };
  return { vpcId, ...optional({ transitionGroupId: pick('transition'), isolationGroupId: pick('isolation') }) };
}

/** Drops undefined fields, so records carry only what is known. */
function optional<T extends Record<string, unknown>>(fields: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<{
    [K in keyof T]: Exclude<T[K], undefined>;
  }>;
}
