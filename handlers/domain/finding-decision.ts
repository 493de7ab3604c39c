import { InvalidInput } from './errors';
import { fieldPath, type GuardDutyItem, type ManualItem, type NormalizedFinding } from './finding-normalizer';
import {
  displayText,
  INSTANCE_ID_PATTERN,
  requireAccountId,
  requireFindingId,
  requireFindingType,
  requireInstanceId,
  requireRegion,
  requireResourceType,
  requireSeverity,
} from './identifier-formats';
import { unreachableReason } from './evidence-regions';
import { manualFindingSummary, manualTarget } from './manual-request';
import type { Decision, FindingSummary, Target } from './types';

/**
 * Whether a finding starts an acquisition: snapshot, isolate and revoke the credentials of a company's instance.
 *
 * Rules, in the order they are applied (the first that matches gives the reason):
 *  1. The finding's identity is re-checked (id, type, severity, account, region): this function is the last gate
 *     before AWS is touched and does not trust its caller to have normalized the input.
 *  2. Sample findings are ignored. GuardDuty marks them in several ways, all honoured:
 *     `service.additionalInfo.sample` (boolean, or the string "true"), `service.additionalInfo.value` (a JSON
 *     string whose top-level `sample` is true: the only marker in SDK/CLI output), and a top-level `sample` some
 *     exports add. `Canary:` types are GuardDuty's own integration tests and are ignored too.
 *     Only these structural markers count. Text such as "GeneratedFinding…" or the id i-99999999 is never used:
 *     tags, domains and user agents are attacker-controlled, and an attacker must not be able to make a real
 *     finding look like a sample. The JSON in `value` is parsed, never searched as text, for the same reason.
 *  3. Archived findings are ignored (a responder or a suppression rule closed them).
 *  4. Findings about an account outside `workloadAccounts` are ignored (this deployment has no role there). In
 *     organisation mode (`organizationId`) every well-formed account is a workload account — the organisation's
 *     boundary is enforced by IAM (the step roles may assume responder roles only where aws:ResourceOrgID is the
 *     organisation), because triage cannot list the organisation cheaply. `excludedAccounts` are ignored in both
 *     modes. Then findings about a region outside `workloadRegions`, and targets this deployment's evidence key
 *     cannot serve (`evidence`: another account outside the home region with a single-Region key) are ignored, so
 *     nothing is started that would fail midway.
 *  5. What the finding is about (`resource.resourceType`, never the mere presence of `instanceDetails`, which
 *     sample IAM/S3 findings carry with a dummy instance):
 *     - `Instance`: the instance in `resource.instanceDetails.instanceId`, which must be a valid instance id
 *       (a finding about an instance that does not say which one is malformed, not ignorable);
 *     - `AccessKey` with type `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration[.*]`: the instance
 *       whose role credentials were stolen, when `resource.instanceDetails.instanceId` names it (the pre-2022 type
 *       named only the role: ignored with a reason that says to request the acquisition manually);
 *     - `EKSCluster`, `ECSCluster`, `Container` (runtime findings): the host node in `instanceDetails`, only when
 *       `acquireContainerHosts` is on — acquiring a shared node is a deployment's choice;
 *     - anything else (S3, Lambda, RDS, other IAM findings…): ignored.
 *  6. Severity below `minSeverity` is ignored.
 * The target is the finding's own `accountId` and `region`, never an EventBridge envelope's.
 *
 * A manual request is acquired when its account is a workload account: its severity (10) passes any threshold.
 *
 * Pure: no SDK imports, no I/O, no clock. Throws `InvalidInput` naming the field when the finding is malformed.
 */

export interface DecisionConfig {
  /** Minimum severity acquired; GuardDuty's HIGH band starts at 7.0. */
  minSeverity: number;
  /** Acquire the host node named by EKS/ECS/container runtime findings. */
  acquireContainerHosts: boolean;
  /** Accounts whose instances may be acquired; undefined means any account (the offline `plan` default). */
  workloadAccounts?: readonly string[];
  /** Organisation mode: any account is a workload account (the organisation boundary is IAM's, see rule 4). */
  organizationId?: string;
  /** Accounts never acquired, in either mode. */
  excludedAccounts?: readonly string[];
  /** Regions whose instances may be acquired; undefined means any region (the offline `plan` default). */
  workloadRegions?: readonly string[];
  /** The evidence side of the deployment: targets its key cannot serve are ignored (evidence-regions.ts). */
  evidence?: { irAccountId: string; evidenceKeyArn: string; homeRegion: string };
}

export const DEFAULT_DECISION_CONFIG: DecisionConfig = { minSeverity: 7, acquireContainerHosts: false };

export const INSTANCE_RESOURCE_TYPE = 'Instance';
export const ACCESS_KEY_RESOURCE_TYPE = 'AccessKey';
/** Resource types of runtime findings whose `instanceDetails` is the node running the workload. */
export const CONTAINER_HOST_RESOURCE_TYPES: ReadonlySet<string> = new Set(['EKSCluster', 'ECSCluster', 'Container']);
/** `.OutsideAWS`, `.InsideAWS`, and the pre-2022 name without suffix. */
const CREDENTIAL_EXFILTRATION_TYPE = /^UnauthorizedAccess:IAMUser\/InstanceCredentialExfiltration(?:\.[A-Za-z0-9]+)?$/;
const CANARY_TYPE_PREFIX = 'Canary:';

const MAX_TITLE_LENGTH = 256;
/** GuardDuty's additionalInfo.value is small; a huge one is not parsed (it is not the place for a sample flag). */
const MAX_ADDITIONAL_INFO_VALUE_LENGTH = 256 * 1024;

export function decide(item: NormalizedFinding, config: DecisionConfig): Decision {
  return item.source === 'manual' ? decideManual(item, config) : decideFinding(item, config);
}

function decideManual(item: ManualItem, config: DecisionConfig): Decision {
  const finding = manualFindingSummary(item.request);
  const target = manualTarget(item.request);
  requireInstanceId(target.instanceId, 'instanceId');
  requireAccountId(target.accountId, 'accountId');
  requireRegion(target.region, 'region');
  const outside = outsideConfiguration(target, config);
  if (outside) return ignore(outside, finding);
  return { decision: 'acquire', target, finding };
}

function decideFinding(item: GuardDutyItem, config: DecisionConfig): Decision {
  const { finding, origin } = item;
  const field = (camelPath: string) => fieldPath(origin, camelPath);

  const summary: FindingSummary = {
    id: requireFindingId(finding.id, field('id')),
    type: requireFindingType(finding.type, field('type')),
    severity: requireSeverity(finding.severity, field('severity')),
    ...optionalSummaryFields(finding),
  };
  const accountId = requireAccountId(finding.accountId, field('accountId'));
  const region = requireRegion(finding.region, field('region'));
  const resource = isObject(finding.resource) ? finding.resource : undefined;
  if (!resource) throw new InvalidInput(field('resource'), 'required');
  const resourceType = requireResourceType(resource.resourceType, field('resource.resourceType'));

  const sampleMarker = findSampleMarker(item);
  if (sampleMarker) {
    return ignore(`sample finding (${sampleMarker}): GuardDuty generated it, no instance is affected`, summary);
  }
  if (summary.type.startsWith(CANARY_TYPE_PREFIX)) {
    return ignore(`GuardDuty test finding (type ${summary.type})`, summary);
  }
  const service = isObject(finding.service) ? finding.service : undefined;
  if (readFlag(service?.archived, field('service.archived'))) {
    return ignore(`archived finding (${field('service.archived')} is true): it was closed in GuardDuty`, summary);
  }
  const outside = outsideConfiguration({ accountId, region }, config);
  if (outside) return ignore(outside, summary);

  const instanceDetails = isObject(resource.instanceDetails) ? resource.instanceDetails : undefined;
  const instanceIdField = field('resource.instanceDetails.instanceId');
  const namedInstance = instanceDetails?.instanceId;
  let instanceId: string;

  if (resourceType === INSTANCE_RESOURCE_TYPE) {
    if (namedInstance === undefined || namedInstance === null) {
      throw new InvalidInput(instanceIdField, 'required in a finding about an Instance');
    }
    instanceId = requireInstanceId(namedInstance, instanceIdField);
  } else if (resourceType === ACCESS_KEY_RESOURCE_TYPE && CREDENTIAL_EXFILTRATION_TYPE.test(summary.type)) {
    if (namedInstance === undefined || namedInstance === null || namedInstance === '') {
      return ignore(
        `credential exfiltration finding names no instance (no ${instanceIdField}): ` +
          'find the instance that uses the role named in the finding and request its acquisition manually',
        summary,
      );
    }
    instanceId = requireInstanceId(namedInstance, instanceIdField);
  } else if (CONTAINER_HOST_RESOURCE_TYPES.has(resourceType)) {
    if (namedInstance === undefined || namedInstance === null || namedInstance === '') {
      return ignore(`finding about ${article(resourceType)} resource names no host instance`, summary);
    }
    if (!config.acquireContainerHosts) {
      // The host is not a target here, so its id is only quoted (when well formed), never required.
      const wellFormed = typeof namedInstance === 'string' && INSTANCE_ID_PATTERN.test(namedInstance);
      const host = wellFormed ? ` ${namedInstance}` : '';
      return ignore(
        `runtime finding about ${article(resourceType)} resource: it names host instance${host}, ` +
          'but acquiring container hosts is not enabled in this deployment',
        summary,
      );
    }
    instanceId = requireInstanceId(namedInstance, instanceIdField);
  } else if (resourceType === ACCESS_KEY_RESOURCE_TYPE) {
    return ignore(
      `finding about an access key (${summary.type}), not an EC2 instance: ` +
        'of the access key findings only InstanceCredentialExfiltration names an instance to acquire',
      summary,
    );
  } else {
    return ignore(`finding about ${article(resourceType)} resource, not an EC2 instance`, summary);
  }

  if (summary.severity < config.minSeverity) {
    return ignore(
      `severity ${summary.severity} (${severityBand(summary.severity)}) is below the minimum ${config.minSeverity}`,
      summary,
    );
  }
  const target: Target = { accountId, region, instanceId };
  return { decision: 'acquire', target, finding: summary };
}

/**
 * The field that marks a finding as a sample, as written in the input, or undefined for a live finding.
 * A flag with a value that is neither true nor false is refused: guessing either way is wrong for someone.
 */
function findSampleMarker(item: GuardDutyItem): string | undefined {
  const { finding, origin } = item;
  const field = (camelPath: string) => fieldPath(origin, camelPath);
  if (readFlag(finding.sample, field('sample'))) return `${field('sample')} is true`;

  const info = isObject(finding.service) && isObject(finding.service.additionalInfo)
    ? finding.service.additionalInfo
    : undefined;
  if (!info) return undefined;
  if (readFlag(info.sample, field('service.additionalInfo.sample'))) {
    return `${field('service.additionalInfo.sample')} is true`;
  }

  const valueField = field('service.additionalInfo.value');
  const value = parseAdditionalInfoValue(info.value);
  if (!value) return undefined;
  let sample: boolean | undefined;
  try {
    sample = readFlag(value.sample, valueField);
  } catch {
    throw new InvalidInput(valueField, 'its "sample" flag is neither true nor false');
  }
  return sample ? `the JSON in ${valueField} has sample true` : undefined;
}

/** SDK/CLI output carries additionalInfo as `{Value: "<JSON text>", Type: "default"}`. */
function parseAdditionalInfoValue(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.length > MAX_ADDITIONAL_INFO_VALUE_LENGTH) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    // Free text rather than JSON: it carries no flag.
    return undefined;
  }
}

/** A GuardDuty boolean: true/false, or the strings "true"/"false" some exporters write; absent is undefined. */
export function readFlag(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  throw new InvalidInput(field, 'expected true or false');
}

const TIMESTAMP = /^[0-9][0-9T:.+Z-]{0,39}$/;
/** AWS access key ids: AKIA (long-term) or ASIA (temporary), upper-case letters and digits. */
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;

function optionalSummaryFields(finding: GuardDutyItem['finding']): Partial<FindingSummary> {
  const out: Partial<FindingSummary> = {};
  if (typeof finding.title === 'string') {
    const title = displayText(finding.title, MAX_TITLE_LENGTH);
    if (title) out.title = title;
  }
  const count = isObject(finding.service) ? finding.service.count : undefined;
  if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) out.count = count;
  if (typeof finding.updatedAt === 'string' && /^[0-9][0-9T:.+Z-]{0,39}$/.test(finding.updatedAt)) {
    out.updatedAt = finding.updatedAt;
  }
  const service = isObject(finding.service) ? finding.service : undefined;
  if (typeof service?.eventFirstSeen === 'string' && TIMESTAMP.test(service.eventFirstSeen) && Number.isFinite(Date.parse(service.eventFirstSeen))) {
    out.firstSeenAt = service.eventFirstSeen;
  }
  const keyDetails = isObject(finding.resource.accessKeyDetails) ? finding.resource.accessKeyDetails : undefined;
  // Only a real key id: GuardDuty's sample findings say "GeneratedFindingAccessKeyId".
  if (typeof keyDetails?.accessKeyId === 'string' && ACCESS_KEY_ID.test(keyDetails.accessKeyId)) {
    out.accessKeyIds = [keyDetails.accessKeyId];
  }
  return out;
}

/** Why a target is outside this deployment's configuration (account, region, evidence key), or undefined. */
function outsideConfiguration(target: { accountId: string; region: string }, config: DecisionConfig): string | undefined {
  const { accountId, region } = target;
  if (config.excludedAccounts?.includes(accountId)) {
    return `account ${accountId} is excluded from acquisition in this deployment (forensics:excludedAccounts)`;
  }
  const listed = config.workloadAccounts === undefined || config.workloadAccounts.includes(accountId);
  if (!listed && !config.organizationId) return `account ${accountId} is not a workload account of this deployment`;
  if (config.workloadRegions !== undefined && !config.workloadRegions.includes(region)) {
    return `region ${region} is not a workload region of this deployment (forensics:workloadRegions: ${config.workloadRegions.join(', ') || 'none'})`;
  }
  return config.evidence ? unreachableReason(target, config.evidence) : undefined;
}

/** GuardDuty's bands: LOW < 4, MEDIUM 4–6.9, HIGH 7–8.9, CRITICAL ≥ 9. */
export function severityBand(severity: number): 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' {
  if (severity >= 9) return 'CRITICAL';
  if (severity >= 7) return 'HIGH';
  if (severity >= 4) return 'MEDIUM';
  return 'LOW';
}

/** "an Instance", "an S3Bucket", "an RDSLimitlessDB", "a Lambda": an acronym is read letter by letter. */
function article(word: string): string {
  const acronym = /^[A-Z][A-Z0-9]/.test(word);
  return /^[aeiou]/i.test(word) || (acronym && /^[FHLMNRSX]/.test(word)) ? `an ${word}` : `a ${word}`;
}

function ignore(reason: string, finding: Partial<FindingSummary>): Decision {
  return { decision: 'ignore', reason, finding };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
