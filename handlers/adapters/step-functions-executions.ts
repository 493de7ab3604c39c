import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  RedriveExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { StoppedExecution, StoppedState } from '../domain/redrive';

/** History pages read backwards before giving up on finding the state an execution stopped in. */
const MAX_HISTORY_PAGES = 5;

/** The Step Functions calls of the redrive function: read a stopped execution, redrive it. */
export class StepFunctionsExecutions {
  constructor(private readonly client: SFNClient) {}

  /** DescribeExecution: status, error, redrive count and whether Step Functions would redrive it now. */
  async describe(executionArn: string): Promise<StoppedExecution> {
    const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
    return {
      executionArn,
      stateMachineArn: out.stateMachineArn ?? '',
      status: out.status ?? 'UNKNOWN',
      ...(out.error !== undefined ? { error: out.error } : {}),
      ...(out.cause !== undefined ? { cause: out.cause } : {}),
      redriveCount: out.redriveCount ?? 0,
      ...(out.startDate !== undefined ? { startDate: out.startDate.toISOString() } : {}),
      ...(out.redriveStatus !== undefined ? { redriveStatus: out.redriveStatus } : {}),
      ...(out.redriveStatusReason !== undefined ? { redriveStatusReason: out.redriveStatusReason } : {}),
    };
  }

  /**
   * The newest `…StateEntered` event: the state the execution stopped in (a failed Task has no `TaskStateExited`,
   * a Fail state has none at all). Its input is kept only when the history holds it whole (not truncated).
   */
  async lastStateEntered(executionArn: string): Promise<StoppedState | undefined> {
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const out = await this.client.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, maxResults: 100, nextToken }),
      );
      const entered = (out.events ?? []).find((e: HistoryEvent) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails);
      if (entered?.type && entered.stateEnteredEventDetails?.name) {
        const details = entered.stateEnteredEventDetails;
        const input = details.inputDetails?.truncated ? undefined : parseJson(details.input);
        return { name: details.name ?? '', enteredEvent: entered.type, ...(input !== undefined ? { input } : {}) };
      }
      nextToken = out.nextToken;
      if (!nextToken) return undefined;
    }
    return undefined;
  }

  /** RedriveExecution; the client token makes a duplicate request for the same stop a no-op. */
  async redrive(executionArn: string, clientToken: string): Promise<Date | undefined> {
    const out = await this.client.send(new RedriveExecutionCommand({ executionArn, clientToken }));
    return out.redriveDate;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
