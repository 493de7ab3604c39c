import type { AcquisitionState, PreservationOutcome } from './types';

/**
 * The preservation actions whose change "Preserve and snapshot" makes before containment and "Isolate network"
 * reads back after it (their outcome in `$.acquisition` stays `verified: false` until then).
 */
export const READ_BACK_ACTIONS = ['enable-termination-protection', 'shutdown-behavior-stop', 'keep-volumes-on-termination'] as const;

/** Detail of a change made but not yet read back (what a case that failed before containment keeps). */
export const READ_BACK_PENDING = 'changed; read back after containment';

/**
 * The case's preservation outcomes: those of "Preserve and snapshot", each one read back after containment replaced
 * by its read-back (`$.containment.preservation`). What every record of the case (case details, manifest,
 * notification, failure summary) shows.
 */
export function preservationOf(state: Pick<AcquisitionState, 'acquisition' | 'containment'>): PreservationOutcome[] {
  const readBacks = new Map((state.containment?.preservation ?? []).map((p) => [p.action, p]));
  return (state.acquisition?.preservation ?? []).map((p) => readBacks.get(p.action) ?? p);
}
