import { InvalidInput } from './errors';
import {
  jsonType,
  requireAccountId,
  requireFindingId,
  requireFindingType,
  requireRegion,
  requireResourceType,
  requireSeverity,
} from './identifier-formats';
import { parseManualRequest, type ManualRequest } from './manual-request';

/**
 * Turns any input the workflow or the `plan` command accepts into findings of one canonical shape: GuardDuty's own
 * API format, camelCase keys (`resource.instanceDetails.instanceId`, `service.additionalInfo`), or a validated
 * manual request. Accepted inputs:
 *
 *  - an EventBridge event (`source: aws.guardduty`, `detail-type: GuardDuty Finding`), finding in `detail`;
 *  - a bare finding, in API camelCase (EventBridge `detail`, GetFindings JSON) or SDK/CLI PascalCase;
 *  - `aws guardduty get-findings` output, `{"Findings": [...]}` (or `findings`), up to MAX_FINDINGS findings;
 *  - a JSON array of bare findings (what `jq .Findings` or a saved SDK response gives);
 *  - a manual request (`instanceId`, `accountId`, `region`, `reason`, `requestedBy`, optional `options`).
 *
 * Every finding in the input is checked before any is returned, so one malformed finding rejects the whole input
 * (an operator must not get a partial answer for a batch). Malformed input throws `InvalidInput` naming the field
 * as it appears in the input (`detail.severity`, `Findings[1].AccountId`). The identity of each finding (id, type,
 * severity, account, region, resource type) is checked here; what to acquire, and the instance id of the target,
 * is the decision's business (`finding-decision.ts`).
 *
 * Pure: no SDK imports, no I/O.
 */

/** `get-findings` returns at most 50 per call; a few pages joined together is still a plausible input. */
export const MAX_FINDINGS = 100;
/** GuardDuty findings nest about ten levels deep; far deeper input is hostile or broken, and recursion is bounded. */
export const MAX_DEPTH = 32;

export type InputShape = 'eventbridge' | 'finding' | 'finding-list' | 'get-findings' | 'manual';

export interface FindingOrigin {
  shape: InputShape;
  /** Where the finding sits in the input: '' for a bare finding, `detail`, `Findings[2]`, `[0]`. */
  path: string;
  /** The key casing the input used, so errors and reasons name fields as the responder sees them in the file. */
  casing: 'camel' | 'pascal';
}

export interface GuardDutyInstanceDetails {
  instanceId?: string | null;
  [key: string]: unknown;
}

export interface GuardDutyResource {
  resourceType: string;
  instanceDetails?: GuardDutyInstanceDetails | null;
  [key: string]: unknown;
}

export interface GuardDutyService {
  archived?: unknown;
  count?: unknown;
  featureName?: unknown;
  additionalInfo?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** A GuardDuty finding in the API's camelCase format, with its identity fields checked. */
export interface GuardDutyFinding {
  id: string;
  type: string;
  severity: number;
  accountId: string;
  region: string;
  resource: GuardDutyResource;
  service?: GuardDutyService | null;
  title?: unknown;
  updatedAt?: unknown;
  /** Not part of GuardDuty's format, but some exports mark sample findings here. */
  sample?: unknown;
  [key: string]: unknown;
}

export interface GuardDutyItem {
  source: 'guardduty';
  origin: FindingOrigin;
  finding: GuardDutyFinding;
}

export interface ManualItem {
  source: 'manual';
  origin: FindingOrigin;
  request: ManualRequest;
}

export type NormalizedFinding = GuardDutyItem | ManualItem;

const EVENT_SOURCE = 'aws.guardduty';
const EVENT_DETAIL_TYPE = 'GuardDuty Finding';

export function normalize(input: unknown): NormalizedFinding[] {
  if (Array.isArray(input)) return normalizeList(input, '', 'finding-list');
  if (!isObject(input)) throw new InvalidInput('input', `expected a JSON object, got ${jsonType(input)}`);

  if (has(input, 'detail-type') || has(input, 'source') || has(input, 'detail')) return [normalizeEvent(input)];
  if (has(input, 'ProductArn') || has(input, 'AwsAccountId')) {
    throw new InvalidInput(
      'input',
      'a Security Hub (ASFF) finding: give the GuardDuty finding or its EventBridge event',
    );
  }
  if (has(input, 'Findings') || has(input, 'findings')) return normalizeGetFindings(input);
  if (has(input, 'resource') || has(input, 'Resource')) return [normalizeFinding(input, '', 'finding')];
  if (has(input, 'instanceId') || has(input, 'requestedBy') || has(input, 'reason')) {
    const origin: FindingOrigin = { shape: 'manual', path: '', casing: 'camel' };
    return [{ source: 'manual', origin, request: parseManualRequest(input) }];
  }
  // A finding that lost its resource: say what is missing rather than "unrecognized".
  if (['type', 'Type', 'severity', 'Severity', 'schemaVersion', 'SchemaVersion'].some((k) => has(input, k))) {
    return [normalizeFinding(input, '', 'finding')];
  }
  throw new InvalidInput(
    'input',
    'not a GuardDuty EventBridge event, a GuardDuty finding, get-findings output or a manual request',
  );
}

function normalizeEvent(event: Record<string, unknown>): GuardDutyItem {
  if (event.source !== EVENT_SOURCE) {
    throw new InvalidInput('source', `expected "${EVENT_SOURCE}" (only GuardDuty events are accepted)`);
  }
  if (event['detail-type'] !== EVENT_DETAIL_TYPE) {
    throw new InvalidInput('detail-type', `expected "${EVENT_DETAIL_TYPE}"`);
  }
  if (!isObject(event.detail)) {
    const got = jsonType(event.detail);
    throw new InvalidInput('detail', event.detail === undefined ? 'required' : `expected the finding object, got ${got}`);
  }
  // The envelope's account and region are the delivering bus's (often the GuardDuty administrator): unused.
  return normalizeFinding(event.detail, 'detail', 'eventbridge');
}

function normalizeGetFindings(output: Record<string, unknown>): GuardDutyItem[] {
  if (has(output, 'Findings') && has(output, 'findings')) {
    throw new InvalidInput('Findings', 'given twice (Findings and findings)');
  }
  const key = has(output, 'Findings') ? 'Findings' : 'findings';
  const list = output[key];
  if (!Array.isArray(list)) throw new InvalidInput(key, `expected an array of findings, got ${jsonType(list)}`);
  return normalizeList(list, key, 'get-findings');
}

function normalizeList(list: unknown[], at: string, shape: InputShape): GuardDutyItem[] {
  const field = at || 'input';
  if (list.length === 0) throw new InvalidInput(field, 'expected at least one finding');
  if (list.length > MAX_FINDINGS) throw new InvalidInput(field, `more than ${MAX_FINDINGS} findings`);
  return list.map((finding, index) => normalizeFinding(finding, `${at}[${index}]`, shape));
}

function normalizeFinding(raw: unknown, at: string, shape: InputShape): GuardDutyItem {
  if (!isObject(raw)) throw new InvalidInput(at || 'input', `expected a finding object, got ${jsonType(raw)}`);
  const origin: FindingOrigin = {
    shape,
    path: at,
    casing: Object.keys(raw).some((key) => /^[A-Z]/.test(key)) ? 'pascal' : 'camel',
  };
  const finding = toCamelCase(raw, at, '', 0) as Record<string, unknown>;
  const field = (camelPath: string) => fieldPath(origin, camelPath);

  requireFindingId(finding.id, field('id'));
  requireFindingType(finding.type, field('type'));
  requireSeverity(finding.severity, field('severity'));
  requireAccountId(finding.accountId, field('accountId'));
  requireRegion(finding.region, field('region'));

  const resource = finding.resource;
  if (!isObject(resource)) {
    const problem = resource === undefined ? 'required' : `expected an object, got ${jsonType(resource)}`;
    throw new InvalidInput(field('resource'), problem);
  }
  requireResourceType(resource.resourceType, field('resource.resourceType'));
  optionalObject(resource.instanceDetails, field('resource.instanceDetails'));
  if (isObject(resource.instanceDetails)) {
    const instanceId = resource.instanceDetails.instanceId;
    if (instanceId !== undefined && instanceId !== null && typeof instanceId !== 'string') {
      const problem = `expected a string, got ${jsonType(instanceId)}`;
      throw new InvalidInput(field('resource.instanceDetails.instanceId'), problem);
    }
  }
  optionalObject(finding.service, field('service'));
  if (isObject(finding.service)) optionalObject(finding.service.additionalInfo, field('service.additionalInfo'));

  return { source: 'guardduty', origin, finding: finding as GuardDutyFinding };
}

function optionalObject(value: unknown, field: string): void {
  if (value !== undefined && value !== null && !isObject(value)) {
    throw new InvalidInput(field, `expected an object, got ${jsonType(value)}`);
  }
}

/**
 * The name of a field of a normalized finding as it is written in the input: `detail.resource.instanceDetails`
 * for an EventBridge event, `Findings[0].Resource.InstanceDetails` for CLI output.
 */
export function fieldPath(origin: FindingOrigin, camelPath: string): string {
  const segments = camelPath.split('.');
  const written = origin.casing === 'pascal' ? segments.map((s) => s.charAt(0).toUpperCase() + s.slice(1)) : segments;
  return origin.path ? `${origin.path}.${written.join('.')}` : written.join('.');
}

/**
 * SDK/CLI PascalCase key to the API's camelCase: `InstanceId` → `instanceId`, `IPV6Addresses` → `ipv6Addresses`,
 * `IpAddressV4` → `ipAddressV4`, `S3BucketDetails` → `s3BucketDetails`, `ID` → `id`. Keys that are not
 * identifiers are data, not field names, and are kept as they are (`AWS::EC2::Instance` in `affectedResources`).
 */
export function camelCaseKey(key: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(key)) return key;
  const leadingCapitals = /^[A-Z]+/.exec(key)?.[0] ?? '';
  if (leadingCapitals.length === key.length) return key.toLowerCase();
  const next = key.charAt(leadingCapitals.length);
  // An acronym runs until the capital that starts the next word: "IAMInstance" → "iam" + "Instance".
  if (/[a-z]/.test(next)) {
    if (leadingCapitals.length === 1) return key.charAt(0).toLowerCase() + key.slice(1);
    const acronym = leadingCapitals.slice(0, -1);
    return acronym.toLowerCase() + key.slice(acronym.length);
  }
  // Followed by a digit: the whole run is one word ("IPV6", "S3", "EC2").
  return leadingCapitals.toLowerCase() + key.slice(leadingCapitals.length);
}

/** The fields the normalizer and the decision read: an ambiguous key among them is refused. */
const READ_PATHS = new Set([
  'id',
  'type',
  'severity',
  'accountId',
  'region',
  'sample',
  'title',
  'updatedAt',
  'resource',
  'resource.resourceType',
  'resource.instanceDetails',
  'resource.instanceDetails.instanceId',
  'resource.accessKeyDetails',
  'resource.accessKeyDetails.accessKeyId',
  'service',
  'service.archived',
  'service.count',
  'service.eventFirstSeen',
  'service.additionalInfo',
  'service.additionalInfo.sample',
  'service.additionalInfo.value',
]);

/**
 * Converts every key recursively. Two keys that become one (`severity` and `Severity`) make a field ambiguous:
 * which one GuardDuty meant cannot be known, so among the fields that are read that is refused rather than
 * resolved by key order. Elsewhere the second key is kept as written: maps of workload data (labels, say) may
 * legitimately hold `App` and `app`, and an attacker who sets labels must not be able to get a finding refused.
 * Objects are rebuilt with defineProperty so a `__proto__` key stays data and never becomes a prototype.
 */
function toCamelCase(value: unknown, at: string, readPath: string | undefined, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new InvalidInput(at || 'input', `nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    return value.map((item, index) => toCamelCase(item, `${at}[${index}]`, undefined, depth + 1));
  }
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = joinKey(at, key);
    let camel = camelCaseKey(key);
    const childReadPath = readPath === undefined ? undefined : readPath ? `${readPath}.${camel}` : camel;
    if (Object.hasOwn(out, camel)) {
      if (childReadPath !== undefined && READ_PATHS.has(childReadPath)) {
        throw new InvalidInput(childPath, 'given twice with different letter case');
      }
      camel = key;
      if (Object.hasOwn(out, camel)) continue;
    }
    Object.defineProperty(out, camel, {
      value: toCamelCase(child, childPath, childReadPath, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Appends a key to a path; a key that is not a plain name is quoted, so the path stays one readable line. */
function joinKey(at: string, key: string): string {
  if (/^[A-Za-z0-9_$@:-]{1,64}$/.test(key)) return at ? `${at}.${key}` : key;
  const shown = key.length > 64 ? `${key.slice(0, 63)}…` : key;
  return `${at}[${JSON.stringify(shown).replace(/[^\x20-\x7e]/g, '?')}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(object: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(object, key);
}
