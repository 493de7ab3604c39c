import { sharedRedriveDeps } from './composition/redrive';
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

/** "Redrive failed acquisition". Payload: the EventBridge event. Returns what was done (redrive, record, nothing). */
export function createRedriveHandler(deps: { redrive?: () => RedriveDeps } = {}) {
  return async (event: ExecutionStatusChange): Promise<RedriveOutcome> =>
    redriveFailedAcquisition((deps.redrive ?? sharedRedriveDeps)(), executionArnOf(event));
}

export const handler = createRedriveHandler();
