import { InvalidInput } from './errors';
import type { CaseOptions } from './types';

/**
 * Drill cases (`forensics drill`): a real acquisition of a canary instance the drill launched, marked as a drill
 * everywhere (case table, manifest, notification subjects), whose evidence objects carry a short explicit retention
 * instead of the bucket's evidence default, and whose evidence snapshots are locked in governance mode for the same
 * short time instead of compliance mode — so that `forensics drill clean` can remove them once it has passed. Pure.
 *
 * Everything else is the production path on purpose: the drill proves what an incident would need.
 */

/** Per-case option `drill` (manual requests only). */
export interface DrillOptions {
  /** Days the drill's evidence objects and snapshots are kept (1–30). */
  retentionDays: number;
}

export const MAX_DRILL_RETENTION_DAYS = 30;

/** The tag (key `<prefix>:drill`, value the drill id) on everything a drill creates; a drill acquires nothing else. */
export function drillTagKey(tagPrefix: string): string {
  return `${tagPrefix}:drill`;
}

export function drillOf(options: Partial<CaseOptions> | undefined | null): DrillOptions | undefined {
  const drill = (options as { drill?: unknown } | undefined)?.drill as Partial<DrillOptions> | undefined;
  return drill && typeof drill.retentionDays === 'number' ? { retentionDays: drill.retentionDays } : undefined;
}

/** Explicit Object Lock retention of one evidence object. */
export interface ObjectRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  retainUntil: Date;
}

/**
 * The explicit retention of an object written for a case: for a drill, governance mode until `retentionDays` after
 * `now` (a drill leaves nothing that only time can remove); otherwise none here (the bucket's evidence default).
 */
export function drillObjectRetention(options: Partial<CaseOptions> | undefined | null, now: Date): ObjectRetention | undefined {
  const drill = drillOf(options);
  if (!drill) return undefined;
  return { mode: 'GOVERNANCE', retainUntil: new Date(now.getTime() + drill.retentionDays * 86_400_000) };
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
