import type { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import { type RetryPolicy, retryWithBackoff } from '../domain/concurrency';
import { ContainmentFailed, errorMessage, errorName, errorSummary } from '../domain/errors';
import { type IsolationRole, fitsRole, isolationGroupName } from '../domain/isolation-groups';
import type { Clock } from '../domain/ports';
import type {
  CaseRef,
  ContainmentResult,
  CustodyAction,
  DescribeResult,
  EnsuredGroup,
  IsolatedInterface,
  PreparedGroups,
  NetworkInterfaceState,
} from '../domain/types';

export interface IsolateNetworkDeps {
  securityGroups: Ec2SecurityGroupAdapter;
  clock: Clock;
  tagPrefix: string;
  /** In-Lambda retries on throttling, on top of the SDK's own; tests shorten the delays. */
  retry?: Partial<RetryPolicy>;
}

/** What was already done when containment is incomplete: the payload of `ContainmentFailed.partial`. */
export interface PartialContainment {
  isolated: IsolatedInterface[];
  failed: {
    networkInterfaceId: string;
    vpcId: string;
    phase: 'groups' | 'transition' | 'isolation';
    error: string;
    /** Where the interface was left: never silently in the all-traffic transition group. */
    leftIn: 'original-groups' | 'isolation-group' | 'transition-group' | 'unknown';
  }[];
  groups: ContainmentResult['groups'];
}

const STEP = 'isolateNetwork';
const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2_000 };

const DESCRIPTIONS: Record<IsolationRole, string> = {
  transition: 'Forensic containment, transition: all traffic both ways so existing flows become untracked',
  isolation: 'Forensic containment, isolation: no rules, allows no traffic at all',
};

interface VpcGroups {
  vpcId: string;
  transition: Promise<EnsuredGroup>;
  isolation: Promise<EnsuredGroup>;
}

/**
 * For every VPC of the instance whose groups the describe step did not find, both groups made ready (created, or
 * the one another case created, repaired): what "Preserve and snapshot" runs beside CreateSnapshots so that the
 * first case in a VPC does not pay the creation on the path to containment. Never throws: a group that could not be
 * made is left out, and "Isolate network" makes it (and records its failure) as before.
 */
export async function prepareIsolationGroups(
  deps: IsolateNetworkDeps,
  describe: DescribeResult,
): Promise<PreparedGroups[]> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const retry = <T>(fn: () => Promise<T>) => retryWithBackoff(fn, policy);
  const vpcIds = [...new Set(describe.preIncident.networkInterfaces.map((e) => e.vpcId).filter((v) => v))].sort();
  const ready = (p: Promise<EnsuredGroup>) => p.then((g) => g, () => undefined);
  return Promise.all(
    vpcIds
      .map((vpcId) => ({ vpcId, known: describe.isolationGroups.find((g) => g.vpcId === vpcId) }))
      .filter(({ known }) => !known?.transitionGroupId || !known?.isolationGroupId)
      .map(async ({ vpcId, known }) => {
        const [transition, isolation] = await Promise.all([
          known?.transitionGroupId ? undefined : ready(ensureGroup(deps, retry, vpcId, 'transition', undefined)),
          known?.isolationGroupId ? undefined : ready(ensureGroup(deps, retry, vpcId, 'isolation', undefined)),
        ]);
        return { vpcId, ...(transition ? { transition } : {}), ...(isolation ? { isolation } : {}) };
      }),
  );
}

/**
 * Cuts the instance off the network, established sessions included.
 *
 * For every VPC of its interfaces, the transition (all traffic, IPv4 and IPv6, both directions) and isolation
 * (no rules) groups come from the describe step or are created (a creation race with another case ends in
 * `InvalidGroup.Duplicate`: the existing group is reused, and repaired if the race left it half configured).
 * Then every interface, in parallel, goes to the transition group — which makes its existing flows untracked —
 * and once all have, to the isolation group, which then drops those flows too. A plain swap to a rule-less group
 * would leave tracked connections (an attacker's shell) alive.
 *
 * An interface whose switch to the isolation group fails is put back in its original groups rather than left in
 * the wide-open transition group. Any interface not fully isolated after retries raises `ContainmentFailed`, whose
 * `partial` lists what was isolated and where every other interface was left.
 */
export async function isolateNetwork(
  deps: IsolateNetworkDeps,
  input: { caseRef: CaseRef; describe: DescribeResult; prepared?: PreparedGroups[] },
): Promise<ContainmentResult> {
  const startedAt = deps.clock().toISOString();
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const retry = <T>(fn: () => Promise<T>) => retryWithBackoff(fn, policy);
  const enis = input.describe.preIncident.networkInterfaces.filter((e) => e.vpcId);
  const vpcIds = [...new Set(enis.map((e) => e.vpcId))].sort();

  // Both groups of every VPC are prepared at once; an interface only waits for the group it needs next.
  const vpcs = new Map<string, VpcGroups>(
    vpcIds.map((vpcId) => {
      const known = input.describe.isolationGroups.find((g) => g.vpcId === vpcId);
      // Groups "Preserve and snapshot" prepared beside CreateSnapshots (first case in the VPC); else made here.
      const prepared = input.prepared?.find((g) => g.vpcId === vpcId);
      const vpc: VpcGroups = {
        vpcId,
        transition: prepared?.transition
          ? Promise.resolve(prepared.transition)
          : ensureGroup(deps, retry, vpcId, 'transition', known?.transitionGroupId),
        isolation: prepared?.isolation
          ? Promise.resolve(prepared.isolation)
          : ensureGroup(deps, retry, vpcId, 'isolation', known?.isolationGroupId),
      };
      // Failures are read where the groups are used; this keeps an unused rejection from going unhandled.
      vpc.transition.catch(() => undefined);
      vpc.isolation.catch(() => undefined);
      return [vpcId, vpc];
    }),
  );
  const groupsOf = (eni: NetworkInterfaceState) => vpcs.get(eni.vpcId) as VpcGroups;

  // Phase 1: every interface into the transition group.
  const transitioned = await Promise.allSettled(
    enis.map(async (eni) => {
      const { groupId } = await groupsOf(eni).transition;
      await retry(() => deps.securityGroups.setInterfaceGroups(eni.networkInterfaceId, [groupId]));
      return deps.clock().toISOString();
    }),
  );

  // Phase 2, once all have switched: every interface into the isolation group. An interface whose transition
  // failed still gets the isolation group (new flows are cut even if tracked ones may survive) and is reported.
  const isolated = await Promise.allSettled(
    enis.map(async (eni, i) => {
      const { groupId } = await groupsOf(eni).isolation;
      await retry(() => deps.securityGroups.setInterfaceGroups(eni.networkInterfaceId, [groupId]));
      return { isolatedAt: deps.clock().toISOString(), transitionFailed: transitioned[i]?.status === 'rejected' };
    }),
  );

  const groups: ContainmentResult['groups'] = [];
  const groupActions: CustodyAction[] = [];
  for (const vpc of vpcs.values()) {
    const [t, iso] = await Promise.allSettled([vpc.transition, vpc.isolation]);
    for (const r of [t, iso]) if (r.status === 'fulfilled' && r.value.action) groupActions.push(r.value.action);
    if (t.status === 'fulfilled' && iso.status === 'fulfilled') {
      groups.push({
        vpcId: vpc.vpcId,
        transitionGroupId: t.value.groupId,
        isolationGroupId: iso.value.groupId,
        created: t.value.created || iso.value.created,
      });
    }
    for (const [role, r] of [['transition', t], ['isolation', iso]] as const) {
      if (r.status === 'rejected') {
        groupActions.push({
          step: STEP,
          action: `ensure-${role}-group`,
          status: 'failed',
          performedAt: deps.clock().toISOString(),
          request: { vpcId: vpc.vpcId, groupName: isolationGroupName(deps.tagPrefix, role) },
          result: { error: errorName(r.reason), message: errorMessage(r.reason) },
        });
      }
    }
  }

  const done: IsolatedInterface[] = [];
  const failed: PartialContainment['failed'] = [];
  const eniActions: CustodyAction[] = [];
  for (const [i, eni] of enis.entries()) {
    const t = transitioned[i] as PromiseSettledResult<string>;
    const iso = isolated[i] as PromiseSettledResult<{ isolatedAt: string; transitionFailed: boolean }>;
    const groupsForEni = groups.find((g) => g.vpcId === eni.vpcId);
    const originalGroupIds = eni.groups.map((g) => g.groupId);
    const request = {
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      transitionGroupId: groupsForEni?.transitionGroupId ?? null,
      isolationGroupId: groupsForEni?.isolationGroupId ?? null,
    };
    if (iso.status === 'fulfilled' && t.status === 'fulfilled' && groupsForEni) {
      done.push({
        networkInterfaceId: eni.networkInterfaceId,
        vpcId: eni.vpcId,
        originalGroupIds,
        transitionGroupId: groupsForEni.transitionGroupId,
        isolationGroupId: groupsForEni.isolationGroupId,
        isolatedAt: iso.value.isolatedAt,
      });
      eniActions.push({
        step: STEP,
        action: 'isolate-network-interface',
        status: 'succeeded',
        performedAt: iso.value.isolatedAt,
        request,
        result: { originalGroupIds, transitionedAt: t.value, isolatedAt: iso.value.isolatedAt },
      });
      continue;
    }
    let phase: PartialContainment['failed'][number]['phase'];
    let leftIn: PartialContainment['failed'][number]['leftIn'];
    let cause: unknown;
    if (iso.status === 'fulfilled') {
      // Transition failed, isolation applied: new flows are cut, tracked ones may live on.
      phase = 'transition';
      leftIn = 'isolation-group';
      cause = t.status === 'rejected' ? t.reason : undefined;
    } else if (t.status === 'fulfilled') {
      // Left wide open by the transition group: put the interface back where it was.
      phase = 'isolation';
      cause = iso.reason;
      leftIn = await retry(() => deps.securityGroups.setInterfaceGroups(eni.networkInterfaceId, originalGroupIds)).then(
        () => 'original-groups' as const,
        () => 'transition-group' as const,
      );
    } else {
      phase = groupsForEni ? 'transition' : 'groups';
      cause = iso.reason;
      // Both switches failed; the interface most likely still has its original groups.
      leftIn = 'unknown';
    }
    failed.push({
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      phase,
      error: errorSummary(cause),
      leftIn,
    });
    eniActions.push({
      step: STEP,
      action: 'isolate-network-interface',
      status: 'failed',
      performedAt: deps.clock().toISOString(),
      request,
      result: { originalGroupIds, phase, error: errorName(cause), message: errorMessage(cause), leftIn },
    });
  }

  if (failed.length > 0) {
    const partial: PartialContainment = { isolated: done, failed, groups };
    throw new ContainmentFailed(
      `${failed.length} of ${enis.length} network interfaces of ${input.caseRef.target.instanceId} not fully isolated`,
      partial,
    );
  }

  return {
    startedAt,
    containedAt: done.map((d) => d.isolatedAt).sort().at(-1) ?? deps.clock().toISOString(),
    groups,
    networkInterfaces: done,
    actions: [...groupActions, ...eniActions],
  };
}

/**
 * A group of the given role in the VPC: the one the describe step found (already checked to fit its role), or a
 * new one, or — when another case created it first — that one, repaired if it does not fit its role yet.
 */
async function ensureGroup(
  deps: IsolateNetworkDeps,
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
  vpcId: string,
  role: IsolationRole,
  knownId: string | undefined,
): Promise<EnsuredGroup> {
  if (knownId) return { groupId: knownId, created: false };
  const groupName = isolationGroupName(deps.tagPrefix, role);
  const performedAt = deps.clock().toISOString();
  const createdId = await retry(() =>
    deps.securityGroups.create({
      vpcId,
      groupName,
      description: DESCRIPTIONS[role],
      tags: { [`${deps.tagPrefix}:role`]: role, Name: groupName },
    }),
  );
  if (createdId) {
    await retry(() =>
      role === 'transition'
        ? deps.securityGroups.allowAllTraffic(createdId)
        : deps.securityGroups.removeAllRules(createdId),
    );
    return {
      groupId: createdId,
      created: true,
      action: {
        step: STEP,
        action: `create-${role}-group`,
        status: 'succeeded',
        performedAt,
        request: { vpcId, groupName, role },
        result: { groupId: createdId, rules: role === 'transition' ? 'all traffic, both directions, 0.0.0.0/0 and ::/0' : 'none' },
      },
    };
  }
  // InvalidGroup.Duplicate: another case won the race (or the group exists without our role tag).
  const existing = await retry(() => deps.securityGroups.findByName(vpcId, groupName));
  if (!existing) throw new Error(`security group ${groupName} in ${vpcId} reported duplicate but not found`);
  const repaired = !fitsRole(role, existing);
  if (repaired) {
    await retry(() =>
      role === 'transition'
        ? deps.securityGroups.allowAllTraffic(existing.groupId, existing)
        : deps.securityGroups.removeAllRules(existing.groupId, existing),
    );
  }
  return {
    groupId: existing.groupId,
    created: false,
    action: {
      step: STEP,
      action: `reuse-${role}-group`,
      status: 'succeeded',
      performedAt,
      request: { vpcId, groupName, role },
      result: { groupId: existing.groupId, reason: 'InvalidGroup.Duplicate', repaired },
    },
  };
}
