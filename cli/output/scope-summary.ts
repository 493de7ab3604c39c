import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { ScopeStatus } from '../../handlers/domain/scope-documents';
import { renderTable, sanitize } from './format';

/**
 * The incident scope as `case show` prints it, from the manifest's `timeline`, `logs` and `rotate` sections: counts,
 * window, logs preserved, and the top of the rotate list. Nothing for a manifest sealed before scoping existed. Pure.
 */
export function renderScopeSummary(m: Pick<ManifestV1, 'caseId' | 'timeline' | 'logs' | 'rotate'>): string[] {
  if (!m.timeline && !m.logs && !m.rotate) return [];
  const lines = ['', 'Incident scope'];
  const status = (s: ScopeStatus, reason?: string) => `${s}${reason ? ` (${sanitize(reason)})` : ''}`;
  const t = m.timeline;
  if (t) {
    const window = t.window ? `, window ${t.window.from} to ${t.window.to} (look-back ${t.window.lookBackHours} h)` : '';
    lines.push(`  timeline  ${status(t.status, t.reason)}: ${t.events} events, ${t.flagged} flagged${sanitize(window)}${t.regions.length ? `, regions ${sanitize(t.regions.join(', '))}` : ''}${t.gaps.length ? `, ${t.gaps.length} gap(s)` : ''}`);
  }
  const l = m.logs;
  if (l) {
    const ct = l.cloudtrail;
    lines.push(`  logs      CloudTrail ${status(ct.status, ct.reason)}: ${ct.logFiles} log files, ${ct.digestFiles} digest files, ${ct.bytes} bytes${ct.sourceBucket ? ` from ${sanitize(ct.sourceBucket)}` : ''}`);
    const fl = l.flowLogs;
    const sources = fl.sources.map((s) => `${s.flowLogId} (${s.destinationType}) ${s.objects} objects, ${s.records} records`).join('; ');
    lines.push(`            flow logs ${status(fl.status, fl.reason)}${sources ? `: ${sanitize(sources)}` : ''}${l.gaps.length ? `; ${l.gaps.length} gap(s)` : ''}`);
  }
  const r = m.rotate;
  if (r) {
    lines.push(`  rotate    ${status(r.status, r.reason)}: ${r.items} items the role can read, ${r.observed} observed read${r.items > r.top.length ? ` (top ${r.top.length} below; case report lists all)` : ''}`);
    if (r.top.length > 0) {
      const rows = r.top.map((i) => [String(i.rank), i.kind, i.name, i.region, i.observed ? 'OBSERVED' : 'readable', i.command]);
      for (const line of renderTable(['RANK', 'KIND', 'NAME', 'REGION', 'READ', 'ROTATE WITH'], rows)) lines.push(`    ${line}`);
    }
  }
  return lines;
}
