import { errorSummary } from '../domain/errors';
import type { Clock } from '../domain/ports';
import {
  BLAST_RADIUS,
  denyPolicyName,
  instanceArn,
  instanceProfileNameFromArn,
  isServiceLinkedRole,
  partitionOf,
  revocationPolicyDocument,
} from '../domain/revocation-policy';
import type {
  AppliedDenyPolicy,
  CaseRef,
  ContainmentTag,
  CredentialContainment,
  CustodyAction,
  PreIncidentState,
  RevokeMode,
} from '../domain/types';

/** The IAM calls credential containment makes (implemented by `IamRoleAdapter`). */
export interface RevokeIamPort {
  rolesOfInstanceProfile(instanceProfileName: string): Promise<{ roleName: string; arn: string; path: string }[] | undefined>;
  getRolePolicy(roleName: string, policyName: string): Promise<string | undefined>;
  putRolePolicy(roleName: string, policyName: string, document: string): Promise<void>;
  roleTag(roleName: string, key: string): Promise<string | undefined>;
  tagRole(roleName: string, key: string, value: string): Promise<void>;
}

export interface RevokeCredentialsDeps {
  iam: RevokeIamPort;
  clock: Clock;
  /** `<prefix>:contained`: the role tag release's DeleteRolePolicy is conditioned on. */
  containedTagKey: string;
}

/** Custody step name: credential containment is part of the containment step. */
const STEP = 'isolateNetwork';

/**
 * Credential containment: an inline deny-all policy on the instance's role, conditioned on this instance's ARN
 * (mode `instance`), plus a deny of older sessions of the role (mode `role`). Never throws: a failure is returned
 * with status `failed` (and recorded) so that the network containment that already happened is neither undone nor
 * reported as failed. Skips, with the reason, when the mode is `none`, the instance has no instance profile, the
 * profile has no role, or the role is service-linked (AWS refuses inline policies on those).
 */
export async function revokeCredentials(
  deps: RevokeCredentialsDeps,
  input: {
    caseRef: CaseRef;
    preIncident: PreIncidentState;
    mode: RevokeMode;
    /** While memory is captured: the SSM agent's own actions, left out of the deny (MEMORY_AGENT_ACTIONS). */
    exempt?: readonly string[];
  },
): Promise<{ credentials: CredentialContainment; actions: CustodyAction[] }> {
  const { caseRef, preIncident, mode } = input;
  const exempt = input.exempt && input.exempt.length > 0 ? [...input.exempt] : undefined;
  const target = caseRef.target;
  const profileArn = preIncident.iamInstanceProfile?.arn;
  const now = () => deps.clock().toISOString();
  const base = { instanceId: target.instanceId, mode };

  const skipped = (reason: string, extra: Partial<CredentialContainment> = {}) => ({
    credentials: { mode, status: 'skipped' as const, reason, policies: [], ...extra },
    actions: [
      {
        step: STEP,
        action: 'revoke-credentials',
        status: 'skipped' as const,
        performedAt: now(),
        request: { ...base, ...(profileArn ? { instanceProfileArn: profileArn } : {}) },
        result: { reason, ...(extra.roleArn ? { roleArn: extra.roleArn } : {}) },
      },
    ],
  });
  const failed = (reason: string, extra: Partial<CredentialContainment>, request: Record<string, unknown>) => ({
    credentials: { mode, status: 'failed' as const, reason, policies: [], ...extra },
    actions: [
      { step: STEP, action: 'revoke-credentials', status: 'failed' as const, performedAt: now(), request: { ...base, ...request }, result: { error: reason } },
    ],
  });

  if (mode === 'none') return skipped('revoke mode is none');
  if (!profileArn) return skipped('the instance has no IAM instance profile');
  const profileName = instanceProfileNameFromArn(profileArn);
  if (!profileName) return skipped(`not an instance profile ARN: ${profileArn}`, { instanceProfileArn: profileArn });

  let roles: Awaited<ReturnType<RevokeIamPort['rolesOfInstanceProfile']>>;
  try {
    roles = await deps.iam.rolesOfInstanceProfile(profileName);
  } catch (err) {
    return failed(`GetInstanceProfile: ${errorSummary(err)}`, { instanceProfileArn: profileArn }, { instanceProfileArn: profileArn });
  }
  if (!roles) return skipped('the instance profile no longer exists', { instanceProfileArn: profileArn });
  const role = roles[0];
  if (!role) return skipped('the instance profile has no role', { instanceProfileArn: profileArn });
  const roleRef = { instanceProfileArn: profileArn, roleName: role.roleName, roleArn: role.arn };
  if (isServiceLinkedRole(role)) {
    return skipped('the role is service-linked: AWS allows no inline policy on it', roleRef);
  }

  const policyName = denyPolicyName(caseRef.caseId);
  const arn = instanceArn(partitionOf(role.arn), target);
  const issuedBefore = mode === 'role' ? now() : undefined;
  const document = JSON.stringify(
    revocationPolicyDocument({ mode, instanceArn: arn, ...(issuedBefore ? { issuedBefore } : {}), ...(exempt ? { exempt } : {}) }),
  );
  const request = { ...roleRef, policyName, instanceArn: arn, ...(issuedBefore ? { issuedBefore } : {}), ...(exempt ? { exempt } : {}), document };

  let previousDocument: string | undefined;
  try {
    previousDocument = await deps.iam.getRolePolicy(role.roleName, policyName);
    await deps.iam.putRolePolicy(role.roleName, policyName, document);
  } catch (err) {
    return failed(errorSummary(err), roleRef, request);
  }
  const appliedAt = now();
  // The policy is in place: containment first. Then the tag that lets release remove it again; a failure here is
  // recorded and leaves the containment as it is (release then cannot delete the policy: by hand).
  const containmentTag = await tagContainedRole(deps, role.roleName, caseRef.caseId);
  const policy: AppliedDenyPolicy = {
    roleName: role.roleName,
    roleArn: role.arn,
    policyName,
    instanceArn: arn,
    ...(issuedBefore ? { issuedBefore } : {}),
    previouslyExisted: previousDocument !== undefined,
    previousDocument: previousDocument ?? null,
    appliedAt,
    containmentTag,
    ...(exempt ? { exempt } : {}),
  };
  return {
    credentials: { mode, status: 'applied', ...roleRef, policies: [policy] },
    actions: [
      {
        step: STEP,
        action: 'put-deny-role-policy',
        status: 'succeeded',
        performedAt: appliedAt,
        request,
        result: {
          blastRadius: BLAST_RADIUS[mode],
          previous: { policyExisted: policy.previouslyExisted, document: policy.previousDocument },
        },
      },
      {
        step: STEP,
        action: 'tag-contained-role',
        status: containmentTag.status === 'applied' ? 'succeeded' : 'failed',
        performedAt: now(),
        request: { ...roleRef, tags: { [containmentTag.key]: containmentTag.value } },
        result: {
          previous: { [containmentTag.key]: containmentTag.previousValue },
          ...(containmentTag.error ? { error: containmentTag.error } : {}),
        },
      },
    ],
  };
}

/** Reads the tag's previous value, then sets `<prefix>:contained` = case id; never throws. */
async function tagContainedRole(deps: RevokeCredentialsDeps, roleName: string, caseId: string): Promise<ContainmentTag> {
  const base = { key: deps.containedTagKey, value: caseId };
  let previousValue: string | null = null;
  try {
    previousValue = (await deps.iam.roleTag(roleName, deps.containedTagKey)) ?? null;
    await deps.iam.tagRole(roleName, deps.containedTagKey, caseId);
    return { ...base, previousValue, status: 'applied' };
  } catch (err) {
    return { ...base, previousValue, status: 'failed', error: errorSummary(err) };
  }
}

/**
 * When the memory capture ends (captured, failed or timed out): the case's deny policy, same name, overwritten with
 * the full deny (`Action: "*"`, the same conditions as when it was applied). Never throws: the outcome is returned
 * and recorded by the caller.
 */
export async function restoreFullDeny(
  deps: { iam: Pick<RevokeIamPort, 'putRolePolicy'>; clock: Clock },
  input: { mode: RevokeMode; policy: AppliedDenyPolicy },
): Promise<{ status: 'applied' | 'failed'; at: string; detail?: string; action: CustodyAction }> {
  const { policy } = input;
  const mode = input.mode === 'none' ? 'instance' : input.mode;
  const document = JSON.stringify(
    revocationPolicyDocument({ mode, instanceArn: policy.instanceArn, ...(policy.issuedBefore ? { issuedBefore: policy.issuedBefore } : {}) }),
  );
  const request = { roleName: policy.roleName, roleArn: policy.roleArn, policyName: policy.policyName, instanceArn: policy.instanceArn, document };
  try {
    await deps.iam.putRolePolicy(policy.roleName, policy.policyName, document);
    const at = deps.clock().toISOString();
    return {
      status: 'applied',
      at,
      action: { step: 'memoryCapture', action: 'put-full-deny-role-policy', status: 'succeeded', performedAt: at, request, result: { replaced: 'agent exemption' } },
    };
  } catch (err) {
    const at = deps.clock().toISOString();
    const detail = errorSummary(err);
    return {
      status: 'failed',
      at,
      detail,
      action: { step: 'memoryCapture', action: 'put-full-deny-role-policy', status: 'failed', performedAt: at, request, result: { error: detail } },
    };
  }
}
