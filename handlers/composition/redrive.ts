import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCaseTable } from '../adapters/case-table';
import { caseLog } from '../adapters/logger';
import { LambdaInvoker } from '../adapters/lambda-invoker';
import { StepFunctionsExecutions } from '../adapters/step-functions-executions';
import { type RedriveEnvironment, redriveEnvironment } from '../config/redrive-env';
import type { RedriveDeps } from '../use-cases/redrive-failed-acquisition';

// The one handler logger (levels reach CloudWatch as levels); the case id is in each entry where known.
const log = caseLog(undefined, 'redriveFailedAcquisition');

/** The redrive function's dependencies from its environment and clients (tests pass mocked clients). */
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

let shared: RedriveDeps | undefined;

/**
 * Composition root of "Redrive failed acquisition": built on first use, once per container. Its clients retry
 * more than the SDK default: this function runs when something already went wrong.
 */
export function sharedRedriveDeps(): RedriveDeps {
  shared ??= redriveDeps(redriveEnvironment(), {
    sfn: new SFNClient({ maxAttempts: 5 }),
    lambda: new LambdaClient({ maxAttempts: 5 }),
    dynamodb: new DynamoDBClient({ maxAttempts: 5 }),
  });
  return shared;
}
