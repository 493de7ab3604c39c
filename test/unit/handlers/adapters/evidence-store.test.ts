import {
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { type EvidenceRetention, S3EvidenceStore, bucketRetention } from '../../../../handlers/adapters/evidence-store';
import { ConfigurationError, EvidenceWriteFailed } from '../../../../handlers/domain/errors';
import { EvidenceExists } from '../../../../handlers/domain/evidence-errors';

const s3 = mockClient(S3Client);
const NOW = new Date('2025-03-01T10:00:00.000Z');
const store = (retention: EvidenceRetention = { mode: 'COMPLIANCE', days: 365 }) =>
  new S3EvidenceStore(new S3Client({ region: 'eu-west-1' }), 'evidence-bucket', retention, () => NOW);
const body = '{"a":1}';
const digest = createHash('sha256').update(body).digest();

describe('S3EvidenceStore', () => {
  beforeEach(() => s3.reset());

  it('writes with a SHA-256 checksum, its own retention, a legal hold and no-overwrite, and returns hex hash and version', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ChecksumSHA256: digest.toString('base64'), VersionId: 'v1' });

    // Act
    const out = await store().put('cases/c/instance.json', body);

    // Assess
    expect(out).toEqual({ key: 'cases/c/instance.json', sha256: digest.toString('hex'), versionId: 'v1' });
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toEqual({
      Bucket: 'evidence-bucket',
      Key: 'cases/c/instance.json',
      Body: expect.any(Uint8Array),
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: digest.toString('base64'),
      // 365 days from the time of writing, as S3 computes a default retention of 365 days.
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date('2026-03-01T10:00:00.000Z'),
      ObjectLockLegalHoldStatus: 'ON',
      IfNoneMatch: '*',
    });
    expect(Buffer.from(input.Body as Uint8Array).toString('utf8')).toBe(body);
    // Encryption comes from the bucket default (the evidence key).
    expect(input.ServerSideEncryption).toBeUndefined();
    expect(input.SSEKMSKeyId).toBeUndefined();
  });

  it('writes the configured mode and days (GOVERNANCE for trial deployments), from the clock at each write', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});

    // Act
    await store({ mode: 'GOVERNANCE', days: 7 }).put('k', body);

    // Assess
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: new Date('2025-03-08T10:00:00.000Z'),
      ObjectLockLegalHoldStatus: 'ON',
    });
  });

  it('cannot be built without a usable retention', () => {
    expect(() => store({ mode: 'COMPLIANCE', days: 0 } as never)).toThrow(ConfigurationError);
    expect(() => store({ mode: 'COMPLIANCE', days: 1.5 } as never)).toThrow(/days/);
  });

  it('takes the CLI writers\' retention from the bucket default, and refuses a bucket without one', async () => {
    // Prepare
    const client = new S3Client({ region: 'eu-west-1' });
    s3.on(GetObjectLockConfigurationCommand, { Bucket: 'evidence' }).resolves({
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
    });
    s3.on(GetObjectLockConfigurationCommand, { Bucket: 'years' }).resolves({
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 2 } } },
    });
    s3.on(GetObjectLockConfigurationCommand, { Bucket: 'plain' }).resolves({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } });

    // Act / Assess
    await expect(bucketRetention(client, 'evidence')).resolves.toEqual({ mode: 'COMPLIANCE', days: 365 });
    await expect(bucketRetention(client, 'years')).resolves.toEqual({ mode: 'GOVERNANCE', days: 732 });
    await expect(bucketRetention(client, 'plain')).rejects.toThrow(ConfigurationError);
  });

  it('accepts a response without checksum or version (emulators)', async () => {
    s3.on(PutObjectCommand).resolves({});
    await expect(store().put('k', body, 'text/plain')).resolves.toEqual({ key: 'k', sha256: digest.toString('hex') });
  });

  it('fails loudly when S3 reports another checksum', async () => {
    s3.on(PutObjectCommand).resolves({ ChecksumSHA256: Buffer.alloc(32).toString('base64') });
    await expect(store().put('k', body)).rejects.toThrow(EvidenceWriteFailed);
  });

  it('refuses to overwrite: a 412 from If-None-Match becomes EvidenceExists', async () => {
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }),
    );
    await expect(store().put('k', body)).rejects.toThrow(EvidenceExists);
  });

  it('tells whether an object exists, and does not mistake access denied for absence', async () => {
    // Prepare
    s3.on(HeadObjectCommand, { Key: 'there' }).resolves({});
    s3.on(HeadObjectCommand, { Key: 'absent' }).rejects(
      new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(HeadObjectCommand, { Key: 'denied' }).rejects(
      new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 } }),
    );

    // Act / Assess
    await expect(store().exists('there')).resolves.toBe(true);
    await expect(store().exists('absent')).resolves.toBe(false);
    await expect(store().exists('denied')).rejects.toThrow();
  });
});
