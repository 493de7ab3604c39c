import type { ScopeWindow } from './scope-documents';

/**
 * Where VPC Flow Logs deliver their files in S3, and which of them belong to the incident window. Pure.
 *
 * Folders (Amazon VPC User Guide, "Flow log files"), under the destination's bucket and optional prefix:
 *  - default:                `AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/`
 *  - per-hour partitions:    `…/<yyyy>/<mm>/<dd>/<HH>/`
 *  - Hive-compatible:        `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/`
 *  - both:                   `…/day=<dd>/hour=<HH>/`
 * Files: `<account>_vpcflowlogs_<region>_<flow log id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz` (`.log.parquet` in Parquet),
 * published every 5 minutes; the file name's time precedes its upload (S3's Last-Modified).
 */

/** Files named up to this long after the window's end hold its last records (published at 5-minute intervals). */
export const FLOW_LOG_DELIVERY_MARGIN_MINUTES = 15;

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface FlowLogDestination {
  bucket: string;
  /** The destination's key prefix without slashes at either end ('' when none). */
  prefix: string;
}

export interface FlowLogFolders {
  accountId: string;
  region: string;
  hiveCompatible: boolean;
  perHour: boolean;
}

/** `arn:<partition>:s3:::bucket[/prefix/]` (a flow log's LogDestination) → bucket and prefix; undefined otherwise. */
export function flowLogDestination(arn: string): FlowLogDestination | undefined {
  const m = /^arn:[^:]+:s3:::([^/]+)\/?(.*)$/.exec(arn);
  if (!m) return undefined;
  return { bucket: m[1] as string, prefix: (m[2] as string).replace(/^\/+|\/+$/g, '') };
}

/** The destination as `forensics:flowLogBuckets` spells it: `bucket` or `bucket/prefix`. */
export function flowLogSetting(destination: FlowLogDestination): string {
  return destination.prefix ? `${destination.bucket}/${destination.prefix}` : destination.bucket;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The folders (ending in `/`) that can hold the window's files: days, or hours with per-hour partitions. */
export function flowLogFolders(destination: FlowLogDestination, folders: FlowLogFolders, window: ScopeWindow): string[] {
  const root = `${destination.prefix ? `${destination.prefix}/` : ''}AWSLogs/`;
  const base = folders.hiveCompatible
    ? `${root}aws-account-id=${folders.accountId}/aws-service=vpcflowlogs/aws-region=${folders.region}/`
    : `${root}${folders.accountId}/vpcflowlogs/${folders.region}/`;
  const step = folders.perHour ? HOUR_MS : DAY_MS;
  const from = Math.floor(Date.parse(window.from) / step) * step;
  const to = Date.parse(window.to) + FLOW_LOG_DELIVERY_MARGIN_MINUTES * MINUTE_MS;
  const out: string[] = [];
  for (let t = from; t <= to; t += step) {
    const d = new Date(t);
    const [y, m, day, h] = [String(d.getUTCFullYear()), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours())];
    const date = folders.hiveCompatible ? `year=${y}/month=${m}/day=${day}/` : `${y}/${m}/${day}/`;
    const hour = folders.perHour ? (folders.hiveCompatible ? `hour=${h}/` : `${h}/`) : '';
    out.push(`${base}${date}${hour}`);
  }
  return out;
}

/** Whether `key` is a file of flow log `flowLogId` whose time is within [from, to + margin]. */
export function flowLogFileInWindow(key: string, flowLogId: string, window: ScopeWindow): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = /^\d{12}_vpcflowlogs_[a-z0-9-]+_(fl-[0-9a-f]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/.exec(name);
  if (!m || m[1] !== flowLogId) return false;
  const t = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]));
  return t >= Date.parse(window.from) && t <= Date.parse(window.to) + FLOW_LOG_DELIVERY_MARGIN_MINUTES * MINUTE_MS;
}
