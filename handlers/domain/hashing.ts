import { createHash } from 'node:crypto';

/**
 * Hashing and canonical serialization for evidence.
 *
 * Every evidence object (custody record, manifest, instance.json, raw finding) is stored as the canonical JSON of
 * its value, and its SHA-256 is taken over exactly those UTF-8 bytes. So the hash a custody record names, the
 * checksum S3 verified on upload and the hash anyone recomputes from the downloaded object are the same number.
 */

/** The empty hash of a chain that has no record yet: the first custody record's `prevSha256`. */
export const ZERO_SHA256 = '0'.repeat(64);

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Base64 of the raw digest: the form S3's `x-amz-checksum-sha256` header carries. */
export function sha256Base64(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64');
}

export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

export function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

/**
 * Canonical JSON: the same value always serializes to the same string, whatever order its keys were built in.
 *
 * Rules (those of RFC 8785 JCS for the values this product writes):
 * - object keys sorted by UTF-16 code units (JavaScript's default sort), at every depth;
 * - no insignificant whitespace;
 * - strings and numbers written as `JSON.stringify` writes them (ES number-to-string, minimal escaping);
 * - arrays keep their order;
 * - `undefined` members and functions are omitted in objects (written `null` in arrays), `toJSON` is honoured
 *   (a Date becomes its ISO string) — both as `JSON.stringify` does, so parse(canonical) round-trips;
 * - non-finite numbers become `null` (as `JSON.stringify`): evidence must never fail to serialize over a NaN;
 * - BigInt and cycles throw a TypeError (they have no JSON form).
 */
export function canonicalJson(value: unknown): string {
  const out = serialize(value, new Set());
  // A top-level undefined has no JSON form; callers always pass a value, but keep the output valid JSON.
  return out ?? 'null';
}

function serialize(value: unknown, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt has no JSON form');
    default:
      break;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('canonicalJson: cyclic structure');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((item) => serialize(item, seen) ?? 'null').join(',')}]`;
    }
    const record = obj as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = serialize(record[key], seen);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

/** Canonical JSON of `value` and its SHA-256 (hex): what an evidence object's body and hash are. */
export function canonicalBody(value: unknown): { body: string; sha256: string } {
  const body = canonicalJson(value);
  return { body, sha256: sha256Hex(body) };
}
