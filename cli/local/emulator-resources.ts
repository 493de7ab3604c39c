import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { HandlerEnvironment } from '../../handlers/config/env';
import type { WorkstationEnvironment } from '../../handlers/config/workstation-env';
import { provisionWorkstationResources } from './emulator-workstation';

/**
 * Provisions the IR-side resources the handlers need (evidence key, Object Lock bucket, case table, topic) in an
 * emulator, mirroring what the IR stack deploys. Idempotent: running it twice finds what the first run made.
 */
export interface EmulatorContext {
  endpoint: string;
  region: string;
  accountId: string;
  /** Credentials for this context (e.g. a role assumed in a second emulated account); default the IR account's. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export const EMULATOR_ACCOUNT = '123456789012';
export const EMULATOR_REGION = 'us-east-1';
const KEY_ALIAS = 'alias/forensics-evidence';
const TABLE_NAME = 'forensics-cases';
const TOPIC_NAME = 'forensics-notifications';
const QUARANTINE_NAME = 'forensics-quarantine';
/** Object Lock retention of the emulator's evidence: the bucket default and what every object is written with. */
const RETENTION_DAYS = 1;

export function emulatorClientConfig(ctx: Pick<EmulatorContext, 'endpoint' | 'region'> & Pick<Partial<EmulatorContext>, 'credentials'>) {
  return {
    endpoint: ctx.endpoint,
    region: ctx.region,
    // moto maps credentials to an account: 'testing' is its default account, an assumed role's are the role's account.
    credentials: ctx.credentials ?? { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

async function ensureKey(kms: KMSClient, multiRegion = false): Promise<string> {
  try {
    const found = await kms.send(new DescribeKeyCommand({ KeyId: KEY_ALIAS }));
    if (found.KeyMetadata?.Arn) return found.KeyMetadata.Arn;
  } catch (err) {
    if (!(err instanceof NotFoundException) && (err as Error).name !== 'NotFoundException') throw err;
  }
  const created = await kms.send(
    new CreateKeyCommand({ Description: 'Forensic evidence key (emulator)', KeyUsage: 'ENCRYPT_DECRYPT', ...(multiRegion ? { MultiRegion: true } : {}) }),
  );
  const arn = created.KeyMetadata?.Arn;
  if (!arn) throw new Error('emulator did not return a key ARN');
  await kms.send(new CreateAliasCommand({ AliasName: KEY_ALIAS, TargetKeyId: created.KeyMetadata?.KeyId }));
  return arn;
}

async function ensureBucket(s3: S3Client, bucket: string, keyArn: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch {
    // absent: create below
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ObjectLockEnabledForBucket: true,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: RETENTION_DAYS } },
      },
    }),
  );
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }],
      },
    }),
  );
}

async function ensureTable(ddb: DynamoDBClient): Promise<void> {
  try {
    await ddb.send(new DescribeTableCommand({ TableName: TABLE_NAME }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE_NAME,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

/**
 * The quarantine instance profile (`forensics:quarantineProfile`): a role without any policy that only EC2 may
 * assume, in a profile. Provisioned always, but off by default (DEFAULT_QUARANTINE_PROFILE=false), so a case uses
 * it only when it asks (`options.quarantineProfile`), as in a deployment where the setting is on and a case opts in.
 */
async function ensureQuarantineProfile(iam: IAMClient): Promise<string> {
  try {
    const found = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: QUARANTINE_NAME }));
    if (found.InstanceProfile?.Arn) return found.InstanceProfile.Arn;
  } catch (err) {
    if (!/^NoSuchEntity/.test((err as Error).name)) throw err;
  }
  await iam.send(
    new CreateRoleCommand({
      RoleName: QUARANTINE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
      Tags: [{ Key: 'forensics:role', Value: 'quarantine-profile' }],
    }),
  );
  const profile = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: QUARANTINE_NAME }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: QUARANTINE_NAME, RoleName: QUARANTINE_NAME }));
  const arn = profile.InstanceProfile?.Arn;
  if (!arn) throw new Error('emulator did not return an instance profile ARN');
  return arn;
}

/**
 * The evidence key's replica in every workload region other than the home region (what infra/regional-stack.ts
 * deploys; issue 12). Idempotent: a replica already there is found by its ARN (same key id, that region).
 */
async function ensureReplicas(ctx: EmulatorContext, keyArn: string, regions: readonly string[]): Promise<void> {
  for (const region of regions) {
    if (region === ctx.region) continue;
    const replica = keyArn.replace(`:kms:${ctx.region}:`, `:kms:${region}:`);
    try {
      await new KMSClient(emulatorClientConfig({ ...ctx, region })).send(new DescribeKeyCommand({ KeyId: replica }));
      continue;
    } catch (err) {
      if ((err as Error).name !== 'NotFoundException') throw err;
    }
    // By key id: moto's ReplicateKey looks the key up by id only (AWS takes either).
    await new KMSClient(emulatorClientConfig(ctx)).send(new ReplicateKeyCommand({ KeyId: keyArn.split('/').pop(), ReplicaRegion: region }));
  }
}

/** Creates (or finds) the IR resources and returns the Lambda environment that points at them. */
export async function provisionIrResources(
  ctx: EmulatorContext,
  overrides: Partial<HandlerEnvironment> = {},
): Promise<HandlerEnvironment & WorkstationEnvironment> {
  const config = emulatorClientConfig(ctx);
  const kms = new KMSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const sns = new SNSClient(config);
  const bucket = `forensics-evidence-${ctx.accountId}-${ctx.region}`;
  // Workload regions beyond the home region (issue 12): a multi-Region evidence key, replicated there, as a deployment
  // with forensics:evidenceKeyMultiRegion and its regional stacks has.
  const workloadRegions = overrides.WORKLOAD_REGIONS?.split(',') ?? [];
  const elsewhere = workloadRegions.filter((r) => r !== ctx.region);
  const keyArn = await ensureKey(kms, elsewhere.length > 0);
  if (elsewhere.length > 0) await ensureReplicas(ctx, keyArn, elsewhere);
  await Promise.all([ensureBucket(s3, bucket, keyArn, ctx.region), ensureTable(ddb)]);
  const quarantineProfileArn = await ensureQuarantineProfile(new IAMClient(config));
  const topic = await sns.send(new CreateTopicCommand({ Name: TOPIC_NAME })); // idempotent by name
  // The forensic VPC, workstation group and launch template (the workstation step's extra environment).
  const workstation = await provisionWorkstationResources(config, keyArn);
  return {
    CASE_TABLE_NAME: TABLE_NAME,
    EVIDENCE_BUCKET: bucket,
    EVIDENCE_KEY_ARN: keyArn,
    TOPIC_ARN: topic.TopicArn ?? '',
    // As the emulator bucket's default retention (ensureBucket): every object is written with it explicitly.
    EVIDENCE_RETENTION_DAYS: RETENTION_DAYS,
    OBJECT_LOCK_MODE: 'COMPLIANCE',
    MIN_SEVERITY: 7,
    ACQUIRE_CONTAINER_HOSTS: 'false',
    MAX_WAIT_MINUTES: 60,
    COPY_CONCURRENCY: 5,
    TAG_PREFIX: 'forensics',
    DEFAULT_WORKSTATION: 'false',
    DEFAULT_REVOKE_MODE: 'instance',
    WORKLOAD_ACCOUNTS: ctx.accountId,
    QUARANTINE_PROFILE_ARN: quarantineProfileArn,
    DEFAULT_QUARANTINE_PROFILE: 'false',
    ...workstation,
    ...overrides,
  };
}
