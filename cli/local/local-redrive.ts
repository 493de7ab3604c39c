import { awsClients } from '../../handlers/adapters/aws-client-set';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';
import { MAX_AUTOMATIC_REDRIVES, type StoppedExecution, type StoppedState } from '../../handlers/domain/redrive';
import { type RedriveOutcome, redriveFailedAcquisition } from '../../handlers/use-cases/redrive-failed-acquisition';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { type LocalEnvironment, type RunLocalOptions, type RunLocalResult, loadHandlers, localAcquisitionExecutionArn } from './local-runner';

/**
 * RedriveExecution, emulated for local runs (aws-local-stepfunctions has no redrive), around the real decision:
 * after a FAILED run, the redrive function's own use case (handlers/use-cases/redrive-failed-acquisition.ts) decides
 * on what the run reports — status, error, the state it stopped in and that state's input, as DescribeExecution and
 * GetExecutionHistory would — exactly as on the "Execution Status Change" event. A redrive continues the execution
 * as Step Functions does: from the state it stopped in, with that state's original input, under the same execution
 * name and start time (so the same case), with `$$.Execution.RedriveCount` set. A recording invokes the real
 * Record failure handler; a note goes to the case table on the emulator. The emulated Step Functions always answers
 * REDRIVABLE (these runs stay far below the history limit).
 */
export type Run = (redrive?: RunLocalOptions['redrive']) => Promise<RunLocalResult>;

export interface RedriveRun {
  result: RunLocalResult;
  redrives: number;
  /** What the redrive function decided after each stop, in order. */
  outcomes: RedriveOutcome[];
}

const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:ForensicAcquisition';

export async function withLocalRedrive(
  env: LocalEnvironment,
  executionName: string,
  startedAt: string,
  first: RunLocalResult,
  run: Run,
  maxRedrives: number = MAX_AUTOMATIC_REDRIVES,
): Promise<RedriveRun> {
  const handlers = await loadHandlers();
  const cases = new DynamoCaseTable(awsClients().dynamodb(), env.handlerEnv.CASE_TABLE_NAME);
  // The ARN the run gave the execution ($$.Execution.Id), which triage records in the case.
  const executionArn = localAcquisitionExecutionArn(env, executionName);
  const outcomes: RedriveOutcome[] = [];
  let result = first;
  let redrives = 0;
  while (result.status === 'FAILED' && result.stoppedIn) {
    const stopped = result.stoppedIn;
    const stoppedIn: StoppedState = { name: stopped.name, enteredEvent: `${stopped.type}StateEntered`, input: stopped.input };
    const description: StoppedExecution = {
      executionArn,
      stateMachineArn: MACHINE_ARN,
      status: 'FAILED',
      ...(result.error?.name ? { error: result.error.name } : {}),
      ...(result.error?.cause ? { cause: result.error.cause } : {}),
      redriveCount: redrives,
      redriveStatus: 'REDRIVABLE',
      ...(startedAt ? { startDate: startedAt } : {}),
    };
    let next: Promise<RunLocalResult> | undefined;
    const outcome = await redriveFailedAcquisition(
      {
        executions: {
          describe: async () => description,
          lastStateEntered: async () => stoppedIn,
          redrive: async () => {
            next = run({ fromState: stopped.name, input: stopped.input, redriveCount: redrives + 1, startedAt });
            // Awaited below, once the decision is complete; a failure then surfaces there.
            next.catch(() => undefined);
            return new Date();
          },
        },
        recordFailure: (state) => (handlers[ACQUISITION_STEPS.recordFailure.state] as (input: unknown) => Promise<unknown>)(state),
        noteRedrive: (caseId, note) => cases.updateCase(caseId, { details: { redrive: note } }),
        cases,
        stateMachineArn: MACHINE_ARN,
        maxRedrives,
        clock: () => new Date(),
        log: () => undefined,
      },
      executionArn,
    );
    outcomes.push(outcome);
    if (outcome.action !== 'redrive' || !next) break;
    redrives++;
    result = await next;
  }
  return { result, redrives, outcomes };
}
