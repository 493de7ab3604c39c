import {
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConfigurationError, EvidenceWriteFailed } from '../domain/errors';
import { EvidenceExists } from '../domain/evidence-errors';
import { base64ToHex, sha256Hex, hexToBase64 } from '../domain/hashing';
import type { Clock, EvidenceStore } from '../domain/ports';
import type { ObjectRetention } from '../domain/drill';
import type { SealedObject } from '../domain/types';

/** The Object Lock retention every evidence object carries: mode, and days from the time it is written. */
export interface EvidenceRetention {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  days: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Retain-until date of an object written at `writtenAt` (what S3 itself computes for a default retention of `days`). */
export function retainUntil(writtenAt: Date, days: number): Date {
  return new Date(writtenAt.getTime() + days * DAY_MS);
}

/**
 * The evidence bucket (Object Lock with a COMPLIANCE default retention, versioning, SSE-KMS by bucket default).
 *
 * Every object is written:
 * - with the SHA-256 we computed, sent as `x-amz-checksum-sha256`: S3 rejects the upload if the bytes it received
 *   hash differently, so the hash in the custody chain is the hash of what S3 stored. When S3 echoes the checksum
 *   back, it is compared too;
 * - with its own Object Lock retention (the deployment's mode, retain-until = now + the configured days), not the
 *   bucket's default alone: a default applies only to writes that name no retention and can be changed for later
 *   writes by whoever may reconfigure the bucket, while a COMPLIANCE date on the object version can be shortened by
 *   nobody. The retention is a constructor argument, so no writer can put evidence without one;
 * - under a legal hold, which keeps the object even after the retention ends, until a responder lifts it;
 * - with `If-None-Match: *`: S3 refuses to create a second version at an existing key, so evidence is never
 *   replaced even by a bug in a use case (they also check `exists` first, to skip rather than fail).
 * Encryption is not set per object: the bucket's default (the evidence key, bucket key on) applies, and a bucket
 * policy can then insist on it without every writer knowing the key.
 */
export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly retention: EvidenceRetention,
    private readonly clock: Clock = () => new Date(),
  ) {
    if (!Number.isInteger(retention.days) || retention.days < 1) {
      throw new ConfigurationError(`evidence retention: expected a whole number of days ≥ 1, got ${retention.days}`);
    }
  }

  async put(key: string, body: string, contentType = 'application/json', retention?: ObjectRetention): Promise<SealedObject> {
    const bytes = Buffer.from(body, 'utf8');
    const sha256 = sha256Hex(bytes);
    const checksum = hexToBase64(sha256);
    let out: PutObjectCommandOutput;
    try {
      out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: checksum,
          // Always the configured mode (the bucket policy refuses any other); a drill case's objects only end sooner.
          ObjectLockMode: this.retention.mode,
          ObjectLockRetainUntilDate: retention?.retainUntil ?? retainUntil(this.clock(), this.retention.days),
          ObjectLockLegalHoldStatus: 'ON',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((err as Error).name === 'PreconditionFailed' || status === 412) throw new EvidenceExists(key, { cause: err });
      throw err;
    }
    if (out.ChecksumSHA256 && out.ChecksumSHA256 !== checksum) {
      // S3 validated the upload against our header, so this should not happen; if it does, say so loudly: the
      // object stays (it is under legal hold) and the custody chain names the hash we meant to store.
      throw new EvidenceWriteFailed(
        `S3 reports SHA-256 ${base64ToHex(out.ChecksumSHA256)} for ${key}, expected ${sha256}`,
      );
    }
    return { key, sha256, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // HeadObject has no body, so a missing key arrives as `NotFound` / 404. Without s3:ListBucket S3 answers 403
      // instead, which is rethrown rather than mistaken for "absent" (that would let evidence be written twice).
      if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey' || status === 404) return false;
      throw err;
    }
  }
}

/**
 * The retention a writer outside the Lambdas (the CLI's release and workstation commands) uses: the evidence
 * bucket's default retention, which the IR stack sets from the same settings as the handlers'
 * (`forensics:evidenceRetentionDays`, `forensics:objectLockMode`). A default in years is taken as 366 days a year,
 * never shorter than S3's own. A bucket without one is refused: evidence is never written without a retention.
 */
export async function bucketRetention(client: S3Client, bucket: string): Promise<EvidenceRetention> {
  const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  const rule = out.ObjectLockConfiguration?.Rule?.DefaultRetention;
  const days = rule?.Days ?? (rule?.Years !== undefined ? rule.Years * 366 : undefined);
  if (out.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled' || !rule?.Mode || !days) {
    throw new ConfigurationError(
      `evidence bucket ${bucket}: no Object Lock default retention to write evidence with (is this the evidence bucket?)`,
    );
  }
  return { mode: rule.Mode, days };
}
