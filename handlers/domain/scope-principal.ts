import { InvalidInput } from './errors';
import type { ScopePrincipal, ScopeWindow } from './scope-documents';
import type { AcquisitionState, FindingSummary } from './types';

/**
 * Who is scoped and over which window, from the case. Pure.
 *
 * The principal of an instance case is the instance role's sessions (for credentials EC2 delivers to an instance, the
 * role session name is the instance id, so CloudTrail's `Username` lookup attribute finds them) and every access key
 * id the case's findings name (InstanceCredentialExfiltration names the key used outside the instance).
 */

/** `forensics:scopeLookBackHours` default: a day before the finding's first sighting. */
export const DEFAULT_LOOK_BACK_HOURS = 24;

const HOUR_MS = 60 * 60 * 1000;

/**
 * The instance role's ARN: what credential containment resolved from the instance profile (`$.containment.credentials`),
 * else `resolved` (the scope step's own lookup of the profile's role), else null (no profile, or unresolved).
 */
export function instanceRoleArnOf(state: AcquisitionState, resolved?: string | null): string | null {
  return state.containment?.credentials?.roleArn ?? resolved ?? null;
}

/** The instance profile the instance carried before the incident (what the role is resolved from), or null. */
export function instanceProfileArnOf(state: AcquisitionState): string | null {
  return state.describe?.preIncident.iamInstanceProfile?.arn ?? null;
}

export function scopePrincipal(state: AcquisitionState, findings: readonly FindingSummary[], roleArn: string | null): ScopePrincipal {
  const keys = new Set<string>();
  for (const f of [state.case.finding, ...findings]) for (const k of f.accessKeyIds ?? []) keys.add(k);
  return {
    accountId: state.case.target.accountId,
    instanceId: state.case.target.instanceId,
    roleArn,
    accessKeyIds: [...keys].sort(),
  };
}

/**
 * The incident window: from the earliest first-seen time of the case's findings (else the case opening) minus the
 * look-back, to `now` (the time the scope is taken: the end of the case as far as the workflow knows it).
 */
export function scopeWindow(input: {
  findings: readonly FindingSummary[];
  openedAt: string;
  lookBackHours: number;
  now: Date;
}): ScopeWindow {
  if (!Number.isFinite(input.lookBackHours) || input.lookBackHours < 0) {
    throw new InvalidInput('lookBackHours', `expected a number of hours ≥ 0, got ${input.lookBackHours}`);
  }
  const seen = input.findings
    .map((f) => (f.firstSeenAt ? Date.parse(f.firstSeenAt) : Number.NaN))
    .filter((t) => Number.isFinite(t));
  const opened = Date.parse(input.openedAt);
  const anchor = seen.length > 0 ? Math.min(...seen) : opened;
  if (!Number.isFinite(anchor)) throw new InvalidInput('case.openedAt', `not a timestamp: ${input.openedAt}`);
  const to = input.now.getTime();
  const from = Math.min(anchor - input.lookBackHours * HOUR_MS, to);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), lookBackHours: input.lookBackHours };
}
