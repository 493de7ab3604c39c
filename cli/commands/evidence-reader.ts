import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';
import { isCaseId } from '../../handlers/domain/case-id';
import type { CustodyRecord } from '../../handlers/domain/custody-record';
import { sha256Hex } from '../../handlers/domain/hashing';
import { manifestKey, type ManifestV1 } from '../../handlers/domain/manifest';
import type { CaseRecord } from '../../handlers/domain/ports';
import type { SealResult } from '../../handlers/domain/types';
import { clientConfig, type Deployment } from '../deployment/discover';
import { OperationFailed, UsageError } from './common';

/**
 * Reading a case's evidence as stored: object versions, bodies as bytes, the case record. Shared by `case show`,
 * `case verify` and `case download`.
 */

export function requireCaseId(caseId: string): string {
  if (!isCaseId(caseId)) {
    throw new UsageError('caseId: expected <yyyymmddThhmmssZ>-<instance id>, e.g. 20261128T091500Z-i-0123456789abcdef0');
  }
  return caseId;
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  lastModified?: Date;
}

export interface KeyVersions {
  /** Newest first (the order S3 lists them in). */
  versions: ObjectVersion[];
  /** True when the newest entry for the key is a delete marker. */
  deleted: boolean;
}

/** Every version and delete marker under `prefix`, grouped by key. */
export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, KeyVersions>> {
  const out = new Map<string, KeyVersions>();
  const entry = (key: string) => {
    let e = out.get(key);
    if (!e) {
      e = { versions: [], deleted: false };
      out.set(key, e);
    }
    return e;
  };
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    for (const v of res.Versions ?? []) {
      if (!v.Key) continue;
      entry(v.Key).versions.push({
        key: v.Key,
        versionId: v.VersionId ?? 'null',
        isLatest: v.IsLatest === true,
        ...(v.LastModified ? { lastModified: v.LastModified } : {}),
      });
    }
    for (const m of res.DeleteMarkers ?? []) {
      if (m.Key && m.IsLatest) entry(m.Key).deleted = true;
    }
    if (!res.IsTruncated) break;
    keyMarker = res.NextKeyMarker;
    versionIdMarker = res.NextVersionIdMarker;
  }
  for (const e of out.values()) {
    e.versions.sort((a, b) => Number(b.isLatest) - Number(a.isLatest) || (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
  }
  return out;
}

export function latestVersion(versions: KeyVersions | undefined): ObjectVersion | undefined {
  if (!versions || versions.deleted) return undefined;
  return versions.versions.find((v) => v.isLatest) ?? versions.versions[0];
}

export interface StoredObject {
  key: string;
  versionId: string | undefined;
  bytes: Buffer;
  sha256: string;
}

export async function readObject(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<StoredObject> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
  return { key, versionId: res.VersionId ?? versionId, bytes, sha256: sha256Hex(bytes) };
}

export async function readCaseRecord(deployment: Deployment, caseId: string): Promise<CaseRecord | undefined> {
  if (!deployment.table) return undefined;
  const ddb = new DynamoDBClient(clientConfig(deployment));
  try {
    return await new DynamoCaseTable(ddb, deployment.table).getCase(caseId);
  } finally {
    ddb.destroy();
  }
}

/** The manifest version the case table says was sealed (key, hash, version), when the case was sealed. */
export function sealedManifest(record: CaseRecord | undefined): SealResult['manifest'] | undefined {
  const seal = record?.details?.seal as SealResult | undefined;
  return seal?.manifest;
}

export interface LoadedManifest {
  key: string;
  object: StoredObject;
  manifest: ManifestV1;
}

/**
 * Reads the manifest: the version the case table names as sealed when there is one (so a newer, forged version is
 * not what gets summarized or verified), else the latest.
 */
export async function loadManifest(
  s3: S3Client,
  bucket: string,
  caseId: string,
  record: CaseRecord | undefined,
): Promise<LoadedManifest> {
  const key = manifestKey(caseId);
  const sealed = sealedManifest(record);
  let object: StoredObject;
  try {
    object = await readObject(s3, bucket, key, sealed?.versionId);
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion') {
      const status = record ? ` (case status ${record.status})` : '';
      throw new OperationFailed(`case ${caseId}: no manifest at s3://${bucket}/${key}${status}`);
    }
    throw err;
  }
  let manifest: ManifestV1;
  try {
    manifest = JSON.parse(object.bytes.toString('utf8')) as ManifestV1;
  } catch {
    throw new OperationFailed(`s3://${bucket}/${key} is not valid JSON`);
  }
  return { key, object, manifest };
}

export interface CustodyEntry {
  key: string;
  versionId: string | undefined;
  /** Number of versions stored at the key (1 for an untouched record). */
  versionCount: number;
  object: StoredObject;
  record: CustodyRecord | undefined;
}

/** The custody records as stored now: the latest version of every key under `custody/`, in key (= chain) order. */
export async function loadCustody(s3: S3Client, bucket: string, caseId: string): Promise<{ entries: CustodyEntry[]; versions: Map<string, KeyVersions> }> {
  const versions = await listVersions(s3, bucket, `cases/${caseId}/custody/`);
  const keys = [...versions.keys()].filter((k) => latestVersion(versions.get(k))).sort();
  const entries = await mapLimit(keys, 8, async (key) => {
    const v = versions.get(key);
    const latest = latestVersion(v);
    const object = await readObject(s3, bucket, key, latest?.versionId === 'null' ? undefined : latest?.versionId);
    let record: CustodyRecord | undefined;
    try {
      record = JSON.parse(object.bytes.toString('utf8')) as CustodyRecord;
    } catch {
      record = undefined;
    }
    return { key, versionId: latest?.versionId, versionCount: v?.versions.length ?? 0, object, record };
  });
  return { entries, versions };
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}
