import { GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketPolicyCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ResourcePolicyAdapter } from '../../../../handlers/adapters/resource-policy-adapter';
import { SealedDocumentReader } from '../../../../handlers/adapters/sealed-document-reader';

const secrets = mockClient(SecretsManagerClient);
const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf';
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const POLICY = '{"Version":"2012-10-17","Statement":[]}';
const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

const adapter = () =>
  new ResourcePolicyAdapter(
    { secrets: new SecretsManagerClient({ region: 'eu-west-1' }), kms: new KMSClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }) },
    { sleep: async () => {}, random: () => 0 },
  );

describe('ResourcePolicyAdapter', () => {
  beforeEach(() => {
    secrets.reset();
    kms.reset();
    s3.reset();
  });

  it('reads a secret’s policy; a secret without one has no ResourcePolicy in the answer', async () => {
    // Prepare: GetResourcePolicy answers ARN and Name always, ResourcePolicy only when one is attached.
    secrets.on(GetResourcePolicyCommand, { SecretId: SECRET }).resolves({ ARN: SECRET, Name: 'prod/db', ResourcePolicy: POLICY });
    secrets.on(GetResourcePolicyCommand, { SecretId: `${SECRET}x` }).resolves({ ARN: `${SECRET}x`, Name: 'other' });
    // Act / Assess
    expect(await adapter().secretPolicy(SECRET)).toBe(POLICY);
    expect(await adapter().secretPolicy(`${SECRET}x`)).toBeNull();
  });

  it('reads the key policy by its only name, "default", retrying throttling', async () => {
    // Prepare
    kms.on(GetKeyPolicyCommand).rejectsOnce(awsError('ThrottlingException', 400)).resolves({ Policy: POLICY, PolicyName: 'default' });
    // Act
    const policy = await adapter().keyPolicy(KEY);
    // Assess
    expect(policy).toBe(POLICY);
    expect(kms.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY, PolicyName: 'default' },
      { KeyId: KEY, PolicyName: 'default' },
    ]);
  });

  it('a bucket without a policy (NoSuchBucketPolicy) has none; AccessDenied is thrown for the caller to record', async () => {
    // Prepare
    s3.on(GetBucketPolicyCommand, { Bucket: 'app-data' }).resolves({ Policy: POLICY });
    s3.on(GetBucketPolicyCommand, { Bucket: 'no-policy' }).rejects(awsError('NoSuchBucketPolicy', 404));
    s3.on(GetBucketPolicyCommand, { Bucket: 'locked' }).rejects(awsError('AccessDenied', 403));
    // Act / Assess
    expect(await adapter().bucketPolicy('app-data')).toBe(POLICY);
    expect(await adapter().bucketPolicy('no-policy')).toBeNull();
    await expect(adapter().bucketPolicy('locked')).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('SealedDocumentReader', () => {
  it('reads a sealed JSON document of the evidence bucket back', async () => {
    // Prepare
    s3.reset();
    s3.on(GetObjectCommand, { Bucket: 'evidence', Key: 'cases/c1/timeline.json' }).resolves({ Body: { transformToString: async () => '{"caseId":"c1","events":[]}' } as never });
    // Act
    const doc = await new SealedDocumentReader(new S3Client({ region: 'eu-west-1' }), 'evidence').read('cases/c1/timeline.json');
    // Assess
    expect(doc).toEqual({ caseId: 'c1', events: [] });
  });
});
