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
import { IR_STACK_OUTPUTS, QUARANTINE_PROFILE_OUTPUT } from '../deployment/stack-outputs';
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
/**
 * The emulator bucket's default retention. Objects never rely on it: each is written with the deployment's own
 * retention (forensics:evidenceRetentionDays, from the synthesized environment).
 */
const RETENTION_DAYS = 1;
/** Names of the state machines the local runner executes (their ARNs are the local deployment's outputs). */
export const LOCAL_ACQUISITION_MACHINE = 'ForensicAcquisition';
export const LOCAL_RELEASE_MACHINE = 'ForensicRelease';

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
 * assume, in a profile. Provisioned always (it is cheap); the handlers learn of it only when the configuration
 * deploys it, as the template's isolate function then names it.
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
 * deploys). Idempotent: a replica already there is found by its ARN (same key id, that region).
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

/**
 * The emulator's counterpart of each IR stack output (infra/ir-stack.ts `IR_STACK_OUTPUTS`, and the quarantine
 * profile's): the physical names and ARNs of what was provisioned. The state machines are not provisioned: the local
 * runner executes them in-process under these ARNs.
 */
export type EmulatorOutputs = Readonly<Record<string, string>>;

export interface ProvisionOptions {
  /** The forensic VPC's CIDR block, from the synthesized template (emulator-workstation.ts `forensicVpcCidr`). */
  forensicVpcCidr: string;
  /** The workstation launch template's instance type (`forensics:workstationInstanceType`). */
  workstationInstanceType?: string;
  /**
   * `forensics:workloadRegions`: beyond the home region, the evidence key is a multi-Region key with a replica in
   * each of them, as a deployment with its regional stacks has.
   */
  workloadRegions?: readonly string[];
}

/** Creates (or finds) the IR resources and returns their names and ARNs, keyed by the IR stack's output keys. */
export async function provisionIrResources(ctx: EmulatorContext, options: ProvisionOptions): Promise<EmulatorOutputs> {
  const config = emulatorClientConfig(ctx);
  const kms = new KMSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const sns = new SNSClient(config);
  const iam = new IAMClient(config);
  try {
    const bucket = `forensics-evidence-${ctx.accountId}-${ctx.region}`;
    const elsewhere = (options.workloadRegions ?? []).filter((region) => region !== ctx.region);
    const keyArn = await ensureKey(kms, elsewhere.length > 0);
    if (elsewhere.length > 0) await ensureReplicas(ctx, keyArn, elsewhere);
    await Promise.all([ensureBucket(s3, bucket, keyArn, ctx.region), ensureTable(ddb)]);
    const quarantineProfileArn = await ensureQuarantineProfile(iam);
    const topic = await sns.send(new CreateTopicCommand({ Name: TOPIC_NAME })); // idempotent by name
    // The forensic VPC, workstation group and launch template (the workstation step's extra environment).
    const workstation = await provisionWorkstationResources(config, keyArn, options.forensicVpcCidr, options.workstationInstanceType);
    const states = (name: string) => `arn:aws:states:${ctx.region}:${ctx.accountId}:stateMachine:${name}`;
    return {
      [IR_STACK_OUTPUTS.caseTableName]: TABLE_NAME,
      [IR_STACK_OUTPUTS.evidenceBucketName]: bucket,
      [IR_STACK_OUTPUTS.evidenceKeyArn]: keyArn,
      [IR_STACK_OUTPUTS.topicArn]: topic.TopicArn ?? '',
      [IR_STACK_OUTPUTS.workstationSubnetIds]: workstation.WORKSTATION_SUBNET_IDS,
      [IR_STACK_OUTPUTS.workstationSecurityGroupId]: workstation.WORKSTATION_SECURITY_GROUP_ID,
      [IR_STACK_OUTPUTS.workstationLaunchTemplateId]: workstation.WORKSTATION_LAUNCH_TEMPLATE_ID,
      [IR_STACK_OUTPUTS.stateMachineArn]: states(LOCAL_ACQUISITION_MACHINE),
      [IR_STACK_OUTPUTS.releaseStateMachineArn]: states(LOCAL_RELEASE_MACHINE),
      [QUARANTINE_PROFILE_OUTPUT]: quarantineProfileArn,
    };
  } finally {
    for (const client of [kms, s3, ddb, sns, iam]) client.destroy();
  }
}
