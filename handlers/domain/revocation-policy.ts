import type { RevokeMode, Target } from './types';

/**
 * Credential containment, pure: the exact inline policy documents put on the instance's role, their name, and the
 * decisions around them. No I/O, so every branch is unit-tested directly.
 *
 * - `instance` (default): deny everything to requests signed with credentials delivered to THIS instance
 *   (`ec2:SourceInstanceARN`, which AWS adds to every request made with an instance profile's credentials, wherever
 *   the credentials are used from). Other instances sharing the role keep working.
 * - `role`: additionally deny every session of the role issued before now (`aws:TokenIssueTime`), what the IAM
 *   console's "Revoke active sessions" does. Blast radius: every instance, user or service using the role must get
 *   new credentials (instances do so automatically within minutes).
 * - `none`: nothing.
 */

export const POLICY_NAME_PREFIX = 'forensics-deny-';
/** IAM inline policy names: 1–128 characters of `[\w+=,.@-]`. */
export const MAX_POLICY_NAME_LENGTH = 128;

export const INSTANCE_STATEMENT_SID = 'ForensicsDenyCompromisedInstance';
export const ROLE_STATEMENT_SID = 'ForensicsRevokeOlderSessions';

export function denyPolicyName(caseId: string): string {
  const safe = caseId.replace(/[^\w+=,.@-]/g, '_');
  return `${POLICY_NAME_PREFIX}${safe}`.slice(0, MAX_POLICY_NAME_LENGTH);
}

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when the ARN is not one. */
export function partitionOf(arn: string | undefined): string {
  const m = /^arn:([^:]+):/.exec(arn ?? '');
  return m?.[1] ?? 'aws';
}

export function instanceArn(partition: string, target: Target): string {
  return `arn:${partition}:ec2:${target.region}:${target.accountId}:instance/${target.instanceId}`;
}

/** `arn:aws:iam::123456789012:instance-profile/path/name` → `name` (instance profile names hold no slash). */
export function instanceProfileNameFromArn(arn: string): string | undefined {
  const m = /^arn:[^:]+:iam::\d{12}:instance-profile\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  return m?.[1];
}

export function isServiceLinkedRole(role: { path?: string; arn?: string }): boolean {
  return (role.path ?? '').startsWith('/aws-service-role/') || (role.arn ?? '').includes(':role/aws-service-role/');
}

export type PolicyStatement = {
  Sid: string;
  Effect: 'Deny';
  Resource: '*';
  Condition: Record<string, Record<string, string>>;
} & ({ Action: '*' } | { NotAction: string[] });

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * The document of the case's deny policy. `issuedBefore` (ISO time) is required for mode `role` and ignored
 * otherwise. Mode `none` has no document.
 */
export function revocationPolicyDocument(input: {
  mode: Exclude<RevokeMode, 'none'>;
  instanceArn: string;
  issuedBefore?: string;
  /**
   * While memory is captured: the SSM agent's own actions (MEMORY_AGENT_ACTIONS), left out of both statements
   * (`NotAction`) so that Run Command still reaches the agent. Absent or empty: deny everything (`Action: "*"`).
   */
  exempt?: readonly string[];
}): PolicyDocument {
  const denied: { Action: '*' } | { NotAction: string[] } =
    input.exempt && input.exempt.length > 0 ? { NotAction: [...input.exempt] } : { Action: '*' };
  const statements: PolicyStatement[] = [
    {
      Sid: INSTANCE_STATEMENT_SID,
      Effect: 'Deny',
      ...denied,
      Resource: '*',
      Condition: { StringEquals: { 'ec2:SourceInstanceARN': input.instanceArn } },
    },
  ];
  if (input.mode === 'role') {
    if (!input.issuedBefore) throw new TypeError('mode role needs issuedBefore');
    statements.push({
      Sid: ROLE_STATEMENT_SID,
      Effect: 'Deny',
      ...denied,
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': input.issuedBefore } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** What each mode denies, for records, notifications and the CLI. */
export const BLAST_RADIUS: Record<RevokeMode, string> = {
  instance: 'credentials delivered to this instance only, wherever they are used; other instances of the role keep theirs',
  role: 'every session of the role issued before now: every instance, user and service using the role must get new credentials',
  none: 'nothing: credentials were not contained',
};
