import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { RotateDocument, ScopeGap, TimelineDocument, TimelineEvent } from '../../handlers/domain/scope-documents';
import { sanitize } from './format';
import { actorLabel, gapLine } from './timeline-text';

/**
 * `forensics case report`: one self-contained HTML page for an incident commander. Pure: the command reads and
 * verifies the evidence, this only renders it.
 *
 * Self-contained on purpose: inline CSS and an inline SVG chart, no script, no URL to fetch (the page may be opened
 * on an isolated machine, attached to a ticket, printed), and a Content-Security-Policy that forbids any script or
 * remote load should an escaping bug ever let markup through. Every value shown is HTML-escaped: timeline fields come
 * from CloudTrail, i.e. from what the attacker sent (user agent, resource names, error messages).
 */

/** Object Lock state of one evidence object, as HeadObject reports it at report time. */
export type ObjectLockView = { mode: string | null; retainUntil: string | null; legalHold: string | null } | { error: string };

export interface CaseReportInput {
  caseId: string;
  /** The case table's status (null when the case is not in the table). */
  status: string | null;
  manifest: ManifestV1;
  manifestSha256: string;
  /** The verified timeline document, or null with the reason. */
  timeline: TimelineDocument | null;
  timelineNote: string | null;
  rotate: RotateDocument | null;
  rotateNote: string | null;
  /** Per evidence object key. Absent keys show as not read. */
  objectLocks: ReadonlyMap<string, ObjectLockView>;
  generatedAt: string;
}

/** Flagged events listed in the table at most (the chart counts them all; `case timeline --output json` has all). */
export const MAX_FLAGGED_ROWS = 2000;
/** Bars of the activity chart at most: beyond a week of hours, one bar spans several hours. */
export const MAX_BARS = 168;
const HOUR_MS = 3_600_000;

/** Text for HTML content and attribute values: control and bidi characters neutralised, then markup escaped. */
export function escapeHtml(value: unknown): string {
  return sanitize(value === null || value === undefined ? '' : String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;
const dash = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : e(v));

function table(headers: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  const head = headers.map((h) => `<th>${e(h)}</th>`).join('');
  // Cells are already escaped HTML (some hold <code>), built by the callers with `e`.
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function duration(secondsValue: number | null | undefined): string {
  if (typeof secondsValue !== 'number') return 'not contained';
  if (secondsValue < 120) return `${secondsValue} s`;
  const m = Math.floor(secondsValue / 60);
  return m < 120 ? `${m} min ${Math.round(secondsValue - m * 60)} s (${secondsValue} s)` : `${Math.floor(m / 60)} h ${m % 60} min (${secondsValue} s)`;
}

export interface ActivityBucket {
  start: number;
  total: number;
  flagged: number;
}

/**
 * The principal's activity per hour (or per few hours, at most MAX_BARS bars) over the window, stretched to cover
 * every event and the containment time. Pure, exported for the tests.
 */
export function activityBuckets(
  events: readonly Pick<TimelineEvent, 'time' | 'flags'>[],
  window: { from: string; to: string } | null,
  containedAt: string | null,
): { buckets: ActivityBucket[]; bucketMs: number; start: number } {
  const times = events.map((ev) => Date.parse(ev.time)).filter((t) => !Number.isNaN(t));
  const edges = [...times, ...[window?.from, window?.to, containedAt].map((t) => (t ? Date.parse(t) : Number.NaN)).filter((t) => !Number.isNaN(t))];
  if (edges.length === 0) return { buckets: [], bucketMs: HOUR_MS, start: 0 };
  const start = Math.floor(Math.min(...edges) / HOUR_MS) * HOUR_MS;
  const end = Math.max(...edges);
  const hours = Math.max(1, Math.floor((end - start) / HOUR_MS) + 1);
  const bucketHours = Math.ceil(hours / MAX_BARS);
  const bucketMs = bucketHours * HOUR_MS;
  const count = Math.ceil(hours / bucketHours);
  const buckets: ActivityBucket[] = Array.from({ length: count }, (_, i) => ({ start: start + i * bucketMs, total: 0, flagged: 0 }));
  for (const ev of events) {
    const t = Date.parse(ev.time);
    const b = Number.isNaN(t) ? undefined : buckets[Math.min(count - 1, Math.floor((t - start) / bucketMs))];
    if (!b) continue;
    b.total += 1;
    if (ev.flags.length > 0) b.flagged += 1;
  }
  return { buckets, bucketMs, start };
}

const hourLabel = (t: number) => `${new Date(t).toISOString().slice(5, 13).replace('T', ' ')}:00`;

/** The inline SVG chart: stacked bars (flagged in red), containment as a vertical line with its time. */
export function activityChart(doc: Pick<TimelineDocument, 'events' | 'window' | 'containedAt'>): string {
  const { buckets, bucketMs, start } = activityBuckets(doc.events, doc.window, doc.containedAt);
  if (buckets.length === 0) return '<p class="none">No activity to chart.</p>';
  const left = 44;
  const top = 24;
  const plotH = 180;
  const barW = Math.max(4, Math.min(40, Math.floor(880 / buckets.length)));
  // Room on the right for the last tick label and the containment label.
  const width = left + buckets.length * barW + 72;
  const height = top + plotH + 44;
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const y = (n: number) => top + plotH - Math.round((n / max) * plotH);
  const parts: string[] = [];
  parts.push(`<line class="axis" x1="${left}" y1="${top + plotH}" x2="${width - 8}" y2="${top + plotH}"/>`);
  parts.push(`<text class="tick" x="${left - 6}" y="${top + 4}" text-anchor="end">${max}</text>`);
  parts.push(`<text class="tick" x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>`);
  buckets.forEach((b, i) => {
    const x = left + i * barW;
    const span = bucketMs === HOUR_MS ? hourLabel(b.start) : `${hourLabel(b.start)} +${bucketMs / HOUR_MS} h`;
    const title = `<title>${e(`${span} UTC: ${b.total} events, ${b.flagged} flagged`)}</title>`;
    if (b.total > b.flagged) {
      parts.push(`<rect class="bar" x="${x + 1}" y="${y(b.total)}" width="${barW - 2}" height="${y(b.flagged) - y(b.total)}">${title}</rect>`);
    }
    if (b.flagged > 0) {
      parts.push(`<rect class="bar flagged" x="${x + 1}" y="${y(b.flagged)}" width="${barW - 2}" height="${top + plotH - y(b.flagged)}">${title}</rect>`);
    }
  });
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    if (i % every !== 0) return;
    parts.push(`<text class="tick" x="${left + i * barW}" y="${top + plotH + 16}">${e(hourLabel(b.start))}</text>`);
  });
  const contained = doc.containedAt ? Date.parse(doc.containedAt) : Number.NaN;
  if (!Number.isNaN(contained)) {
    const x = left + Math.round(((contained - start) / bucketMs) * barW);
    parts.push(
      `<g id="containment-marker" class="containment"><line x1="${x}" y1="${top - 12}" x2="${x}" y2="${top + plotH + 22}"/>` +
        // Label on the side with room: left of the line when it falls in the right half of the chart.
        (x > width / 2
          ? `<text x="${x - 4}" y="${top - 2}" text-anchor="end">${e(`Contained ${doc.containedAt}`)}</text></g>`
          : `<text x="${x + 4}" y="${top - 2}">${e(`Contained ${doc.containedAt}`)}</text></g>`),
    );
  }
  const label = `Activity of the principal per ${bucketMs === HOUR_MS ? 'hour' : `${bucketMs / HOUR_MS} hours`}: ${doc.events.length} events, ${doc.events.filter((ev) => ev.flags.length > 0).length} flagged`;
  return `<svg class="chart" role="img" aria-label="${e(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join('\n')}\n</svg>
<p class="legend"><span class="key"></span> events <span class="key flagged"></span> flagged events <span class="key containment"></span> containment (last network interface isolated) — one bar per ${bucketMs === HOUR_MS ? 'hour' : `${bucketMs / HOUR_MS} hours`}, UTC</p>`;
}

function lockText(lock: ObjectLockView | undefined): string {
  if (!lock) return 'not read';
  if ('error' in lock) return `unreadable (${lock.error})`;
  return `${lock.mode ?? 'no retention'}${lock.retainUntil ? ` until ${lock.retainUntil}` : ''}, legal hold ${lock.legalHold ?? 'absent'}`;
}

function flaggedTable(doc: TimelineDocument): string {
  const flagged = doc.events.filter((ev) => ev.flags.length > 0);
  const rows = flagged.slice(0, MAX_FLAGGED_ROWS).map((ev) => [
    e(ev.time),
    e(ev.region),
    e(actorLabel(ev.actor)),
    `<strong>${e(ev.eventName)}</strong><br><span class="muted">${e(ev.eventSource)}</span>`,
    ev.flags.map((f) => `<span class="flag">${e(f)}</span>`).join('<br>'),
    dash(ev.sourceIPAddress),
    `<span class="ua">${dash(ev.userAgent)}</span>`,
    ev.resources.length ? ev.resources.map((r) => `<span class="res">${e(r.name)}</span>${r.type ? ` <span class="muted">(${e(r.type)})</span>` : ''}`).join('<br>') : '-',
    ev.errorCode ? `${e(ev.errorCode)}${ev.errorMessage ? `<br><span class="muted">${e(ev.errorMessage)}</span>` : ''}` : '-',
  ]);
  const more = flagged.length > MAX_FLAGGED_ROWS ? `<p class="note">${flagged.length - MAX_FLAGGED_ROWS} more flagged events not listed: <code>forensics case timeline ${e(doc.caseId)} --output json</code> has them all.</p>` : '';
  return table(['Time (UTC)', 'Region', 'Actor', 'Event', 'Flags', 'Source IP', 'User agent', 'Resources', 'Error'], rows, 'events') + more;
}

export function renderCaseReport(input: CaseReportInput): string {
  const m = input.manifest;
  const t = input.timeline;
  const prefix = `cases/${m.caseId}/`;
  const rel = (key: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : key);
  const findings = m.findings.map((f) => `${e(f.type)} <span class="muted">severity ${e(f.severity)}, id ${e(f.id)}</span>`).join('<br>');
  const header = [
    ['Target', `${e(m.target.instanceId)} in account ${e(m.target.accountId)}, ${e(m.target.region)}`],
    ['Finding', findings || '-'],
    ['Status', e(input.status ?? 'not in the case table')],
    ['Time to containment', `<strong>${e(duration(m.timings.timeToContainmentSeconds))}</strong>`],
    ['Opened / contained / sealed', `${e(m.timings.openedAt)} / ${dash(m.timings.containedAt)} / ${e(m.timings.sealedAt)}`],
    ['Source', `${e(m.source)}${m.requestedBy ? ` (requested by ${e(m.requestedBy)})` : ''}${m.reason ? ` — ${e(m.reason)}` : ''}`],
    ['Manifest', `<code>s3://${e(m.evidenceBucket)}/${e(prefix)}manifest.json</code><br>SHA-256 <code>${e(input.manifestSha256)}</code>`],
    ['Execution', `<code>${e(m.executionArn)}</code>`],
  ];

  const timelineSection = t
    ? `<p>Principal: ${e(t.principal.instanceId)} (role ${dash(t.principal.roleArn)}${t.principal.accessKeyIds.length ? `, access keys ${e(t.principal.accessKeyIds.join(', '))}` : ''}).
Window ${e(t.window.from)} to ${e(t.window.to)} (look-back ${e(t.window.lookBackHours)} h), regions ${dash(t.regions.join(', '))}.
${t.events.length} events, ${t.events.filter((ev) => ev.flags.length > 0).length} flagged; timeline ${e(m.timeline?.status ?? '-')}.</p>
${t.assumedRoles.length ? `<p>Assumed roles (one hop): ${t.assumedRoles.map((r) => `${e(r.roleArn)} as ${e(r.sessionName)} at ${e(r.assumedAt)}`).join('; ')}.</p>` : ''}
${activityChart(t)}
<h3>Flagged events</h3>
${flaggedTable(t)}`
    : `<p class="note">${e(input.timelineNote ?? 'No timeline.')}</p>`;

  const objectRows = m.objects.map((o) => [`<code>${e(rel(o.key))}</code>`, `<code class="hash">${e(o.sha256)}</code>`, dash(o.versionId), e(lockText(input.objectLocks.get(o.key)))]);
  const snapshotRows = m.snapshots.map((s) => [
    `${e(s.volumeId)}<br><span class="muted">${dash(s.deviceName)}${s.sizeGiB === null ? '' : `, ${e(s.sizeGiB)} GiB`}</span>`,
    `${e(s.originalSnapshotId)} <span class="muted">(${dash(s.originalState)})</span>`,
    s.evidenceSnapshotId ? `${e(s.evidenceSnapshotId)} <span class="muted">(${dash(s.evidenceState)}${s.evidenceRegion ? `, ${e(s.evidenceRegion)}` : ''})</span>` : `none <span class="muted">(${dash(s.evidenceState)})</span>`,
    `<code>${dash(s.kmsKeyId)}</code>`,
    s.lock ? e(`${s.lock.mode}${s.lock.status ? ` ${s.lock.status}` : ''}${s.lock.lockedUntil ? ` until ${s.lock.lockedUntil}` : ''}`) : 'not locked',
  ]);

  const r = input.rotate;
  const rotateSection = r
    ? `<p>${r.items.length} items the role ${dash(r.roleArn)} could read (of ${e(r.evaluated)} evaluated), ${r.items.filter((i) => i.observed).length} actually read according to the timeline. The product rotates nothing itself: run each command after review.</p>
${table(
  ['Rank', 'Kind', 'Name', 'Region', 'Observed', 'Command'],
  r.items.map((i) => [
    e(i.rank),
    e(i.kind),
    `${e(i.name)}<br><span class="muted">${e(i.arn)}</span>`,
    e(i.region),
    `${i.observed ? `<strong class="observed">observed</strong> <span class="muted">(${e(i.observedEventIds.length)} events)</span>` : i.possibly ? 'possibly readable' : 'readable'}<br><span class="muted">by ${e(i.basis)}${(i.notes ?? []).map((n) => `; ${e(n)}`).join('')}</span>`,
    `<code class="command">${e(i.command)}</code>`,
  ]),
  'rotate',
)}`
    : `<p class="note">${e(input.rotateNote ?? 'No rotate list.')}</p>`;

  const logs = m.logs;
  const logsSection = logs
    ? `${table(
        ['Source', 'Status', 'Detail'],
        [
          [
            'CloudTrail log files',
            e(logs.cloudtrail.status),
            e(`${logs.cloudtrail.reason ? `${logs.cloudtrail.reason}; ` : ''}from ${logs.cloudtrail.sourceBucket ?? '-'}: ${logs.cloudtrail.logFiles} log files, ${logs.cloudtrail.digestFiles} digest files, ${logs.cloudtrail.bytes} bytes`),
          ],
          [
            'VPC flow logs',
            e(logs.flowLogs.status),
            e(
              `${logs.flowLogs.reason ? `${logs.flowLogs.reason}; ` : ''}${logs.flowLogs.sources.map((s) => `${s.flowLogId} (${s.destinationType}): ${s.objects} objects, ${s.records} records`).join('; ') || 'no flow log'}`,
            ),
          ],
        ],
      )}
<p class="muted">Preserved under <code>${e(prefix)}logs/</code>, each object listed with its SHA-256 in the evidence table, under retention and legal hold.</p>`
    : '<p class="note">No preserved logs: the manifest has no logs section.</p>';

  const gaps: ScopeGap[] = [...(t?.gaps ?? m.timeline?.gaps ?? []), ...(logs?.gaps ?? []), ...(r?.gaps ?? [])];
  const gapsSection = gaps.length ? `<ul>${gaps.map((g) => `<li>${e(gapLine(g))}</li>`).join('')}</ul>` : '<p class="none">None recorded.</p>';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Forensic case ${m.caseId}`)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1f23; }
h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } table.header th { width: 220px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.muted { color: #57606a; font-size: 12px; } .note { background: #fff8c5; padding: 6px 10px; } .none { color: #57606a; }
.flag { background: #ffebe9; color: #a40e26; padding: 0 4px; border-radius: 3px; font-size: 12px; white-space: nowrap; }
.observed { color: #a40e26; } .ua { display: inline-block; min-width: 14em; font-size: 12px; word-break: break-all; }
table.events td { font-size: 13px; } .res { word-break: break-all; }
svg.chart .bar { fill: #8c959f; } svg.chart .bar.flagged { fill: #cf222e; }
svg.chart .axis { stroke: #57606a; } svg.chart .tick { font-size: 10px; fill: #57606a; }
svg.chart .containment line { stroke: #0969da; stroke-width: 2; stroke-dasharray: 4 3; } svg.chart .containment text { fill: #0969da; font-size: 11px; }
.legend .key { display: inline-block; width: 10px; height: 10px; background: #8c959f; margin-left: 8px; }
.legend .key.flagged { background: #cf222e; } .legend .key.containment { background: #0969da; width: 3px; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
</style>
</head>
<body>
<h1>${e(`Forensic case ${m.caseId}`)}</h1>
<table class="header"><tbody>
${header.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v ?? ''}</td></tr>`).join('\n')}
</tbody></table>
<h2>Timeline of the principal</h2>
${timelineSection}
<h2>Rotate list</h2>
${rotateSection}
<h2>Evidence</h2>
<h3>Objects (${m.objects.length}), as listed in the manifest</h3>
<p class="muted">Retention and legal hold as S3 reports them now. <code>forensics case verify ${e(m.caseId)}</code> recomputes every hash.</p>
${table(['Object', 'SHA-256', 'Version', 'Retention and legal hold'], objectRows, 'objects')}
<h3>Snapshots (${m.snapshots.length})</h3>
${table(['Volume', 'Original snapshot', 'Evidence copy', 'Key', 'Lock'], snapshotRows, 'snapshots')}
<h2>Preserved logs</h2>
${logsSection}
<h2>Gaps</h2>
${gapsSection}
<p class="muted">Generated ${e(input.generatedAt)} by <code>forensics case report</code> from the sealed evidence.</p>
</body>
</html>
`;
}
