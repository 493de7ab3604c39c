import { HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3EvidenceStore } from '../../handlers/adapters/evidence-store';
import { EvidenceWriteFailed } from '../../handlers/domain/errors';
import { EvidenceExists } from '../../handlers/domain/evidence-errors';

const s3 = mockClient(S3Client);
const store = () => new S3EvidenceStore(new S3Client({ region: 'eu-west-1' }), 'evidence-bucket');
const body = '{"a":1}';
const digest = createHash('sha256').update(body).digest();

describe('S3EvidenceStore', () => {
  beforeEach(() => s3.reset());

  it('writes with a SHA-256 checksum, a legal hold and no-overwrite, and returns hex hash and version', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ChecksumSHA256: digest.toString('base64'), VersionId: 'v1' });

    // Act
    const out = await store().put('cases/c/instance.json', body);

    // Assess
    expect(out).toEqual({ key: 'cases/c/instance.json', sha256: digest.toString('hex'), versionId: 'v1' });
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'evidence-bucket',
      Key: 'cases/c/instance.json',
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: digest.toString('base64'),
      ObjectLockLegalHoldStatus: 'ON',
      IfNoneMatch: '*',
    });
    expect(Buffer.from(input.Body as Uint8Array).toString('utf8')).toBe(body);
    // Encryption comes from the bucket default (the evidence key).
    expect(input.ServerSideEncryption).toBeUndefined();
    expect(input.SSEKMSKeyId).toBeUndefined();
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
