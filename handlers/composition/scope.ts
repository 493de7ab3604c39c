import { cloudTrailClient } from '../adapters/clients/cloudtrail';
import { cloudWatchLogsClient } from '../adapters/clients/cloudwatch-logs';
import { iamClient } from '../adapters/clients/iam';
import { kmsClient } from '../adapters/clients/kms';
import { s3Client, s3ClientIn } from '../adapters/clients/s3';
import { secretsManagerClient } from '../adapters/clients/secrets-manager';
import { ssmClient } from '../adapters/clients/ssm';
import { ownClients } from '../adapters/aws-clients';
import { CloudTrailLookupAdapter } from '../adapters/cloudtrail-lookup-adapter';
import { FlowLogRecordsAdapter } from '../adapters/flow-log-records-adapter';
import { IamRoleAdapter } from '../adapters/iam-role-adapter';
import { IamSimulationAdapter } from '../adapters/iam-simulation-adapter';
import { LogCopyAdapter } from '../adapters/log-copy-adapter';
import { ReadInventoryAdapter } from '../adapters/read-inventory-adapter';
import { ResourcePolicyAdapter } from '../adapters/resource-policy-adapter';
import { SealedDocumentReader } from '../adapters/sealed-document-reader';
import { type ClientSource, scopeFor } from '../adapters/workload-scope';
import type { HandlerEnvironment } from '../config/env';
import { arnParts } from '../domain/identifier-formats';
import { DEFAULT_LOOK_BACK_HOURS } from '../domain/scope-principal';
import type { Target } from '../domain/types';
import type { ScopeIncidentDeps, ScopeSettings } from '../use-cases/scope-incident';
import type { EvidenceDeps } from './evidence';

/** Defaults of the scope's bounds (docs/deployment.md): below the function's 15-minute timeout, with room to seal. */
export const SCOPE_DEFAULTS = { maxEvents: 5000, maxLogObjects: 500, timeCapSeconds: 600, maxFlowLogRecords: 50000, maxInventoryItems: 500, maxPolicyReads: 300, concurrency: 8 } as const;
/** Regions searched at most: the target's first, then the workload regions. */
const MAX_REGIONS = 8;

export function scopeSettings(env: HandlerEnvironment, target: Target): ScopeSettings {
  const regions = [...new Set([target.region, ...(env.WORKLOAD_REGIONS?.split(',') ?? [])])].slice(0, MAX_REGIONS);
  return {
    lookBackHours: env.SCOPE_LOOK_BACK_HOURS ?? DEFAULT_LOOK_BACK_HOURS,
    regions,
    ...(env.CLOUDTRAIL_BUCKET ? { cloudTrailBucket: env.CLOUDTRAIL_BUCKET } : {}),
    ...(env.CLOUDTRAIL_PREFIX ? { cloudTrailPrefix: env.CLOUDTRAIL_PREFIX } : {}),
    ...(env.ORGANIZATION_ID ? { organizationId: env.ORGANIZATION_ID } : {}),
    ...(env.FLOW_LOG_BUCKETS ? { flowLogBuckets: env.FLOW_LOG_BUCKETS.split(',') } : {}),
    maxEvents: env.SCOPE_MAX_EVENTS ?? SCOPE_DEFAULTS.maxEvents,
    maxLogObjects: env.SCOPE_MAX_LOG_OBJECTS ?? SCOPE_DEFAULTS.maxLogObjects,
    maxFlowLogRecords: SCOPE_DEFAULTS.maxFlowLogRecords,
    maxInventoryItems: SCOPE_DEFAULTS.maxInventoryItems,
    maxPolicyReads: SCOPE_DEFAULTS.maxPolicyReads,
    concurrency: SCOPE_DEFAULTS.concurrency,
    timeCapSeconds: env.SCOPE_TIME_CAP_SECONDS ?? SCOPE_DEFAULTS.timeCapSeconds,
  };
}

/**
 * Composition root of "Scope the incident": the read-only calls in the target's account through the workload scope
 * (the responder role's session for the case, or the Lambda's own role in single-account mode), the trail bucket
 * read and the sealed copies with the Lambda's own role (the IR side), the evidence side from `evidence`.
 */
export function scopeDepsFor(target: Target, via: ClientSource, env: HandlerEnvironment, evidence: EvidenceDeps): Omit<ScopeIncidentDeps, 'log'> {
  const workload = scopeFor(target, via);
  const partition = arnParts(env.EVIDENCE_KEY_ARN)?.partition ?? 'aws';
  const lookups = new Map<string, CloudTrailLookupAdapter>();
  const iam = () => iamClient(workload);
  return {
    cases: evidence.cases,
    store: evidence.store,
    custody: evidence.custody,
    clock: evidence.clock,
    settings: scopeSettings(env, target),
    // One adapter per region, so each paces its own account-and-region's LookupEvents.
    lookupIn: (region) => lookups.get(region) ?? (lookups.set(region, new CloudTrailLookupAdapter(cloudTrailClient(workload, region), region)).get(region) as CloudTrailLookupAdapter),
    inventoryIn: (region) =>
      new ReadInventoryAdapter(
        { secrets: secretsManagerClient(workload, region), ssm: ssmClient(workload, region), kms: kmsClient(workload, region), s3: s3Client(workload) },
        target.accountId,
        region,
        partition,
      ),
    flowLogRecordsIn: (region) => new FlowLogRecordsAdapter(cloudWatchLogsClient(workload, region)),
    simulate: (roleArn, actions, arns) => new IamSimulationAdapter(iam()).decisions(roleArn, actions, arns),
    resourcePoliciesIn: (region) =>
      new ResourcePolicyAdapter({ secrets: secretsManagerClient(workload, region), kms: kmsClient(workload, region), s3: s3ClientIn(workload, region) }),
    roleOfProfile: async (profileArn) => {
      const name = profileArn.slice(profileArn.lastIndexOf('/') + 1);
      return (await new IamRoleAdapter(iam()).rolesOfInstanceProfile(name))?.[0]?.arn ?? null;
    },
    logs: new LogCopyAdapter(s3Client(ownClients()), evidence.bucket, { mode: env.OBJECT_LOCK_MODE, days: env.EVIDENCE_RETENTION_DAYS }, evidence.clock),
    readSealed: (key) => new SealedDocumentReader(s3Client(ownClients()), evidence.bucket).read(key),
  };
}
