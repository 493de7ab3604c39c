import { DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import type { DoctorContext } from '../context';
import { awsPrincipals, conditionValues, parsePolicy, statements } from './policy-document';

/**
 * The evidence key (`key.enabled`, `key.rotation`, `key.policy`). Everything that holds case data is encrypted with
 * it, so a disabled key stops every acquisition at the first write; the key policy must leave the account root in
 * control (IAM policies then decide, per step), give no one outside the deployment any use of it, and — in
 * multi-account mode — let each workload account use it through EC2 only (the evidence copies).
 */

export interface KeyFacts {
  keyArn: string;
  describe: Outcome<KeyMetadata | undefined>;
  rotation: Outcome<boolean>;
  policy: Outcome<string | undefined>;
}

export interface KeyExpectations {
  irAccountId: string;
  partition: string;
  /** Multi-account: accounts that must be able to use the key through EC2. */
  workloadAccounts: readonly string[];
  organizationId?: string;
  multiAccount: boolean;
}

export async function gatherKey(ctx: DoctorContext, keyArn: string): Promise<KeyFacts> {
  const kms = new KMSClient(ctx.client());
  try {
    const [describe, rotation, policy] = await Promise.all([
      attempt('kms:DescribeKey', async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata),
      attempt('kms:GetKeyRotationStatus', async () => Boolean((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }))).KeyRotationEnabled)),
      attempt('kms:GetKeyPolicy', async () => (await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy),
    ]);
    return { keyArn, describe, rotation, policy };
  } finally {
    kms.destroy();
  }
}

export function evaluateKey(facts: KeyFacts, expected: KeyExpectations, emulator: boolean): DoctorCheck[] {
  return [enabledCheck(facts, emulator), rotationCheck(facts, emulator), policyCheck(facts, expected, emulator)];
}

function enabledCheck(facts: KeyFacts, emulator: boolean): DoctorCheck {
  const name = 'key.enabled';
  if (!facts.describe.ok) {
    if (facts.describe.error.notFound) return fail(name, `evidence key ${facts.keyArn} does not exist — deploy the stack or pass --key-arn`);
    return cannotRun(name, facts.describe.error, `the evidence key ${facts.keyArn}`, emulator);
  }
  const key = facts.describe.value;
  const state = key?.KeyState ?? 'unknown';
  if (state === 'Enabled') return pass(name, `evidence key ${key?.KeyId ?? facts.keyArn} is Enabled`);
  if (state === 'PendingDeletion') {
    const when = key?.DeletionDate ? ` on ${key.DeletionDate.toISOString()}` : '';
    return fail(name, `evidence key is scheduled for deletion${when}: every evidence snapshot and object would become unreadable — aws kms cancel-key-deletion --key-id ${facts.keyArn}, then enable-key`);
  }
  if (state === 'Disabled') return fail(name, `evidence key is Disabled: every acquisition fails at its first write — aws kms enable-key --key-id ${facts.keyArn}`);
  return fail(name, `evidence key is ${state}, not Enabled — see the KMS console for ${facts.keyArn}`);
}

function rotationCheck(facts: KeyFacts, emulator: boolean): DoctorCheck {
  const name = 'key.rotation';
  if (!facts.rotation.ok) return cannotRun(name, facts.rotation.error, `the rotation status of the evidence key`, emulator);
  return facts.rotation.value
    ? pass(name, 'automatic key rotation is on')
    : fail(name, `automatic key rotation is off — aws kms enable-key-rotation --key-id ${facts.keyArn}`);
}

function policyCheck(facts: KeyFacts, expected: KeyExpectations, emulator: boolean): DoctorCheck {
  const name = 'key.policy';
  if (!facts.policy.ok) return cannotRun(name, facts.policy.error, 'the evidence key policy', emulator);
  const policy = parsePolicy(facts.policy.value);
  if (!policy) return fail(name, 'the evidence key policy is not valid JSON');
  const all = statements(policy);
  const root = `arn:${expected.partition}:iam::${expected.irAccountId}:root`;
  const rootInControl = all.some((s) => s.Effect === 'Allow' && awsPrincipals(s).some((p) => p === root || p === expected.irAccountId) && actionsOf(s).some((a) => a === 'kms:*' || a === '*'));
  if (!rootInControl) {
    return fail(name, `the key policy does not give ${root} kms:*: the steps' IAM policies cannot grant the key — restore the statement "Enable IAM User Permissions" (redeploy the stack)`);
  }
  // Anyone-at-all statements are only acceptable when a condition pins them to the deployment (a service's source,
  // the caller account, the organisation, the responder role ARNs).
  const open = all.filter((s) => s.Effect === 'Allow' && awsPrincipals(s).includes('*') && Object.keys(s.Condition ?? {}).length === 0);
  if (open.length > 0) {
    return fail(name, `statement ${open[0]?.Sid ?? '(no Sid)'} lets any AWS principal use the evidence key without a condition — remove it`);
  }
  if (expected.multiAccount) {
    const viaEc2 = all.filter((s) => s.Effect === 'Allow' && conditionValues(s, 'kms:ViaService').some((v) => /^ec2\./.test(v)));
    const named = new Set([...viaEc2.flatMap((s) => awsPrincipals(s)), ...viaEc2.flatMap((s) => conditionValues(s, 'kms:CallerAccount'))]);
    const orgWide = expected.organizationId !== undefined && viaEc2.some((s) => conditionValues(s, 'aws:PrincipalOrgID').includes(expected.organizationId as string));
    const missing = orgWide
      ? []
      : expected.workloadAccounts.filter((a) => a !== expected.irAccountId && ![...named].some((p) => p === a || p === `arn:${expected.partition}:iam::${a}:root`));
    if (missing.length > 0) {
      return fail(name, `the key policy lets no EC2 use of the key from account(s) ${missing.join(', ')}: their evidence copies would fail — add them to forensics:workloadAccounts and redeploy`);
    }
    return pass(name, `account root in control, no unconditioned public use, workload ${orgWide ? `organisation ${expected.organizationId}` : `accounts ${expected.workloadAccounts.join(', ')}`} use it through EC2 only`);
  }
  return pass(name, 'account root in control (IAM policies grant each step its use), no unconditioned public use');
}

function actionsOf(s: { Action?: string | string[] }): string[] {
  return Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : [];
}

/** True when a key reference (ARN, id, or key ARN in another form) names the same key as `keyArn`. */
export function sameKey(reference: string, keyArn: string): boolean {
  if (reference === keyArn) return true;
  const id = keyArn.split('/').pop();
  return id !== undefined && (reference === id || reference.endsWith(`:key/${id}`));
}
