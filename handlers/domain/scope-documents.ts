/**
 * The scope of an incident, as sealed in the case's evidence: the principal's CloudTrail timeline
 * (`cases/<caseId>/timeline.json`), the incident window's preserved logs (`cases/<caseId>/logs/…`) and the list of
 * what the compromised role could read, to rotate (`cases/<caseId>/rotate.json`). The manifest carries a summary of
 * each (`timeline`, `logs`, `rotate`: optional sections, additive to schema 1.0).
 *
 * One vocabulary for the scoping step that writes these documents and for the CLI (`case timeline`, `case report`,
 * `case show`, `case verify`) that reads them. Pure types and constants: no SDK imports here.
 */

export const SCOPE_DOCUMENT_SCHEMA_VERSION = '1.0';

export function timelineKey(caseId: string): string {
  return `cases/${caseId}/timeline.json`;
}

export function rotateKey(caseId: string): string {
  return `cases/${caseId}/rotate.json`;
}

/** Preserved log objects live under this prefix; the rest of the key mirrors the source object's key. */
export function logsPrefix(caseId: string, kind: 'cloudtrail' | 'flow-logs'): string {
  return `cases/${caseId}/logs/${kind}/`;
}

/**
 * Who is being scoped. For an instance case: the instance role's sessions (for credentials EC2 delivers to an
 * instance, the role session name is the instance id) and every access key id the finding names.
 */
export interface ScopePrincipal {
  accountId: string;
  instanceId: string;
  /** The instance profile's role (null when the instance has no profile). */
  roleArn: string | null;
  /** Access key ids named in the finding (for example by InstanceCredentialExfiltration). */
  accessKeyIds: string[];
}

/** The incident window: the finding's first-seen time minus the look-back, to the time the scope was taken. */
export interface ScopeWindow {
  from: string;
  to: string;
  lookBackHours: number;
}

/** Why a timeline event deserves a responder's eye. */
export type TimelineFlag =
  /** The call came from an IP address outside AWS (not an AWS service, not an AWS internal address). */
  | 'outside-aws'
  /** An IAM or STS write (CreateUser, AttachRolePolicy, AssumeRole, CreateAccessKey, …). */
  | 'iam-sts-write'
  /** A data-access call (S3 data events, DynamoDB item reads, …). */
  | 'data-access'
  /** A secret or a key was read or used: `Get*Secret*`, `GetParameter*` with decryption, `Decrypt`. */
  | 'secret-or-decrypt'
  /** A call denied after containment (the deny policy or the isolation at work, or someone still trying). */
  | 'denied-after-containment';

/** Which of the principal's identities made the call. */
export type TimelineActor =
  | { kind: 'instance-role-session'; sessionName: string; arn: string | null }
  | { kind: 'access-key'; accessKeyId: string; arn: string | null }
  /** One hop of AssumeRole from the principal's sessions: the assumed role's session. */
  | { kind: 'assumed-role-session'; roleArn: string; sessionName: string; assumedBy: string };

export interface TimelineEvent {
  /** CloudTrail `eventTime` (ISO 8601, UTC). The timeline is sorted by it, then by `eventId`. */
  time: string;
  eventId: string;
  region: string;
  eventSource: string;
  eventName: string;
  sourceIPAddress: string | null;
  userAgent: string | null;
  accessKeyId: string | null;
  actor: TimelineActor;
  resources: { type: string | null; name: string }[];
  errorCode: string | null;
  errorMessage: string | null;
  readOnly: boolean | null;
  flags: TimelineFlag[];
  /** Where the event was read: CloudTrail `LookupEvents` (management events) or the trail's S3 log files. */
  origin: 'lookup-events' | 'trail-logs';
}

/** A bound that was reached, or a source that failed: the document says where it is incomplete. */
export interface ScopeGap {
  /** What was cut short: `lookup-events`, `trail-logs`, `flow-logs`, `inventory`, `simulation`, `resource-policy`,
   * `sealed-document` (a retry could not read back what an earlier attempt sealed). */
  source: string;
  region?: string;
  /** `limit`: a configured bound (events, objects, time) was reached; `error`: a call failed after its retries. */
  kind: 'limit' | 'error';
  detail: string;
}

/** `cases/<caseId>/timeline.json` */
export interface TimelineDocument {
  schemaVersion: typeof SCOPE_DOCUMENT_SCHEMA_VERSION;
  caseId: string;
  generatedAt: string;
  principal: ScopePrincipal;
  window: ScopeWindow;
  /** When the last ENI was isolated: events after it are what containment met. */
  containedAt: string | null;
  regions: string[];
  /** Roles the principal assumed (one hop) and whose sessions' events are included. */
  assumedRoles: { roleArn: string; sessionName: string; assumedAt: string; eventId: string }[];
  events: TimelineEvent[];
  gaps: ScopeGap[];
}

export type RotateKind = 'secret' | 'parameter' | 'kms-key' | 's3-bucket';

/** Which policies let the role read a rotate-list item. */
export type RotateBasis = 'identity-policy' | 'resource-policy' | 'both';

export interface RotateItem {
  /** 1 = rotate first. Observed reads rank before merely readable items. */
  rank: number;
  kind: RotateKind;
  arn: string;
  name: string;
  region: string;
  /** The read actions the role was allowed (by `iam:SimulatePrincipalPolicy`, and resource policies read). */
  allowedActions: string[];
  /**
   * `identity-policy`: the role's own policies (the simulation) allow it — for a KMS key, with the key policy enabling
   * IAM policies; `resource-policy`: the item's own policy grants the role; `both`: each does.
   */
  basis: RotateBasis;
  /** True when the access rests only on an Allow with a Condition that was not evaluated (absent: false). */
  possibly?: boolean;
  /** What the evaluation did not apply or could not read (conditional denies, a policy not read). Absent: none. */
  notes?: string[];
  /** True when the timeline shows the principal actually read it. */
  observed: boolean;
  observedEventIds: string[];
  /** The exact AWS CLI command a responder runs to rotate or re-key it. The product never runs it. */
  command: string;
}

/** `cases/<caseId>/rotate.json` */
export interface RotateDocument {
  schemaVersion: typeof SCOPE_DOCUMENT_SCHEMA_VERSION;
  caseId: string;
  generatedAt: string;
  roleArn: string | null;
  regions: string[];
  /** Items whose access was evaluated, and how many of them the role can read. */
  evaluated: number;
  items: RotateItem[];
  gaps: ScopeGap[];
}

/** How a part of the scope ended. `skipped`: not configured or not applicable, with the reason. */
export type ScopeStatus = 'complete' | 'partial' | 'failed' | 'skipped';

/** Manifest section `timeline` (optional, schema 1.0 additive). */
export interface ManifestTimeline {
  status: ScopeStatus;
  reason?: string;
  key: string | null;
  sha256: string | null;
  events: number;
  flagged: number;
  window: ScopeWindow | null;
  regions: string[];
  gaps: ScopeGap[];
}

/** Manifest section `logs` (optional): every preserved object is also listed, with its SHA-256, in `objects`. */
export interface ManifestLogs {
  cloudtrail: {
    status: ScopeStatus;
    reason?: string;
    sourceBucket: string | null;
    /** Log files and digest files copied, under `cases/<caseId>/logs/cloudtrail/`. */
    logFiles: number;
    digestFiles: number;
    bytes: number;
  };
  flowLogs: {
    status: ScopeStatus;
    reason?: string;
    /** One entry per flow log of the instance's ENIs. */
    sources: { flowLogId: string; destinationType: 's3' | 'cloud-watch-logs'; objects: number; records: number }[];
  };
  gaps: ScopeGap[];
}

/** Manifest section `rotate` (optional). */
export interface ManifestRotate {
  status: ScopeStatus;
  reason?: string;
  key: string | null;
  sha256: string | null;
  items: number;
  observed: number;
  /** The first items of the list (rank order), as notifications and `case show` print them. */
  top: Pick<RotateItem, 'rank' | 'kind' | 'name' | 'region' | 'observed' | 'command'>[];
}
