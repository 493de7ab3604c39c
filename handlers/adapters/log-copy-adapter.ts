import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  CopyObjectCommand,
  type CopyObjectCommandOutput,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { base64ToHex } from '../domain/hashing';
import type { Clock } from '../domain/ports';
import type { SealedObject } from '../domain/types';
import { type EvidenceRetention, retainUntil } from './evidence-store';

export interface ListedObject {
  key: string;
  size: number;
}

/** A preserved log object: where it came from, where it is, its SHA-256 and size. */
export interface CopiedLog extends SealedObject {
  sourceBucket: string;
  sourceKey: string;
  bytes: number;
  /** True when the copy already existed (a retried step): its hash is the source's, read again. */
  existed: boolean;
}

/** `CopySource` is `bucket/key` with the key URL-encoded (slashes kept), as S3 documents it. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Server-side copies of log files (a trail's log and digest files, flow log files) into the evidence bucket, each
 * sealed as it is written: its own Object Lock retention (the deployment's mode, retain-until = now + the configured
 * days), a legal hold, `If-None-Match: *` (the bucket policy refuses any write without them) and a SHA-256 checksum.
 *
 * The hash: with `x-amz-checksum-algorithm: SHA256`, S3 computes the copy's checksum itself. `CopyObjectResult`
 * returns it as the base64 SHA-256 of the object when `ChecksumType` is `FULL_OBJECT`; a `COMPOSITE` checksum (a
 * source uploaded in parts, `…-N`) is a hash of part hashes, not the object's: then the source is read and hashed here
 * instead, as it is when the copy already existed (412 on `If-None-Match`; the evidence bucket is not readable by
 * this role). No encryption header is sent: the evidence bucket's default (the evidence key, bucket key on) applies
 * to a copy as to a PUT, whatever the source's encryption.
 */
export class LogCopyAdapter {
  constructor(
    private readonly client: S3Client,
    readonly evidenceBucket: string,
    private readonly retention: EvidenceRetention,
    private readonly clock: Clock = () => new Date(),
  ) {}

  /** Objects under `prefix`, up to `max` (then `truncated`). */
  async list(bucket: string, prefix: string, max: number): Promise<{ objects: ListedObject[]; truncated: boolean }> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && objects.length <= max);
    return { objects: objects.slice(0, max), truncated: objects.length > max || Boolean(token) };
  }

  async copy(source: { bucket: string; key: string; size?: number }, key: string, retainUntilDate?: Date): Promise<CopiedLog> {
    let out: CopyObjectCommandOutput;
    try {
      out = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.evidenceBucket,
          Key: key,
          CopySource: copySource(source.bucket, source.key),
          ChecksumAlgorithm: 'SHA256',
          ObjectLockMode: this.retention.mode,
          ObjectLockRetainUntilDate: retainUntilDate ?? retainUntil(this.clock(), this.retention.days),
          ObjectLockLegalHoldStatus: 'ON',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((err as Error).name !== 'PreconditionFailed' && status !== 412) throw err;
      const read = await this.hashSource(source);
      return { key, sha256: read.sha256, sourceBucket: source.bucket, sourceKey: source.key, bytes: read.bytes, existed: true };
    }
    const result = out.CopyObjectResult;
    const full = result?.ChecksumSHA256 && result.ChecksumType !== 'COMPOSITE' && !result.ChecksumSHA256.includes('-');
    const sha256 = full ? base64ToHex(result.ChecksumSHA256 as string) : undefined;
    const hashed = sha256 && sha256.length === 64 ? { sha256, bytes: source.size ?? 0 } : await this.hashSource(source);
    return {
      key,
      sha256: hashed.sha256,
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      sourceBucket: source.bucket,
      sourceKey: source.key,
      bytes: source.size ?? hashed.bytes,
      existed: false,
    };
  }

  /** The `Records` of a trail log file (gzip JSON, `{"Records":[…]}`): the principal's data events are among them. */
  async records(bucket: string, key: string): Promise<unknown[]> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const chunks: Uint8Array[] = [];
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    // gzip magic number: CloudTrail delivers gzip; anything else is read as plain JSON.
    const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
    const parsed = JSON.parse(text) as { Records?: unknown };
    return Array.isArray(parsed.Records) ? parsed.Records : [];
  }

  private async hashSource(source: { bucket: string; key: string }): Promise<{ sha256: string; bytes: number }> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }));
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), bytes };
  }
}
