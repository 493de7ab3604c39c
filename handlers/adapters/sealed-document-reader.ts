import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Reads a sealed JSON document of the evidence bucket back (GetObject, allowed on `cases/*` to the steps that
 * write there): a retried step summarises what was sealed, not what it would have written this time.
 */
export class SealedDocumentReader {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async read(key: string): Promise<unknown> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse((await out.Body?.transformToString('utf8')) ?? '') as unknown;
  }
}
