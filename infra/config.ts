import type { IConstruct } from 'constructs';
import { z } from 'zod';

/**
 * Deployment settings of the IR stack, read from the CDK context (`cdk.json` "context", overridable with
 * `cdk synth -c forensics:minSeverity=8`).
 *
 * Why a schema: a typo or an out-of-range value in an incident-response deployment is found by nobody until the
 * incident it should have handled. Every setting is checked at synth time and an error names the setting, so
 * `cdk synth` fails with `cdk.json context forensics:minSeverity: expected number ≤ 10` instead of deploying a
 * workflow that silently ignores CRITICAL findings. Unknown `forensics:*` keys are errors for the same reason.
 *
 * Values from `cdk.json` arrive typed (numbers, booleans, arrays); values from `-c key=value` on the command
 * line arrive as strings, so numbers, booleans and lists also accept their string spelling
 * ("8", "true", "a@example.com,b@example.com").
 */

/** Prefix of every setting of this project in the CDK context. */
export const CONTEXT_PREFIX = 'forensics:';

// ── Coercions for command-line context (strings) that stay strict about everything else. ──

const fromNumberString = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;

const fromBooleanString = (value: unknown): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

const fromListString = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return value;
    }
  }
  return trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
};

const fromObjectString = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

const number = (opts: { min: number; max: number; int?: boolean }) => {
  const base = z.number({ error: 'expected a number' });
  const shaped = (opts.int ? base.int({ error: 'expected a whole number' }) : base)
    .min(opts.min, { error: `expected number ≥ ${opts.min}` })
    .max(opts.max, { error: `expected number ≤ ${opts.max}` });
  return z.preprocess(fromNumberString, shaped);
};

const boolean = () => z.preprocess(fromBooleanString, z.boolean({ error: 'expected true or false' }));

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(fromListString, z.array(item, { error: 'expected a list (JSON array or comma-separated string)' }));

/** Same rule as the handlers' TAG_PREFIX (handlers/config/env.ts); `aws:` keys are reserved by AWS. */
const TAG_PREFIX_PATTERN = /^[A-Za-z0-9_.:/=+@-]{1,40}$/;

/** The settings, keyed exactly as they appear in `cdk.json`. Defaults are the documented ones. */
export const contextSchema = z
  .object({
    /** GuardDuty severity from which a finding is acquired. 7 = HIGH (7.0–8.9) and CRITICAL (9.0–10.0). */
    'forensics:minSeverity': number({ min: 1, max: 10 }).default(7),
    /** Object Lock default retention of the evidence bucket, in days (S3 allows up to 100 years). */
    'forensics:evidenceRetentionDays': number({ min: 1, max: 36500, int: true }).default(365),
    /**
     * COMPLIANCE: nobody, the account root included, can delete or shorten retention of evidence until it
     * expires. GOVERNANCE: principals with s3:BypassGovernanceRetention can — for trials, not for real cases.
     */
    'forensics:objectLockMode': z
      .enum(['COMPLIANCE', 'GOVERNANCE'], { error: 'expected "COMPLIANCE" or "GOVERNANCE"' })
      .default('COMPLIANCE'),
    /** E-mail addresses subscribed to case notifications (each must confirm the subscription). */
    'forensics:notificationEmails': list(z.email({ error: 'expected e-mail addresses' })).default([]),
    /** Acquire the host node named by container/cluster runtime findings (EKS/ECS). Opt-in. */
    'forensics:acquireContainerHosts': boolean().default(false),
    /** Hard cap on each wait loop (snapshots, evidence copies), in minutes. At most 7 days, as the handlers. */
    'forensics:maxWaitMinutes': number({ min: 1, max: 7 * 24 * 60, int: true }).default(1440),
    /** Snapshot copies requested at once per case (EBS limits concurrent copies per account and region). */
    'forensics:copyConcurrency': number({ min: 1, max: 20, int: true }).default(5),
    /** Prefix of every tag key this product writes, e.g. `forensics:case-id`, `forensics:role`. */
    'forensics:tagPrefix': z
      .string({ error: 'expected a string' })
      .regex(TAG_PREFIX_PATTERN, { error: 'expected 1–40 characters of letters, digits and _.:/=+@-' })
      .refine((value) => !value.toLowerCase().startsWith('aws:'), { error: 'the "aws:" prefix is reserved by AWS' })
      .default('forensics'),
    /** Default of the per-case option "start a forensic workstation". */
    'forensics:workstation': boolean().default(true),
    /**
     * SSM parameter holding the workstation AMI id, resolved at deploy time: the current Amazon Linux 2023 image by
     * default; point it at a parameter of your own forensic image (SIFT-like) to get your tools.
     */
    'forensics:workstationAmiParameter': z
      .string({ error: 'expected a string' })
      .regex(/^\/[A-Za-z0-9_.\-/]{1,2047}$/, { error: 'expected an SSM parameter name starting with "/"' })
      .default('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'),
    /** Workstation instance type (a Nitro type: device serials then carry the EBS volume ids the mount report uses). */
    'forensics:workstationInstanceType': z
      .string({ error: 'expected a string' })
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: 'expected an EC2 instance type such as m7i.large' })
      .default('m7i.large'),
    /** Default credential revocation: this instance's session only, every session of the role, or none. */
    'forensics:revokeMode': z
      .enum(['instance', 'role', 'none'], { error: 'expected "instance", "role" or "none"' })
      .default('instance'),
    /**
     * Create a no-permission quarantine instance profile and, by default, put it on the compromised instance during
     * containment (per case: `options.quarantineProfile`). Single-account only for now.
     */
    'forensics:quarantineProfile': boolean().default(false),
    /** Accounts whose instances may be acquired. Empty: the IR account itself (single-account mode). */
    'forensics:workloadAccounts': list(z.string().regex(/^\d{12}$/, { error: 'expected 12-digit account ids' }))
      .default([])
      .refine((ids) => new Set(ids).size === ids.length, { error: 'account ids must not repeat' }),
    /**
     * Multi-account by organisation. An AWS Organizations id (`o-…`): every account of the organisation may
     * use the evidence key through EC2 and be acquired through its responder role (instead of, or besides,
     * `forensics:workloadAccounts`).
     */
    'forensics:organizationId': z
      .string({ error: 'expected a string' })
      .regex(/^o-[a-z0-9]{10,32}$/, { error: 'expected an AWS Organizations id (o-…)' })
      .optional(),
    /** Name of the responder role deployed in every workload account (infra/responder-stack.ts). */
    'forensics:responderRoleName': z
      .string({ error: 'expected a string' })
      .regex(/^[\w+=,.@-]{1,64}$/, { error: 'expected an IAM role name' })
      .default('ForensicsResponder'),
    /**
     * sts:ExternalId the responder roles require (not a secret: a confused-deputy guard). Empty ("") = none, allowed
     * only with `forensics:organizationId` (the responder trust then rests on the exact role ARNs and aws:PrincipalOrgID).
     */
    'forensics:responderExternalId': z
      .string({ error: 'expected a string' })
      .regex(/^([\w+=,.@:/-]{2,1224})?$/, { error: 'expected 2–1224 characters of letters, digits and +=,.@:/- (or "" with forensics:organizationId)' })
      .default('forensic-acquisition'),
    /** The IR account id: needed only to synthesize the responder and forwarder stacks with a default. */
    'forensics:irAccountId': z.string().regex(/^\d{12}$/, { error: 'expected a 12-digit account id' }).optional(),
    /** Accounts allowed to put GuardDuty findings on the IR account's default event bus (the GuardDuty administrator). */
    'forensics:findingSourceAccounts': list(z.string().regex(/^\d{12}$/, { error: 'expected 12-digit account ids' })).default([]),
    /**
     * Regions whose instances are acquired: the responder role acts only there, the IR stack's step roles
     * act there too, and a finding about any other region is ignored with a reason at triage. Empty: the home region
     * (where the IR stack is deployed) only. List the home region too when it has workloads.
     */
    'forensics:workloadRegions': list(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected region names' }))
      .default([])
      .refine((regions) => new Set(regions).size === regions.length, { error: 'regions must not repeat' }),
    /**
     * Organisation mode's exclude list: accounts never acquired (e.g. the management account, the log
     * archive). Also narrows forensics:workloadAccounts.
     */
    'forensics:excludedAccounts': list(z.string().regex(/^\d{12}$/, { error: 'expected 12-digit account ids' }))
      .default([])
      .refine((ids) => new Set(ids).size === ids.length, { error: 'account ids must not repeat' }),
    /**
     * Create the evidence key as a KMS multi-Region primary key, so that the regional stacks can replicate
     * it into the workload regions: a workload account's re-encryption copy outside the home region needs a key of
     * that region. A key's multi-Region property is immutable, so turning this on in an existing deployment creates a
     * NEW key (the old one is retained and keeps decrypting earlier evidence): docs/organisation-deployment.md,
     * "Existing deployments".
     */
    'forensics:evidenceKeyMultiRegion': boolean().default(false),
    /** EBS Snapshot Lock on the IR-owned evidence snapshots. */
    'forensics:snapshotLockMode': z
      .enum(['compliance', 'governance', 'none'], { error: 'expected "compliance", "governance" or "none"' })
      .default('compliance'),
    'forensics:snapshotLockDays': number({ min: 1, max: 36500, int: true }).default(365),
    'forensics:snapshotLockCoolOffHours': number({ min: 0, max: 72, int: true }).default(24),
    /** Delete the workload-side intermediate copy once the IR copy completed (recorded either way). */
    'forensics:removeIntermediateCopies': boolean().default(false),
    /** Incident scope: hours before the finding's first sighting the principal's timeline starts. */
    'forensics:scopeLookBackHours': number({ min: 0, max: 2160, int: true }).default(24),
    /** The CloudTrail trail's S3 bucket: the window's log and digest files are preserved from it. Unset: not preserved. */
    'forensics:cloudTrailBucket': z
      .string({ error: 'expected a string' })
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name' })
      .optional(),
    /** The trail's S3 key prefix (without slashes at either end), when it has one. */
    'forensics:cloudTrailPrefix': z
      .string({ error: 'expected a string' })
      .regex(/^[^/](.{0,198}[^/])?$/, { error: 'expected an S3 key prefix without leading or trailing slash' })
      .optional(),
    /** Bounds of the scope: timeline events, preserved log objects, and the step's time cap in seconds. */
    'forensics:scopeMaxEvents': number({ min: 1, max: 50000, int: true }).default(5000),
    'forensics:scopeMaxLogObjects': number({ min: 0, max: 1000, int: true }).default(500),
    'forensics:scopeTimeCapSeconds': number({ min: 30, max: 720, int: true }).default(600),
    /**
     * Incident scope: the S3 buckets VPC flow logs are delivered to, each `bucket` or `bucket/prefix` (the flow log's
     * destination ARN without `arn:aws:s3:::`); the scope role may read `[prefix/]AWSLogs/*` of exactly these. A flow
     * log into a bucket not listed is recorded as a gap. And the KMS keys (ARNs) of trail and flow log buckets
     * encrypted with SSE-KMS: the scope role may decrypt with exactly these, only through S3.
     */
    'forensics:flowLogBuckets': list(
      z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^/,]([^,]{0,198}[^/,])?)?$/, { error: 'expected "bucket" or "bucket/prefix" (no trailing slash, no comma)' }),
    ).default([]),
    'forensics:logBucketKmsKeyArns': list(
      z.string().regex(/^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/, { error: 'expected KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>)' }),
    ).default([]),
    /**
     * Memory capture after containment (docs/memory.md): on by default; a case in a region without a tools
     * snapshot records `skipped: not-configured-for-region`.
     */
    'forensics:memoryCapture': boolean().default(true),
    /** Tools snapshot per workload region (`forensics tools build`): `{ "eu-west-1": "snap-…" }`. */
    'forensics:memoryToolsSnapshots': z
      .preprocess(
        fromObjectString,
        z.record(
          z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected region names as keys' }),
          z.string().regex(/^snap-[0-9a-f]{8,17}$/, { error: 'expected snapshot ids (snap-…) as values' }),
          { error: 'expected an object of region → snapshot id (JSON)' },
        ),
      )
      .default({}),
    /** AVML version on the tools snapshots (recorded in the manifest). */
    'forensics:memoryToolVersion': z
      .string({ error: 'expected a string' })
      .regex(/^[A-Za-z0-9._+-]{1,40}$/, { error: 'expected a version such as 0.14.0' })
      .optional(),
    /** SHA-256 of the AVML binary on the tools snapshots: the capture script runs no other binary. */
    'forensics:memoryToolSha256': z
      .string({ error: 'expected a string' })
      .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters (a SHA-256)' })
      .optional(),
    /** Run Command executionTimeout of the capture, and (plus a margin) its hard cap, in minutes. */
    'forensics:memoryCaptureTimeoutMinutes': number({ min: 5, max: 180, int: true }).default(30),
    /**
     * CloudFormation stack name; the CLI finds the deployment by it. At most 45 characters: the GuardDuty rule is
     * named `<stackName>-guardduty-findings` and EventBridge rule names stop at 64.
     */
    'forensics:stackName': z
      .string({ error: 'expected a string' })
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,44}$/, {
        error: 'expected a CloudFormation stack name (letter first, then letters, digits, hyphens; ≤ 45)',
      })
      .default('ForensicAcquisition'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const excluded = s['forensics:excludedAccounts'].filter((a) => s['forensics:workloadAccounts'].includes(a));
    if (excluded.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['forensics:excludedAccounts'],
        message: `account ${excluded.join(', ')} is also in forensics:workloadAccounts: list it in one of them`,
      });
    }
    if (Object.keys(s['forensics:memoryToolsSnapshots']).length > 0) {
      for (const key of ['forensics:memoryToolSha256', 'forensics:memoryToolVersion'] as const) {
        if (!s[key]) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'required when forensics:memoryToolsSnapshots names a tools snapshot (the pinned AVML it holds)',
          });
        }
      }
    }
    if (s['forensics:responderExternalId'] === '' && !s['forensics:organizationId']) {
      ctx.addIssue({
        code: 'custom',
        path: ['forensics:responderExternalId'],
        message: 'may be empty only with forensics:organizationId (an account list needs the external id)',
      });
    }
  });

/** The parsed configuration, in the names the stack uses. */
export interface ForensicsConfig {
  readonly minSeverity: number;
  readonly evidenceRetentionDays: number;
  readonly objectLockMode: 'COMPLIANCE' | 'GOVERNANCE';
  readonly notificationEmails: readonly string[];
  readonly acquireContainerHosts: boolean;
  readonly maxWaitMinutes: number;
  readonly copyConcurrency: number;
  readonly tagPrefix: string;
  readonly workstation: boolean;
  readonly revokeMode: 'instance' | 'role' | 'none';
  /** Quarantine instance profile (infra/quarantine-profile.ts). @default false */
  readonly quarantineProfile?: boolean;
  readonly workstationAmiParameter: string;
  readonly workstationInstanceType: string;
  /** Empty means single-account mode: the IR account is the only workload account. */
  readonly workloadAccounts: readonly string[];
  readonly stackName: string;
  // Multi-account settings, named as in cdk.json. Optional in hand-built configs: `multiAccountOf`
  // applies the defaults of `contextSchema`.
  readonly organizationId?: string;
  readonly responderRoleName?: string;
  readonly responderExternalId?: string;
  readonly irAccountId?: string;
  readonly findingSourceAccounts?: readonly string[];
  readonly workloadRegions?: readonly string[];
  /** Accounts never acquired (organisation mode's exclude list). @default [] */
  readonly excludedAccounts?: readonly string[];
  /** The evidence key is a multi-Region primary key (replicated by the regional stacks). @default false */
  readonly evidenceKeyMultiRegion?: boolean;
  readonly snapshotLockMode?: 'compliance' | 'governance' | 'none';
  readonly snapshotLockDays?: number;
  readonly snapshotLockCoolOffHours?: number;
  readonly removeIntermediateCopies?: boolean;
  /** Incident scope (infra/scope-permissions.ts). Optional in hand-built configs: the defaults apply. */
  readonly scopeLookBackHours?: number;
  readonly cloudTrailBucket?: string;
  readonly cloudTrailPrefix?: string;
  readonly scopeMaxEvents?: number;
  readonly scopeMaxLogObjects?: number;
  readonly scopeTimeCapSeconds?: number;
  readonly flowLogBuckets?: readonly string[];
  readonly logBucketKmsKeyArns?: readonly string[];
  /** Memory capture (infra/memory-permissions.ts). Optional in hand-built configs: the defaults apply. */
  readonly memoryCapture?: boolean;
  readonly memoryToolsSnapshots?: Readonly<Record<string, string>>;
  readonly memoryToolVersion?: string;
  readonly memoryToolSha256?: string;
  readonly memoryCaptureTimeoutMinutes?: number;
}

/** Multi-account settings: responder roles, key sharing, forwarding, snapshot lock. */
export interface MultiAccountConfig {
  readonly organizationId?: string;
  readonly responderRoleName: string;
  readonly responderExternalId: string;
  readonly irAccountId?: string;
  readonly findingSourceAccounts: readonly string[];
  readonly workloadRegions: readonly string[];
  readonly snapshotLockMode: 'compliance' | 'governance' | 'none';
  readonly snapshotLockDays: number;
  readonly snapshotLockCoolOffHours: number;
  readonly removeIntermediateCopies: boolean;
}

export const DEFAULT_MULTI_ACCOUNT: MultiAccountConfig = {
  responderRoleName: 'ForensicsResponder',
  responderExternalId: 'forensic-acquisition',
  findingSourceAccounts: [],
  workloadRegions: [],
  snapshotLockMode: 'compliance',
  snapshotLockDays: 365,
  snapshotLockCoolOffHours: 24,
  removeIntermediateCopies: false,
};

/** The multi-account settings of a config, defaults filled in. */
export function multiAccountOf(config: ForensicsConfig): MultiAccountConfig {
  const d = DEFAULT_MULTI_ACCOUNT;
  return {
    ...(config.organizationId ? { organizationId: config.organizationId } : {}),
    ...(config.irAccountId ? { irAccountId: config.irAccountId } : {}),
    responderRoleName: config.responderRoleName ?? d.responderRoleName,
    responderExternalId: config.responderExternalId ?? d.responderExternalId,
    findingSourceAccounts: config.findingSourceAccounts ?? d.findingSourceAccounts,
    workloadRegions: config.workloadRegions ?? d.workloadRegions,
    snapshotLockMode: config.snapshotLockMode ?? d.snapshotLockMode,
    snapshotLockDays: config.snapshotLockDays ?? d.snapshotLockDays,
    snapshotLockCoolOffHours: config.snapshotLockCoolOffHours ?? d.snapshotLockCoolOffHours,
    removeIntermediateCopies: config.removeIntermediateCopies ?? d.removeIntermediateCopies,
  };
}

/** Cross-account mode: workload accounts or an organisation are configured (else single-account mode). */
export function isMultiAccount(config: { workloadAccounts?: readonly string[]; organizationId?: string }): boolean {
  return (config.workloadAccounts?.length ?? 0) > 0 || Boolean(config.organizationId);
}

/** Thrown for an invalid setting; the message names it as it is spelled in `cdk.json`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validate the `forensics:*` entries of a context object. Other keys (CDK feature flags, `aws:cdk:*`) are not
 * ours and are ignored. Throws `ConfigError` naming the first invalid setting.
 */
export function parseConfig(context: Record<string, unknown>): ForensicsConfig {
  const ours = Object.fromEntries(Object.entries(context).filter(([key]) => key.startsWith(CONTEXT_PREFIX)));
  const parsed = contextSchema.safeParse(ours);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      const known = Object.keys(contextSchema.shape).join(', ');
      throw new ConfigError(`cdk.json context ${keys}: unknown setting (known: ${known})`);
    }
    const key = issue?.path[0] === undefined ? 'forensics' : String(issue.path[0]);
    const where = issue && issue.path.length > 1 ? `[${issue.path.slice(1).join('.')}]` : '';
    throw new ConfigError(`cdk.json context ${key}${where}: ${issue?.message ?? 'invalid value'}`);
  }
  const s = parsed.data;
  return {
    minSeverity: s['forensics:minSeverity'],
    evidenceRetentionDays: s['forensics:evidenceRetentionDays'],
    objectLockMode: s['forensics:objectLockMode'],
    notificationEmails: s['forensics:notificationEmails'],
    acquireContainerHosts: s['forensics:acquireContainerHosts'],
    maxWaitMinutes: s['forensics:maxWaitMinutes'],
    copyConcurrency: s['forensics:copyConcurrency'],
    tagPrefix: s['forensics:tagPrefix'],
    workstation: s['forensics:workstation'],
    revokeMode: s['forensics:revokeMode'],
    quarantineProfile: s['forensics:quarantineProfile'],
    workstationAmiParameter: s['forensics:workstationAmiParameter'],
    workstationInstanceType: s['forensics:workstationInstanceType'],
    workloadAccounts: s['forensics:workloadAccounts'],
    stackName: s['forensics:stackName'],
    ...(s['forensics:organizationId'] ? { organizationId: s['forensics:organizationId'] } : {}),
    ...(s['forensics:irAccountId'] ? { irAccountId: s['forensics:irAccountId'] } : {}),
    responderRoleName: s['forensics:responderRoleName'],
    responderExternalId: s['forensics:responderExternalId'],
    findingSourceAccounts: s['forensics:findingSourceAccounts'],
    workloadRegions: s['forensics:workloadRegions'],
    excludedAccounts: s['forensics:excludedAccounts'],
    evidenceKeyMultiRegion: s['forensics:evidenceKeyMultiRegion'],
    snapshotLockMode: s['forensics:snapshotLockMode'],
    snapshotLockDays: s['forensics:snapshotLockDays'],
    snapshotLockCoolOffHours: s['forensics:snapshotLockCoolOffHours'],
    removeIntermediateCopies: s['forensics:removeIntermediateCopies'],
    scopeLookBackHours: s['forensics:scopeLookBackHours'],
    ...(s['forensics:cloudTrailBucket'] ? { cloudTrailBucket: s['forensics:cloudTrailBucket'] } : {}),
    ...(s['forensics:cloudTrailPrefix'] ? { cloudTrailPrefix: s['forensics:cloudTrailPrefix'] } : {}),
    scopeMaxEvents: s['forensics:scopeMaxEvents'],
    scopeMaxLogObjects: s['forensics:scopeMaxLogObjects'],
    scopeTimeCapSeconds: s['forensics:scopeTimeCapSeconds'],
    ...(s['forensics:flowLogBuckets'].length ? { flowLogBuckets: s['forensics:flowLogBuckets'] } : {}),
    ...(s['forensics:logBucketKmsKeyArns'].length ? { logBucketKmsKeyArns: s['forensics:logBucketKmsKeyArns'] } : {}),
    memoryCapture: s['forensics:memoryCapture'],
    memoryToolsSnapshots: s['forensics:memoryToolsSnapshots'],
    ...(s['forensics:memoryToolVersion'] ? { memoryToolVersion: s['forensics:memoryToolVersion'] } : {}),
    ...(s['forensics:memoryToolSha256'] ? { memoryToolSha256: s['forensics:memoryToolSha256'] } : {}),
    memoryCaptureTimeoutMinutes: s['forensics:memoryCaptureTimeoutMinutes'],
  };
}

/** Read and validate the settings from an app's (or any construct's) context. */
export function loadConfig(app: IConstruct): ForensicsConfig {
  return parseConfig(app.node.getAllContext());
}
