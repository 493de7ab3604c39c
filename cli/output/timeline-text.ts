import type { ScopeGap, TimelineActor, TimelineDocument, TimelineEvent } from '../../handlers/domain/scope-documents';
import { renderTable, sanitize } from './format';

/**
 * The principal's timeline as text (`forensics case timeline`): a header, one line per event (time, region, actor,
 * event name, source IP, error code, flags), a marker line where containment falls, and the gaps at the end. Pure.
 * Every field comes from CloudTrail, i.e. partly from the attacker (user agent, resource names): `renderTable`
 * sanitizes each cell so nothing forges a line.
 */

/** Who made the call, in a few words: the role session, the access key, or the assumed role's session. */
export function actorLabel(actor: TimelineActor): string {
  switch (actor.kind) {
    case 'instance-role-session':
      return `session ${actor.sessionName}`;
    case 'access-key':
      return `key ${actor.accessKeyId}`;
    case 'assumed-role-session':
      return `assumed ${actor.roleArn.split('/').pop() ?? actor.roleArn}/${actor.sessionName}`;
  }
}

export function gapLine(g: ScopeGap): string {
  return `${g.source}${g.region ? ` ${g.region}` : ''}: ${g.kind === 'limit' ? 'bound reached' : 'error'}: ${g.detail}`;
}

export const CONTAINMENT_MARK = '── contained';

/**
 * Where containment falls among the events (sorted by time): the index of the first event at or after it, or null
 * when the case was not contained or the time does not parse.
 */
export function containmentIndex(events: readonly Pick<TimelineEvent, 'time'>[], containedAt: string | null): number | null {
  if (!containedAt) return null;
  const at = Date.parse(containedAt);
  if (Number.isNaN(at)) return null;
  const i = events.findIndex((e) => Date.parse(e.time) >= at);
  return i === -1 ? events.length : i;
}

export function renderTimelineText(doc: TimelineDocument): string[] {
  const lines: string[] = [];
  const p = doc.principal;
  const flagged = doc.events.filter((e) => e.flags.length > 0).length;
  lines.push(`Timeline of case ${sanitize(doc.caseId)}`);
  lines.push(`Principal     ${sanitize(p.instanceId)} in account ${sanitize(p.accountId)}, role ${sanitize(p.roleArn ?? 'none')}${p.accessKeyIds.length ? `, access keys ${sanitize(p.accessKeyIds.join(', '))}` : ''}`);
  lines.push(`Window        ${sanitize(doc.window.from)} to ${sanitize(doc.window.to)} (look-back ${doc.window.lookBackHours} h), regions ${sanitize(doc.regions.join(', ') || '-')}`);
  for (const r of doc.assumedRoles) lines.push(`Assumed       ${sanitize(r.roleArn)} as ${sanitize(r.sessionName)} at ${sanitize(r.assumedAt)}`);
  lines.push(`Events        ${doc.events.length}, flagged ${flagged}${doc.containedAt ? `, contained at ${sanitize(doc.containedAt)}` : ', not contained'}`);
  lines.push('');

  const rows = doc.events.map((e) => [
    e.time,
    e.region,
    actorLabel(e.actor),
    e.eventName,
    e.sourceIPAddress,
    e.errorCode,
    e.flags.length ? `! ${e.flags.join(',')}` : '',
  ]);
  const table = renderTable(['TIME (UTC)', 'REGION', 'ACTOR', 'EVENT', 'SOURCE IP', 'ERROR', 'FLAGS'], rows);
  const header = table[0] ?? '';
  const body = table.slice(1);
  const cut = containmentIndex(doc.events, doc.containedAt);
  lines.push(header);
  body.forEach((line, i) => {
    if (i === cut) lines.push(`${CONTAINMENT_MARK} ${doc.containedAt} ──`);
    lines.push(line);
  });
  if (cut !== null && cut === body.length) lines.push(`${CONTAINMENT_MARK} ${doc.containedAt} ──`);
  if (doc.events.length === 0) lines.push('(no events in the window)');

  lines.push('', `Gaps (${doc.gaps.length})${doc.gaps.length === 0 ? ': none, the timeline is complete within its bounds' : ''}`);
  for (const g of doc.gaps) lines.push(`  ${sanitize(gapLine(g))}`);
  return lines;
}
