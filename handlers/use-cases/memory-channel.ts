import type { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import { type RetryPolicy, retryWithBackoff } from '../domain/concurrency';
import { errorSummary } from '../domain/errors';
import { CHANNEL_PORT, CHANNEL_ROLE, isolationGroupName } from '../domain/isolation-groups';
import type { ChannelGroup, MemoryState } from '../domain/memory-state';
import type { Clock } from '../domain/ports';
import type { AppliedDenyPolicy, CustodyAction, RevokeMode } from '../domain/types';
import { type RevokeIamPort, restoreFullDeny } from './revoke-credentials';

/** Custody step of everything the memory capture does (the start step and the polls). */
export const MEMORY_STEP = 'memoryCapture';

const RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2_000 };

/**
 * The VPC's acquisition-channel group, made to hold EXACTLY its rules: created (tagged with the product's role tag)
 * or, when it exists (another case, or a person changed it), reconciled: no inbound, egress only TCP 443 to each of
 * the endpoint groups, everything else revoked.
 */
export async function ensureChannelGroup(
  deps: { securityGroups: Ec2SecurityGroupAdapter; clock: Clock; tagPrefix: string; retry?: Partial<RetryPolicy> },
  input: { vpcId: string; endpointGroupIds: string[] },
): Promise<{ groupId: string; action: CustodyAction }> {
  const policy = { ...RETRY, ...deps.retry };
  const retry = <T>(fn: () => Promise<T>) => retryWithBackoff(fn, policy);
  const groupName = isolationGroupName(deps.tagPrefix, CHANNEL_ROLE);
  const performedAt = deps.clock().toISOString();
  const createdId = await retry(() =>
    deps.securityGroups.create({
      vpcId: input.vpcId,
      groupName,
      description: 'Forensic memory capture channel: no inbound, egress only TCP 443 to the VPC SSM endpoints',
      tags: { [`${deps.tagPrefix}:role`]: CHANNEL_ROLE, Name: groupName },
    }),
  );
  let groupId: string;
  let changes: Awaited<ReturnType<Ec2SecurityGroupAdapter['setEgressOnlyToGroups']>>;
  if (createdId) {
    groupId = createdId;
    changes = await retry(() => deps.securityGroups.setEgressOnlyToGroups(createdId, CHANNEL_PORT, input.endpointGroupIds));
  } else {
    const existing = await retry(() => deps.securityGroups.findByName(input.vpcId, groupName));
    if (!existing) throw new Error(`security group ${groupName} in ${input.vpcId} reported duplicate but not found`);
    if (existing.tags[`${deps.tagPrefix}:role`] !== CHANNEL_ROLE) {
      throw new Error(`security group ${existing.groupId} is named ${groupName} but not tagged ${deps.tagPrefix}:role=${CHANNEL_ROLE}: not used`);
    }
    groupId = existing.groupId;
    changes = await retry(() => deps.securityGroups.setEgressOnlyToGroups(existing.groupId, CHANNEL_PORT, input.endpointGroupIds, existing));
  }
  return {
    groupId,
    action: {
      step: MEMORY_STEP,
      action: createdId ? 'create-channel-group' : 'reuse-channel-group',
      status: 'succeeded',
      performedAt,
      request: { vpcId: input.vpcId, groupName, role: CHANNEL_ROLE, endpointGroupIds: input.endpointGroupIds },
      result: { groupId, rules: `egress TCP ${CHANNEL_PORT} to ${input.endpointGroupIds.join(', ')} only; no inbound`, ...changes },
    },
  };
}

/** Moves every interface of the capture into a group of its VPC; returns the ones that failed. */
export async function moveInterfaces(
  deps: { securityGroups: Ec2SecurityGroupAdapter; retry?: Partial<RetryPolicy> },
  interfaces: { networkInterfaceId: string; vpcId: string }[],
  groupOf: (vpcId: string) => string | undefined,
): Promise<{ networkInterfaceId: string; error: string }[]> {
  const policy = { ...RETRY, ...deps.retry };
  const results = await Promise.allSettled(
    interfaces.map(async (eni) => {
      const groupId = groupOf(eni.vpcId);
      if (!groupId) throw new Error(`no group for VPC ${eni.vpcId}`);
      await retryWithBackoff(() => deps.securityGroups.setInterfaceGroups(eni.networkInterfaceId, [groupId]), policy);
    }),
  );
  return results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ networkInterfaceId: interfaces[i]?.networkInterfaceId ?? '', error: errorSummary(r.reason) }] : [],
  );
}

export interface CloseDeps {
  securityGroups: Ec2SecurityGroupAdapter;
  /** The IAM client on the instance's side, built on first use (only when a policy has an exemption). */
  iam: () => Pick<RevokeIamPort, 'putRolePolicy'>;
  clock: Clock;
  retry?: Partial<RetryPolicy>;
}

/**
 * The end of the capture, whatever ended it: every interface back into its VPC's rule-less isolation group (that
 * moment recorded as `closedAt`) and the case's deny policy made total again. Each part that fails is recorded on
 * the state and tried again at the next poll; nothing here throws.
 */
export async function closeChannelAndDeny(
  deps: CloseDeps,
  state: MemoryState,
  credentials: { mode: RevokeMode; policies: AppliedDenyPolicy[] } | undefined,
): Promise<{ state: MemoryState; actions: CustodyAction[] }> {
  const actions: CustodyAction[] = [];
  let next = state;
  const channel = state.channel;
  if (channel?.openedAt && !channel.closedAt) {
    const isolationOf = new Map(channel.groups.map((g: ChannelGroup) => [g.vpcId, g.isolationGroupId]));
    const failed = await moveInterfaces(deps, channel.interfaces, (vpcId) => isolationOf.get(vpcId));
    const at = deps.clock().toISOString();
    actions.push({
      step: MEMORY_STEP,
      action: 'close-acquisition-channel',
      status: failed.length === 0 ? 'succeeded' : 'failed',
      performedAt: at,
      request: { interfaces: channel.interfaces, isolationGroups: channel.groups.map((g) => ({ vpcId: g.vpcId, groupId: g.isolationGroupId })) },
      result: failed.length === 0 ? { closedAt: at } : { failed },
    });
    next = {
      ...next,
      channel: failed.length === 0 ? { ...channel, closedAt: at } : { ...channel, closeError: failed.map((f) => `${f.networkInterfaceId}: ${f.error}`).join('; ') },
    };
    if (failed.length === 0 && next.channel) delete next.channel.closeError;
  }
  if (!next.fullDeny || next.fullDeny.status === 'failed') {
    const exempted = (credentials?.policies ?? []).filter((p) => p.exempt && p.exempt.length > 0);
    if (exempted.length === 0 || !credentials) {
      next = { ...next, fullDeny: { status: 'not-needed', at: deps.clock().toISOString(), detail: 'no deny policy with an agent exemption was applied' } };
    } else {
      let iam: Pick<RevokeIamPort, 'putRolePolicy'>;
      try {
        iam = deps.iam();
      } catch (err) {
        const at = deps.clock().toISOString();
        const detail = errorSummary(err);
        actions.push({ step: MEMORY_STEP, action: 'put-full-deny-role-policy', status: 'failed', performedAt: at, request: {}, result: { error: detail } });
        return { state: { ...next, fullDeny: { status: 'failed', at, detail } }, actions };
      }
      const outcomes = await Promise.all(exempted.map((policy) => restoreFullDeny({ iam, clock: deps.clock }, { mode: credentials.mode, policy })));
      actions.push(...outcomes.map((o) => o.action));
      const bad = outcomes.filter((o) => o.status === 'failed');
      const at = deps.clock().toISOString();
      next = {
        ...next,
        fullDeny: bad.length === 0 ? { status: 'applied', at } : { status: 'failed', at, detail: bad.map((o) => o.detail).join('; ') },
      };
    }
  }
  return { state: next, actions };
}
