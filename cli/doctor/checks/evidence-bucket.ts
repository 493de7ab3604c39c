import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  type GetBucketVersioningCommandOutput,
  type ObjectLockConfiguration,
  type PublicAccessBlockConfiguration,
  S3Client,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { DoctorContext } from '../context';
import { asList, awsPrincipals, type PolicyDocument, parsePolicy, statements } from './policy-document';
import { sameKey } from './evidence-key';

/**
 * The evidence bucket as DESIGN.md promises it: Object Lock with the configured default retention (COMPLIANCE by
 * default), versioning, SSE-KMS with the evidence key, every public-access block on, and a policy that denies any
 * request not made over TLS. Checks `bucket.object-lock`, `bucket.versioning`, `bucket.encryption`,
 * `bucket.public-access`, `bucket.tls-only`.
 */

export interface BucketFacts {
  bucket: string;
  objectLock: Outcome<ObjectLockConfiguration | undefined>;
  versioning: Outcome<GetBucketVersioningCommandOutput>;
  encryption: Outcome<ServerSideEncryptionConfiguration | undefined>;
  publicAccess: Outcome<PublicAccessBlockConfiguration | undefined>;
  policy: Outcome<string | undefined>;
}

export interface BucketExpectations {
  keyArn?: string;
  objectLockMode: 'COMPLIANCE' | 'GOVERNANCE';
  retentionDays: number;
}

export async function gatherBucket(ctx: DoctorContext, bucket: string): Promise<BucketFacts> {
  const s3 = new S3Client({ ...ctx.client(), ...(ctx.emulator ? { forcePathStyle: true } : {}) });
  try {
    const [objectLock, versioning, encryption, publicAccess, policy] = await Promise.all([
      attempt('s3:GetBucketObjectLockConfiguration', async () => (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration),
      attempt('s3:GetBucketVersioning', () => s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))),
      attempt('s3:GetEncryptionConfiguration', async () => (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration),
      attempt('s3:GetBucketPublicAccessBlock', async () => (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration),
      attempt('s3:GetBucketPolicy', async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy),
    ]);
    return { bucket, objectLock, versioning, encryption, publicAccess, policy };
  } finally {
    s3.destroy();
  }
}

export function evaluateBucket(facts: BucketFacts, expected: BucketExpectations, emulator: boolean): DoctorCheck[] {
  return [
    objectLockCheck(facts, expected, emulator),
    versioningCheck(facts, emulator),
    encryptionCheck(facts, expected, emulator),
    publicAccessCheck(facts, emulator),
    tlsOnlyCheck(facts, emulator),
  ];
}

function objectLockCheck(facts: BucketFacts, expected: BucketExpectations, emulator: boolean): DoctorCheck {
  const name = 'bucket.object-lock';
  const b = facts.bucket;
  if (!facts.objectLock.ok) {
    if (facts.objectLock.error.name === 'ObjectLockConfigurationNotFoundError') {
      return fail(name, `bucket ${b} has no Object Lock: evidence can be deleted — Object Lock can only be enabled on a new bucket or by AWS Support; redeploy the stack`);
    }
    if (facts.objectLock.error.notFound) return fail(name, `bucket ${b} does not exist — deploy the stack or pass --bucket`);
    return cannotRun(name, facts.objectLock.error, `the Object Lock configuration of ${b}`, emulator);
  }
  const cfg = facts.objectLock.value;
  if (cfg?.ObjectLockEnabled !== 'Enabled') return fail(name, `Object Lock is not enabled on ${b}: evidence can be deleted — redeploy the stack`);
  const rule = cfg.Rule?.DefaultRetention;
  if (!rule?.Mode) {
    return fail(name, `Object Lock on ${b} has no default retention: evidence is kept only by its legal hold — redeploy the stack (forensics:objectLockMode ${expected.objectLockMode}, ${expected.retentionDays} days)`);
  }
  const days = rule.Days ?? (rule.Years !== undefined ? rule.Years * 365 : undefined);
  if (rule.Mode !== expected.objectLockMode) {
    return fail(name, `default retention of ${b} is ${rule.Mode}, cdk.json forensics:objectLockMode says ${expected.objectLockMode} — redeploy the stack`);
  }
  if (days !== expected.retentionDays) {
    return warn(name, `default retention of ${b} is ${rule.Mode} ${days ?? "?"} day(s), cdk.json forensics:evidenceRetentionDays says ${expected.retentionDays} — redeploy the stack to apply it`);
  }
  return pass(name, `Object Lock enabled on ${b}, default retention ${rule.Mode} ${days} days`);
}

function versioningCheck(facts: BucketFacts, emulator: boolean): DoctorCheck {
  const name = 'bucket.versioning';
  if (!facts.versioning.ok) return cannotRun(name, facts.versioning.error, `the versioning of ${facts.bucket}`, emulator);
  const status = facts.versioning.value.Status;
  return status === 'Enabled'
    ? pass(name, `versioning enabled on ${facts.bucket}`)
    : fail(name, `versioning on ${facts.bucket} is ${status ?? 'off'}: an overwrite would replace evidence — enable it (Object Lock requires it)`);
}

function encryptionCheck(facts: BucketFacts, expected: BucketExpectations, emulator: boolean): DoctorCheck {
  const name = 'bucket.encryption';
  if (!facts.encryption.ok) {
    if (facts.encryption.error.name === 'ServerSideEncryptionConfigurationNotFoundError') {
      return fail(name, `${facts.bucket} has no default encryption — set SSE-KMS with the evidence key (redeploy the stack)`);
    }
    return cannotRun(name, facts.encryption.error, `the default encryption of ${facts.bucket}`, emulator);
  }
  const rules = facts.encryption.value?.Rules ?? [];
  const sse = rules.map((r) => r.ApplyServerSideEncryptionByDefault).find((r) => r?.SSEAlgorithm);
  if (!sse?.SSEAlgorithm?.startsWith('aws:kms')) {
    return fail(name, `${facts.bucket} encrypts with ${sse?.SSEAlgorithm ?? 'nothing'}, not SSE-KMS with the evidence key — redeploy the stack`);
  }
  if (!expected.keyArn) return fail(name, `${facts.bucket} uses SSE-KMS with ${sse.KMSMasterKeyID ?? 'the AWS managed key'}, but the evidence key is unknown (no EvidenceKeyArn output; pass --key-arn)`);
  if (!sse.KMSMasterKeyID || !sameKey(sse.KMSMasterKeyID, expected.keyArn)) {
    return fail(name, `${facts.bucket} uses ${sse.KMSMasterKeyID ?? 'the AWS managed aws/s3 key'}, not the evidence key ${expected.keyArn} — redeploy the stack`);
  }
  const bucketKey = rules.some((r) => r.BucketKeyEnabled);
  return pass(name, `SSE-KMS with the evidence key${bucketKey ? ', bucket key on' : ''}`);
}

const BLOCKS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

function publicAccessCheck(facts: BucketFacts, emulator: boolean): DoctorCheck {
  const name = 'bucket.public-access';
  if (!facts.publicAccess.ok) {
    if (facts.publicAccess.error.name === 'NoSuchPublicAccessBlockConfiguration') {
      return fail(name, `${facts.bucket} has no public access block — turn all four settings on (redeploy the stack)`);
    }
    return cannotRun(name, facts.publicAccess.error, `the public access block of ${facts.bucket}`, emulator);
  }
  const cfg = facts.publicAccess.value ?? {};
  const off = BLOCKS.filter((k) => cfg[k] !== true);
  return off.length === 0
    ? pass(name, `all public access blocked on ${facts.bucket}`)
    : fail(name, `${off.join(', ')} off on ${facts.bucket} — turn them on (redeploy the stack)`);
}

function tlsOnlyCheck(facts: BucketFacts, emulator: boolean): DoctorCheck {
  const name = 'bucket.tls-only';
  if (!facts.policy.ok) {
    if (facts.policy.error.name === 'NoSuchBucketPolicy') {
      // An emulator serves plain HTTP: a TLS-only policy there would refuse every request, so it has none.
      return (emulator ? warn : fail)(
        name,
        emulator
          ? `${facts.bucket} has no bucket policy: the emulator serves plain HTTP, so the TLS-only policy is checked on AWS only`
          : `${facts.bucket} has no bucket policy, so nothing denies plain-HTTP requests — redeploy the stack (enforceSSL)`,
      );
    }
    return cannotRun(name, facts.policy.error, `the bucket policy of ${facts.bucket}`, emulator);
  }
  const policy = parsePolicy(facts.policy.value);
  if (!policy) return fail(name, `the bucket policy of ${facts.bucket} is not valid JSON`);
  return deniesInsecureTransport(policy, facts.bucket)
    ? pass(name, `the bucket policy denies every request without TLS (aws:SecureTransport false)`)
    : fail(name, `the bucket policy of ${facts.bucket} does not deny requests without TLS — redeploy the stack (enforceSSL)`);
}

/** A Deny for everyone, every S3 action, the bucket and its objects, when aws:SecureTransport is false. */
export function deniesInsecureTransport(policy: PolicyDocument, bucket: string): boolean {
  return statements(policy).some((s) => {
    if (s.Effect !== 'Deny') return false;
    const everyone = awsPrincipals(s).includes('*');
    const actions = asList(s.Action);
    const allActions = actions.includes('s3:*') || actions.includes('*');
    const resources = asList(s.Resource);
    const covers = (r: string) => resources.some((x) => x === '*' || x === r || x === `${r}*` || (r.endsWith('/*') && x === r));
    const arn = resources.find((r) => r.startsWith('arn:'))?.split(':::')[0] ?? 'arn:aws:s3';
    const insecure = asList((s.Condition?.Bool as Record<string, unknown> | undefined)?.['aws:SecureTransport']).map(String).includes('false');
    return everyone && allActions && insecure && covers(`${arn}:::${bucket}`) && covers(`${arn}:::${bucket}/*`);
  });
}
