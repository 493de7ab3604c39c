import { ArnFormat, type Stack } from 'aws-cdk-lib';
import type { ForensicFunction, LambdaEnvironment } from './constructs/forensic-function';
import type { StepPermission } from './constructs/step-permissions';
import type { ForensicsConfig } from './config';

/**
 * "Scope the incident" in the IR stack, kept out of ir-stack.ts: its environment and its role's
 * permissions. The role reads (never writes) in the workload account — CloudTrail LookupEvents, the policy
 * simulation of the instance's role, the inventory of secrets, SecureString parameters, keys and buckets and their
 * resource policies, the records of the flow logs "Preserve and snapshot" found (that step's role describes them) —
 * reads the configured trail and flow log buckets only (and decrypts with the
 * configured log bucket keys, through S3 only), and writes sealed objects under `cases/` of the evidence bucket (the
 * custody grant of its evidence kinds: custody, timeline, rotate list, logs). In multi-account mode the workload
 * reads go through the responder role (infra/responder-stack.ts, statements `ScopeReadOnly`,
 * `ScopeReadResourcePolicies`); the log buckets are read by this role itself (a bucket of another account grants it
 * by its bucket policy).
 */

export function scopeEnvironment(config: ForensicsConfig): Pick<
  LambdaEnvironment,
  'SCOPE_LOOK_BACK_HOURS' | 'CLOUDTRAIL_BUCKET' | 'CLOUDTRAIL_PREFIX' | 'SCOPE_MAX_EVENTS' | 'SCOPE_MAX_LOG_OBJECTS' | 'SCOPE_TIME_CAP_SECONDS' | 'FLOW_LOG_BUCKETS'
> {
  return {
    ...(config.scopeLookBackHours !== undefined ? { SCOPE_LOOK_BACK_HOURS: String(config.scopeLookBackHours) } : {}),
    ...(config.cloudTrailBucket ? { CLOUDTRAIL_BUCKET: config.cloudTrailBucket } : {}),
    ...(config.cloudTrailPrefix ? { CLOUDTRAIL_PREFIX: config.cloudTrailPrefix } : {}),
    ...(config.scopeMaxEvents !== undefined ? { SCOPE_MAX_EVENTS: String(config.scopeMaxEvents) } : {}),
    ...(config.scopeMaxLogObjects !== undefined ? { SCOPE_MAX_LOG_OBJECTS: String(config.scopeMaxLogObjects) } : {}),
    ...(config.scopeTimeCapSeconds !== undefined ? { SCOPE_TIME_CAP_SECONDS: String(config.scopeTimeCapSeconds) } : {}),
    ...(config.flowLogBuckets?.length ? { FLOW_LOG_BUCKETS: config.flowLogBuckets.join(',') } : {}),
  };
}

/** The read-only actions of the scope in a workload account (also granted to the responder role). */
export const SCOPE_READ_ACTIONS = [
  'cloudtrail:LookupEvents',
  'secretsmanager:ListSecrets',
  'ssm:DescribeParameters',
  'kms:ListKeys',
  'kms:ListAliases',
  's3:ListAllMyBuckets',
] as const;

/**
 * Resource policy reads of the rotate list (what the instance role may read that its identity policies do not say):
 * a secret's resource policy, a key's policy, a bucket's policy. Read-only; each on its own resource type.
 */
export const SCOPE_POLICY_READ_ACTIONS = ['secretsmanager:GetResourcePolicy', 'kms:GetKeyPolicy', 's3:GetBucketPolicy'] as const;

/** The resources of SCOPE_POLICY_READ_ACTIONS in an account: any secret, any key (regional), any bucket. */
export function scopePolicyReadResources(stack: Stack, region?: string): string[] {
  return [
    stack.formatArn({ service: 'secretsmanager', ...(region ? { region } : {}), resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    stack.formatArn({ service: 'kms', ...(region ? { region } : {}), resource: 'key', resourceName: '*' }),
    stack.formatArn({ service: 's3', region: '', account: '', resource: '*' }),
  ];
}

/** `bucket[/prefix]` of forensics:flowLogBuckets → the bucket and the key prefix of its flow log files. */
export function flowLogLocation(entry: string): { bucket: string; logsPrefix: string } {
  const slash = entry.indexOf('/');
  const bucket = slash < 0 ? entry : entry.slice(0, slash);
  const prefix = slash < 0 ? '' : `${entry.slice(slash + 1)}/`;
  return { bucket, logsPrefix: `${prefix}AWSLogs/` };
}

/** `arn:<partition>:kms:<region>:…` → `s3.<region>.amazonaws.com`: S3 uses a key of the bucket's own region. */
function s3ServiceOfKey(keyArn: string): string {
  return `s3.${keyArn.split(':')[3]}.amazonaws.com`;
}

/** IAM reads of the scope: the instance profile's role, and the simulation of that role's policies. */
export const SCOPE_IAM_ACTIONS = ['iam:GetInstanceProfile', 'iam:SimulatePrincipalPolicy'] as const;

export function grantScopePermissions(
  stack: Stack,
  fn: ForensicFunction,
  deps: {
    config: ForensicsConfig;
    /** Regional allow (the workload regions), as the other steps' workload reads. */
    allowOn: (role: ForensicFunction['role'], statement: StepPermission) => void;
    allowOnHome: (role: ForensicFunction['role'], statement: StepPermission) => void;
    caseTable: (actions: string[], why: string) => void;
    custody: (why: string) => void;
  },
): void {
  const { config } = deps;
  deps.allowOn(fn.role, {
    sid: 'ScopeReadOnly',
    why:
      'LookupEvents (the principal\'s CloudTrail events), ListSecrets, DescribeParameters, ListKeys/ListAliases, ' +
      'ListAllMyBuckets (what the role could read: names and ARNs, never a value). Read-only, and ' +
      'these actions support no resource-level permissions (Resource "*").',
    actions: [...SCOPE_READ_ACTIONS],
    resources: ['*'],
  });
  deps.allowOn(fn.role, {
    sid: 'ScopeFlowLogRecords',
    why: 'FilterLogEvents on a flow log\'s log group (the ENI streams over the window): read-only, any group of the account, the flow log names it at run time.',
    actions: ['logs:FilterLogEvents'],
    resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
  });
  deps.allowOnHome(fn.role, {
    sid: 'ScopeRoleOfInstance',
    why: 'GetInstanceProfile (the instance\'s role, when containment did not resolve it) and SimulatePrincipalPolicy (what that role may read): IAM reads, the role known only at run time.',
    actions: [...SCOPE_IAM_ACTIONS],
    resources: [
      stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*' }),
      stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' }),
    ],
  });
  if (config.cloudTrailBucket) {
    const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: config.cloudTrailBucket });
    const prefix = config.cloudTrailPrefix ? `${config.cloudTrailPrefix}/` : '';
    deps.allowOnHome(fn.role, {
      sid: 'ScopeReadTrailLogs',
      why: 'GetObject of the trail\'s log and digest files (source of the sealed copies, and the principal\'s data events); the configured trail bucket and prefix only.',
      actions: ['s3:GetObject'],
      resources: [`${bucketArn}/${prefix}AWSLogs/*`],
    });
    deps.allowOnHome(fn.role, {
      sid: 'ScopeListTrailLogs',
      why: 'ListBucket of the window\'s day folders of the configured trail bucket.',
      actions: ['s3:ListBucket'],
      resources: [bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}AWSLogs/*`] } },
    });
  }
  deps.allowOn(fn.role, {
    sid: 'ScopeReadResourcePolicies',
    why:
      'GetResourcePolicy (secrets), GetKeyPolicy (keys), GetBucketPolicy (buckets): what the instance role may read ' +
      'through the items\' own policies (IAM\'s simulation evaluates them only for IAM users). Read-only; any item ' +
      'of the account, the inventory names them at run time.',
    actions: [...SCOPE_POLICY_READ_ACTIONS],
    resources: scopePolicyReadResources(stack),
  });
  const flowLogBuckets = (config.flowLogBuckets ?? []).map(flowLogLocation);
  if (flowLogBuckets.length > 0) {
    const bucketArn = (bucket: string) => stack.formatArn({ service: 's3', region: '', account: '', resource: bucket });
    deps.allowOnHome(fn.role, {
      sid: 'ScopeReadFlowLogObjects',
      why: 'GetObject of the flow log files (source of the sealed copies); the configured flow log buckets (forensics:flowLogBuckets) and their AWSLogs/ folder only.',
      actions: ['s3:GetObject'],
      resources: [...new Set(flowLogBuckets.map((b) => `${bucketArn(b.bucket)}/${b.logsPrefix}*`))],
    });
    deps.allowOnHome(fn.role, {
      sid: 'ScopeListFlowLogObjects',
      why: 'ListBucket of the window\'s day folders of the configured flow log buckets, under their AWSLogs/ folder only.',
      actions: ['s3:ListBucket'],
      resources: [...new Set(flowLogBuckets.map((b) => bucketArn(b.bucket)))],
      conditions: { StringLike: { 's3:prefix': [...new Set(flowLogBuckets.map((b) => `${b.logsPrefix}*`))] } },
    });
  }
  const logKeys = config.logBucketKmsKeyArns ?? [];
  if (logKeys.length > 0) {
    deps.allowOnHome(fn.role, {
      sid: 'ScopeDecryptLogObjects',
      why: 'Decrypt with the SSE-KMS keys of the trail and flow log buckets (forensics:logBucketKmsKeyArns), only through S3 in the key\'s region: S3 decrypts the source of a GetObject or CopyObject as the caller.',
      actions: ['kms:Decrypt'],
      resources: [...logKeys],
      conditions: { StringEquals: { 'kms:ViaService': [...new Set(logKeys.map(s3ServiceOfKey))] } },
    });
  }
  deps.caseTable(['dynamodb:GetItem', 'dynamodb:UpdateItem'], 'GetItem/UpdateItem: the case\'s findings, its evidence index (the preserved objects) and the scope result.');
  deps.custody('The timeline, the rotate list, the preserved log copies (CopyObject is authorised as PutObject on the destination) and the step\'s custody record.');
}
