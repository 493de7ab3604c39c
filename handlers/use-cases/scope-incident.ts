import { STEP } from '../domain/case-evidence';
import { type AssumedRole, type CloudTrailRecord, actorOf, assumedRoleOf, mergeTimeline, timelineEventOf } from '../domain/cloudtrail-record';
import { type TrailLocation, trailDayPrefixes, trailFileInWindow } from '../domain/cloudtrail-layout';
import { mapSettledWithConcurrency } from '../domain/concurrency';
import { drillObjectRetention } from '../domain/drill';
import { errorName, errorSummary } from '../domain/errors';
import { flowLogDestination, flowLogFileInWindow, flowLogFolders, flowLogSetting } from '../domain/flow-log-layout';
import type { Clock, CustodyLog, EvidenceCaseTable, EvidenceStore, Log } from '../domain/ports';
import { type PolicyRead, combineAccess } from '../domain/resource-access';
import { instanceRolePrincipal } from '../domain/resource-policy';
import { type InventoryItem, READ_ACTIONS, type ReadableItem, rankRotateList, simulationResourceArn, topOfRotateList } from '../domain/rotate-list';
import {
  type ManifestLogs,
  type ManifestRotate,
  type ManifestTimeline,
  type RotateDocument,
  SCOPE_DOCUMENT_SCHEMA_VERSION,
  type ScopeGap,
  type ScopePrincipal,
  type ScopeStatus,
  type ScopeWindow,
  type TimelineDocument,
  type TimelineEvent,
  logsPrefix,
  rotateKey,
  timelineKey,
} from '../domain/scope-documents';
import { instanceProfileArnOf, instanceRoleArnOf, scopePrincipal, scopeWindow } from '../domain/scope-principal';
import type { AcquisitionState, CustodyAction, FlowLogSources, ScopeResult, SealedObject } from '../domain/types';
import { requireCase, writeEvidenceOnce } from './case-evidence-objects';

/**
 * "Scope the incident": after containment, while the snapshots complete, three parts at once —
 *  - timeline: CloudTrail LookupEvents of the principal (instance role sessions by Username = instance id, each
 *    access key of the findings) in every scoped region, one hop of AssumeRole, plus the principal's events found
 *    in the trail's log files being preserved (data events); sealed as `timeline.json`;
 *  - logs: the window's trail log and digest files, and the ENIs' flow logs, copied or written into
 *    `cases/<id>/logs/…` under retention and legal hold, each indexed with its SHA-256;
 *  - rotate: what the role can read (inventory × policy simulation), marked observed from the timeline, ranked;
 *    sealed as `rotate.json`.
 * Bounded (events, objects, inventory, concurrency, an overall time cap); an AWS failure of a part is recorded in
 * that part's status and gaps, never thrown: the scope must not fail the acquisition, nor hold up the seal for long.
 */

export interface ScopeSettings {
  lookBackHours: number;
  /** Regions searched by LookupEvents and inventoried (the target's region first). */
  regions: string[];
  /** The trail's bucket (unset: no log preservation), its key prefix and, for an organization trail, the org id. */
  cloudTrailBucket?: string;
  cloudTrailPrefix?: string;
  organizationId?: string;
  /** `forensics:flowLogBuckets`: the flow log destinations (`bucket` or `bucket/prefix`) the role may read. */
  flowLogBuckets?: readonly string[];
  /** Timeline events kept per lookup, and in all. */
  maxEvents: number;
  /** Log objects preserved at most (trail files and flow log objects together). */
  maxLogObjects: number;
  /** Flow log records written at most per flow log. */
  maxFlowLogRecords: number;
  /** Inventory items per kind and region at most. */
  maxInventoryItems: number;
  /** Resource policies (secret, key, bucket) read at most in all; beyond, items keep the identity policies' answer. */
  maxPolicyReads: number;
  /** Calls in flight at most (copies, lookups). */
  concurrency: number;
  /** The whole step's time cap in seconds (below the function's timeout). */
  timeCapSeconds: number;
}

export interface LookupPort {
  lookup(
    attribute: { key: 'Username' | 'AccessKeyId'; value: string },
    window: ScopeWindow,
    bounds: { maxEvents: number; deadline: number },
  ): Promise<{ events: { record: CloudTrailRecord; resources: { type: string | null; name: string }[] }[]; gaps: ScopeGap[] }>;
}

export interface InventoryPort {
  secrets(max: number): Promise<{ items: InventoryItem[]; truncated: boolean }>;
  secureStringParameters(max: number): Promise<{ items: InventoryItem[]; truncated: boolean }>;
  customerKeys(max: number): Promise<{ items: InventoryItem[]; truncated: boolean }>;
  buckets(max: number): Promise<{ items: InventoryItem[]; truncated: boolean }>;
}

export interface LogCopyPort {
  list(bucket: string, prefix: string, max: number): Promise<{ objects: { key: string; size: number }[]; truncated: boolean }>;
  copy(
    source: { bucket: string; key: string; size?: number },
    key: string,
    retainUntil?: Date,
  ): Promise<SealedObject & { bytes: number; existed: boolean }>;
  /** The CloudTrail records of a (gzip) trail log file. */
  records(bucket: string, key: string): Promise<unknown[]>;
}

/**
 * The records of a flow log delivered to CloudWatch Logs. Which flow logs cover the instance is not asked here:
 * "Preserve and snapshot" looked them up (`$.acquisition.flowLogSources`), so this step needs no EC2 client.
 */
export interface FlowLogRecordsPort {
  records(
    logGroupName: string,
    streams: readonly string[],
    from: Date,
    to: Date,
    max: number,
  ): Promise<{ records: { timestamp: number; message: string; logStreamName: string | null; eventId: string | null }[]; truncated: boolean }>;
}

/** The resource policies of the rotate list's items (null: the resource has none). */
export interface ResourcePolicyPort {
  secretPolicy(secretArn: string): Promise<string | null>;
  keyPolicy(keyArn: string): Promise<string | null>;
  bucketPolicy(bucket: string): Promise<string | null>;
}

/** The simulation's answer: per resource ARN, the actions allowed and those explicitly denied. */
export interface SimulationDecisions {
  allowed: Map<string, string[]>;
  explicitlyDenied: Map<string, string[]>;
}

export interface ScopeIncidentDeps {
  cases: EvidenceCaseTable;
  store: EvidenceStore;
  custody: CustodyLog;
  clock: Clock;
  settings: ScopeSettings;
  /** Workload side (the target's account): LookupEvents, inventory, flow log records per region; the policy simulation. */
  lookupIn: (region: string) => LookupPort;
  inventoryIn: (region: string) => InventoryPort;
  flowLogRecordsIn: (region: string) => FlowLogRecordsPort;
  simulate: (roleArn: string, actions: readonly string[], resourceArns: readonly string[]) => Promise<SimulationDecisions>;
  /** Workload side: the items' resource policies, per region (a bucket's: its own region). */
  resourcePoliciesIn: (region: string) => ResourcePolicyPort;
  /** The role of an instance profile (credential containment usually resolved it already). */
  roleOfProfile: (instanceProfileArn: string) => Promise<string | null>;
  /** IR side: the trail bucket (read) and the evidence bucket (sealed copies). */
  logs: LogCopyPort;
  /** A sealed JSON document of the case read back (a retried step found `timeline.json` / `rotate.json` sealed). */
  readSealed: (key: string) => Promise<unknown>;
  log?: Log;
}

const SCOPE_DONE = 'scope';
/** Items of the rotate list shown in the manifest, the notification and `case show`. */
const TOP_ITEMS = 5;

export async function scopeIncident(deps: ScopeIncidentDeps, state: AcquisitionState): Promise<ScopeResult> {
  const caseId = state.case.caseId;
  const caseRecord = await requireCase(deps.cases, caseId);
  const done = caseRecord.details[SCOPE_DONE] as ScopeResult | undefined;
  if (done) return done;

  const started = deps.clock();
  const deadline = started.getTime() + deps.settings.timeCapSeconds * 1000;
  const findings = caseRecord.findings?.length ? caseRecord.findings : [state.case.finding];
  const window = scopeWindow({ findings, openedAt: state.case.openedAt, lookBackHours: deps.settings.lookBackHours, now: started });

  const principalGaps: ScopeGap[] = [];
  let roleArn = instanceRoleArnOf(state);
  const profileArn = instanceProfileArnOf(state);
  if (!roleArn && profileArn) {
    try {
      roleArn = await deps.roleOfProfile(profileArn);
    } catch (err) {
      principalGaps.push({ source: 'principal', kind: 'error', detail: `role of ${profileArn}: ${errorSummary(err)}` });
    }
  }
  const principal = scopePrincipal(state, findings, roleArn);
  const containedAt = state.containment?.containedAt ?? null;
  const retention = drillObjectRetention(state.case.options, deps.clock())?.retainUntil;

  // The three parts at once; the rotate list's `observed` waits for the timeline only at the end.
  const [lookup, logs, readable] = await Promise.all([
    lookupTimeline(deps, principal, window, containedAt, deadline),
    preserveLogs(deps, state, principal, window, containedAt, deadline, retention),
    readableItems(deps, principal, deadline),
  ]);

  const events = mergeTimeline([...lookup.events, ...logs.trailEvents]).slice(0, deps.settings.maxEvents);
  const timelineGaps = [...principalGaps, ...lookup.gaps, ...logs.trailEventGaps];
  if (lookup.events.length + logs.trailEvents.length > deps.settings.maxEvents) {
    timelineGaps.push({ source: 'timeline', kind: 'limit', detail: `event bound ${deps.settings.maxEvents} reached: the earliest events are kept` });
  }
  const generatedAt = deps.clock().toISOString();
  const timelineDoc: TimelineDocument = {
    schemaVersion: SCOPE_DOCUMENT_SCHEMA_VERSION,
    caseId,
    generatedAt,
    principal,
    window,
    containedAt,
    regions: deps.settings.regions,
    assumedRoles: lookup.assumedRoles,
    events,
    gaps: timelineGaps,
  };
  const rotateItems = readable.failed ? [] : rankRotateList(readable.items, events);
  const rotateDoc: RotateDocument = {
    schemaVersion: SCOPE_DOCUMENT_SCHEMA_VERSION,
    caseId,
    generatedAt,
    roleArn: principal.roleArn,
    regions: deps.settings.regions,
    evaluated: readable.evaluated,
    items: rotateItems,
    gaps: readable.gaps,
  };

  // The two documents, index first then object (writeEvidenceOnce), so a retried step completes what it reserved.
  const written = await writeEvidenceOnce(deps, caseRecord, [
    { key: timelineKey(caseId), value: timelineDoc },
    { key: rotateKey(caseId), value: rotateDoc },
  ]);
  const sha = (key: string) => written.written.find((o) => o.key === key)?.sha256 ?? (caseRecord.evidence ?? []).find((o) => o.key === key)?.sha256 ?? null;
  // A retried step whose documents were sealed by an earlier attempt (written once, never replaced): the manifest
  // summarises the sealed documents, read back, not this attempt's recount, so counts and hashes agree.
  const sealedTimeline = await sealedBack(deps, written.skipped, timelineKey(caseId), timelineDoc, isTimelineDocument, timelineGaps);
  const sealedRotate = await sealedBack(deps, written.skipped, rotateKey(caseId), rotateDoc, isRotateDocument, timelineGaps);

  const timeline: ManifestTimeline = sealedTimeline.sealed
    ? {
        status: sealedTimeline.doc.gaps.length > 0 ? 'partial' : 'complete',
        key: timelineKey(caseId),
        sha256: sha(timelineKey(caseId)),
        events: sealedTimeline.doc.events.length,
        flagged: sealedTimeline.doc.events.filter((e) => e.flags.length > 0).length,
        window: sealedTimeline.doc.window,
        regions: sealedTimeline.doc.regions,
        gaps: sealedTimeline.doc.gaps,
      }
    : {
        status: lookup.failed && logs.trailEvents.length === 0 ? 'failed' : timelineGaps.length > 0 ? 'partial' : 'complete',
        ...(lookup.failed ? { reason: 'every CloudTrail lookup failed' } : {}),
        key: timelineKey(caseId),
        sha256: sha(timelineKey(caseId)),
        events: events.length,
        flagged: events.filter((e) => e.flags.length > 0).length,
        window,
        regions: deps.settings.regions,
        gaps: timelineGaps,
      };
  const sealedItems = sealedRotate.doc.items;
  const rotate: ManifestRotate = {
    status: sealedRotate.sealed ? (sealedRotate.doc.gaps.length > 0 ? 'partial' : 'complete') : readable.status,
    ...(!sealedRotate.sealed && readable.reason ? { reason: readable.reason } : {}),
    key: rotateKey(caseId),
    sha256: sha(rotateKey(caseId)),
    items: sealedItems.length,
    observed: sealedItems.filter((i) => i.observed).length,
    top: topOfRotateList(sealedItems, TOP_ITEMS),
  };

  const scopedAt = deps.clock().toISOString();
  await deps.custody.append(state.case, [custodyAction(timeline, logs.manifest, rotate, logs.objects.length, scopedAt)]);
  const result: ScopeResult = { timeline, logs: logs.manifest, rotate, objects: logs.objects.length + written.written.length, scopedAt };
  await deps.cases.updateCase(caseId, { details: { [SCOPE_DONE]: result } });
  deps.log?.({ level: 'info', message: 'incident scoped', events: events.length, logObjects: logs.objects.length, rotateItems: rotateItems.length });
  return result;
}

/**
 * `fresh`, unless `key` was skipped because an earlier attempt sealed it: then that sealed document, read back. One
 * that cannot be read back (or is not a document of this kind) leaves `fresh`, with a gap saying the counts are this
 * attempt's.
 */
async function sealedBack<T>(
  deps: ScopeIncidentDeps,
  skipped: readonly string[],
  key: string,
  fresh: T,
  isDocument: (value: unknown, caseId: string) => value is T,
  gaps: ScopeGap[],
): Promise<{ doc: T; sealed: boolean }> {
  if (!skipped.includes(key)) return { doc: fresh, sealed: false };
  const caseId = (fresh as { caseId: string }).caseId;
  try {
    const doc = await deps.readSealed(key);
    if (isDocument(doc, caseId)) return { doc, sealed: true };
    gaps.push({ source: 'sealed-document', kind: 'error', detail: `${key} was sealed earlier but is not this case's document: the counts are this attempt's` });
  } catch (err) {
    gaps.push({ source: 'sealed-document', kind: 'error', detail: `${key} was sealed earlier and could not be read back (${errorSummary(err)}): the counts are this attempt's` });
  }
  return { doc: fresh, sealed: false };
}

function isTimelineDocument(value: unknown, caseId: string): value is TimelineDocument {
  const d = value as Partial<TimelineDocument> | null;
  return Boolean(d) && d?.caseId === caseId && Array.isArray(d?.events) && Array.isArray(d?.gaps) && Array.isArray(d?.regions) && typeof d?.window === 'object';
}

function isRotateDocument(value: unknown, caseId: string): value is RotateDocument {
  const d = value as Partial<RotateDocument> | null;
  return Boolean(d) && d?.caseId === caseId && Array.isArray(d?.items) && Array.isArray(d?.gaps);
}

function custodyAction(timeline: ManifestTimeline, logs: ManifestLogs, rotate: ManifestRotate, logObjects: number, at: string): CustodyAction {
  const statuses = [timeline.status, logs.cloudtrail.status, logs.flowLogs.status, rotate.status];
  return {
    step: STEP.scopeIncident,
    action: 'scope-incident',
    status: statuses.every((s) => s === 'failed' || s === 'skipped') ? 'failed' : 'succeeded',
    performedAt: at,
    request: { window: timeline.window, regions: timeline.regions },
    result: {
      timeline: { status: timeline.status, key: timeline.key, sha256: timeline.sha256, events: timeline.events, gaps: timeline.gaps.length },
      logs: { cloudtrail: logs.cloudtrail, flowLogs: logs.flowLogs, objects: logObjects, gaps: logs.gaps.length },
      rotate: { status: rotate.status, key: rotate.key, sha256: rotate.sha256, items: rotate.items, observed: rotate.observed },
    },
  };
}

// ── Timeline: LookupEvents by each identity in each region, then one hop of AssumeRole. ──

interface LookupOutcome {
  events: TimelineEvent[];
  gaps: ScopeGap[];
  assumedRoles: AssumedRole[];
  /** Every lookup failed (nothing was read from CloudTrail). */
  failed: boolean;
}

async function lookupTimeline(
  deps: ScopeIncidentDeps,
  principal: ScopePrincipal,
  window: ScopeWindow,
  containedAt: string | null,
  deadline: number,
): Promise<LookupOutcome> {
  const { settings } = deps;
  const attributes: { key: 'Username' | 'AccessKeyId'; value: string }[] = [
    { key: 'Username', value: principal.instanceId },
    ...principal.accessKeyIds.map((k) => ({ key: 'AccessKeyId' as const, value: k })),
  ];
  const events: TimelineEvent[] = [];
  const gaps: ScopeGap[] = [];
  const hopsFound = new Map<string, AssumedRole>();
  let attempted = 0;
  let failedLookups = 0;

  const run = async (queries: { region: string; attribute: { key: 'Username' | 'AccessKeyId'; value: string } }[], hops: AssumedRole[]) => {
    // Regions in parallel (each region's adapter paces its own requests), bounded.
    const outcomes = await mapSettledWithConcurrency(queries, settings.concurrency, (q) =>
      deps.lookupIn(q.region).lookup(q.attribute, window, { maxEvents: settings.maxEvents, deadline }),
    );
    outcomes.forEach((o, i) => {
      const q = queries[i] as (typeof queries)[number];
      attempted++;
      if (o.status === 'rejected') {
        failedLookups++;
        gaps.push({ source: 'lookup-events', region: q.region, kind: 'error', detail: `${q.attribute.key}=${q.attribute.value}: ${errorSummary(o.reason)}` });
        return;
      }
      gaps.push(...o.value.gaps);
      if (o.value.events.length === 0 && o.value.gaps.some((g) => g.kind === 'error')) failedLookups++;
      for (const e of o.value.events) {
        const actor = actorOf(e.record, principal, hops);
        if (!actor) continue;
        events.push(timelineEventOf(e.record, { actor, origin: 'lookup-events', containedAt, extraResources: e.resources }));
        // One hop only: roles assumed by the principal itself, not by a session it assumed.
        const hop = actor.kind === 'assumed-role-session' ? undefined : assumedRoleOf(e.record);
        if (hop) hopsFound.set(`${hop.roleArn}|${hop.sessionName}`, hop);
      }
    });
  };

  await run(settings.regions.flatMap((region) => attributes.map((attribute) => ({ region, attribute }))), []);

  // One hop: the roles the principal assumed. Their sessions' events are looked up by session name (LookupEvents'
  // Username of a role session) and kept only when the session is the one assumed.
  const assumedRoles = [...hopsFound.values()].sort((a, b) => (a.assumedAt < b.assumedAt ? -1 : a.assumedAt > b.assumedAt ? 1 : 0));
  if (assumedRoles.length > 0) {
    const sessions = [...new Set(assumedRoles.map((h) => h.sessionName))];
    await run(settings.regions.flatMap((region) => sessions.map((s) => ({ region, attribute: { key: 'Username' as const, value: s } }))), assumedRoles);
  }
  return { events, gaps, assumedRoles, failed: attempted > 0 && failedLookups === attempted };
}

// ── Logs: the trail's files of the window, the ENIs' flow logs. ──

interface LogsOutcome {
  manifest: ManifestLogs;
  objects: SealedObject[];
  trailEvents: TimelineEvent[];
  trailEventGaps: ScopeGap[];
}

async function preserveLogs(
  deps: ScopeIncidentDeps,
  state: AcquisitionState,
  principal: ScopePrincipal,
  window: ScopeWindow,
  containedAt: string | null,
  deadline: number,
  retainUntil: Date | undefined,
): Promise<LogsOutcome> {
  const { settings } = deps;
  const gaps: ScopeGap[] = [];
  const objects: SealedObject[] = [];
  const trailEvents: TimelineEvent[] = [];
  const trailEventGaps: ScopeGap[] = [];
  const caseId = state.case.caseId;
  let budget = settings.maxLogObjects;

  // CloudTrail: list every day folder of every region (logs and digests), keep what is in the window, copy.
  let cloudtrail: ManifestLogs['cloudtrail'];
  const bucket = settings.cloudTrailBucket;
  if (!bucket) {
    cloudtrail = { status: 'skipped', reason: 'forensics:cloudTrailBucket is not configured', sourceBucket: null, logFiles: 0, digestFiles: 0, bytes: 0 };
  } else {
    let listFailures = 0;
    const candidates: { key: string; size: number; kind: 'log' | 'digest' }[] = [];
    const prefixes = settings.regions.flatMap((region) => {
      const location: TrailLocation = {
        accountId: principal.accountId,
        region,
        ...(settings.cloudTrailPrefix ? { prefix: settings.cloudTrailPrefix } : {}),
        ...(settings.organizationId ? { organizationId: settings.organizationId } : {}),
      };
      return [...trailDayPrefixes(location, window, 'log'), ...trailDayPrefixes(location, window, 'digest')];
    });
    const listed = await mapSettledWithConcurrency(prefixes, settings.concurrency, (p) => deps.logs.list(bucket, p, settings.maxLogObjects));
    listed.forEach((l, i) => {
      if (l.status === 'rejected') {
        listFailures++;
        gaps.push({ source: 'trail-logs', kind: 'error', detail: `list s3://${bucket}/${prefixes[i]}: ${errorSummary(l.reason)}` });
        return;
      }
      if (l.value.truncated) gaps.push({ source: 'trail-logs', kind: 'limit', detail: `s3://${bucket}/${prefixes[i]}: more than ${settings.maxLogObjects} objects, not all listed` });
      for (const o of l.value.objects) {
        const kind = trailFileInWindow(o.key, window);
        if (kind) candidates.push({ ...o, kind });
      }
    });
    const selected = candidates.slice(0, budget);
    if (candidates.length > selected.length) gaps.push({ source: 'trail-logs', kind: 'limit', detail: `log object bound ${settings.maxLogObjects} reached: ${candidates.length - selected.length} files of the window not copied` });
    budget -= selected.length;
    let logFiles = 0;
    let digestFiles = 0;
    let bytes = 0;
    let copyFailures = 0;
    const copies = await mapSettledWithConcurrency(selected, settings.concurrency, async (o) => {
      if (deps.clock().getTime() > deadline) throw Object.assign(new Error('time cap reached before this copy'), { name: 'TimeCapReached' });
      const copied = await deps.logs.copy({ bucket, key: o.key, size: o.size }, `${logsPrefix(caseId, 'cloudtrail')}${o.key}`, retainUntil);
      // Data events count too: the principal's records in the log files being preserved.
      if (o.kind === 'log') {
        try {
          for (const r of await deps.logs.records(bucket, o.key)) {
            const record = r as CloudTrailRecord;
            const actor = actorOf(record, principal);
            if (actor && typeof record.eventID === 'string' && typeof record.eventTime === 'string') {
              trailEvents.push(timelineEventOf(record, { actor, origin: 'trail-logs', containedAt }));
            }
          }
        } catch (err) {
          trailEventGaps.push({ source: 'trail-logs', kind: 'error', detail: `read ${o.key}: ${copyFailure(err)}` });
        }
      }
      return copied;
    });
    copies.forEach((c, i) => {
      const o = selected[i] as (typeof selected)[number];
      if (c.status === 'rejected') {
        copyFailures++;
        gaps.push({ source: 'trail-logs', kind: (c.reason as Error)?.name === 'TimeCapReached' ? 'limit' : 'error', detail: `copy ${o.key}: ${copyFailure(c.reason)}` });
        return;
      }
      objects.push({ key: c.value.key, sha256: c.value.sha256, ...(c.value.versionId ? { versionId: c.value.versionId } : {}) });
      if (o.kind === 'log') logFiles++;
      else digestFiles++;
      bytes += c.value.bytes;
    });
    const failedAll = (prefixes.length > 0 && listFailures === prefixes.length) || (selected.length > 0 && copyFailures === selected.length);
    cloudtrail = {
      status: failedAll ? 'failed' : gaps.length > 0 ? 'partial' : 'complete',
      ...(failedAll ? { reason: 'no trail file could be listed or copied (see gaps)' } : {}),
      sourceBucket: bucket,
      logFiles,
      digestFiles,
      bytes,
    };
  }

  const flowLogs = await preserveFlowLogs(deps, state, window, deadline, budget, retainUntil, gaps, objects);

  // Index what was written (the manifest lists the case's evidence index): after the copies, since a copy's hash
  // is known only from S3's answer; a retried step re-copies (412), re-hashes and indexes.
  const indexed = new Set((await requireCase(deps.cases, caseId)).evidence?.map((o) => o.key) ?? []);
  const fresh = objects.filter((o) => !indexed.has(o.key));
  for (let i = 0; i < fresh.length; i += 100) await deps.cases.appendEvidence(caseId, fresh.slice(i, i + 100));
  return { manifest: { cloudtrail, flowLogs, gaps }, objects, trailEvents, trailEventGaps };
}

async function preserveFlowLogs(
  deps: ScopeIncidentDeps,
  state: AcquisitionState,
  window: ScopeWindow,
  deadline: number,
  budget: number,
  retainUntil: Date | undefined,
  gaps: ScopeGap[],
  objects: SealedObject[],
): Promise<ManifestLogs['flowLogs']> {
  const pre = state.describe?.preIncident;
  const enis = pre?.networkInterfaces.map((n) => n.networkInterfaceId) ?? [];
  if (enis.length === 0) return { status: 'skipped', reason: 'the instance had no network interface recorded', sources: [] };
  const region = state.case.target.region;
  // Looked up by "Preserve and snapshot" beside CreateSnapshots; absent only in a state that step wrote before it did.
  const lookup: FlowLogSources = state.acquisition?.flowLogSources ?? { status: 'failed', error: 'not looked up (the acquisition state has no flowLogSources)' };
  if (lookup.status === 'failed') {
    gaps.push({ source: 'flow-logs', region, kind: 'error', detail: `DescribeFlowLogs: ${lookup.error}` });
    return { status: 'failed', reason: lookup.error, sources: [] };
  }
  if (lookup.truncated) gaps.push({ source: 'flow-logs', region, kind: 'limit', detail: `DescribeFlowLogs: more flow logs than the ${lookup.sources.length} recorded` });
  const found = lookup.sources;
  if (found.length === 0) return { status: 'skipped', reason: 'no flow log covers the instance’s network interfaces', sources: [] };
  const flow = deps.flowLogRecordsIn(region);
  const sources: ManifestLogs['flowLogs']['sources'] = [];
  let failures = 0;
  const caseId = state.case.caseId;
  for (const f of found) {
    if (deps.clock().getTime() > deadline || budget <= 0) {
      gaps.push({ source: 'flow-logs', region, kind: 'limit', detail: `${f.flowLogId}: ${budget <= 0 ? 'log object bound' : 'time cap'} reached` });
      continue;
    }
    try {
      if (f.destinationType === 'cloud-watch-logs' && f.logGroupName) {
        // The flow log names each stream after the ENI it records.
        const read = await flow.records(f.logGroupName, enis, new Date(window.from), new Date(window.to), deps.settings.maxFlowLogRecords);
        if (read.truncated) gaps.push({ source: 'flow-logs', region, kind: 'limit', detail: `${f.flowLogId}: more than ${deps.settings.maxFlowLogRecords} records, the earliest kept` });
        const body = read.records.map((r) => JSON.stringify(r)).join('\n') + (read.records.length ? '\n' : '');
        const key = `${logsPrefix(caseId, 'flow-logs')}${f.flowLogId}/${region}/records.ndjson`;
        if (!(await deps.store.exists(key))) {
          const written = await deps.store.put(key, body, 'application/x-ndjson', retainUntil ? { retainUntil } : undefined);
          objects.push(written);
        }
        budget--;
        sources.push({ flowLogId: f.flowLogId, destinationType: 'cloud-watch-logs', objects: 1, records: read.records.length });
      } else if (f.destinationType === 's3' && f.destination) {
        const destination = flowLogDestination(f.destination);
        if (!destination) throw new Error(`unreadable flow log destination ${f.destination}`);
        if (!(deps.settings.flowLogBuckets ?? []).includes(flowLogSetting(destination))) {
          // The role may read only the configured buckets: say which setting would let it.
          failures++;
          gaps.push({ source: 'flow-logs', region, kind: 'error', detail: `${f.flowLogId}: s3://${flowLogSetting(destination)}/ is not in forensics:flowLogBuckets: its files were not copied` });
          continue;
        }
        const copied = await copyFlowLogObjects(deps, { ...f, destination }, state, window, deadline, budget, retainUntil, gaps, objects);
        budget -= copied;
        sources.push({ flowLogId: f.flowLogId, destinationType: 's3', objects: copied, records: 0 });
      }
    } catch (err) {
      failures++;
      gaps.push({ source: 'flow-logs', region, kind: 'error', detail: `${f.flowLogId}: ${errorSummary(err)}` });
    }
  }
  const status: ScopeStatus = failures === found.length ? 'failed' : gaps.some((g) => g.source === 'flow-logs') ? 'partial' : 'complete';
  return { status, ...(status === 'failed' ? { reason: 'no flow log could be read (see gaps)' } : {}), sources };
}

/**
 * A flow log's S3 files of the window (flow-log-layout.ts: day or hour folders, plain or Hive-compatible), this flow
 * log's only (its id is in each file's name), copied sealed like the trail's files, bounded by the object budget.
 */
async function copyFlowLogObjects(
  deps: ScopeIncidentDeps,
  flowLog: { flowLogId: string; destination: { bucket: string; prefix: string }; hiveCompatible?: boolean; perHour?: boolean },
  state: AcquisitionState,
  window: ScopeWindow,
  deadline: number,
  budget: number,
  retainUntil: Date | undefined,
  gaps: ScopeGap[],
  objects: SealedObject[],
): Promise<number> {
  const { bucket } = flowLog.destination;
  const { accountId, region } = state.case.target;
  const folders = flowLogFolders(flowLog.destination, { accountId, region, hiveCompatible: flowLog.hiveCompatible === true, perHour: flowLog.perHour === true }, window);
  const keys: { key: string; size: number }[] = [];
  for (const folder of folders) {
    const listed = await deps.logs.list(bucket, folder, deps.settings.maxLogObjects);
    if (listed.truncated) gaps.push({ source: 'flow-logs', region, kind: 'limit', detail: `s3://${bucket}/${folder}: more than ${deps.settings.maxLogObjects} objects, not all listed` });
    keys.push(...listed.objects.filter((o) => flowLogFileInWindow(o.key, flowLog.flowLogId, window)));
  }
  const selected = keys.slice(0, Math.max(0, budget));
  if (keys.length > selected.length) gaps.push({ source: 'flow-logs', region, kind: 'limit', detail: `${flowLog.flowLogId}: log object bound reached, ${keys.length - selected.length} files of s3://${bucket} not copied` });
  const copies = await mapSettledWithConcurrency(selected, deps.settings.concurrency, (o) => {
    if (deps.clock().getTime() > deadline) throw Object.assign(new Error('time cap reached before this copy'), { name: 'TimeCapReached' });
    return deps.logs.copy({ bucket, key: o.key, size: o.size }, `${logsPrefix(state.case.caseId, 'flow-logs')}${o.key}`, retainUntil);
  });
  let copied = 0;
  copies.forEach((c, i) => {
    if (c.status === 'fulfilled') {
      copied++;
      objects.push({ key: c.value.key, sha256: c.value.sha256, ...(c.value.versionId ? { versionId: c.value.versionId } : {}) });
    } else {
      gaps.push({ source: 'flow-logs', region, kind: errorName(c.reason) === 'TimeCapReached' ? 'limit' : 'error', detail: `copy ${selected[i]?.key}: ${copyFailure(c.reason)}` });
    }
  });
  return copied;
}

/**
 * A failed log copy or read, for the gap: when KMS refused (the source object is SSE-KMS encrypted and this role
 * may not decrypt with its key), the setting that grants it.
 */
function copyFailure(err: unknown): string {
  const text = errorSummary(err);
  const kms = /AccessDenied|KMS\./.test(errorName(err)) && /\bkms\b|KMS/i.test(text);
  return kms ? `${text} (the object is encrypted with a KMS key this role may not use: add the key to forensics:logBucketKmsKeyArns, and allow this role in its key policy)` : text;
}

// ── Rotate: inventory in every region, then the role's access by simulation. ──

interface ReadableOutcome {
  items: ReadableItem[];
  evaluated: number;
  gaps: ScopeGap[];
  status: ScopeStatus;
  reason?: string;
  failed: boolean;
}

async function readableItems(deps: ScopeIncidentDeps, principal: ScopePrincipal, deadline: number): Promise<ReadableOutcome> {
  if (!principal.roleArn) {
    return { items: [], evaluated: 0, gaps: [], status: 'skipped', reason: 'no instance role: nothing to evaluate', failed: false };
  }
  const { settings } = deps;
  const gaps: ScopeGap[] = [];
  const inventory: InventoryItem[] = [];
  const kinds = ['secrets', 'secureStringParameters', 'customerKeys'] as const;
  // Buckets are global: listed once, from the first region.
  const calls = [
    ...settings.regions.flatMap((region) => kinds.map((kind) => ({ region, kind: kind as (typeof kinds)[number] | 'buckets' }))),
    { region: settings.regions[0] as string, kind: 'buckets' as const },
  ];
  const listed = await mapSettledWithConcurrency(calls, settings.concurrency, (c) => deps.inventoryIn(c.region)[c.kind](settings.maxInventoryItems));
  listed.forEach((l, i) => {
    const c = calls[i] as (typeof calls)[number];
    if (l.status === 'rejected') {
      gaps.push({ source: 'inventory', region: c.region, kind: 'error', detail: `${c.kind}: ${errorSummary(l.reason)}` });
      return;
    }
    if (l.value.truncated) gaps.push({ source: 'inventory', region: c.region, kind: 'limit', detail: `${c.kind}: more than ${settings.maxInventoryItems}, not all evaluated` });
    inventory.push(...l.value.items);
  });
  let simulationFailures = 0;
  const byKind = (['secret', 'parameter', 'kms-key', 's3-bucket'] as const).map((kind) => ({ kind, list: inventory.filter((i) => i.kind === kind) }));
  const simulated: { item: InventoryItem; allowed: string[]; denied: string[] }[] = [];
  for (const { kind, list } of byKind) {
    if (list.length === 0) continue;
    try {
      const decisions = await deps.simulate(principal.roleArn, READ_ACTIONS[kind], list.map(simulationResourceArn));
      for (const item of list) {
        const arn = simulationResourceArn(item);
        simulated.push({ item, allowed: decisions.allowed.get(arn) ?? [], denied: decisions.explicitlyDenied.get(arn) ?? [] });
      }
    } catch (err) {
      simulationFailures++;
      gaps.push({ source: 'simulation', kind: 'error', detail: `${kind}: ${errorSummary(err)}` });
    }
  }
  const policies = await readResourcePolicies(deps, simulated.map((s) => s.item), deadline, gaps);
  const who = instanceRolePrincipal(principal.roleArn, principal.instanceId);
  const items: ReadableItem[] = [];
  for (const { item, allowed, denied } of simulated) {
    const access = combineAccess({
      kind: item.kind,
      resourceArn: simulationResourceArn(item),
      actions: READ_ACTIONS[item.kind],
      identity: { allowed, explicitlyDenied: denied },
      policy: policies.get(item.arn) ?? { status: 'none' },
      principal: who,
    });
    if (!access.readable) continue;
    items.push({
      ...item,
      allowedActions: access.allowedActions,
      basis: access.basis,
      ...(access.possibly ? { possibly: true } : {}),
      ...(access.notes.length ? { notes: access.notes } : {}),
    });
  }
  const attempted = byKind.filter((k) => k.list.length > 0).length;
  const failed = listed.every((l) => l.status === 'rejected') || (attempted > 0 && simulationFailures === attempted);
  return {
    items,
    evaluated: inventory.length,
    gaps,
    status: failed ? 'failed' : gaps.length > 0 ? 'partial' : 'complete',
    ...(failed ? { reason: 'the inventory or the policy simulation failed (see gaps)' } : {}),
    failed,
  };
}

/** Kinds whose resource policy is read, in reading order: a secret's value is a credential, a key unlocks data. */
const POLICY_KINDS = ['secret', 'kms-key', 's3-bucket'] as const;
/** ARNs named in a gap at most, per kind and error. */
const GAP_EXAMPLES = 3;

/**
 * The resource policies of the items (secrets, keys, buckets; SSM parameters have none), bounded by
 * `maxPolicyReads` and the time cap, `concurrency` reads in flight, each adapter retrying throttling with jitter.
 * What was not read (an error such as AccessDenied, the bound, the time cap) is `unread` for the item, which keeps
 * the identity policies' answer, and one gap per kind and cause names how many and which.
 */
async function readResourcePolicies(deps: ScopeIncidentDeps, inventory: readonly InventoryItem[], deadline: number, gaps: ScopeGap[]): Promise<Map<string, PolicyRead>> {
  const { settings } = deps;
  const reads = new Map<string, PolicyRead>();
  const wanted = POLICY_KINDS.flatMap((kind) => inventory.filter((i) => i.kind === kind));
  const selected = wanted.slice(0, settings.maxPolicyReads);
  const unread = new Map<string, { kind: string; cause: string; arns: string[] }>();
  const miss = (item: InventoryItem, cause: string) => {
    reads.set(item.arn, { status: 'unread', reason: cause });
    const key = `${item.kind}|${cause}`;
    const entry = unread.get(key) ?? { kind: item.kind, cause, arns: [] };
    entry.arns.push(item.arn);
    unread.set(key, entry);
  };
  for (const item of wanted.slice(selected.length)) miss(item, `bound of ${settings.maxPolicyReads} policy reads reached`);
  const outcomes = await mapSettledWithConcurrency(selected, settings.concurrency, async (item) => {
    if (deps.clock().getTime() > deadline) throw Object.assign(new Error('time cap reached before this read'), { name: 'TimeCapReached' });
    const policies = deps.resourcePoliciesIn(item.region);
    if (item.kind === 'secret') return policies.secretPolicy(item.arn);
    if (item.kind === 'kms-key') return policies.keyPolicy(item.arn);
    return policies.bucketPolicy(item.name);
  });
  outcomes.forEach((o, i) => {
    const item = selected[i] as InventoryItem;
    if (o.status === 'fulfilled') reads.set(item.arn, o.value === null ? { status: 'none' } : { status: 'read', document: o.value });
    else miss(item, errorName(o.reason));
  });
  for (const { kind, cause, arns } of unread.values()) {
    const examples = arns.slice(0, GAP_EXAMPLES).join(', ') + (arns.length > GAP_EXAMPLES ? ', …' : '');
    const isLimit = cause === 'TimeCapReached' || cause.startsWith('bound of');
    gaps.push({
      source: 'resource-policy',
      kind: isLimit ? 'limit' : 'error',
      detail: `${kind}: ${arns.length} resource polic${arns.length === 1 ? 'y' : 'ies'} not read (${cause}): ${examples}; their identity-policy answer is kept`,
    });
  }
  return reads;
}
