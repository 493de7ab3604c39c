import { InvalidInput } from './errors';
import type { CaseOptions, DrillOptions } from './types';

export type { DrillOptions } from './types';

/**
 * Drill cases (`forensics drill`): a real acquisition of a canary instance the drill launched, marked as a drill
 * everywhere (case table, manifest, notification subjects). Pure.
 *
 * Everything is the production path on purpose — the drill proves what an incident would need — except two dates:
 * - evidence objects are written exactly as a real case's (under `cases/`, `If-None-Match: *`, legal hold ON, the
 *   configured Object Lock mode, COMPLIANCE by default: the bucket policy refuses anything else, for drills too), but
 *   their explicit retain-until date is `retentionDays` (1–30) after writing instead of the evidence default. The
 *   legal hold keeps them after that date; `forensics drill clean` lifts it and deletes them with the caller's own
 *   permissions (no role of the product can lift a hold), only for drill cases and only once the date has passed;
 * - evidence snapshots are locked in governance mode for the same days, never compliance.
 */

/** Per-case option `drill` (manual requests only). */

export const MAX_DRILL_RETENTION_DAYS = 30;

/** The tag (key `<prefix>:drill`, value the drill id) on everything a drill creates; a drill acquires nothing else. */
export function drillTagKey(tagPrefix: string): string {
  return `${tagPrefix}:drill`;
}

export function drillOf(options: Partial<CaseOptions> | undefined | null): DrillOptions | undefined {
  const drill = (options as { drill?: unknown } | undefined)?.drill as Partial<DrillOptions> | undefined;
  return drill && typeof drill.retentionDays === 'number' ? { retentionDays: drill.retentionDays } : undefined;
}

/**
 * The retain-until date of one object, when it is not the evidence default. The mode is never chosen here: every
 * object carries the deployment's configured mode (COMPLIANCE by default), as the bucket policy demands.
 */
export interface ObjectRetention {
  retainUntil: Date;
}

/**
 * The explicit retain-until date of an object written for a case: for a drill, `retentionDays` after `now`;
 * otherwise none here (the store writes the evidence default, `forensics:evidenceRetentionDays`).
 */
export function drillObjectRetention(options: Partial<CaseOptions> | undefined | null, now: Date): ObjectRetention | undefined {
  const drill = drillOf(options);
  if (!drill) return undefined;
  return { retainUntil: new Date(now.getTime() + drill.retentionDays * 86_400_000) };
}

/** The evidence-snapshot lock of a drill case: governance for the drill's retention (never compliance). */
export function drillSnapshotLock<L extends { mode: 'compliance' | 'governance'; durationDays: number; coolOffHours: number }>(
  lock: L | undefined,
  options: Partial<CaseOptions> | undefined | null,
): L | undefined {
  const drill = drillOf(options);
  if (!drill || !lock) return lock;
  return { ...lock, mode: 'governance', durationDays: drill.retentionDays, coolOffHours: 0 };
}

/**
 * A drill case may only acquire an instance the drill launched (tagged `<prefix>:drill`): drill retention and lock on
 * a real instance would let its evidence expire in days. Throws InvalidInput naming `options.drill`.
 */
export function requireDrillCanary(options: Partial<CaseOptions> | undefined | null, instanceTags: Record<string, string>, tagPrefix: string): void {
  if (!drillOf(options)) return;
  if (!instanceTags[drillTagKey(tagPrefix)]) {
    throw new InvalidInput('options.drill', `the instance is not a drill canary (no ${drillTagKey(tagPrefix)} tag): a drill acquires only the instance it launched`);
  }
}

/** `[DRILL] ` before a notification subject of a drill case; nothing otherwise. */
export function drillSubjectPrefix(options: Partial<CaseOptions> | undefined | null): string {
  return drillOf(options) ? '[DRILL] ' : '';
}
