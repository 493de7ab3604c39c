import type { ScopeWindow } from './scope-documents';

/**
 * Where a trail delivers its files in S3, and which of them belong to the incident window. Pure.
 *
 * Log files: `[<prefix>/]AWSLogs/[<org id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/
 *   <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`, the timestamp being the file's DELIVERY time.
 * Digest files (log file integrity validation): `…/CloudTrail-Digest/<region>/<yyyy>/<mm>/<dd>/
 *   <account>_CloudTrail-Digest_<region>_<trail>_<region>_<YYYYMMDDTHHmmssZ>.json.gz` (optionally `_backfill`), the
 *   timestamp being the digest's END: each digest lists the log files delivered during the hour before it.
 * Organization trails put the organization id between `AWSLogs/` and the account (the layout the issue names).
 */
export type TrailFileKind = 'log' | 'digest';

/**
 * CloudTrail delivers a log file within about 5 minutes of its events, on average, and promises no bound; 15 minutes
 * after the window's end covers the events of its last minutes (what arrives even later is not in the bucket yet
 * when the scope runs, and is recorded as the window's end, not claimed). A file delivered just after the window's
 * start may hold events from a few minutes before it: kept, a few extra events are harmless.
 */
export const LOG_DELIVERY_MARGIN_MINUTES = 15;
/** A digest covers the hour of deliveries before its end: one hour more than a log file's margin. */
export const DIGEST_MARGIN_MINUTES = 60 + LOG_DELIVERY_MARGIN_MINUTES;

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface TrailLocation {
  /** `forensics:cloudTrailPrefix` (the trail's S3 key prefix), without leading or trailing slash; '' when none. */
  prefix?: string;
  /** `forensics:organizationId`: set for an organization trail. */
  organizationId?: string;
  accountId: string;
  region: string;
}

function margin(kind: TrailFileKind): number {
  return (kind === 'digest' ? DIGEST_MARGIN_MINUTES : LOG_DELIVERY_MARGIN_MINUTES) * MINUTE_MS;
}

/** The account's folder for one region and kind, ending in `/`. */
export function trailRegionPrefix(location: TrailLocation, kind: TrailFileKind): string {
  const prefix = (location.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const org = location.organizationId ? `${location.organizationId}/` : '';
  const folder = kind === 'digest' ? 'CloudTrail-Digest' : 'CloudTrail';
  return `${prefix ? `${prefix}/` : ''}AWSLogs/${org}${location.accountId}/${folder}/${location.region}/`;
}

/** The day folders (`…/yyyy/mm/dd/`, UTC) that can hold files of the window, first day first. */
export function trailDayPrefixes(location: TrailLocation, window: ScopeWindow, kind: TrailFileKind): string[] {
  const base = trailRegionPrefix(location, kind);
  const from = Date.parse(window.from);
  const to = Date.parse(window.to) + margin(kind);
  const out: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
    const d = new Date(day);
    const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
    const dd = String(d.getUTCDate()).padStart(2, '0');
    out.push(`${base}${d.getUTCFullYear()}/${mm}/${dd}/`);
  }
  return out;
}

/** The timestamp in a trail file's name (delivery time of a log file, end time of a digest), or undefined. */
export function trailFileTime(key: string): { kind: TrailFileKind; time: Date } | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = /^\d{12}_CloudTrail(-Digest)?_.*?_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z(_|\.json)/.exec(name);
  if (!m) return undefined;
  const [, digest, y, mo, d, h, mi, s] = m;
  const time = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)));
  return Number.isNaN(time.getTime()) ? undefined : { kind: digest ? 'digest' : 'log', time };
}

/**
 * Whether the object at `key` belongs to the window: a trail file whose timestamp is within [from, to + margin]
 * (margin: LOG_DELIVERY_MARGIN_MINUTES for a log file, DIGEST_MARGIN_MINUTES for a digest). Anything not named
 * like a trail file is not copied.
 */
export function trailFileInWindow(key: string, window: ScopeWindow): TrailFileKind | undefined {
  const file = trailFileTime(key);
  if (!file) return undefined;
  const t = file.time.getTime();
  return t >= Date.parse(window.from) && t <= Date.parse(window.to) + margin(file.kind) ? file.kind : undefined;
}
