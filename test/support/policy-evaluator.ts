/**
 * A small offline evaluator of IAM policy documents, for the tests that prove what the synthesized policies allow
 * (test/infra/policy-evaluation.test.ts). It implements exactly the parts of AWS's policy evaluation logic these
 * templates use, and refuses (throws) anything else rather than guess:
 *
 * - Action / NotAction (case-insensitive, `*` and `?`), Resource / NotResource (case-sensitive globs), Principal for
 *   resource policies (`*`, an ARN, an account root / account id, a service);
 * - condition operators String(Not)Equals[IgnoreCase], String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null,
 *   Numeric*, each with the `IfExists` suffix and the `ForAllValues:` / `ForAnyValue:` set prefixes;
 * - evaluation: an explicit Deny in any applicable policy wins; in the same account an Allow in the identity policy
 *   or one naming the principal in the resource policy suffices; across accounts both the resource policy (naming
 *   the principal or its account) and the identity policy must allow. A KMS key policy is always required: a
 *   statement for the account root delegates to IAM policies of that account.
 *
 * Semantics that matter here (IAM User Guide, "Condition operators" and "Single-valued vs. multivalued context
 * keys"): a missing key makes a positive operator false and a negated operator (`…Not…`) true, `…IfExists` true;
 * `ForAllValues` is true for a missing or empty key (the reason a `Null: false` must accompany it), `ForAnyValue`
 * false. Values in one condition are ORed, keys and operators ANDed. Policy variables (`${…}`) are not supported.
 *
 * Not a third-party library on purpose: the one maintained evaluator for Node (@cloud-copilot/iam-simulate) is
 * AGPL-3.0, which this Apache-2.0 project does not take on, even as a dev dependency.
 */

export type ContextValue = string | readonly string[];
export type RequestContext = Record<string, ContextValue | undefined>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface Principal {
  /** `arn:<partition>:iam::<account>:role/<name>` (a role session is evaluated as its role). */
  readonly arn?: string;
  readonly account?: string;
  /** A service principal, e.g. `logs.us-east-1.amazonaws.com`. */
  readonly service?: string;
}

export interface Request {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

function globToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  if (pattern.includes('${')) throw new Error(`policy variables are not supported by this evaluator: ${pattern}`);
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}
export const globMatch = (pattern: string, value: string, caseInsensitive = false): boolean =>
  globToRegExp(pattern, caseInsensitive).test(value);

function lookup(context: RequestContext, key: string): string[] | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() === wanted) return v === undefined ? undefined : list<string>(v as string | string[]);
  }
  return undefined;
}

type Matcher = (policyValue: string, requestValue: string) => boolean;
const BASE: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (p, r) => p === r, negated: false },
  StringNotEquals: { match: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { match: (p, r) => globMatch(p, r), negated: false },
  StringNotLike: { match: (p, r) => globMatch(p, r), negated: true },
  ArnEquals: { match: (p, r) => p === r, negated: false },
  ArnNotEquals: { match: (p, r) => p === r, negated: true },
  ArnLike: { match: (p, r) => globMatch(p, r), negated: false },
  ArnNotLike: { match: (p, r) => globMatch(p, r), negated: true },
  Bool: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  NumericEquals: { match: (p, r) => Number(r) === Number(p), negated: false },
  NumericNotEquals: { match: (p, r) => Number(r) === Number(p), negated: true },
  NumericLessThan: { match: (p, r) => Number(r) < Number(p), negated: false },
  NumericLessThanEquals: { match: (p, r) => Number(r) <= Number(p), negated: false },
  NumericGreaterThan: { match: (p, r) => Number(r) > Number(p), negated: false },
  NumericGreaterThanEquals: { match: (p, r) => Number(r) >= Number(p), negated: false },
};

/** One operator block (`"StringEquals": {key: values, …}`): every key must hold. */
export function conditionHolds(operator: string, block: Record<string, unknown>, context: RequestContext): boolean {
  const set = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  let op = set ? operator.slice(set.length + 1) : operator;
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  return Object.entries(block).every(([key, raw]) => {
    const policyValues = list(raw as string | string[]).map(String);
    for (const v of policyValues) if (v.includes('${')) throw new Error(`policy variables are not supported: ${key}=${v}`);
    const found = lookup(context, key);
    const present = found !== undefined && found.length > 0;
    if (op === 'Null') {
      if (set || ifExists) throw new Error(`unsupported operator ${operator}`);
      return policyValues.some((v) => (v === 'true' ? !present : present));
    }
    const base = BASE[op];
    if (!base) throw new Error(`operator ${operator} is not supported by this evaluator`);
    const satisfies = (requestValue: string) => {
      const any = policyValues.some((p) => base.match(p, requestValue));
      return base.negated ? !any : any;
    };
    if (set === 'ForAllValues') return !present || found.every(satisfies);
    if (set === 'ForAnyValue') return present && found.some(satisfies);
    if (!present) return ifExists || base.negated;
    if (found.length > 1) throw new Error(`${key} is multivalued: ${operator} needs ForAllValues/ForAnyValue`);
    return satisfies(found[0] as string);
  });
}

export function conditionsHold(condition: Statement['Condition'], context: RequestContext): boolean {
  return Object.entries(condition ?? {}).every(([operator, block]) => conditionHolds(operator, block, context));
}

const actionMatches = (st: Statement, action: string): boolean => {
  if (st.Action !== undefined) return list(st.Action).some((p) => globMatch(p, action, true));
  if (st.NotAction !== undefined) return !list(st.NotAction).some((p) => globMatch(p, action, true));
  throw new Error(`statement ${st.Sid ?? '?'} has neither Action nor NotAction`);
};

const resourceMatches = (st: Statement, resource: string): boolean => {
  if (st.Resource !== undefined) return list(st.Resource).some((p) => globMatch(p, resource));
  if (st.NotResource !== undefined) return !list(st.NotResource).some((p) => globMatch(p, resource));
  // Trust policies have no Resource: the role they belong to.
  return true;
};

/** Does a resource-policy Principal name this principal? `viaAccount` when only its account (root) is named. */
export function principalMatch(principalElement: unknown, p: Principal): 'exact' | 'viaAccount' | false {
  if (principalElement === '*') return 'exact';
  const el = principalElement as { AWS?: string | string[]; Service?: string | string[] } | undefined;
  let best: 'exact' | 'viaAccount' | false = false;
  for (const s of list(el?.Service)) if (p.service !== undefined && s === p.service) best = 'exact';
  for (const a of list(el?.AWS)) {
    if (a === '*') best = 'exact';
    else if (p.arn !== undefined && a === p.arn) best = 'exact';
    else if (p.account !== undefined && (a === p.account || a === `arn:aws:iam::${p.account}:root`)) best ||= 'viaAccount';
  }
  return best;
}

export interface Applicable {
  readonly statement: Statement;
  readonly via?: 'exact' | 'viaAccount';
}

/** The statements of a document that apply to a request (action, resource, principal if any, conditions). */
export function applicable(statements: readonly Statement[], request: Request, resourcePolicy: boolean): Applicable[] {
  const context = request.context ?? {};
  const out: Applicable[] = [];
  for (const st of statements) {
    if (st.NotPrincipal !== undefined) throw new Error('NotPrincipal is not supported by this evaluator');
    let via: 'exact' | 'viaAccount' | undefined;
    if (resourcePolicy) {
      const m = principalMatch(st.Principal, request.principal);
      if (!m) continue;
      via = m;
    }
    if (!actionMatches(st, request.action) || !resourceMatches(st, request.resource)) continue;
    if (!conditionsHold(st.Condition, context)) continue;
    out.push({ statement: st, ...(via ? { via } : {}) });
  }
  return out;
}

export interface Policies {
  /** The principal's identity policies (every statement of every policy attached to it). */
  readonly identity: readonly Statement[];
  /** The resource's policy (bucket policy, key policy, trust policy); undefined when the resource has none. */
  readonly resource?: readonly Statement[];
  /** The account that owns the resource. */
  readonly resourceAccount: string;
  /** KMS: the key policy must allow (directly, or via the account root delegating to IAM). */
  readonly keyPolicy?: boolean;
}

export interface Evaluation {
  readonly decision: Decision;
  /** The Sids that decided (the denies, or the allows). */
  readonly by: string[];
}

export function evaluate(policies: Policies, request: Request): Evaluation {
  const identity = applicable(policies.identity, request, false);
  const resource = policies.resource ? applicable(policies.resource, request, true) : [];
  const denies = [...identity, ...resource].filter((a) => a.statement.Effect === 'Deny');
  if (denies.length > 0) return { decision: 'ExplicitDeny', by: denies.map((d) => d.statement.Sid ?? '?') };

  const idAllows = identity.filter((a) => a.statement.Effect === 'Allow');
  const resAllows = resource.filter((a) => a.statement.Effect === 'Allow');
  const exact = resAllows.filter((a) => a.via === 'exact');
  const viaAccount = resAllows.filter((a) => a.via === 'viaAccount');
  const sameAccount = request.principal.account === policies.resourceAccount;
  const sids = (xs: Applicable[]) => xs.map((a) => a.statement.Sid ?? '?');

  let allowed: Applicable[] = [];
  if (request.principal.service !== undefined) {
    // A service principal has no identity policy: only the resource policy can allow it.
    allowed = exact;
  } else if (policies.keyPolicy) {
    // The key policy must allow: naming the principal, or its account root (then IAM policies decide).
    if (exact.length > 0 && (sameAccount || idAllows.length > 0)) allowed = exact;
    else if (viaAccount.length > 0 && idAllows.length > 0) allowed = [...viaAccount, ...idAllows];
  } else if (sameAccount) {
    if (exact.length > 0) allowed = exact;
    else if (idAllows.length > 0) allowed = idAllows;
  } else if ((exact.length > 0 || viaAccount.length > 0) && idAllows.length > 0) {
    allowed = [...exact, ...viaAccount, ...idAllows];
  }
  return allowed.length > 0 ? { decision: 'Allow', by: sids(allowed) } : { decision: 'ImplicitDeny', by: [] };
}
