/**
 * What a resource policy (a secret's resource policy, a key policy, a bucket policy) says about one principal, one
 * action and one resource. Pure.
 *
 * `iam:SimulatePrincipalPolicy` evaluates a resource policy only for an IAM user caller (its `CallerArn` cannot be a
 * role or an assumed-role session), so for an instance role the resource policies are read and evaluated here, by
 * the IAM policy language's rules:
 *  - Principal: `"*"`, `{"AWS": "*"}`, or `{"AWS": <ARN | account id | [...]>}` naming the role, its EC2 session
 *    (`arn:…:sts::<account>:assumed-role/<role name>/<instance id>`) or the account (`arn:…:iam::<account>:root`, or
 *    the bare account id). An account principal does not grant the role anything by itself: it delegates to the
 *    account's IAM policies (the KMS key policy's "Enable IAM policies" statement). In a Deny it matches every
 *    principal of the account. NotPrincipal matches when none of these is listed. Service and federated principals
 *    never match a role session.
 *  - Action / NotAction: case-insensitive, `*` and `?` wildcards.
 *  - Resource / NotResource: case-sensitive, `*` and `?` wildcards. A request resource ending in `/*` (a bucket's
 *    objects) stands for "some object": an Allow on a part of the bucket (`bucket/reports/*`) counts, a Deny must
 *    cover every object (`bucket/*`) to count.
 *  - Condition: not evaluated (the request context is not known). Conservatively: an Allow with a Condition makes the
 *    result `allow` but `conditional` (possibly readable); a Deny with a Condition is not applied (the item stays
 *    readable) and is listed in `conditionalDenies`. Both are recorded with the item.
 */

export interface PolicyPrincipal {
  /** `arn:<partition>:iam::<account>:role[/path]/<name>` */
  roleArn: string;
  /** The EC2 role session: `arn:<partition>:sts::<account>:assumed-role/<name>/<instance id>`. */
  sessionArn: string;
  accountId: string;
  partition: string;
}

/** How a policy grants: by a statement without Condition, only by statements with one (possibly), or not at all. */
export type Grant = 'unconditional' | 'conditional' | 'none';

export interface ResourcePolicyVerdict {
  /** `explicit-deny`: an unconditional Deny matches; `allow`: an Allow names the role, its session or everyone. */
  decision: 'explicit-deny' | 'allow' | 'not-mentioned';
  /** The Allow naming the role, its session or everyone (`conditional`: possibly readable). */
  allow: Grant;
  /** An Allow to the account (root or account id): the account's IAM policies decide (KMS's delegation). */
  delegatesToIam: Grant;
  /** The Sids (or statement positions) of matching Deny statements with a Condition, which were not applied. */
  conditionalDenies: string[];
}

interface Statement {
  Sid?: unknown;
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** The principal of an instance role: the role, its EC2 session named after the instance, its account. */
export function instanceRolePrincipal(roleArn: string, instanceId: string): PolicyPrincipal | undefined {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m) return undefined;
  const [, partition, accountId, name] = m as unknown as [string, string, string, string];
  return { roleArn, sessionArn: `arn:${partition}:sts::${accountId}:assumed-role/${name}/${instanceId}`, accountId, partition };
}

const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function globToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

const actionMatches = (patterns: string[], action: string) => patterns.some((p) => globToRegExp(p, 'i').test(action));

/** Whether `pattern` matches the request resource: every object of it (`all`) or at least one (`some`). */
function resourceMatches(pattern: string, resource: string, extent: 'all' | 'some'): boolean {
  if (globToRegExp(pattern, '').test(resource)) return true;
  // `arn:…:s3:::bucket/*` requested: a pattern inside the bucket's object space matches some object.
  if (extent === 'some' && resource.endsWith('/*')) return pattern.startsWith(resource.slice(0, -1));
  return false;
}

type PrincipalMatch = 'direct' | 'account' | undefined;

/** How a Principal element designates the role: directly (role, session, everyone), through its account, or not. */
function principalMatch(element: unknown, who: PolicyPrincipal): PrincipalMatch {
  if (element === '*') return 'direct';
  if (!element || typeof element !== 'object') return undefined;
  const aws = list((element as { AWS?: unknown }).AWS);
  if (aws.includes('*') || aws.includes(who.roleArn) || aws.includes(who.sessionArn)) return 'direct';
  if (aws.includes(who.accountId) || aws.includes(`arn:${who.partition}:iam::${who.accountId}:root`)) return 'account';
  return undefined;
}

function matchesPrincipal(st: Statement, who: PolicyPrincipal): PrincipalMatch {
  if (st.Principal !== undefined) return principalMatch(st.Principal, who);
  if (st.NotPrincipal !== undefined) {
    // NotPrincipal: everyone but the listed; listing the role, its session or its account exempts the role.
    return principalMatch(st.NotPrincipal, who) ? undefined : 'direct';
  }
  return undefined;
}

function statementsOf(document: unknown): Statement[] {
  const parsed: unknown = typeof document === 'string' ? JSON.parse(document) : document;
  const raw = (parsed as { Statement?: unknown } | null)?.Statement;
  const all = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
  return all.filter((s): s is Statement => Boolean(s) && typeof s === 'object');
}

/**
 * The verdict of `document` (a JSON policy text or its parsed object) for `who` calling `action` on `resource`.
 * Throws on text that is not JSON (the caller records the item's policy as unreadable).
 */
export function evaluateResourcePolicy(document: unknown, who: PolicyPrincipal, action: string, resource: string): ResourcePolicyVerdict {
  let deny = false;
  let allow: Grant = 'none';
  let delegatesToIam: Grant = 'none';
  const strongest = (a: Grant, conditional: boolean): Grant => (a === 'unconditional' || !conditional ? 'unconditional' : 'conditional');
  const conditionalDenies: string[] = [];
  statementsOf(document).forEach((st, index) => {
    const effect = st.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') return;
    const principal = matchesPrincipal(st, who);
    if (!principal) return;
    const actionOk = st.Action !== undefined ? actionMatches(list(st.Action), action) : st.NotAction !== undefined ? !actionMatches(list(st.NotAction), action) : false;
    if (!actionOk) return;
    // An Allow reaches the item if it covers some of it; a Deny removes it only if it covers all of it.
    const extent = effect === 'Allow' ? 'some' : 'all';
    const opposite = effect === 'Allow' ? 'all' : 'some';
    const resourceOk =
      st.Resource !== undefined
        ? list(st.Resource).some((p) => resourceMatches(p, resource, extent))
        : st.NotResource !== undefined
          ? !list(st.NotResource).some((p) => resourceMatches(p, resource, opposite))
          : false;
    if (!resourceOk) return;
    const conditional = st.Condition !== undefined && st.Condition !== null && Object.keys(st.Condition as object).length > 0;
    if (effect === 'Deny') {
      if (conditional) conditionalDenies.push(typeof st.Sid === 'string' && st.Sid ? st.Sid : `statement ${index + 1}`);
      else deny = true;
      return;
    }
    if (principal === 'account') delegatesToIam = strongest(delegatesToIam, conditional);
    else allow = strongest(allow, conditional);
  });
  const decision = deny ? 'explicit-deny' : allow !== 'none' ? 'allow' : 'not-mentioned';
  return { decision, allow, delegatesToIam, conditionalDenies };
}
