import { InvalidInput } from './errors';

/**
 * Formats of the identifiers that decide what gets acquired, and the checks that reject anything else.
 *
 * Shared by the finding normalizer, the acquisition decision, the manual-request schema and the case id, so that a
 * value accepted at one door is accepted at every other. Each check throws `InvalidInput` naming the field the
 * caller passes, in the caller's own path vocabulary. Problems never echo the offending value: it may be attacker
 * supplied (oversized, control characters) and it would end up in logs and notifications.
 */

/** `i-` then 8 (older) or 17 hex digits; EC2 only ever issues lowercase. */
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/**
 * Region names across partitions: us-east-1, eu-central-2, us-gov-west-1, us-iso-east-1, cn-northwest-1,
 * eusc-de-east-1. Not a list of today's regions, so a new region needs no release; an AZ (us-east-1a) is refused.
 */
export const REGION_PATTERN = /^[a-z]{2,4}(?:-[a-z]+){1,3}-\d{1,2}$/;
/** GuardDuty ids are 32 hex digits; the id becomes part of an S3 key, so no `/`, `.` or spaces. */
export const FINDING_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** `Purpose:ResourceType/Family.Mechanism!Artifact`, e.g. `Backdoor:EC2/C&CActivity.B!DNS`: printable, no spaces. */
export const FINDING_TYPE_PATTERN = /^[\x21-\x7e]+$/;
export const RESOURCE_TYPE_PATTERN = /^[A-Za-z0-9]+$/;

/**
 * Identifiers longer than this are refused as oversized before their format is checked; shorter ones that do not
 * match get the more useful "expected …" problem (a volume id, an ARN where an instance id belongs).
 */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_FINDING_ID_LENGTH = 128;
export const MAX_FINDING_TYPE_LENGTH = 256;
export const MAX_RESOURCE_TYPE_LENGTH = 64;
export const MAX_REGION_LENGTH = 32;

/**
 * C0 and C1 controls, DEL, zero-width and bidirectional formatting characters, line/paragraph separators and the
 * BOM: characters that forge log lines, hide text or reorder it on screen (Trojan Source) when a value is shown
 * to a responder.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control and format characters are what this refuses
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same set, to replace them
const UNSAFE_CHARACTERS_GLOBAL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function hasUnsafeCharacters(value: string): boolean {
  return UNSAFE_CHARACTERS.test(value);
}

/**
 * For display-only text (a finding's title): GuardDuty builds titles from observed data, so an attacker may shape
 * them. Refusing the finding over its title would let that attacker suppress an acquisition; cleaning it does not.
 */
export function displayText(value: string, maxLength: number): string {
  const cleaned = value.replace(UNSAFE_CHARACTERS_GLOBAL, ' ').replace(/\s+/g, ' ').trim();
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 1)}…` : cleaned;
}

/** A string of bounded length without unsafe characters; the order of checks gives the most precise problem. */
export function requireText(value: unknown, field: string, maxLength: number): string {
  if (value === undefined || value === null) throw new InvalidInput(field, 'required');
  if (typeof value !== 'string') throw new InvalidInput(field, `expected a string, got ${jsonType(value)}`);
  if (value.length === 0) throw new InvalidInput(field, 'must not be empty');
  if (value.length > maxLength) throw new InvalidInput(field, `longer than ${maxLength} characters`);
  if (hasUnsafeCharacters(value)) throw new InvalidInput(field, 'contains control or invisible formatting characters');
  return value;
}

function requirePattern(
  value: unknown,
  field: string,
  maxLength: number,
  pattern: RegExp,
  expected: string,
): string {
  const text = requireText(value, field, maxLength);
  if (!pattern.test(text)) throw new InvalidInput(field, `expected ${expected}`);
  return text;
}

export const INSTANCE_ID_EXPECTED = 'an EC2 instance id (i- followed by 8 or 17 lowercase hex digits)';

export const ACCOUNT_ID_EXPECTED = 'a 12-digit AWS account id';
export const REGION_EXPECTED = 'an AWS region name such as us-east-1';

export function requireInstanceId(value: unknown, field: string): string {
  return requirePattern(value, field, MAX_IDENTIFIER_LENGTH, INSTANCE_ID_PATTERN, INSTANCE_ID_EXPECTED);
}

export function requireAccountId(value: unknown, field: string): string {
  return requirePattern(value, field, MAX_IDENTIFIER_LENGTH, ACCOUNT_ID_PATTERN, ACCOUNT_ID_EXPECTED);
}

export function requireRegion(value: unknown, field: string): string {
  const region = requirePattern(value, field, MAX_IDENTIFIER_LENGTH, REGION_PATTERN, REGION_EXPECTED);
  if (region.length > MAX_REGION_LENGTH) throw new InvalidInput(field, `expected ${REGION_EXPECTED}`);
  return region;
}

export function requireFindingId(value: unknown, field: string): string {
  return requirePattern(
    value,
    field,
    MAX_FINDING_ID_LENGTH,
    FINDING_ID_PATTERN,
    'a finding id of letters, digits, "-" and "_"',
  );
}

export function requireFindingType(value: unknown, field: string): string {
  return requirePattern(
    value,
    field,
    MAX_FINDING_TYPE_LENGTH,
    FINDING_TYPE_PATTERN,
    'a GuardDuty finding type such as Backdoor:EC2/C&CActivity.B (printable, no spaces)',
  );
}

export function requireResourceType(value: unknown, field: string): string {
  return requirePattern(
    value,
    field,
    MAX_RESOURCE_TYPE_LENGTH,
    RESOURCE_TYPE_PATTERN,
    'a GuardDuty resource type such as Instance',
  );
}

/** GuardDuty severities are numbers in [0, 10]; a string ("8", "HIGH") is refused rather than guessed at. */
export function requireSeverity(value: unknown, field: string): number {
  if (value === undefined || value === null) throw new InvalidInput(field, 'required (a number between 0 and 10)');
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) {
    throw new InvalidInput(field, 'expected a number between 0 and 10');
  }
  return value;
}

/** The JSON type of a value, for problems that say what was found without echoing it. */
export function jsonType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Account id and partition of an ARN (`arn:<partition>:<service>:<region>:<account>:...`). */
export function arnParts(arn: string): { partition: string; accountId: string } | undefined {
  const m = /^arn:(aws[a-z-]*):[^:]*:[^:]*:(\d{12}):/.exec(arn);
  return m ? { partition: m[1] as string, accountId: m[2] as string } : undefined;
}
