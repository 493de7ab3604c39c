import type { ScopePrincipal, TimelineActor, TimelineDocument, TimelineEvent, TimelineFlag } from './scope-documents';

/**
 * CloudTrail records → the principal's timeline. Pure.
 *
 * The record is CloudTrail's documented event record (the JSON inside LookupEvents' `CloudTrailEvent` string, and
 * each element of a trail log file's `Records`): `eventTime`, `eventSource`, `eventName`, `awsRegion`,
 * `sourceIPAddress`, `userAgent`, `userIdentity` (type, arn, accessKeyId, sessionContext.sessionIssuer), optional
 * `requestParameters`/`responseElements`/`resources`/`errorCode`/`errorMessage`, `readOnly`, `eventCategory`
 * (`Management`, `Data`, `Insight`), `managementEvent`, `eventID`.
 */
export interface CloudTrailRecord {
  eventTime?: string;
  eventID?: string;
  awsRegion?: string;
  eventSource?: string;
  eventName?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  userIdentity?: {
    type?: string;
    arn?: string;
    principalId?: string;
    accessKeyId?: string;
    sessionContext?: { sessionIssuer?: { arn?: string; userName?: string } };
  };
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: { ARN?: string; type?: string; accountId?: string }[];
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  eventCategory?: string;
  managementEvent?: boolean;
}

/** One hop of AssumeRole: the role the principal assumed and the session it got. */
export type AssumedRole = TimelineDocument['assumedRoles'][number];

/** Parses LookupEvents' `CloudTrailEvent` string; undefined when it is not a JSON object with an event id and time. */
export function parseCloudTrailEvent(json: string | undefined): CloudTrailRecord | undefined {
  if (!json) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isRecord(value) ? value : undefined;
}

/** A value that has the two fields the timeline cannot do without (event id and time). */
export function isRecord(value: unknown): value is CloudTrailRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.eventID === 'string' && typeof v.eventTime === 'string' && Number.isFinite(Date.parse(v.eventTime));
}

/** `arn:aws:sts::123456789012:assumed-role/RoleName/session` → role name and session name. */
function assumedRoleSession(arn: string | undefined): { roleName: string; sessionName: string } | undefined {
  const m = /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(arn ?? '');
  return m ? { roleName: m[1] as string, sessionName: m[2] as string } : undefined;
}

function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/**
 * Which of the principal's identities made the call, or undefined when the record is someone else's (a trail log
 * file holds every principal's events). The instance role's sessions are recognized by session name = instance id
 * (and the role's name when it is known); access keys by id; one-hop sessions by role name and session name.
 */
export function actorOf(record: CloudTrailRecord, principal: ScopePrincipal, assumed: readonly AssumedRole[] = []): TimelineActor | undefined {
  const identity = record.userIdentity ?? {};
  const session = assumedRoleSession(identity.arn);
  const arn = identity.arn ?? null;
  if (session) {
    const hop = assumed.find((a) => roleNameOf(a.roleArn) === session.roleName && a.sessionName === session.sessionName);
    if (hop) return { kind: 'assumed-role-session', roleArn: hop.roleArn, sessionName: hop.sessionName, assumedBy: principal.instanceId };
    const roleMatches = principal.roleArn === null || roleNameOf(principal.roleArn) === session.roleName;
    if (session.sessionName === principal.instanceId && roleMatches) {
      return { kind: 'instance-role-session', sessionName: session.sessionName, arn };
    }
  }
  if (identity.accessKeyId && principal.accessKeyIds.includes(identity.accessKeyId)) {
    return { kind: 'access-key', accessKeyId: identity.accessKeyId, arn };
  }
  return undefined;
}

const AWS_INTERNAL = 'AWS Internal';
/** `ec2.amazonaws.com`, `ssm.amazonaws.com`, … : the call was made by an AWS service on the principal's behalf. */
const AWS_SERVICE_HOST = /^[a-z0-9.-]+\.amazonaws\.com$/;
/** STS calls that mint credentials: a write in effect, although CloudTrail records them `readOnly: true`. */
const CREDENTIAL_ISSUING = new Set(['AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken', 'GetFederationToken']);
const DENIED = /^(AccessDenied.*|UnauthorizedOperation|Client\.UnauthorizedOperation)$/;
/** Data-plane reads and writes logged as management events by LookupEvents' sources (when the category is absent). */
const DATA_EVENTS: Record<string, ReadonlySet<string>> = {
  's3.amazonaws.com': new Set(['GetObject', 'PutObject', 'DeleteObject', 'DeleteObjects', 'CopyObject', 'HeadObject', 'GetObjectAcl', 'RestoreObject']),
  'dynamodb.amazonaws.com': new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']),
};

/** True when the event is a secret read or a key use: `Get*Secret*`, `GetParameter*` with decryption, `Decrypt`. */
function isSecretOrDecrypt(record: CloudTrailRecord): boolean {
  const name = record.eventName ?? '';
  switch (record.eventSource) {
    case 'secretsmanager.amazonaws.com':
      return /^(Batch)?Get.*Secret.*$/.test(name);
    case 'ssm.amazonaws.com':
      return /^GetParameter(s|sByPath|History)?$/.test(name) && record.requestParameters?.withDecryption === true;
    case 'kms.amazonaws.com':
      return name === 'Decrypt';
    default:
      return false;
  }
}

/** The flags of one event (`containedAt`: when the last ENI was isolated, or null). */
export function flagsOf(record: CloudTrailRecord, containedAt: string | null): TimelineFlag[] {
  const flags: TimelineFlag[] = [];
  const ip = record.sourceIPAddress;
  if (ip && ip !== AWS_INTERNAL && !AWS_SERVICE_HOST.test(ip)) flags.push('outside-aws');
  const source = record.eventSource;
  const name = record.eventName ?? '';
  if ((source === 'iam.amazonaws.com' || source === 'sts.amazonaws.com') && (record.readOnly !== true || CREDENTIAL_ISSUING.has(name))) {
    flags.push('iam-sts-write');
  }
  if (record.eventCategory === 'Data' || record.managementEvent === false || (source && DATA_EVENTS[source]?.has(name))) {
    flags.push('data-access');
  }
  if (isSecretOrDecrypt(record)) flags.push('secret-or-decrypt');
  if (
    record.errorCode &&
    DENIED.test(record.errorCode) &&
    containedAt !== null &&
    Date.parse(record.eventTime ?? '') > Date.parse(containedAt)
  ) {
    flags.push('denied-after-containment');
  }
  return flags;
}

/** Request parameters that name the resource read, by service: what the rotate list matches its items against. */
const NAMED_PARAMETERS: { source: string; field: string; type: string }[] = [
  { source: 'secretsmanager.amazonaws.com', field: 'secretId', type: 'AWS::SecretsManager::Secret' },
  { source: 'ssm.amazonaws.com', field: 'name', type: 'AWS::SSM::Parameter' },
  { source: 'ssm.amazonaws.com', field: 'names', type: 'AWS::SSM::Parameter' },
  { source: 'kms.amazonaws.com', field: 'keyId', type: 'AWS::KMS::Key' },
  { source: 's3.amazonaws.com', field: 'bucketName', type: 'AWS::S3::Bucket' },
];

/** The event's resources: the record's `resources` (ARN, type), then the names its request parameters give. */
export function resourcesOf(record: CloudTrailRecord, extra: readonly { type: string | null; name: string }[] = []): TimelineEvent['resources'] {
  const out: TimelineEvent['resources'] = [];
  const seen = new Set<string>();
  const add = (type: string | null, name: unknown) => {
    if (typeof name !== 'string' || name.length === 0 || seen.has(`${type}|${name}`)) return;
    seen.add(`${type}|${name}`);
    out.push({ type, name });
  };
  for (const r of record.resources ?? []) add(r.type ?? null, r.ARN);
  for (const r of extra) add(r.type, r.name);
  for (const p of NAMED_PARAMETERS) {
    if (record.eventSource !== p.source) continue;
    const value = record.requestParameters?.[p.field];
    for (const name of Array.isArray(value) ? value : [value]) add(p.type, name);
  }
  return out;
}

/** The timeline event of a record made by `actor`. `extraResources`: LookupEvents' own `Resources` list. */
export function timelineEventOf(
  record: CloudTrailRecord,
  context: {
    actor: TimelineActor;
    origin: TimelineEvent['origin'];
    containedAt: string | null;
    extraResources?: readonly { type: string | null; name: string }[];
  },
): TimelineEvent {
  return {
    time: new Date(Date.parse(record.eventTime as string)).toISOString(),
    eventId: record.eventID as string,
    region: record.awsRegion ?? '',
    eventSource: record.eventSource ?? '',
    eventName: record.eventName ?? '',
    sourceIPAddress: record.sourceIPAddress ?? null,
    userAgent: record.userAgent ?? null,
    accessKeyId: record.userIdentity?.accessKeyId ?? null,
    actor: context.actor,
    resources: resourcesOf(record, context.extraResources),
    errorCode: record.errorCode ?? null,
    errorMessage: record.errorMessage ?? null,
    readOnly: typeof record.readOnly === 'boolean' ? record.readOnly : null,
    flags: flagsOf(record, context.containedAt),
    origin: context.origin,
  };
}

/**
 * One event per event id (the same event can come from LookupEvents by two attributes, and from the trail's log
 * files; the first one seen is kept, so pass LookupEvents' first), sorted by time then event id.
 */
export function mergeTimeline(events: readonly TimelineEvent[]): TimelineEvent[] {
  const byId = new Map<string, TimelineEvent>();
  for (const e of events) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  return [...byId.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}

/**
 * One hop of AssumeRole: the role and session a successful `sts:AssumeRole` call of the principal obtained. The
 * session is read from `responseElements.assumedRoleUser.arn` (what STS issued), else from the request's `roleArn`
 * and `roleSessionName`. Undefined for any other event, or a failed call.
 */
export function assumedRoleOf(record: CloudTrailRecord): AssumedRole | undefined {
  if (record.eventSource !== 'sts.amazonaws.com' || record.eventName !== 'AssumeRole' || record.errorCode) return undefined;
  const user = record.responseElements?.assumedRoleUser as { arn?: unknown } | undefined;
  const issued = assumedRoleSession(typeof user?.arn === 'string' ? user.arn : undefined);
  const roleArn = record.requestParameters?.roleArn;
  const sessionName = record.requestParameters?.roleSessionName;
  if (typeof roleArn !== 'string' || !/^arn:[^:]+:iam::\d{12}:role\/.+$/.test(roleArn)) return undefined;
  const name = issued?.sessionName ?? (typeof sessionName === 'string' ? sessionName : undefined);
  if (!name) return undefined;
  return { roleArn, sessionName: name, assumedAt: new Date(Date.parse(record.eventTime as string)).toISOString(), eventId: record.eventID as string };
}
