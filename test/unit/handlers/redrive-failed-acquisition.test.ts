import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  RedriveExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedriveEnvironment } from '../../../handlers/config/redrive-env';
import { MAX_AUTOMATIC_REDRIVES } from '../../../handlers/domain/redrive';
import { redriveDeps } from '../../../handlers/composition/redrive';
import { type ExecutionStatusChange, createRedriveHandler } from '../../../handlers/redrive-failed-acquisition';

/**
 * "Redrive failed acquisition" against AWS-shaped answers (DescribeExecution, GetExecutionHistory newest first,
 * RedriveExecution, Lambda Invoke, DynamoDB UpdateItem), through the real adapters with mocked clients.
 */
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBClient);

const MACHINE = 'arn:aws:states:us-east-1:111122223333:stateMachine:AcquisitionStateMachine1A2B3C';
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:AcquisitionStateMachine1A2B3C:guardduty-7f3e';
const ENV: RedriveEnvironment = {
  ACQUISITION_STATE_MACHINE_ARN: MACHINE,
  RECORD_FAILURE_FUNCTION_NAME: 'ForensicAcquisition-RecordFailureStepFunction',
  CASE_TABLE_NAME: 'cases',
  MAX_REDRIVES: MAX_AUTOMATIC_REDRIVES,
};
const CASE_ID = 'case-20260110T100000Z-i-0123456789abcdef0';
/** The input of a step after triage (the triage output); which step it stopped in does not matter to the decision. */
const DESCRIBE_INPUT = {
  outcome: 'ACQUIRE',
  case: { caseId: CASE_ID, target: { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' } },
  rawEvent: { source: 'aws.guardduty' },
};
const LAMBDA_CAUSE = JSON.stringify({ errorType: 'ServiceUnavailable', errorMessage: 'HTTP 503 with an unreadable body' });

const event = (detail: Partial<{ executionArn: string; status: string }> = {}): ExecutionStatusChange => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: EXECUTION, stateMachineArn: MACHINE, status: 'FAILED', ...detail },
});

function described(patch: Partial<DescribeExecutionCommandOutput>): DescribeExecutionCommandOutput {
  return {
    $metadata: {},
    executionArn: EXECUTION,
    stateMachineArn: MACHINE,
    name: 'guardduty-7f3e',
    status: 'FAILED',
    startDate: new Date('2026-01-10T10:00:00Z'),
    stopDate: new Date('2026-01-10T10:14:00Z'),
    input: '{}',
    error: 'ServiceUnavailable',
    cause: LAMBDA_CAUSE,
    redriveCount: 0,
    redriveStatus: 'REDRIVABLE',
    ...patch,
  };
}

/** A history, newest first, that stopped in `state` (entered with `input`), as GetExecutionHistory returns it. */
function history(state: string, enteredType: string, input: unknown, terminal: HistoryEvent): HistoryEvent[] {
  const at = new Date('2026-01-10T10:14:00Z');
  const entered: HistoryEvent = {
    timestamp: at,
    type: enteredType as HistoryEvent['type'],
    id: 20,
    previousEventId: 19,
    stateEnteredEventDetails: { name: state, input: JSON.stringify(input), inputDetails: { truncated: false } },
  };
  const between: HistoryEvent[] =
    enteredType === 'TaskStateEntered'
      ? [
          { timestamp: at, type: 'LambdaFunctionFailed', id: 23, previousEventId: 22, lambdaFunctionFailedEventDetails: { error: 'ServiceUnavailable', cause: LAMBDA_CAUSE } },
          { timestamp: at, type: 'LambdaFunctionStarted', id: 22, previousEventId: 21 },
          { timestamp: at, type: 'LambdaFunctionScheduled', id: 21, previousEventId: 20, lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:us-east-1:111122223333:function:f' } },
        ]
      : [];
  return [terminal, ...between, entered];
}
const failedEvent: HistoryEvent = {
  timestamp: new Date('2026-01-10T10:14:00Z'),
  type: 'ExecutionFailed',
  id: 24,
  previousEventId: 23,
  executionFailedEventDetails: { error: 'ServiceUnavailable', cause: LAMBDA_CAUSE },
};

const logs: Record<string, unknown>[] = [];
const handler = createRedriveHandler({
  redrive: () => ({
  ...redriveDeps(ENV, { sfn: new SFNClient({ region: 'us-east-1' }), lambda: new LambdaClient({ region: 'us-east-1' }), dynamodb: new DynamoDBClient({ region: 'us-east-1' }) }),
    log: (e) => void logs.push(e),
  }),
});

const invokedPayload = () => JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array)) as Record<string, unknown>;

describe('redrive failed acquisition', () => {
  beforeEach(() => {
    sfn.reset();
    lambda.reset();
    ddb.reset();
    logs.length = 0;
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date('2026-01-10T10:15:00Z') });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ caseId: CASE_ID, status: 'FAILED' })) as never });
    ddb.on(UpdateItemCommand).resolves({});
  });

  it('redrives an execution that failed on a transient error in "Preserve and snapshot", and notes it in the case', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves(described({}));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Preserve and snapshot', 'TaskStateEntered', DESCRIBE_INPUT, failedEvent) });
    // Act
    const outcome = await handler(event());
    // Assess
    expect(outcome).toMatchObject({ action: 'redrive', redriveNumber: 1, caseId: CASE_ID });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({ executionArn: EXECUTION, reverseOrder: true, includeExecutionData: true });
    expect(sfn.commandCalls(RedriveExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION, clientToken: 'forensics-redrive-1' }]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    const update = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(update?.Key).toEqual({ pk: { S: `CASE#${CASE_ID}` }, sk: expect.anything() });
    expect(JSON.stringify(update?.ExpressionAttributeValues)).toContain('Preserve and snapshot');
    expect(Object.values(update?.ExpressionAttributeNames ?? {})).toContain('redrive');
  });

  it('redrives a transient failure of triage (no case yet) without touching the case table', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({ error: 'ThrottlingException', redriveCount: 2 }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Triage, open case and describe instance', 'TaskStateEntered', { source: 'aws.guardduty' }, failedEvent) });
    const outcome = await handler(event());
    expect(outcome).toMatchObject({ action: 'redrive', redriveNumber: 3 });
    expect(sfn.commandCalls(RedriveExecutionCommand)[0]?.args[0].input.clientToken).toBe('forensics-redrive-3');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('past the redrive bound in triage: finds the case it had opened (instance + start time, this execution) and records it', async () => {
    // Prepare: the execution stopped in triage, whose input is the execution input; the case it opened is in the table.
    const finding = {
      source: 'aws.guardduty',
      'detail-type': 'GuardDuty Finding',
      detail: {
        schemaVersion: '2.0',
        id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        type: 'Backdoor:EC2/C&CActivity.B',
        severity: 8,
        accountId: '111122223333',
        region: 'us-east-1',
        resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0123456789abcdef0' } },
        service: { archived: false, count: 1 },
      },
    };
    const caseId = '20260110T100000Z-i-0123456789abcdef0';
    const record = {
      caseId,
      status: 'ACQUIRING',
      target: { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' },
      source: 'guardduty',
      openedAt: '2026-01-10T10:00:01.000Z',
      updatedAt: '2026-01-10T10:00:01.000Z',
      executionArn: EXECUTION,
      findings: [{ id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', type: 'Backdoor:EC2/C&CActivity.B', severity: 8, count: 1 }],
      details: { options: { workstation: false, revoke: 'instance' } },
    };
    sfn.on(DescribeExecutionCommand).resolves(described({ redriveCount: MAX_AUTOMATIC_REDRIVES }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Triage, open case and describe instance', 'TaskStateEntered', finding, failedEvent) });
    ddb.on(GetItemCommand).resolves({ Item: marshall(record) });

    // Act
    const outcome = await handler(event());

    // Assess: read by the id triage gives that instance at that start time; recorded as the Catch would have.
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input.Key).toEqual({ pk: { S: `CASE#${caseId}` }, sk: { S: 'CASE' } });
    expect(outcome).toMatchObject({ action: 'record', caseId });
    expect(invokedPayload()).toEqual({
      outcome: 'ACQUIRE',
      case: {
        caseId,
        target: record.target,
        finding: record.findings[0],
        source: 'guardduty',
        options: record.details.options,
        openedAt: record.openedAt,
        executionArn: EXECUTION,
      },
      rawEvent: finding,
      failure: { Error: 'ServiceUnavailable', Cause: LAMBDA_CAUSE },
    });
  });

  it('past the redrive bound in triage: a case of another execution is not this one\'s to record', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves(described({ redriveCount: MAX_AUTOMATIC_REDRIVES }));
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: history('Triage, open case and describe instance', 'TaskStateEntered', { instanceId: 'i-0123456789abcdef0', accountId: '111122223333', region: 'us-east-1', reason: 'EDR', requestedBy: 'alice' }, failedEvent),
    });
    ddb.on(GetItemCommand).resolves({ Item: marshall({ caseId: 'x', executionArn: `${EXECUTION}-other`, findings: [{ id: 'f' }] }) });

    // Act
    const outcome = await handler(event());

    // Assess
    expect(outcome).toMatchObject({ action: 'none' });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('past the redrive bound: records the failure through "Record failure" with the stopped state\'s input, and does not redrive', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves(described({ redriveCount: MAX_AUTOMATIC_REDRIVES }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Preserve and snapshot', 'TaskStateEntered', DESCRIBE_INPUT, failedEvent) });
    // Act
    const outcome = await handler(event());
    // Assess
    expect(outcome).toMatchObject({ action: 'record', caseId: CASE_ID });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
    const call = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ FunctionName: ENV.RECORD_FAILURE_FUNCTION_NAME, InvocationType: 'RequestResponse' });
    // Exactly what the state machine's Catch would have given "Record failure": the state plus $.failure.
    expect(invokedPayload()).toEqual({ ...DESCRIBE_INPUT, failure: { Error: 'ServiceUnavailable', Cause: LAMBDA_CAUSE } });
  });

  it('records an error no Catch names (not transient) that escaped "Preserve and snapshot"; never redrives it', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({ error: 'ValidationException', cause: 'bad request' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Preserve and snapshot', 'TaskStateEntered', DESCRIBE_INPUT, failedEvent) });
    const outcome = await handler(event());
    expect(outcome).toMatchObject({ action: 'record' });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
    expect(invokedPayload().failure).toEqual({ Error: 'ValidationException', Cause: 'bad request' });
  });

  it('leaves alone a failure the state machine caught and recorded (stopped in the Fail state)', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({ error: 'AcquisitionFailed', cause: 'Seal evidence failed' }));
    const failState: HistoryEvent = { timestamp: new Date(), type: 'ExecutionFailed', id: 40, previousEventId: 39, executionFailedEventDetails: { error: 'AcquisitionFailed' } };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Acquisition failed', 'FailStateEntered', { ...DESCRIBE_INPUT, failure: { Error: 'ServiceUnavailable' } }, failState) });
    const outcome = await handler(event());
    expect(outcome).toMatchObject({ action: 'none', reason: expect.stringMatching(/Fail state "Acquisition failed"/) });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('records a timed-out execution (States.Timeout) and never redrives it, even when Step Functions would allow it', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({ status: 'TIMED_OUT', error: undefined, cause: undefined }));
    const timedOut: HistoryEvent = { timestamp: new Date(), type: 'ExecutionTimedOut', id: 90, previousEventId: 89, executionTimedOutEventDetails: {} };
    const waiting = { ...DESCRIBE_INPUT, snapshotProgress: { attempt: 12 } };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Wait for snapshots', 'WaitStateEntered', waiting, timedOut) });
    const outcome = await handler(event({ status: 'TIMED_OUT' }));
    expect(outcome).toMatchObject({ action: 'record' });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
    expect(invokedPayload()).toMatchObject({ snapshotProgress: { attempt: 12 }, failure: { Error: 'States.Timeout', Cause: expect.stringMatching(/Wait for snapshots/) } });
  });

  it('does nothing for an execution already running again (a late or duplicate event), nor for another state machine\'s', async () => {
    sfn.on(DescribeExecutionCommand).resolvesOnce(described({ status: 'RUNNING', redriveCount: 1 })).resolvesOnce(described({ stateMachineArn: `${MACHINE}-other` }));
    expect(await handler(event())).toMatchObject({ action: 'none', reason: 'execution is RUNNING' });
    expect(await handler(event())).toMatchObject({ action: 'none', reason: expect.stringMatching(/not an execution of/) });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('records instead when RedriveExecution refuses (ExecutionNotRedrivable)', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({}));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Preserve and snapshot', 'TaskStateEntered', DESCRIBE_INPUT, failedEvent) });
    sfn.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution history event limit exceeded', $metadata: {} }));
    const outcome = await handler(event());
    expect(outcome).toMatchObject({ action: 'record', reason: expect.stringMatching(/not redrivable \(Execution history event limit exceeded\)/) });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  it('fails (so the Errors alarm fires and Lambda retries) when "Record failure" itself fails', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described({ redriveCount: MAX_AUTOMATIC_REDRIVES }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history('Preserve and snapshot', 'TaskStateEntered', DESCRIBE_INPUT, failedEvent) });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(JSON.stringify({ errorType: 'EvidenceWriteFailed', errorMessage: 'bucket refused' })) as never,
    });
    await expect(handler(event())).rejects.toMatchObject({ name: 'EvidenceWriteFailed', message: 'bucket refused' });
  });

  it('rejects an event that is not an execution status change, naming the field', async () => {
    await expect(handler({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: {} })).rejects.toMatchObject({ name: 'InvalidInput', field: 'detail-type' });
    await expect(handler(event({ executionArn: 'not-an-arn' }))).rejects.toMatchObject({ name: 'InvalidInput', field: 'detail.executionArn' });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });
});
