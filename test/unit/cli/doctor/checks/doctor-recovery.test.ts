import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { evaluateRecovery, gatherRecovery } from '../../../../../cli/doctor/checks/recovery';
import { recoveryResourceNames } from '../../../../../cli/doctor/context';
import { recoveryNames } from '../../../../../infra/acquisition-recovery';
import { accessDenied, awsError, doctorContext, HOME, IR, MACHINE_ARN, named, TOPIC_ARN } from '../../../../support/doctor-test-kit';

/**
 * `recovery.rule` and `recovery.alarms` (infra/acquisition-recovery.ts): the redrive rule on failed acquisitions and
 * the two alarms to the case topic. PASS as the stack deploys them, FAIL for each breakage, FAIL naming the action
 * when a read is denied.
 */
const events = mockClient(EventBridgeClient);
const cloudwatch = mockClient(CloudWatchClient);
const names = recoveryResourceNames('ForensicAcquisition');
const DLQ = `arn:aws:sqs:${HOME}:${IR}:ForensicAcquisition-FindingDeadLetterQueue`;
const REDRIVE = `arn:aws:lambda:${HOME}:${IR}:function:ForensicAcquisition-RedriveFailedAcquisition`;

function deployed(): void {
  events.on(DescribeRuleCommand).resolves({
    Name: names.rule,
    State: 'ENABLED',
    EventPattern: JSON.stringify({ source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT'], stateMachineArn: [MACHINE_ARN] } }),
  });
  events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: REDRIVE, DeadLetterConfig: { Arn: DLQ } }] });
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: names.failedAlarm, ActionsEnabled: true, AlarmActions: [TOPIC_ARN] },
      { AlarmName: names.redriveErrorsAlarm, ActionsEnabled: true, AlarmActions: [TOPIC_ARN] },
    ],
  });
}

async function run() {
  return evaluateRecovery(await gatherRecovery(doctorContext()), false);
}

beforeEach(() => {
  events.reset();
  cloudwatch.reset();
});

describe('doctor: recovery of failed acquisitions', () => {
  it('names the rule and alarms exactly as the stack does', () => {
    const infra = recoveryNames('ForensicAcquisition');
    expect(names).toEqual({ rule: infra.rule, failedAlarm: infra.failedAlarm, redriveErrorsAlarm: infra.redriveErrorsAlarm });
  });

  it('PASS: rule enabled on the acquisition state machine, redrive function with a DLQ; both alarms notify the topic', async () => {
    // Prepare
    deployed();
    // Act
    const checks = await run();
    // Assess
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['recovery.rule', 'PASS'],
      ['recovery.alarms', 'PASS'],
    ]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNames).toEqual([names.failedAlarm, names.redriveErrorsAlarm]);
  });

  it('FAIL: rule missing, disabled, watching another machine, without a function or a DLQ', async () => {
    deployed();
    events.on(DescribeRuleCommand).rejects(awsError('ResourceNotFoundException', `Rule ${names.rule} does not exist.`));
    expect(named(await run(), 'recovery.rule')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('neither redriven nor recorded') });

    events.on(DescribeRuleCommand).resolves({ Name: names.rule, State: 'DISABLED', EventPattern: '{}' });
    expect(named(await run(), 'recovery.rule').detail).toContain('enable-rule');

    events.on(DescribeRuleCommand).resolves({ Name: names.rule, State: 'ENABLED', EventPattern: JSON.stringify({ detail: { stateMachineArn: ['arn:aws:states:x:1:stateMachine:other'] } }) });
    expect(named(await run(), 'recovery.rule').detail).toContain('does not watch the acquisition state machine');

    deployed();
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [] });
    expect(named(await run(), 'recovery.rule').detail).toContain('invokes no redrive function');
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: REDRIVE }] });
    expect(named(await run(), 'recovery.rule').detail).toContain('no dead-letter queue');
  });

  it('FAIL: an alarm missing, its actions disabled, or notifying something else', async () => {
    deployed();
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: names.failedAlarm, ActionsEnabled: true, AlarmActions: [TOPIC_ARN] }] });
    expect(named(await run(), 'recovery.alarms')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(`${names.redriveErrorsAlarm} does not exist`) });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: names.failedAlarm, ActionsEnabled: false, AlarmActions: [TOPIC_ARN] },
        { AlarmName: names.redriveErrorsAlarm, ActionsEnabled: true, AlarmActions: [`arn:aws:sns:${HOME}:${IR}:elsewhere`] },
      ],
    });
    expect(named(await run(), 'recovery.alarms').detail).toMatch(new RegExp(`alarm ${names.failedAlarm}, ${names.redriveErrorsAlarm} does not notify .*enable-alarm-actions`));
  });

  it('FAIL naming events:DescribeRule and cloudwatch:DescribeAlarms when they are denied (never a PASS)', async () => {
    deployed();
    events.on(DescribeRuleCommand).rejects(accessDenied('events:DescribeRule'));
    cloudwatch.on(DescribeAlarmsCommand).rejects(accessDenied('cloudwatch:DescribeAlarms'));
    const checks = await run();
    expect(named(checks, 'recovery.rule')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant events:DescribeRule') });
    expect(named(checks, 'recovery.alarms')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant cloudwatch:DescribeAlarms') });
  });
});
