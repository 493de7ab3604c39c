import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, UpdateContinuousBackupsCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, type Target } from '@aws-sdk/client-eventbridge';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutBucketVersioningCommand, PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeStateMachineCommand, type LogLevel, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { renderDefinition } from '../../workflows/render-definition';
import { emulatorClientConfig, type EmulatorContext } from './emulator-resources';
import { type CfnTemplate, referencesFromOutputs } from './lambda-environment';

/**
 * What the IR stack deploys around the stores, provisioned in the emulator from the synthesized template so that a
 * local deployment is what `forensics doctor` would find deployed: key rotation; the evidence bucket's
 * versioning and public access block; point-in-time recovery and deletion protection of the case table; the dead-letter
 * queue; both state machines (their synthesized definitions and logging configuration — moto stores them, the local
 * runner executes them); every EventBridge rule with its pattern and targets (the GuardDuty finding rule, the
 * redrive rule); every CloudWatch alarm (failed acquisitions, redrive errors) with its actions. Each
 * setting is read from the template's resource properties, never restated here.
 *
 * Not provisioned: the evidence bucket's TLS-only policy (moto enforces its Deny and the emulator speaks plain HTTP,
 * so every request would be refused: doctor reports it as a WARN on an emulator), and Lambda functions (the local
 * runner runs the handlers in-process; a rule's target names the function's ARN as the stack would).
 *
 * Also, once per region, the emulated account's GuardDuty detector: the account owner enables GuardDuty in a real
 * account (the deployment guide's prerequisite), the stack does not. Idempotent throughout.
 */

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Physical names of the resources no stack output names, as the emulator spells them. */
export function localPhysical(
  template: CfnTemplate,
  outputs: Readonly<Record<string, string>>,
  ctx: Pick<EmulatorContext, 'region' | 'accountId'>,
  stackName: string,
): (key: string) => string | undefined {
  const refs = referencesFromOutputs(template, outputs);
  return (key) => {
    const known = refs.get(key);
    if (known) return known;
    const [kind, rest = ''] = key.split(':', 2) as [string, string];
    const [logicalId = '', attribute] = rest.split('.');
    const type = (template.Resources?.[logicalId] as Resource | undefined)?.Type;
    const name = `${stackName}-${logicalId}`.slice(0, 64);
    switch (type) {
      case 'AWS::Lambda::Function':
        return kind === 'Ref' ? name : attribute === 'Arn' ? `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}` : undefined;
      case 'AWS::IAM::Role':
        return kind === 'Ref' ? name : attribute === 'Arn' ? `arn:aws:iam::${ctx.accountId}:role/${name}` : undefined;
      case 'AWS::SQS::Queue':
        return attribute === 'Arn' ? `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${name}` : attribute === 'QueueName' ? name : undefined;
      case 'AWS::Logs::LogGroup':
        return attribute === 'Arn' ? `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:/forensics/${name}:*` : name;
      default:
        return undefined;
    }
  };
}

/** A property value with every reference resolved; undefined when one cannot be. */
export function resolveDeep(value: unknown, physical: (key: string) => string | undefined, ctx: Pick<EmulatorContext, 'region' | 'accountId'>): unknown {
  if (Array.isArray(value)) {
    const out = value.map((v) => resolveDeep(v, physical, ctx));
    return out.some((v) => v === undefined) ? undefined : out;
  }
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && typeof obj.Ref === 'string') {
    if (obj.Ref === 'AWS::Region') return ctx.region;
    if (obj.Ref === 'AWS::AccountId') return ctx.accountId;
    if (obj.Ref === 'AWS::Partition') return 'aws';
    if (obj.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return physical(`Ref:${obj.Ref}`);
  }
  if (keys.length === 1 && Array.isArray(obj['Fn::GetAtt'])) {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    return physical(`GetAtt:${id}.${attr}`);
  }
  if (keys.length === 1 && Array.isArray(obj['Fn::Join'])) {
    const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
    const resolved = parts.map((p) => resolveDeep(p, physical, ctx));
    return resolved.some((p) => p === undefined) ? undefined : resolved.join(sep);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const r = resolveDeep(v, physical, ctx);
    if (r === undefined) return undefined;
    out[k] = r;
  }
  return out;
}

function resourcesOf(template: CfnTemplate, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, (r.Properties ?? {}) as Record<string, unknown>]);
}

/** Cloudformation's capitalised property names → the SDK's input (both spell them the same for these APIs). */
function pick<T>(props: Record<string, unknown>, names: readonly string[]): T {
  return Object.fromEntries(names.filter((n) => props[n] !== undefined).map((n) => [n, props[n]])) as T;
}

export async function provisionLocalControls(
  ctx: EmulatorContext,
  template: CfnTemplate,
  outputs: Readonly<Record<string, string>>,
  stackName: string,
): Promise<void> {
  const config = emulatorClientConfig(ctx);
  const physical = localPhysical(template, outputs, ctx, stackName);
  const resolve = (value: unknown) => resolveDeep(value, physical, ctx);
  const kms = new KMSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  const sfn = new SFNClient(config);
  const events = new EventBridgeClient(config);
  const cloudwatch = new CloudWatchClient(config);
  const guardduty = new GuardDutyClient(config);
  try {
    for (const [id, p] of resourcesOf(template, 'AWS::KMS::Key')) {
      const arn = physical(`GetAtt:${id}.Arn`);
      if (arn && p.EnableKeyRotation === true) await kms.send(new EnableKeyRotationCommand({ KeyId: arn }));
    }

    for (const [id, p] of resourcesOf(template, 'AWS::S3::Bucket')) {
      const bucket = physical(`Ref:${id}`);
      if (!bucket) continue; // only the buckets the deployment's outputs name (the evidence bucket)
      const versioning = p.VersioningConfiguration as { Status?: 'Enabled' | 'Suspended' } | undefined;
      if (versioning?.Status || p.ObjectLockEnabled === true) {
        await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: versioning?.Status ?? 'Enabled' } }));
      }
      const block = p.PublicAccessBlockConfiguration as Record<string, boolean> | undefined;
      if (block) await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: block }));
    }

    for (const [id, p] of resourcesOf(template, 'AWS::DynamoDB::Table')) {
      const table = physical(`Ref:${id}`);
      if (!table) continue;
      const pitr = (p.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined)?.PointInTimeRecoveryEnabled;
      if (pitr) await ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
      if (p.DeletionProtectionEnabled === true && (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.DeletionProtectionEnabled !== true) {
        await ddb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: true }));
      }
    }

    for (const [id, p] of resourcesOf(template, 'AWS::SQS::Queue')) {
      const name = physical(`GetAtt:${id}.QueueName`) as string;
      const queue = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: p.MessageRetentionPeriod ? { MessageRetentionPeriod: String(p.MessageRetentionPeriod) } : {} }),
      );
      const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
      if (arn !== physical(`GetAtt:${id}.Arn`)) throw new Error(`emulator queue ${name}: ARN ${arn ?? '(none)'} is not the one the rules name`);
    }

    for (const [id, p] of resourcesOf(template, 'AWS::StepFunctions::StateMachine')) {
      const arn = physical(`Ref:${id}`);
      if (!arn) continue;
      try {
        await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
        continue;
      } catch (err) {
        if ((err as Error).name !== 'StateMachineDoesNotExist') throw err;
      }
      const logging = resolve(p.LoggingConfiguration) as
        | { Level?: string; IncludeExecutionData?: boolean; Destinations?: { CloudWatchLogsLogGroup?: { LogGroupArn?: string } }[] }
        | undefined;
      await sfn.send(
        new CreateStateMachineCommand({
          name: arn.split(':').at(-1) as string,
          definition: JSON.stringify(renderDefinition(template as never, { region: ctx.region, accountId: ctx.accountId }, id)),
          roleArn: (resolve(p.RoleArn) as string | undefined) ?? `arn:aws:iam::${ctx.accountId}:role/${stackName}-${id}`,
          type: p.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
          ...(logging
            ? {
                loggingConfiguration: {
                  level: (logging.Level ?? 'OFF') as LogLevel,
                  includeExecutionData: logging.IncludeExecutionData ?? false,
                  destinations: (logging.Destinations ?? []).map((d) => ({ cloudWatchLogsLogGroup: { logGroupArn: d.CloudWatchLogsLogGroup?.LogGroupArn } })),
                },
              }
            : {}),
        }),
      );
    }

    for (const [id, p] of resourcesOf(template, 'AWS::Events::Rule')) {
      const pattern = resolve(p.EventPattern);
      const targets = resolve(p.Targets) as Target[] | undefined;
      if (typeof p.Name !== 'string' || pattern === undefined || !targets) {
        throw new Error(`emulator: rule ${id} of the template cannot be resolved to local resources`);
      }
      await events.send(
        new PutRuleCommand({
          Name: p.Name,
          ...(typeof p.Description === 'string' ? { Description: p.Description } : {}),
          EventPattern: JSON.stringify(pattern),
          State: p.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
        }),
      );
      await events.send(new PutTargetsCommand({ Rule: p.Name, Targets: targets }));
    }

    for (const [id, p] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
      const props = resolve(p) as Record<string, unknown> | undefined;
      if (!props || typeof props.AlarmName !== 'string') throw new Error(`emulator: alarm ${id} of the template cannot be resolved to local resources`);
      await cloudwatch.send(
        new PutMetricAlarmCommand(
          pick<PutMetricAlarmCommandInput>(props, [
            'AlarmName',
            'AlarmDescription',
            'AlarmActions',
            'OKActions',
            'ComparisonOperator',
            'EvaluationPeriods',
            'Threshold',
            'TreatMissingData',
            'MetricName',
            'Namespace',
            'Statistic',
            'Period',
            'Dimensions',
            'Metrics',
          ]),
        ),
      );
    }

    const detectors = await guardduty.send(new ListDetectorsCommand({}));
    if ((detectors.DetectorIds ?? []).length === 0) await guardduty.send(new CreateDetectorCommand({ Enable: true }));
  } finally {
    for (const c of [kms, s3, ddb, sqs, sfn, events, cloudwatch, guardduty]) c.destroy();
  }
}

/** Name of the emulator's forwarding rule in a workload region (the regional stack's rule has a generated name). */
export function localForwarderName(stackName: string): string {
  return `${stackName}-forward-findings`;
}

/**
 * What the regional stack (infra/regional-stack.ts) deploys in each workload region other than the home region,
 * beside the key replica (emulator-resources.ts): a rule forwarding the GuardDuty findings the IR rule accepts to the
 * home region's default event bus, with the IR rule's own pattern. Idempotent.
 */
export async function provisionRegionalForwarding(
  ctx: EmulatorContext,
  template: CfnTemplate,
  stackName: string,
  regions: readonly string[],
): Promise<void> {
  const pattern = findingRulePattern(template, stackName);
  for (const region of regions) {
    if (region === ctx.region) continue;
    const events = new EventBridgeClient(emulatorClientConfig({ ...ctx, region }));
    try {
      const Name = localForwarderName(stackName);
      await events.send(new PutRuleCommand({ Name, EventPattern: pattern, State: 'ENABLED', Description: 'Forward GuardDuty EC2 findings to the IR home region' }));
      await events.send(
        new PutTargetsCommand({
          Rule: Name,
          Targets: [{ Id: 'Target0', Arn: `arn:aws:events:${ctx.region}:${ctx.accountId}:event-bus/default`, RoleArn: `arn:aws:iam::${ctx.accountId}:role/${stackName}-forwarding` }],
        }),
      );
    } finally {
      events.destroy();
    }
  }
}

/** The GuardDuty finding rule's event pattern as the template has it (the regional forwarders use the same). */
export function findingRulePattern(template: CfnTemplate, stackName: string): string {
  const rule = resourcesOf(template, 'AWS::Events::Rule').find(([, p]) => p.Name === `${stackName}-guardduty-findings`);
  if (!rule) throw new Error(`the template has no rule ${stackName}-guardduty-findings`);
  return JSON.stringify(rule[1].EventPattern);
}
