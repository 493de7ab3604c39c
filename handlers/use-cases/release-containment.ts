import { errorMessage, errorName, errorSummary } from '../domain/errors';
import { CaseNotFound } from '../domain/evidence-errors';
import { POLICY_NAME_PREFIX } from '../domain/revocation-policy';
import type { CaseRecord, CaseTable, Clock, CustodyLog } from '../domain/ports';
import { CaseAlreadyReleased, CaseStillAcquiring, ReleaseIncomplete } from '../domain/release-errors';
import type {
  AppliedDenyPolicy,
  CustodyAction,
  IsolatedInterface,
  PreservationOutcome,
  PreIncidentState,
  ProfileQuarantine,
  Target,
} from '../domain/types';
import type { InstanceProfilePort } from './quarantine-profile';

/** What release needs; evidence (snapshots, objects, legal holds, manifest) is deliberately out of reach. */
export interface ReleasePorts {
  cases: Pick<CaseTable, 'getCase' | 'updateCase'> & { releaseLock(target: Target, caseId: string): Promise<boolean> };
  custody: CustodyLog;
  adaptersFor(target: Target): {
    network: { setInterfaceGroups(networkInterfaceId: string, groupIds: string[]): Promise<void> };
    iam: {
      deleteRolePolicy(roleName: string, policyName: string): Promise<boolean>;
      /** The role's inline policy names: another case's deny policy keeps the containment tag. */
      rolePolicyNames(roleName: string): Promise<string[]>;
      untagRole(roleName: string, key: string): Promise<void>;
    };
    /** Restores the instance profile a quarantine replaced (absent: such a case's release fails, recorded). */
    instanceProfiles?: InstanceProfilePort;
    autoScaling: { exitStandby(groupName: string, instanceId: string): Promise<void> };
    targetGroups: {
      register(targetGroupArn: string, targets: { id: string; port?: number; availabilityZone?: string }[]): Promise<void>;
    };
  };
  clock: Clock;
}

export interface ReleaseRequest {
  caseId: string;
  reason: string;
  requestedBy?: string;
  /** Who acts, recorded as the custody records' actor (e.g. `forensics-cli` or a release execution ARN). */
  actor: string;
}

export interface ReleaseResult {
  caseId: string;
  status: 'RELEASED';
  releasedAt: string;
  lockReleased: boolean;
  actions: CustodyAction[];
}

const STEP = 'release';

/** One restore action: key (for reruns), what to call, and what to record. */
interface Planned {
  key: string;
  action: string;
  request: Record<string, unknown>;
  previous: Record<string, unknown>;
  /** Resolves to what to add to the record, if anything. */
  run?: () => Promise<Record<string, unknown>> | Promise<void>;
  /** Set for actions that are recorded as skipped, with the reason. */
  skip?: string;
}

/**
 * Releases a case's containment: every ENI back in its recorded original groups, the case's deny policies deleted
 * (then the role's containment tag, once no deny policy of this product is left on it),
 * the original instance profile back in place of the quarantine profile (none: the quarantine profile removed), the
 * instance out of Auto Scaling standby and registered again in its target groups when acquisition took it out;
 * then the case is RELEASED, the target lock deleted, and every action appended to the custody log.
 *
 * Refuses (named errors) an unknown case, a case still ACQUIRING, and a released one. A failed action does not stop
 * the others: everything is recorded, the case stays as it was, and `ReleaseIncomplete` is thrown; a rerun skips
 * what already succeeded. Snapshots, evidence objects, legal holds and the manifest are never touched.
 */
export async function releaseContainment(deps: ReleasePorts, request: ReleaseRequest): Promise<ReleaseResult> {
  const record = await deps.cases.getCase(request.caseId);
  if (!record) throw new CaseNotFound(request.caseId);
  if (record.status === 'ACQUIRING') throw new CaseStillAcquiring(request.caseId);
  if (record.status === 'RELEASED') {
    const release = record.details.release as { releasedAt?: string } | undefined;
    throw new CaseAlreadyReleased(request.caseId, release?.releasedAt);
  }

  const adapters = deps.adaptersFor(record.target);
  const done = new Set(((record.details.release as { succeeded?: string[] } | undefined)?.succeeded ?? []).map(String));
  const plan = planRelease(record, adapters);

  const actions: CustodyAction[] = [];
  const succeeded: string[] = [...done];
  const failures: string[] = [];
  for (const p of plan) {
    const performedAt = () => deps.clock().toISOString();
    const common = { request: { ...p.request, reason: request.reason } };
    if (p.skip || done.has(p.key) || !p.run) {
      actions.push({
        step: STEP,
        action: p.action,
        status: 'skipped',
        performedAt: performedAt(),
        ...common,
        result: { reason: p.skip ?? 'already done by an earlier release attempt', previous: p.previous },
      });
      continue;
    }
    try {
      const extra = (await p.run()) ?? {};
      succeeded.push(p.key);
      actions.push({ step: STEP, action: p.action, status: 'succeeded', performedAt: performedAt(), ...common, result: { previous: p.previous, ...extra } });
    } catch (err) {
      failures.push(`${p.action} ${JSON.stringify(p.request)}: ${errorSummary(err)}`);
      actions.push({
        step: STEP,
        action: p.action,
        status: 'failed',
        performedAt: performedAt(),
        ...common,
        result: { previous: p.previous, error: errorName(err), message: errorMessage(err) },
      });
    }
  }

  const releasedAt = deps.clock().toISOString();
  const caseRef = { caseId: record.caseId, executionArn: request.actor };
  const who = { reason: request.reason, ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}) };
  if (failures.length > 0) {
    await deps.custody.append(caseRef, actions);
    await deps.cases.updateCase(record.caseId, {
      details: { release: { attemptedAt: releasedAt, ...who, succeeded, failures } },
    });
    throw new ReleaseIncomplete(record.caseId, failures);
  }

  await deps.cases.updateCase(record.caseId, {
    status: 'RELEASED',
    details: { release: { releasedAt, ...who, succeeded, previousStatus: record.status } },
  });
  const lockReleased = await deps.cases.releaseLock(record.target, record.caseId);
  const closing: CustodyAction = {
    step: STEP,
    action: 'release-case',
    status: 'succeeded',
    performedAt: releasedAt,
    request: { caseId: record.caseId, ...who },
    result: { status: 'RELEASED', previousStatus: record.status, lockReleased, evidence: 'unchanged (snapshots, objects, legal holds, manifest)' },
  };
  await deps.custody.append(caseRef, [...actions, closing]);
  return { caseId: record.caseId, status: 'RELEASED', releasedAt, lockReleased, actions: [...actions, closing] };
}

interface ReleaseDetails {
  containment?: {
    networkInterfaces?: IsolatedInterface[];
    credentials?: { policies?: AppliedDenyPolicy[]; quarantine?: ProfileQuarantine };
  };
  preservation?: PreservationOutcome[];
  targetGroups?: PreIncidentState['targetGroups'];
  preIncident?: { targetGroupArns?: string[] };
}

/** The restore actions, from what the case recorded; pure apart from the closures it builds. */
export function planRelease(record: CaseRecord, adapters: ReturnType<ReleasePorts['adaptersFor']>): Planned[] {
  const details = record.details as ReleaseDetails;
  const instanceId = record.target.instanceId;
  const plan: Planned[] = [];

  for (const eni of details.containment?.networkInterfaces ?? []) {
    plan.push({
      key: `eni:${eni.networkInterfaceId}`,
      action: 'restore-network-interface-groups',
      request: { networkInterfaceId: eni.networkInterfaceId, groupIds: eni.originalGroupIds },
      previous: { groupIds: [eni.isolationGroupId] },
      run: () => adapters.network.setInterfaceGroups(eni.networkInterfaceId, eni.originalGroupIds),
    });
  }

  const policies = details.containment?.credentials?.policies ?? [];
  for (const policy of policies) {
    plan.push({
      key: `policy:${policy.roleName}/${policy.policyName}`,
      action: 'delete-deny-role-policy',
      request: { roleName: policy.roleName, policyName: policy.policyName },
      previous: { instanceArn: policy.instanceArn, ...(policy.issuedBefore ? { issuedBefore: policy.issuedBefore } : {}) },
      run: async () => ({ deleted: await adapters.iam.deleteRolePolicy(policy.roleName, policy.policyName) }),
    });
  }
  // After the deny policies: the containment tag this case set, unless a deny policy (another case's, or this one's
  // whose deletion failed) is still on the role: that policy's release needs the tag.
  for (const policy of policies) {
    const tag = policy.containmentTag;
    if (tag?.status !== 'applied') continue;
    plan.push({
      key: `tag:${policy.roleName}/${tag.key}`,
      action: 'untag-contained-role',
      request: { roleName: policy.roleName, tagKey: tag.key },
      previous: { [tag.key]: tag.value, before: tag.previousValue },
      run: async () => {
        const left = (await adapters.iam.rolePolicyNames(policy.roleName)).filter((n) => n.startsWith(POLICY_NAME_PREFIX));
        if (left.length > 0) return { untagged: false, note: `kept: deny policies still on the role (${left.join(', ')})` };
        await adapters.iam.untagRole(policy.roleName, tag.key);
        return { untagged: true };
      },
    });
  }

  const quarantine = details.containment?.credentials?.quarantine;
  if (quarantine?.status === 'applied') plan.push(restoreProfile(instanceId, quarantine, adapters.instanceProfiles));

  const preservation = details.preservation ?? [];
  const asg = preservation.find((p) => p.action === 'leave-auto-scaling-group' && p.status === 'applied');
  if (asg) {
    const previous = (asg.previous ?? {}) as { autoScalingGroupName?: string; lifecycleState?: string };
    const groupName = previous.autoScalingGroupName ?? '';
    const viaStandby = (asg.detail ?? 'EnterStandby') === 'EnterStandby';
    plan.push({
      key: `asg:${groupName}`,
      action: 'return-to-auto-scaling-group',
      request: { autoScalingGroupName: groupName, instanceId },
      previous,
      ...(viaStandby
        ? { run: () => adapters.autoScaling.exitStandby(groupName, instanceId) }
        : { skip: `acquisition did not use standby (${asg.detail}); the group launched a replacement, so the instance is not attached again` }),
    });
  }

  if (preservation.some((p) => p.action === 'deregister-targets' && p.status === 'applied')) {
    const registrations: PreIncidentState['targetGroups'] =
      details.targetGroups ?? (details.preIncident?.targetGroupArns ?? []).map((targetGroupArn) => ({ targetGroupArn }));
    const byGroup = new Map<string, { id: string; port?: number; availabilityZone?: string }[]>();
    for (const r of registrations) {
      const list = byGroup.get(r.targetGroupArn) ?? [];
      list.push({ id: instanceId, ...(r.port !== undefined ? { port: r.port } : {}), ...(r.availabilityZone ? { availabilityZone: r.availabilityZone } : {}) });
      byGroup.set(r.targetGroupArn, list);
    }
    for (const [targetGroupArn, targets] of byGroup) {
      plan.push({
        key: `tg:${targetGroupArn}`,
        action: 'register-targets',
        request: { targetGroupArn, targets },
        previous: { registered: false },
        run: () => adapters.targetGroups.register(targetGroupArn, targets),
      });
    }
  }
  return plan;
}

/**
 * Undo the quarantine profile: the original profile back (`ReplaceIamInstanceProfileAssociation` of the association
 * the instance carries now), or, when it had none, the quarantine profile removed (`DisassociateIamInstanceProfile`).
 * What the instance carries is read first: a profile someone set since containment (neither the quarantine profile
 * nor the original) is left as it is and said so; the original already back is not an error.
 */
function restoreProfile(instanceId: string, q: ProfileQuarantine, profiles: InstanceProfilePort | undefined): Planned {
  const original = q.previous?.instanceProfileArn;
  return {
    key: `profile:${instanceId}`,
    action: 'restore-instance-profile',
    request: { instanceId, instanceProfileArn: original ?? null, method: original ? 'replace' : 'disassociate' },
    previous: { instanceProfileArn: q.quarantineProfileArn ?? null, associationId: q.associationId ?? null },
    run: async () => {
      if (!profiles) throw new Error('no instance profile adapter: this release cannot restore the instance profile');
      const current = await profiles.currentAssociation(instanceId);
      if (current && current.instanceProfileArn !== q.quarantineProfileArn) {
        return current.instanceProfileArn === original
          ? { changed: false, note: 'the original profile is already back' }
          : { changed: false, note: `the instance carries ${current.instanceProfileArn}, not the quarantine profile: left as it is` };
      }
      if (!current) {
        if (!original) return { changed: false, note: 'the instance carries no profile already' };
        return { associationId: (await profiles.associate(instanceId, original)).associationId, note: 'no profile was associated; the original associated again' };
      }
      if (!original) {
        await profiles.disassociate(current.associationId);
        return { disassociated: current.associationId };
      }
      return { associationId: (await profiles.replace(current.associationId, original)).associationId, replaced: current.associationId };
    },
  };
}
