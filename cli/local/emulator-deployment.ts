import { DescribeContinuousBackupsCommand, DescribeTableCommand, DynamoDBClient, UpdateContinuousBackupsCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutBucketVersioningCommand, PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { HandlerEnvironment } from '../../handlers/config/env';
import { emulatorClientConfig, type EmulatorContext } from './emulator-resources';

/**
 * The rest of what the IR stack deploys around the stores, provisioned in the emulator so that a local deployment
 * looks to `forensics doctor` like a deployed one (infra/ir-stack.ts is the reference for every setting here):
 * key rotation; bucket versioning and public access block (not the TLS-only policy: see below); point-in-time recovery
 * and deletion protection on the case table; the GuardDuty rule with its dead-letter queue targeting the acquisition
 * state machine; and the account's GuardDuty detector (enabled by the account owner in a real account, not by the
 * stack). Idempotent. The state machines are registered separately (`registerLocalStateMachines`), because their
 * definitions come from synthesizing the stack, which not every caller needs.
 */

/** The names the local runner gives its executions' state machines (local-runner.ts). */
export const LOCAL_MACHINE_NAMES = { acquisition: 'ForensicAcquisition', release: 'ForensicRelease' } as const;
const DEAD_LETTER_QUEUE = 'forensics-finding-dlq';

export function localStateMachineArn(ctx: Pick<EmulatorContext, 'region' | 'accountId'>, machine: keyof typeof LOCAL_MACHINE_NAMES): string {
  return `arn:aws:states:${ctx.region}:${ctx.accountId}:stateMachine:${LOCAL_MACHINE_NAMES[machine]}`;
}

/** The execution log group each state machine is configured with (infra: one log group per machine, level ALL). */
function logGroupArn(ctx: Pick<EmulatorContext, 'region' | 'accountId'>, machine: string): string {
  return `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:/forensics/${machine}:*`;
}

/** The GuardDuty rule's pattern exactly as the IR stack renders it (infra/ir-stack.ts `findingEventPattern`). */
export async function findingPatternJson(minSeverity: number): Promise<string> {
  const [{ App, Stack }, { findingEventPattern }] = await Promise.all([import('aws-cdk-lib'), import('../../infra/ir-stack')]);
  const resolved = new Stack(new App()).resolve(findingEventPattern(minSeverity)) as Record<string, unknown>;
  const { detailType, ...rest } = resolved;
  return JSON.stringify({ ...(detailType ? { 'detail-type': detailType } : {}), ...rest });
}

export async function provisionDeploymentControls(
  ctx: EmulatorContext,
  env: Pick<HandlerEnvironment, 'EVIDENCE_KEY_ARN' | 'EVIDENCE_BUCKET' | 'CASE_TABLE_NAME' | 'MIN_SEVERITY'>,
  options: { stackName: string },
): Promise<void> {
  const config = emulatorClientConfig(ctx);
  const kms = new KMSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  const guardduty = new GuardDutyClient(config);
  try {
    await kms.send(new EnableKeyRotationCommand({ KeyId: env.EVIDENCE_KEY_ARN }));

    const bucket = env.EVIDENCE_BUCKET;
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    );
    // No TLS-only bucket policy: the emulator speaks plain HTTP and moto enforces the policy's deny, which would refuse
    // every request (doctor reports the missing policy as a WARN on an emulator, a FAIL on AWS).

    const table = env.CASE_TABLE_NAME;
    const backups = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    if (backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus !== 'ENABLED') {
      await ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
    }
    if ((await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.DeletionProtectionEnabled !== true) {
      await ddb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: true }));
    }

    const queue = await sqs.send(new CreateQueueCommand({ QueueName: DEAD_LETTER_QUEUE, Attributes: { MessageRetentionPeriod: String(14 * 86_400) } }));
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const ruleName = `${options.stackName}-guardduty-findings`;
    await events.send(
      new PutRuleCommand({
        Name: ruleName,
        Description: `GuardDuty EC2 findings with severity >= ${env.MIN_SEVERITY} start a forensic acquisition`,
        EventPattern: await findingPatternJson(Number(env.MIN_SEVERITY)),
        State: 'ENABLED',
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        Targets: [
          {
            Id: 'Target0',
            Arn: localStateMachineArn(ctx, 'acquisition'),
            RoleArn: `arn:aws:iam::${ctx.accountId}:role/${options.stackName}-events`,
            ...(queueArn ? { DeadLetterConfig: { Arn: queueArn } } : {}),
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      }),
    );

    const detectors = await guardduty.send(new ListDetectorsCommand({}));
    if ((detectors.DetectorIds ?? []).length === 0) await guardduty.send(new CreateDetectorCommand({ Enable: true }));
  } finally {
    for (const c of [kms, s3, ddb, sqs, events, guardduty]) c.destroy();
  }
}

/**
 * Registers the two state machines (their synthesized definitions, logging at level ALL as the stack configures them)
 * in the emulator's Step Functions, which stores them but does not execute them: the local runner executes the same
 * definitions (local-runner.ts). Idempotent.
 */
export async function registerLocalStateMachines(
  ctx: EmulatorContext,
  definitions: { acquisition: Record<string, unknown>; release: Record<string, unknown> },
): Promise<{ acquisition: string; release: string }> {
  const sfn = new SFNClient(emulatorClientConfig(ctx));
  try {
    const arns = { acquisition: localStateMachineArn(ctx, 'acquisition'), release: localStateMachineArn(ctx, 'release') };
    for (const machine of ['acquisition', 'release'] as const) {
      try {
        await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arns[machine] }));
        continue;
      } catch (err) {
        if ((err as Error).name !== 'StateMachineDoesNotExist') throw err;
      }
      await sfn.send(
        new CreateStateMachineCommand({
          name: LOCAL_MACHINE_NAMES[machine],
          definition: JSON.stringify(definitions[machine]),
          roleArn: `arn:aws:iam::${ctx.accountId}:role/${LOCAL_MACHINE_NAMES[machine]}-role`,
          type: 'STANDARD',
          loggingConfiguration: {
            level: 'ALL',
            includeExecutionData: true,
            destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logGroupArn(ctx, LOCAL_MACHINE_NAMES[machine]) } }],
          },
        }),
      );
    }
    return arns;
  } finally {
    sfn.destroy();
  }
}
