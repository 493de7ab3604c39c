import type { RotateItem, RotateKind, TimelineEvent } from './scope-documents';

/**
 * The rotate list: what the compromised role could read, observed reads first, each with the exact AWS CLI command a
 * responder runs to rotate or re-key it. Pure; the product never runs these commands.
 */

/** A readable item found by the inventory and the access evaluation, before ranking. */
export type ReadableItem = Pick<RotateItem, 'kind' | 'arn' | 'name' | 'region' | 'allowedActions' | 'basis' | 'possibly' | 'notes'>;

/** An inventory item before evaluation. */
export type InventoryItem = Pick<RotateItem, 'kind' | 'arn' | 'name' | 'region'>;

/** The read actions evaluated per kind (iam:SimulatePrincipalPolicy ActionNames). */
export const READ_ACTIONS: Record<RotateKind, readonly string[]> = {
  secret: ['secretsmanager:GetSecretValue'],
  parameter: ['ssm:GetParameter', 'ssm:GetParameters'],
  'kms-key': ['kms:Decrypt'],
  's3-bucket': ['s3:GetObject'],
};

/** The ARN the simulation evaluates for an item: a bucket's objects (`arn:…:s3:::bucket/*`), else the item's ARN. */
export function simulationResourceArn(item: InventoryItem): string {
  return item.kind === 's3-bucket' ? `${item.arn}/*` : item.arn;
}

/** Kind order after observed: a secret's value is a credential as is, a parameter often too, a key unlocks data. */
const KIND_ORDER: Record<RotateKind, number> = { secret: 0, parameter: 1, 'kms-key': 2, 's3-bucket': 3 };

/** Which event names read an item of each kind. */
const READ_EVENTS: Record<RotateKind, ReadonlySet<string>> = {
  secret: new Set(['GetSecretValue', 'BatchGetSecretValue']),
  parameter: new Set(['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetParameterHistory']),
  'kms-key': new Set(['Decrypt', 'GenerateDataKey', 'ReEncrypt']),
  's3-bucket': new Set(['GetObject']),
};

/** `arn:aws:secretsmanager:r:a:secret:name-AbCdEf` → `name`: Secrets Manager appends six random characters. */
function secretNameOfArn(arn: string): string | undefined {
  return /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn)?.[1];
}

/** True when a resource name an event gives (an ARN, a name, a partial ARN, an alias) designates the item. */
function designates(item: InventoryItem, name: string): boolean {
  if (name === item.arn || name === item.name) return true;
  switch (item.kind) {
    case 'secret':
      // GetSecretValue's SecretId may be the name, the full ARN or the ARN without its random suffix.
      return name === secretNameOfArn(item.arn) || item.arn.startsWith(`${name}-`);
    case 'parameter':
      // GetParameter's Name: the name, with or without the leading slash, or its ARN (`…:parameter/name`).
      return name.replace(/^\//, '') === item.name.replace(/^\//, '') || name.endsWith(`:parameter/${item.name.replace(/^\//, '')}`);
    case 'kms-key':
      return name === item.arn.slice(item.arn.lastIndexOf('/') + 1);
    case 's3-bucket':
      return name === item.name || name.startsWith(`${item.arn}/`);
  }
}

/** The event ids of the timeline's reads of `item` (successful calls in its region, by name and resource). */
export function observedReads(item: InventoryItem, events: readonly TimelineEvent[]): string[] {
  return events
    .filter(
      (e) =>
        READ_EVENTS[item.kind].has(e.eventName) &&
        e.errorCode === null &&
        (item.kind === 's3-bucket' || e.region === item.region) &&
        e.resources.some((r) => designates(item, r.name)),
    )
    .map((e) => e.eventId);
}

/** Quotes a value for a POSIX shell when it holds anything beyond the characters AWS names and ARNs use. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@=+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The exact AWS CLI command that rotates or re-keys the item. */
export function rotateCommand(item: InventoryItem): string {
  const region = shellQuote(item.region);
  switch (item.kind) {
    case 'secret':
      return `aws secretsmanager rotate-secret --secret-id ${shellQuote(item.arn)} --region ${region}`;
    case 'parameter':
      return `aws ssm put-parameter --name ${shellQuote(item.name)} --type SecureString --overwrite --value '<new value>' --region ${region}`;
    case 'kms-key':
      return `aws kms rotate-key-on-demand --key-id ${shellQuote(item.arn)} --region ${region}`;
    case 's3-bucket':
      // Data read cannot be un-read: review what was there, then re-encrypt in place under a new key.
      return `aws s3 cp s3://${item.name}/ s3://${item.name}/ --recursive --sse aws:kms --sse-kms-key-id '<new key ARN>' --region ${region}  # review the objects first: data that was read is exposed, re-keying only protects it from now on`;
  }
}

/** The rotate list: observed reads first, then by kind (secret, parameter, key, bucket), then by name; ranked from 1. */
export function rankRotateList(items: readonly ReadableItem[], events: readonly TimelineEvent[]): RotateItem[] {
  const withObserved = items.map((item) => {
    const observedEventIds = observedReads(item, events);
    return { ...item, observed: observedEventIds.length > 0, observedEventIds, command: rotateCommand(item) };
  });
  withObserved.sort(
    (a, b) =>
      Number(b.observed) - Number(a.observed) ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      (a.region < b.region ? -1 : a.region > b.region ? 1 : 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return withObserved.map((item, i) => ({
    rank: i + 1,
    kind: item.kind,
    arn: item.arn,
    name: item.name,
    region: item.region,
    allowedActions: [...item.allowedActions],
    basis: item.basis,
    ...(item.possibly ? { possibly: true } : {}),
    ...(item.notes?.length ? { notes: [...item.notes] } : {}),
    observed: item.observed,
    observedEventIds: item.observedEventIds,
    command: item.command,
  }));
}

/** The first items of the list, as the manifest, notifications and `case show` print them. */
export function topOfRotateList(items: readonly RotateItem[], count = 5) {
  return items.slice(0, count).map((i) => ({ rank: i.rank, kind: i.kind, name: i.name, region: i.region, observed: i.observed, command: i.command }));
}
