import { GetKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Sleep, retryWithBackoff } from '../domain/concurrency';
import { errorName } from '../domain/errors';

/** A resource policy's text, or null when the resource has none. */
export type PolicyText = string | null;

/**
 * The resource policies of the rotate list's items, read-only, in one account and region:
 *  - Secrets Manager `GetResourcePolicy`: `ResourcePolicy` is absent when the secret has none;
 *  - KMS `GetKeyPolicy` with `PolicyName` "default" (the only name a key policy has); every key has one;
 *  - S3 `GetBucketPolicy`, through a client of the bucket's region: `NoSuchBucketPolicy` means none.
 * Throttling is retried with backoff and jitter; any other error (AccessDenied included) is thrown for the caller
 * to record: the item then keeps the identity policies' answer.
 */
export class ResourcePolicyAdapter {
  constructor(
    private readonly clients: { secrets: SecretsManagerClient; kms: KMSClient; s3: S3Client },
    private readonly options: { sleep?: Sleep; random?: () => number } = {},
  ) {}

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return retryWithBackoff(fn, { attempts: 5, baseDelayMs: 200, maxDelayMs: 4000, ...this.options });
  }

  async secretPolicy(secretArn: string): Promise<PolicyText> {
    const out = await this.retry(() => this.clients.secrets.send(new GetResourcePolicyCommand({ SecretId: secretArn })));
    return out.ResourcePolicy ?? null;
  }

  async keyPolicy(keyArn: string): Promise<PolicyText> {
    const out = await this.retry(() => this.clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })));
    return out.Policy ?? null;
  }

  async bucketPolicy(bucket: string): Promise<PolicyText> {
    try {
      const out = await this.retry(() => this.clients.s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
      return out.Policy ?? null;
    } catch (err) {
      if (errorName(err) === 'NoSuchBucketPolicy') return null;
      throw err;
    }
  }
}
