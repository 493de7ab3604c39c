import * as z from 'zod/mini';
import { ConfigurationError } from '../domain/errors';

/**
 * The environment every acquisition Lambda receives. The CDK stack builds it from the same schema
 * (`HandlerEnvironment`), so a setting the handlers need cannot be forgotten at synth time, and a handler
 * started with a broken environment fails at once with an error naming the variable.
 */
export const handlerEnvironmentSchema = z.object({
  CASE_TABLE_NAME: z.string().check(z.minLength(1)),
  EVIDENCE_BUCKET: z.string().check(z.minLength(3)),
  EVIDENCE_KEY_ARN: z.string().check(z.minLength(1)),
  TOPIC_ARN: z.string().check(z.minLength(1)),
  /**
   * Object Lock retention every evidence object is written with, explicitly (`forensics:evidenceRetentionDays`,
   * `forensics:objectLockMode`): retain-until = time of writing + these days. The bucket's default retention is the
   * same, but it applies only to writes that name none, and whoever may change the bucket's configuration could
   * shorten it for later writes; an explicit COMPLIANCE date on the object cannot be shortened by anyone.
   */
  EVIDENCE_RETENTION_DAYS: z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(36500))),
  OBJECT_LOCK_MODE: z.enum(['COMPLIANCE', 'GOVERNANCE']),
  /** Minimum GuardDuty severity acquired (HIGH starts at 7.0). */
  MIN_SEVERITY: z.coerce.number().check(z.minimum(0), z.maximum(10)),
  /** Runtime findings about container hosts (EKS/ECS nodes) are acquired only when this is "true". */
  ACQUIRE_CONTAINER_HOSTS: z.enum(['true', 'false']),
  /** Hard cap on the wait for snapshots and copies, per case. */
  MAX_WAIT_MINUTES: z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(7 * 24 * 60))),
  /** Copies requested at once per case; EBS limits concurrent copies per account and region. */
  COPY_CONCURRENCY: z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(20))),
  /** Tag key prefix for everything this product creates or marks. */
  TAG_PREFIX: z.string().check(z.regex(/^[A-Za-z0-9_.:/=+@-]{1,40}$/)),
  /** Defaults for per-case options. */
  DEFAULT_WORKSTATION: z.enum(['true', 'false']),
  DEFAULT_REVOKE_MODE: z.enum(['instance', 'role', 'none']),
  /**
   * Comma-separated workload account ids whose instances may be acquired. The stack always sets it (in
   * single-account mode: the IR account itself); a finding about any other account is ignored with a reason.
   */
  WORKLOAD_ACCOUNTS: z.string().check(z.regex(/^\d{12}(,\d{12})*$/, 'a comma-separated list of 12-digit account ids')),
  /**
   * Organisation mode: an AWS Organizations id. Set, every account is a workload account (unless in
   * EXCLUDED_ACCOUNTS); membership is enforced by IAM, not here: the step roles may assume responder roles only in
   * accounts of this organisation (aws:ResourceOrgID), so a finding about an outside account fails at the first
   * AssumeRole with AccessDenied before anything is changed.
   */
  ORGANIZATION_ID: z.optional(z.string().check(z.regex(/^o-[a-z0-9]{10,32}$/, 'an AWS Organizations id (o-…)'))),
  /** Comma-separated account ids never acquired (organisation mode's exclude list; also narrows WORKLOAD_ACCOUNTS). */
  EXCLUDED_ACCOUNTS: z.optional(z.string().check(z.regex(/^\d{12}(,\d{12})*$/, 'a comma-separated list of 12-digit account ids'))),
  /**
   * Comma-separated regions whose instances may be acquired (forensics:workloadRegions). Unset: the home region only
   * (the region of EVIDENCE_KEY_ARN). A finding about any other region is ignored with a reason at triage.
   */
  WORKLOAD_REGIONS: z.optional(z.string().check(z.regex(/^[a-z]{2,4}(-[a-z]+){1,3}-\d{1,2}(,[a-z]{2,4}(-[a-z]+){1,3}-\d{1,2})*$/, 'a comma-separated list of region names'))),
  /**
   * Name of the responder role in each workload account. Set: every call on the instance
   * is made with credentials from assuming `arn:<partition>:iam::<target account>:role/<name>` (session name =
   * case id). Unset: the Lambda's own credentials, which is only allowed when the target is the IR account itself.
   */
  RESPONDER_ROLE_NAME: z.optional(z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name'))),
  /** sts:ExternalId the responder roles require (optional: trust may use aws:PrincipalOrgID instead). */
  RESPONDER_EXTERNAL_ID: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'an STS external id'))),
  /** EBS Snapshot Lock on the IR-owned evidence snapshots: mode (`none` = do not lock). Default compliance. */
  SNAPSHOT_LOCK_MODE: z.optional(z.enum(['compliance', 'governance', 'none'])),
  /** Lock duration in days (EBS allows 1–36500). Default 365. */
  SNAPSHOT_LOCK_DAYS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(36500)))),
  /** Compliance-mode cool-off period in hours (0 = none, at most 72). Default 24. */
  SNAPSHOT_LOCK_COOL_OFF_HOURS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(72)))),
  /** Cross-account: delete the intermediate shared copy in the workload account once the IR copy completed. */
  REMOVE_INTERMEDIATE_COPIES: z.optional(z.enum(['true', 'false'])),
  /**
   * ARN of the no-permission quarantine instance profile (`forensics:quarantineProfile`; isolate step only). Unset:
   * no quarantine profile is deployed, and a case asking for one records the skip.
   */
  QUARANTINE_PROFILE_ARN: z.optional(z.string().check(z.regex(/^arn:[^:]+:iam::\d{12}:instance-profile\/(?:.*\/)?[\w+=,.@-]+$/, 'an instance profile ARN'))),
  /** Default of the per-case option `quarantineProfile` ("true" when the deployment creates the profile). */
  DEFAULT_QUARANTINE_PROFILE: z.optional(z.enum(['true', 'false'])),
  /**
   * Incident scope ("Scope the incident" only). Hours before the finding's first sighting the window starts
   * (`forensics:scopeLookBackHours`, default 24).
   */
  SCOPE_LOOK_BACK_HOURS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(24 * 90)))),
  /** The trail's S3 bucket (`forensics:cloudTrailBucket`): its files of the window are preserved. Unset: not preserved. */
  CLOUDTRAIL_BUCKET: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'))),
  /** The trail's S3 key prefix (`forensics:cloudTrailPrefix`), without slashes at either end. */
  CLOUDTRAIL_PREFIX: z.optional(z.string().check(z.regex(/^[^/](.{0,198}[^/])?$/, 'an S3 key prefix without leading or trailing slash'))),
  /** Bounds of the scope: timeline events, preserved log objects, and the step's time cap in seconds. */
  SCOPE_MAX_EVENTS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(50000)))),
  /** At most 1000: every preserved object is indexed in the case record (a DynamoDB item holds 400 KB). */
  SCOPE_MAX_LOG_OBJECTS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(1000)))),
  SCOPE_TIME_CAP_SECONDS: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(30), z.maximum(720)))),
  /** The flow log buckets the scope may read (`forensics:flowLogBuckets`): comma-separated `bucket` or `bucket/prefix`. */
  FLOW_LOG_BUCKETS: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^/,]([^,]{0,198}[^/,])?)?(,[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^/,]([^,]{0,198}[^/,])?)?)*$/, 'comma-separated "bucket" or "bucket/prefix"'))),
  /** Memory capture (`forensics:memoryCapture`, default on); "false" skips every case with reason `disabled`. */
  MEMORY_CAPTURE: z.optional(z.enum(['true', 'false'])),
  /** `forensics:memoryToolsSnapshots` as JSON: `{ "<region>": "snap-…" }`. */
  MEMORY_TOOLS_SNAPSHOTS: z.optional(z.string().check(z.refine(isToolsSnapshotMap, 'a JSON object of region → snapshot id (snap-…)'))),
  /** AVML version and SHA-256 on the tools snapshots (`forensics:memoryToolVersion`, `forensics:memoryToolSha256`). */
  MEMORY_TOOL_VERSION: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._+-]{1,40}$/, 'a version such as 0.14.0'))),
  MEMORY_TOOL_SHA256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters'))),
  /** Run Command executionTimeout of the capture, in minutes (`forensics:memoryCaptureTimeoutMinutes`, 5–180). */
  MEMORY_CAPTURE_TIMEOUT_MINUTES: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(5), z.maximum(180)))),
});

/** `{ "<region>": "snap-…" }` as JSON. */
function isToolsSnapshotMap(value: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
  return Object.entries(parsed).every(([k, v]) => /^[a-z]{2}(-[a-z]+)+-\d$/.test(k) && typeof v === 'string' && /^snap-[0-9a-f]{8,17}$/.test(v));
}

/** The tools snapshots of MEMORY_TOOLS_SNAPSHOTS (validated by the schema), by region. */
export function toolsSnapshotsOf(env: Pick<HandlerEnvironment, 'MEMORY_TOOLS_SNAPSHOTS'>): Record<string, string> {
  return env.MEMORY_TOOLS_SNAPSHOTS ? (JSON.parse(env.MEMORY_TOOLS_SNAPSHOTS) as Record<string, string>) : {};
}

export type HandlerEnvironment = z.infer<typeof handlerEnvironmentSchema>;

let cached: HandlerEnvironment | undefined;

/** Parsed once per container; tests call `resetEnvironment()` after changing process.env. */
export function environment(source: NodeJS.ProcessEnv = process.env): HandlerEnvironment {
  if (cached && source === process.env) return cached;
  const parsed = handlerEnvironmentSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new ConfigurationError(`environment variable ${name}: ${issue?.message ?? 'invalid'}`);
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}

export function resetEnvironment(): void {
  cached = undefined;
}
