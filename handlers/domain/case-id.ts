import { InvalidInput } from './errors';
import { requireAccountId, requireInstanceId, requireRegion } from './identifier-formats';
import type { Target } from './types';

/**
 * Case ids and the target lock key.
 *
 * A case id is `<UTC time to the second>-<instance id>`, e.g. `20261128T091500Z-i-0123456789abcdef0`: it sorts by
 * time, a responder reads which instance it is about, and it is at most 36 characters of `[0-9A-Za-z-]`, so it is
 * a valid S3 key segment (`cases/<caseId>/…`) and a valid STS role session name (≤ 64 chars of `[\w+=,.@-]`).
 * The time is the execution's start time, so a retried triage computes the same id again.
 */

export const CASE_ID_PATTERN = /^\d{8}T\d{6}Z-i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export function newCaseId(target: Pick<Target, 'instanceId'>, at: Date): string {
  const instanceId = requireInstanceId(target.instanceId, 'instanceId');
  const time = at.getTime();
  // toISOString turns years past 9999 into "+010000-…", which the id format cannot hold.
  if (!Number.isFinite(time) || at.getUTCFullYear() < 1970 || at.getUTCFullYear() > 9999) {
    throw new InvalidInput('startedAt', 'expected a valid date between 1970 and 9999');
  }
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${instanceId}`;
}

export function isCaseId(value: string): boolean {
  return CASE_ID_PATTERN.test(value);
}

/** The key of the lock item that allows one open case per instance: account and region make it unambiguous. */
export function targetLockKey(target: Target): string {
  const accountId = requireAccountId(target.accountId, 'accountId');
  const region = requireRegion(target.region, 'region');
  const instanceId = requireInstanceId(target.instanceId, 'instanceId');
  return `TARGET#${accountId}#${region}#${instanceId}`;
}
