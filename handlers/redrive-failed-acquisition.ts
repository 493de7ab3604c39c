import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCaseTable } from './adapters/case-table';
import { caseLog } from './adapters/logger';
import { LambdaInvoker } from './adapters/lambda-invoker';
import { StepFunctionsExecutions } from './adapters/step-functions-executions';
import { type RedriveEnvironment, redriveEnvironment } from './config/redrive-env';
import { InvalidInput } from './domain/errors';
import { type RedriveDeps, type RedriveOutcome, redriveFailedAcquisition } from './use-cases/redrive-failed-acquisition';

/**
 * "Redrive failed acquisition": the target of the EventBridge rule on "Step Functions Execution Status Change"
 * (status FAILED or TIMED_OUT) of the acquisition state machine. The event says which execution; everything else is
 * read back from Step Functions, since the event may be late or delivered twice.
 */
export interface ExecutionStatusChange {
  source?: string;
  'detail-type'?: string;
  detail?: { executionArn?: string; stateMachineArn?: string; status?: string };
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/;

export function executionArnOf(event: ExecutionStatusChange): string {
  if (event?.source !== 'aws.states' || event['detail-type'] !== 'Step Functions Execution Status Change') {
    throw new InvalidInput('detail-type', 'expected a "Step Functions Execution Status Change" event from aws.states');
  }
  const arn = event.detail?.executionArn;
  if (typeof arn !== 'string' || !EXECUTION_ARN.test(arn)) throw new InvalidInput('detail.executionArn', 'expected an execution ARN');
  return arn;
}

// The one handler logger (levels reach CloudWatch as levels); the case id is in each entry where known.
const log = caseLog(undefined, 'redriveFailedAcquisition');

export function redriveDeps(env: RedriveEnvironment, clients: { sfn: SFNClient; lambda: LambdaClient; dynamodb: DynamoDBClient }): RedriveDeps {
  const clock = () => new Date();
  const cases = new DynamoCaseTable(clients.dynamodb, env.CASE_TABLE_NAME, clock);
  const recorder = new LambdaInvoker(clients.lambda, env.RECORD_FAILURE_FUNCTION_NAME);
  return {
    executions: new StepFunctionsExecutions(clients.sfn),
    recordFailure: (state) => recorder.invoke(state),
    noteRedrive: (caseId, note) => cases.updateCase(caseId, { details: { redrive: note } }),
    cases,
    stateMachineArn: env.ACQUISITION_STATE_MACHINE_ARN,
    maxRedrives: env.MAX_REDRIVES,
    clock,
    log,
  };
}

export function createRedriveHandler(deps: () => RedriveDeps) {
  return async (event: ExecutionStatusChange): Promise<RedriveOutcome> => redriveFailedAcquisition(deps(), executionArnOf(event));
}

let shared: RedriveDeps | undefined;

export const handler = createRedriveHandler(() => {
  shared ??= redriveDeps(redriveEnvironment(), {
    sfn: new SFNClient({ maxAttempts: 5 }),
    lambda: new LambdaClient({ maxAttempts: 5 }),
    dynamodb: new DynamoDBClient({ maxAttempts: 5 }),
  });
  return shared;
});
