import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { RedriveEnvironment } from '../handlers/config/redrive-env';
import { Construct } from 'constructs';
import { MAX_AUTOMATIC_REDRIVES } from '../handlers/domain/redrive';
import { ForensicFunction, type LambdaEnvironment } from './constructs/forensic-function';
import { allowOn, caseStoreGrants } from './constructs/step-permissions';

/**
 * What keeps a finding from being lost when its acquisition fails, beside the state machine's own
 * retries:
 * - **Redrive.** An EventBridge rule on "Step Functions Execution Status Change" (FAILED, TIMED_OUT) of the
 *   acquisition state machine invokes "Redrive failed acquisition" (handlers/redrive-failed-acquisition.ts), which
 *   redrives an execution that failed on a transient error in a step before anything was changed, at most
 *   MAX_AUTOMATIC_REDRIVES times, and records through "Record failure" what no Catch recorded (handlers/domain/
 *   redrive.ts says which is which). Its role may read and redrive executions of this state machine only, invoke
 *   the Record failure function only, and note a redrive in the case table.
 * - **Alarms** to the case topic: any failed or timed-out acquisition execution (ExecutionsFailed +
 *   ExecutionsTimedOut), and any error of the redrive function itself (it is the last line: its failure means a
 *   finding may be neither redriven nor recorded).
 */
export interface AcquisitionRecoveryProps {
  readonly stateMachine: sfn.StateMachine;
  readonly recordFailure: IFunction;
  readonly environment: LambdaEnvironment;
  readonly evidenceKey: kms.Key;
  readonly evidenceBucket: s3.IBucket;
  readonly caseTable: dynamodb.ITable;
  readonly topic: sns.Topic;
  /** Events the rule could not deliver to the function (shared with the finding rule). */
  readonly deadLetterQueue: sqs.IQueue;
}

/** Names fixed from the stack name, so the key and topic policies can name them without a dependency cycle. */
export function recoveryNames(stackName: string) {
  return {
    rule: `${stackName}-acquisition-stopped`,
    failedAlarm: `${stackName}-acquisition-failed`,
    redriveErrorsAlarm: `${stackName}-redrive-errors`,
    alarmPrefix: `${stackName}-`,
  };
}

export class AcquisitionRecovery extends Construct {
  readonly redrive: ForensicFunction<'redriveFailedAcquisition'>;
  readonly rule: events.Rule;
  readonly failedAlarm: cloudwatch.Alarm;
  readonly redriveErrorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AcquisitionRecoveryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = recoveryNames(stack.stackName);

    const redriveEnvironment: Record<keyof RedriveEnvironment, string> = {
      ACQUISITION_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      RECORD_FAILURE_FUNCTION_NAME: props.recordFailure.functionName,
      CASE_TABLE_NAME: props.caseTable.tableName,
      MAX_REDRIVES: String(MAX_AUTOMATIC_REDRIVES),
    };
    this.redrive = new ForensicFunction(this, 'RedriveFailedAcquisition', {
      step: 'redriveFailedAcquisition',
      // Its own settings (handlers/config/redrive-env.ts) beside the shared ones.
      environment: { ...props.environment, ...redriveEnvironment },
      logKey: props.evidenceKey,
      // Waits for "Record failure" (2 minutes at most) when it records a failure.
      timeout: Duration.minutes(3),
      memorySize: 256,
    });
    const role = this.redrive.role;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    allowOn(role, {
      sid: 'RedriveReadAndRedriveAcquisitions',
      why: 'DescribeExecution and GetExecutionHistory read a stopped acquisition back (status, error, redrive count, ' +
        'the state it stopped in and its input); RedriveExecution continues it from that state. Executions of the ' +
        'acquisition state machine only (execution ARNs end in the execution name, unknown in advance).',
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:RedriveExecution'],
      resources: [executions],
    });
    allowOn(role, {
      sid: 'RedriveRecordUnrecordedFailure',
      why: 'InvokeFunction of "Record failure" only: a failure no Catch recorded is recorded by the same function.',
      actions: ['lambda:InvokeFunction'],
      resources: [props.recordFailure.functionArn],
    });
    caseStoreGrants(
      stack,
      { redriveFailedAcquisition: this.redrive },
      { evidenceKey: props.evidenceKey, evidenceBucket: props.evidenceBucket, caseTable: props.caseTable, topic: props.topic },
      'records',
    ).caseTable('redriveFailedAcquisition', ['dynamodb:UpdateItem'], 'UpdateItem notes a redrive in the case item (details.redrive).');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (active): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });

    // ── The rule: every acquisition execution that stops FAILED or TIMED_OUT. ──
    this.rule = new events.Rule(this, 'AcquisitionStoppedRule', {
      ruleName: names.rule,
      description: 'Failed or timed-out forensic acquisitions: redrive transient failures, record the others',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT'], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.redrive.function, {
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
    props.evidenceKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeWritesUndeliveredStopEventsToTheDeadLetterQueue',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: names.rule }) } },
      }),
    );

    // ── Alarms to the case topic. ──
    const period = Duration.minutes(5);
    const stopped = new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ period, statistic: 'Sum' }),
        timedOut: props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      },
      label: 'Acquisitions failed or timed out',
      period,
    });
    this.failedAlarm = new cloudwatch.Alarm(this, 'AcquisitionFailedAlarm', {
      alarmName: names.failedAlarm,
      alarmDescription:
        'A forensic acquisition execution failed or timed out. Transient failures before containment are redriven ' +
        'automatically; look at the case (forensics cases) and the execution history.',
      metric: stopped,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.redriveErrorsAlarm = new cloudwatch.Alarm(this, 'RedriveErrorsAlarm', {
      alarmName: names.redriveErrorsAlarm,
      alarmDescription:
        'The redrive function failed: a failed acquisition may be neither redriven nor recorded. Read its log group.',
      metric: this.redrive.function.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.failedAlarm, this.redriveErrorsAlarm]) alarm.addAlarmAction(new cwActions.SnsAction(props.topic));

    // CloudWatch publishes to the topic (encrypted with the evidence key) on behalf of these alarms only.
    const alarms = stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${names.alarmPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const onBehalfOfOurAlarms = { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': alarms } };
    props.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: onBehalfOfOurAlarms,
      }),
    );
    props.evidenceKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: onBehalfOfOurAlarms,
      }),
    );
  }
}
