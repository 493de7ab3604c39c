import { type Grant, type PolicyPrincipal, evaluateResourcePolicy } from './resource-policy';
import type { RotateBasis, RotateKind } from './scope-documents';

/**
 * Whether the compromised role can read an item, from its identity policies (the simulation) and the item's own
 * resource policy, by AWS's rules for a request within one account. Pure.
 *
 *  - Secrets Manager secrets, S3 buckets (and SSM parameters, which have no resource policy): readable when the
 *    identity policies OR the resource policy allow the role, unless either explicitly denies ("Policy evaluation for
 *    requests within a single account": at least one Allow, an explicit deny in any policy overrides it).
 *  - KMS keys: the key policy must allow, either the role directly, or the account (the statement that enables IAM
 *    policies) together with an identity-policy allow ("Unless the key policy explicitly allows it, you cannot use
 *    IAM policies to allow access to a KMS key"). A key whose policy neither names the role nor delegates to IAM is
 *    NOT readable even when the identity policy says `kms:*`. Grants are not evaluated.
 *  - A resource policy that could not be read (AccessDenied, the read bound, an unparseable document) leaves the
 *    identity policies' answer, recorded in the item's notes: a key then counts as readable when the identity allows.
 */

/** The simulation's answer for one resource: the actions allowed, and those explicitly denied. */
export interface IdentityDecision {
  allowed: readonly string[];
  explicitlyDenied: readonly string[];
}

/** What reading the item's resource policy gave. */
export type PolicyRead = { status: 'read'; document: string } | { status: 'none' } | { status: 'unread'; reason: string };

export interface AccessOutcome {
  readable: boolean;
  allowedActions: string[];
  basis: RotateBasis;
  /** Every readable action rests on an Allow with a Condition: possibly readable. */
  possibly: boolean;
  /** What the evaluation could not decide, or did not apply (conditions, a policy not read). */
  notes: string[];
}

interface ActionAccess {
  readable: boolean;
  identity: boolean;
  resource: boolean;
  conditional: boolean;
}

const granted = (g: Grant) => g !== 'none';

export function combineAccess(input: {
  kind: RotateKind;
  /** The ARN the policies are evaluated on (a bucket's objects: `arn:…:s3:::bucket/*`). */
  resourceArn: string;
  actions: readonly string[];
  identity: IdentityDecision;
  policy: PolicyRead;
  principal: PolicyPrincipal | undefined;
}): AccessOutcome {
  const notes: string[] = [];
  const { policy, principal } = input;
  let usable = policy.status === 'read' && principal !== undefined;
  if (policy.status === 'unread') notes.push(`resource policy not read (${policy.reason}): the identity policies' answer is kept`);
  else if (policy.status === 'read' && !principal) notes.push('resource policy not evaluated: the role ARN is not an IAM role ARN');
  const conditionalDenies = new Set<string>();

  const perAction = input.actions.map((action): ActionAccess => {
    const identityAllowed = input.identity.allowed.includes(action);
    const identityDenied = input.identity.explicitlyDenied.includes(action);
    if (identityDenied) return { readable: false, identity: false, resource: false, conditional: false };
    if (!usable || policy.status !== 'read' || !principal) {
      // No policy (secrets and buckets may have none) or none evaluated: the identity policies decide.
      return { readable: identityAllowed, identity: identityAllowed, resource: false, conditional: false };
    }
    let verdict: ReturnType<typeof evaluateResourcePolicy>;
    try {
      verdict = evaluateResourcePolicy(policy.document, principal, action, input.resourceArn);
    } catch {
      usable = false;
      notes.push('resource policy is not valid JSON: the identity policies\' answer is kept');
      return { readable: identityAllowed, identity: identityAllowed, resource: false, conditional: false };
    }
    for (const sid of verdict.conditionalDenies) conditionalDenies.add(sid);
    if (verdict.decision === 'explicit-deny') return { readable: false, identity: false, resource: false, conditional: false };
    const resource = granted(verdict.allow);
    if (input.kind === 'kms-key') {
      const viaIam = identityAllowed && granted(verdict.delegatesToIam);
      const conditional = (!resource || verdict.allow === 'conditional') && (!viaIam || verdict.delegatesToIam === 'conditional');
      return { readable: resource || viaIam, identity: viaIam, resource, conditional: (resource || viaIam) && conditional };
    }
    return { readable: identityAllowed || resource, identity: identityAllowed, resource, conditional: !identityAllowed && verdict.allow === 'conditional' };
  });

  if (input.kind === 'kms-key' && usable && !perAction.some((a) => a.readable) && input.identity.allowed.length > 0) {
    notes.push('the identity policies allow it, but the key policy neither names the role nor enables IAM policies');
  }
  for (const sid of conditionalDenies) notes.push(`Deny statement "${sid}" has a Condition: not applied, the item is kept`);
  const readable = perAction.filter((a) => a.readable);
  const identity = readable.some((a) => a.identity);
  const resource = readable.some((a) => a.resource);
  const possibly = readable.length > 0 && readable.every((a) => a.conditional);
  if (possibly) notes.push('readable only through an Allow with a Condition that was not evaluated: possibly readable');
  return {
    readable: readable.length > 0,
    allowedActions: input.actions.filter((_, i) => perAction[i]?.readable),
    basis: identity && resource ? 'both' : resource ? 'resource-policy' : 'identity-policy',
    possibly,
    notes,
  };
}
