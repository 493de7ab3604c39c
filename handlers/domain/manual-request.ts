import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { InvalidInput } from './errors';
import {
  ACCOUNT_ID_EXPECTED,
  ACCOUNT_ID_PATTERN,
  INSTANCE_ID_EXPECTED,
  INSTANCE_ID_PATTERN,
  MAX_IDENTIFIER_LENGTH,
  MAX_REGION_LENGTH,
  REGION_EXPECTED,
  REGION_PATTERN,
} from './identifier-formats';
import { MAX_DRILL_RETENTION_DAYS } from './drill';
import { reasonSchema, requestedBySchema, safe, UNSAFE } from './input-validation';
import type { CaseOptions, FindingSummary, Target } from './types';

/**
 * A manual acquisition request: what a responder types into the Step Functions console or passes to the CLI when
 * no GuardDuty finding names the instance (or the finding's type is one this product does not act on).
 *
 * The schema is strict everywhere: an unknown or misspelt key (`option`, `instanceID`) is refused rather than
 * silently dropped, because a dropped `options.workstation` would change what the case does. `reason` and
 * `requestedBy` end up in the case record, the custody log and notifications, so they refuse control and
 * invisible formatting characters (forged log lines, Trojan Source reordering) instead of cleaning them
 * (input-validation.ts, the same rules as a release request's).
 */

export { MAX_REASON_LENGTH, MAX_REQUESTED_BY_LENGTH } from './input-validation';

/** The same checks, in the same order, as identifier-formats' require* functions, so both doors say the same. */
const identifier = (pattern: RegExp, expected: string, maxLength = MAX_IDENTIFIER_LENGTH) =>
  z.string().check(
    z.maxLength(MAX_IDENTIFIER_LENGTH, `longer than ${MAX_IDENTIFIER_LENGTH} characters`),
    z.refine(safe, UNSAFE),
    z.regex(pattern, `expected ${expected}`),
    z.maxLength(maxLength, `expected ${expected}`),
  );

export const manualOptionsSchema = z.strictObject({
  workstation: z.optional(z.boolean()),
  revoke: z.optional(z.enum(['instance', 'role', 'none'])),
  quarantineProfile: z.optional(z.boolean()),
  /** false: no memory capture for this case (handlers/domain/memory-plan.ts); absent: the deployment setting. */
  memory: z.optional(z.boolean()),
  /** A drill case (handlers/domain/drill.ts): its objects and snapshots are kept `retentionDays`, not the evidence default. */
  drill: z.optional(z.strictObject({ retentionDays: z.int().check(z.minimum(1), z.maximum(MAX_DRILL_RETENTION_DAYS)) })),
});

export const manualRequestSchema = z.strictObject({
  instanceId: identifier(INSTANCE_ID_PATTERN, INSTANCE_ID_EXPECTED),
  accountId: identifier(ACCOUNT_ID_PATTERN, ACCOUNT_ID_EXPECTED),
  region: identifier(REGION_PATTERN, REGION_EXPECTED, MAX_REGION_LENGTH),
  reason: reasonSchema,
  requestedBy: requestedBySchema,
  options: z.optional(manualOptionsSchema),
});

export type ManualRequest = z.infer<typeof manualRequestSchema>;
export type ManualOptions = z.infer<typeof manualOptionsSchema>;

/** The manual "finding" type and severity: a responder's request outranks any severity threshold. */
export const MANUAL_FINDING_TYPE = 'Manual';
export const MANUAL_FINDING_SEVERITY = 10;

/**
 * Validates a manual request. `at` is where the request sits in the input ('' at the top), so the field named in
 * the error is the one the responder typed.
 */
export function parseManualRequest(input: unknown, at = ''): ManualRequest {
  const parsed = manualRequestSchema.safeParse(input, { error: describeIssue });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new InvalidInput(at || 'input', 'invalid manual request');
  const path = [...issue.path];
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') {
    // Name the unknown key itself: "options.shell: unknown field" tells the responder what to remove.
    const key = issue.keys[0];
    if (key !== undefined) path.push(key);
    problem = 'unknown field (a manual request takes instanceId, accountId, region, reason, requestedBy, options)';
    if (issue.path.length > 0) problem = 'unknown option (options take workstation, revoke, quarantineProfile, memory and drill)';
  }
  throw new InvalidInput(joinPath(at, path) || 'input', problem);
}

/** Error map for the issues whose default text says less than it could (and never with the value in it). */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      if (issue.expected === 'object' && issue.path?.length === 0) return 'expected a JSON object';
      return `expected ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
}

function joinPath(at: string, path: PropertyKey[]): string {
  let out = at;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/** JSON with object keys sorted at every level: one text per request, whatever order its keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The finding a manual request stands for. Its id is derived from the request itself, so the same request sent
 * twice (a double click, a retried CLI call) is the same finding and is appended to the open case only once.
 */
export function manualFindingSummary(request: ManualRequest): FindingSummary {
  const digest = createHash('sha256').update(canonicalJson(request)).digest('hex');
  return { id: `manual-${digest.slice(0, 16)}`, type: MANUAL_FINDING_TYPE, severity: MANUAL_FINDING_SEVERITY };
}

export function manualTarget(request: ManualRequest): Target {
  return { accountId: request.accountId, region: request.region, instanceId: request.instanceId };
}

/** Deployment defaults, with whatever the request sets on top. */
export function mergeOptions(defaults: CaseOptions, requested?: ManualOptions): CaseOptions {
  return {
    workstation: requested?.workstation ?? defaults.workstation,
    revoke: requested?.revoke ?? defaults.revoke,
    // Absent unless set: an unset option means the deployment default, resolved by the containment step.
    ...optionalFlag('quarantineProfile', requested?.quarantineProfile ?? defaults.quarantineProfile),
    ...optionalFlag('memory', requested?.memory ?? defaults.memory),
    // Only a manual request can make a drill case; a finding never does.
    ...(requested?.drill ? { drill: { retentionDays: requested.drill.retentionDays } } : {}),
  };
}

function optionalFlag<K extends string>(key: K, value: boolean | undefined): { [P in K]?: boolean } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: boolean };
}
