import type { ManifestLogs, ManifestRotate, ManifestTimeline } from './scope-documents';
import type { AcquisitionState } from './types';

/**
 * The manifest's `timeline`, `logs` and `rotate` sections from the execution state: the scope's result
 * at `$.scope`, or, when "Scope the incident" failed (`$.scopeFailure`), each section `failed` with the reason.
 * Nothing for executions without the step (cases sealed before it existed). Pure.
 */
export function scopeSections(state: AcquisitionState): { timeline?: ManifestTimeline; logs?: ManifestLogs; rotate?: ManifestRotate } {
  if (state.scope) return { timeline: state.scope.timeline, logs: state.scope.logs, rotate: state.scope.rotate };
  if (!state.scopeFailure) return {};
  const reason = `Scope the incident failed: ${failureText(state.scopeFailure)}`.slice(0, 1000);
  return {
    timeline: { status: 'failed', reason, key: null, sha256: null, events: 0, flagged: 0, window: null, regions: [], gaps: [] },
    logs: {
      cloudtrail: { status: 'failed', reason, sourceBucket: null, logFiles: 0, digestFiles: 0, bytes: 0 },
      flowLogs: { status: 'failed', reason, sources: [] },
      gaps: [],
    },
    rotate: { status: 'failed', reason, key: null, sha256: null, items: 0, observed: 0, top: [] },
  };
}

/** `Error: message` of a caught failure (a Lambda error's Cause is its JSON error object). */
function failureText(failure: { Error: string; Cause?: string }): string {
  try {
    const cause = JSON.parse(failure.Cause ?? '') as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') return `${failure.Error}: ${cause.errorMessage}`;
  } catch {
    // Not JSON: the cause as it is.
  }
  return failure.Cause ? `${failure.Error}: ${failure.Cause}` : failure.Error;
}

/** The notification's lines on the scope: the timeline's size and the top of the rotate list. */
export function scopeLines(state: AcquisitionState): string[] {
  const { timeline, rotate } = scopeSections(state);
  if (!timeline || !rotate) return [];
  const lines = [
    '',
    'Incident scope:',
    `- timeline: ${timeline.status}${timeline.reason ? ` (${timeline.reason})` : ''}, ${timeline.events} event(s), ${timeline.flagged} flagged`,
    `- rotate list: ${rotate.status}${rotate.reason && !timeline.reason ? ` (${rotate.reason})` : ''}, ${rotate.items} readable item(s), ${rotate.observed} observed read`,
  ];
  for (const item of rotate.top) {
    lines.push(`  ${item.rank}. ${item.observed ? 'READ ' : ''}${item.kind} ${item.name} (${item.region}): ${item.command}`);
  }
  return lines;
}
