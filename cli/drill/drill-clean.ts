import { type AttributeValue, DeleteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DeleteSnapshotCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, DescribeVpcsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { caseKey, lockKey } from '../../handlers/adapters/case-table';
import { drillOf, drillTagKey, MAX_DRILL_RETENTION_DAYS } from '../../handlers/domain/drill';
import { manifestKey } from '../../handlers/domain/manifest';
import type { Target } from '../../handlers/domain/types';
import { type CanaryClients, type CanarySettings, removeCanary } from './canary';

/**
 * `forensics drill clean`: removes what drills left, once their retention has passed — and only that.
 *
 * - Canaries kept with `--keep-canary` (or left by an interrupted drill): instances and VPCs tagged `<prefix>:drill`,
 *   launched more than `olderThanMinutes` ago, with their VPC, role and profile (canary.ts `removeCanary`).
 * - Drill cases (case table: `details.options.drill`, and a manifest that says `drill` when there is one): once the
 *   retention of every object version under `cases/<caseId>/` has passed, each version's legal hold is lifted and the
 *   version deleted, then the case's snapshots that carry both the case id and the drill tag, then the case's items in
 *   the case table. A version still under retention keeps the whole case.
 * Drill objects are written like any evidence (configured mode, COMPLIANCE by default, legal hold ON): lifting the
 * hold and deleting need s3:PutObjectLegalHold and s3:DeleteObjectVersion, which no role of the product holds — the
 * identity running `drill clean` uses its own; without them the case is reported as retained, naming the permissions.
 * A real case is never touched: without `options.drill` in the table a case is skipped whatever its tags say, a
 * manifest without `drill` leaves the case alone, and so does any version whose own retention is longer than a
 * drill's (S3 would refuse to delete it anyway until its COMPLIANCE date).
 */

export interface CleanDeps {
  s3: S3Client;
  ddb: DynamoDBClient;
  bucket: string;
  table: string;
  tagPrefix: string;
  /** EC2 clients for the snapshots of a case's region (IR account; the workload account's when known). */
  snapshotClients: (region: string) => EC2Client[];
  /** The canary account's clients in the region searched for left-over canaries (absent: canaries not searched). */
  canary?: { clients: CanaryClients; settings: CanarySettings; region: string };
  now: Date;
  olderThanMinutes: number;
  log: (line: string) => void;
}

export interface CleanReport {
  removed: string[];
  retained: string[];
  errors: string[];
}

const DAY_MS = 86_400_000;
/** Clock skew between the writer computing retain-until and S3's LastModified (SigV4's own). */
const SKEW_MS = 15 * 60_000;

/** Bound on case-table pages and object-version pages read. */
const MAX_PAGES = 100;

export async function cleanDrills(deps: CleanDeps): Promise<CleanReport> {
  const report: CleanReport = { removed: [], retained: [], errors: [] };
  if (deps.canary) await cleanCanaries(deps, deps.canary, report);
  for (const item of await drillCases(deps)) {
    try {
      await cleanCase(deps, item, report);
    } catch (err) {
      report.errors.push(`case ${item.caseId}: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  return report;
}

async function cleanCanaries(deps: CleanDeps, canary: NonNullable<CleanDeps['canary']>, report: CleanReport): Promise<void> {
  const { ec2 } = canary.clients;
  const key = drillTagKey(deps.tagPrefix);
  const cutoff = deps.now.getTime() - deps.olderThanMinutes * 60_000;
  const drills = new Map<string, { instanceId?: string; vpcId?: string }>();
  const reservations =
    (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: [key] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] })))
      .Reservations ?? [];
  for (const i of reservations.flatMap((r) => r.Instances ?? [])) {
    const drillId = i.Tags?.find((t) => t.Key === key)?.Value;
    if (!drillId || !i.InstanceId) continue;
    if ((i.LaunchTime?.getTime() ?? 0) > cutoff) {
      report.retained.push(`canary ${i.InstanceId} of drill ${drillId}: launched less than ${deps.olderThanMinutes} min ago (a drill may be running)`);
      continue;
    }
    drills.set(drillId, { instanceId: i.InstanceId, ...(i.VpcId ? { vpcId: i.VpcId } : {}) });
  }
  // VPCs of drills whose canary is already gone (an interrupted drill).
  for (const v of (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: [key] }] }))).Vpcs ?? []) {
    const drillId = v.Tags?.find((t) => t.Key === key)?.Value;
    if (!drillId || !v.VpcId || drills.has(drillId)) continue;
    if (reservations.some((r) => r.Instances?.some((i) => i.VpcId === v.VpcId))) continue;
    drills.set(drillId, { vpcId: v.VpcId });
  }
  for (const [drillId, found] of drills) {
    const name = `forensics-drill-${drillId}`.slice(0, 64);
    const removal = await removeCanary(canary.clients, { drillId, ...found, roleName: name, profileName: name }, canary.settings, deps.log);
    report.removed.push(...removal.removed);
    report.errors.push(...removal.errors);
  }
}

interface DrillCase {
  caseId: string;
  status: string;
  target: Target;
  retentionDays: number;
}

async function drillCases(deps: CleanDeps): Promise<DrillCase[]> {
  const out: DrillCase[] = [];
  let start: Record<string, AttributeValue> | undefined;
  let pages = 0;
  do {
    const page = await deps.ddb.send(
      new ScanCommand({
        TableName: deps.table,
        FilterExpression: '#sk = :case AND attribute_exists(#details.#options.#drill)',
        ExpressionAttributeNames: { '#sk': 'sk', '#details': 'details', '#options': 'options', '#drill': 'drill' },
        ExpressionAttributeValues: { ':case': { S: 'CASE' } },
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw) as { caseId?: string; status?: string; target?: Target; details?: { options?: unknown } };
      const drill = drillOf(item.details?.options as never);
      if (drill && item.caseId && item.target) out.push({ caseId: item.caseId, status: item.status ?? '', target: item.target, retentionDays: drill.retentionDays });
    }
    start = page.LastEvaluatedKey;
  } while (start && ++pages < MAX_PAGES);
  return out;
}

async function cleanCase(deps: CleanDeps, c: DrillCase, report: CleanReport): Promise<void> {
  if (c.status === 'ACQUIRING') {
    report.retained.push(`drill case ${c.caseId}: still ACQUIRING`);
    return;
  }
  const prefix = `cases/${c.caseId}/`;
  // The manifest, when there is one, must agree that this is a drill.
  let manifest: { drill?: unknown } | null;
  try {
    const o = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: manifestKey(c.caseId) }));
    manifest = JSON.parse((await o.Body?.transformToString()) ?? '{}') as { drill?: unknown };
  } catch (err) {
    if ((err as Error).name !== 'NoSuchKey' && (err as Error).name !== 'NotFound') throw err;
    manifest = null;
  }
  if (manifest && !manifest.drill) {
    report.errors.push(`case ${c.caseId}: the case table says drill, its manifest does not — left alone`);
    return;
  }

  const versions: { key: string; versionId: string; marker: boolean }[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await deps.s3.send(new ListObjectVersionsCommand({ Bucket: deps.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    for (const v of out.Versions ?? []) if (v.Key && v.VersionId) versions.push({ key: v.Key, versionId: v.VersionId, marker: false });
    for (const m of out.DeleteMarkers ?? []) if (m.Key && m.VersionId) versions.push({ key: m.Key, versionId: m.VersionId, marker: true });
    if (!out.IsTruncated) break;
    keyMarker = out.NextKeyMarker;
    versionMarker = out.NextVersionIdMarker;
  }
  // First decide, for every version, before anything is changed: a case is cleaned whole or not at all.
  let kept = 0;
  let latestUntil = 0;
  const heads = new Map<string, { held: boolean }>();
  for (const v of versions) {
    if (v.marker) continue;
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: v.key, VersionId: v.versionId }));
    const until = head.ObjectLockRetainUntilDate?.getTime() ?? 0;
    const written = head.LastModified?.getTime() ?? 0;
    // Defence in depth: a version whose own retention is longer than any drill's was written as real evidence, whatever
    // the case table says. It is never touched (nor is the rest of its case).
    if (!until || !written || until - written > MAX_DRILL_RETENTION_DAYS * DAY_MS + SKEW_MS) {
      report.errors.push(
        `case ${c.caseId}: ${v.key} version ${v.versionId} carries ${until ? `a retention until ${new Date(until).toISOString()}` : 'no retention'}, not a drill's (at most ${MAX_DRILL_RETENTION_DAYS} days from the write) — case left alone`,
      );
      return;
    }
    if (until > deps.now.getTime()) {
      kept += 1;
      latestUntil = Math.max(latestUntil, until);
    }
    heads.set(`${v.key} ${v.versionId}`, { held: head.ObjectLockLegalHoldStatus === 'ON' });
  }
  if (kept > 0) {
    report.retained.push(`drill case ${c.caseId}: ${kept} object version(s) under retention until ${new Date(latestUntil).toISOString()}`);
    return;
  }
  // Retention has passed for every version. The legal hold (every evidence object has one) is lifted and the version
  // deleted with the caller's own permissions: no role of the product may do either.
  for (const v of versions) {
    try {
      if (heads.get(`${v.key} ${v.versionId}`)?.held) {
        await deps.s3.send(new PutObjectLegalHoldCommand({ Bucket: deps.bucket, Key: v.key, VersionId: v.versionId, LegalHold: { Status: 'OFF' } }));
      }
      await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: v.key, VersionId: v.versionId }));
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'AccessDenied' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
        report.retained.push(
          `drill case ${c.caseId}: its objects' retention has passed, but removing them needs s3:PutObjectLegalHold and s3:DeleteObjectVersion on s3://${deps.bucket}/${prefix}* for the identity running drill clean (denied: ${name})`,
        );
        return;
      }
      throw err;
    }
  }
  if (versions.length > 0) report.removed.push(`${versions.length} object version(s) under s3://${deps.bucket}/${prefix}`);

  const key = drillTagKey(deps.tagPrefix);
  let snapshotsLeft = 0;
  for (const ec2 of deps.snapshotClients(c.target.region)) {
    const snaps: Snapshot[] =
      (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${deps.tagPrefix}:case-id`, Values: [c.caseId] }, { Name: 'tag-key', Values: [key] }] }))).Snapshots ?? [];
    for (const s of snaps) {
      try {
        await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId }));
        report.removed.push(`snapshot ${s.SnapshotId} of drill case ${c.caseId}`);
      } catch (err) {
        // Already gone (another client of the same account deleted it) is fine; a lock still running is not.
        if (/NotFound/.test((err as Error).name)) continue;
        snapshotsLeft += 1;
        report.retained.push(`snapshot ${s.SnapshotId} of drill case ${c.caseId}: ${(err as Error).name}: ${(err as Error).message.slice(0, 160)}`);
      }
    }
  }
  if (snapshotsLeft > 0) return;
  try {
    // The instance's lock, only if this case holds it (a release already deleted it).
    await deps.ddb.send(
      new DeleteItemCommand({
        TableName: deps.table,
        Key: lockKey(c.target),
        ConditionExpression: 'attribute_not_exists(pk) OR caseId = :case',
        ExpressionAttributeValues: { ':case': { S: c.caseId } },
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
  }
  await deps.ddb.send(new DeleteItemCommand({ TableName: deps.table, Key: caseKey(c.caseId) }));
  report.removed.push(`drill case ${c.caseId} from table ${deps.table}`);
}
