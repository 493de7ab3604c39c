import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { LAMBDA_SERVICE_ERRORS, LAMBDA_TIMEOUT_ERROR, THROTTLING_ERRORS, TRANSIENT_SERVER_ERRORS } from '../handlers/domain/errors';

/**
 * What every Lambda Task of this product's state machines shares: the function's own result as the step result
 * (no Lambda API envelope), an explicit Task timeout, and one Retry rule for AWS throttling, transient server errors
 * and Lambda service errors with exponential backoff and full jitter (so that many executions throttled at once do
 * not retry in lockstep).
 *
 * Both state machines build every Task with `lambdaStep`; the acquisition's steps before containment and its
 * idempotent polls pass their own retry rules. The definition tests check the rule on every Task of both.
 */
export const THROTTLING_RETRY: sfn.RetryProps = {
  errors: [...THROTTLING_ERRORS, ...TRANSIENT_SERVER_ERRORS, ...LAMBDA_SERVICE_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.seconds(60),
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * The retry window of the step before anything is changed (triage, which opens the case and describes the instance),
 * one rule per kind of error so each keeps its own count: a finding is worth waiting for, and retrying it cannot do
 * anything twice (opening the case is idempotent for its own execution, describing only reads). Exponential backoff with full jitter, so a
 * burst of executions throttled together spreads out: throttling and transient server errors up to 10 retries,
 * at most 120 s apart (about 10 minutes in the worst case, half that on average with full jitter); Lambda service
 * errors 8 retries; a Lambda timeout 3 (a dependency slow for the function's whole timeout rarely recovers faster).
 * Once these are spent the step's Catch lets the error through, the execution fails in this step, and the redrive
 * function runs it again (handlers/domain/redrive.ts).
 */
export const PRE_CONTAINMENT_RETRIES: readonly sfn.RetryProps[] = [
  {
    errors: [...THROTTLING_ERRORS],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 10,
    maxDelay: Duration.seconds(120),
    jitterStrategy: sfn.JitterType.FULL,
  },
  {
    errors: [...TRANSIENT_SERVER_ERRORS],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 10,
    maxDelay: Duration.seconds(120),
    jitterStrategy: sfn.JitterType.FULL,
  },
  {
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 8,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  },
  {
    errors: [LAMBDA_TIMEOUT_ERROR],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 3,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  },
];

/**
 * Steps after containment that do nothing twice when run again: the two polls only read (and the check of copies
 * finds by tag the copies it already requested), and "Copy snapshots with evidence key" finds by tag the copies an
 * earlier attempt made (CopySnapshot tags at creation) before it requests any. A function that runs out of time there
 * (a slow dependency, a starved sandbox) would otherwise fail an acquisition whose evidence is secured but not yet
 * copied and sealed: such a step is run again, twice at most, with jitter. A Task timeout (`States.Timeout`, the
 * invocation itself never ending) is treated the same way.
 */
export const IDEMPOTENT_TIMEOUT_RETRY: sfn.RetryProps = {
  errors: [LAMBDA_TIMEOUT_ERROR, 'States.Timeout'],
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: sfn.JitterType.FULL,
};

/** Longer than any step function's own timeout, shorter than Lambda's maximum: a hung invocation ends the Task. */
export const TASK_TIMEOUT = Duration.minutes(15);

export interface LambdaStepProps {
  /** State name a responder sees in the console. */
  readonly state: string;
  readonly lambdaFunction: IFunction;
  /** undefined = the ASL default "$" (the result replaces the state), left implicit on purpose. */
  readonly resultPath?: string;
  readonly payload?: sfn.TaskInput;
  /** Retry rules, in order. @default [THROTTLING_RETRY] */
  readonly retries?: readonly sfn.RetryProps[];
}

/**
 * A LambdaInvoke Task with the house defaults. `resultPath` undefined is left implicit on purpose: the local
 * runner's interpreter mishandles an explicit "$".
 */
export function lambdaStep(scope: Construct, props: LambdaStepProps): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, props.state, {
    lambdaFunction: props.lambdaFunction,
    // The function's own result becomes the step's result; the Lambda API envelope is not kept.
    payloadResponseOnly: true,
    // Lambda service errors are retried below, with jitter, alongside AWS throttling.
    retryOnServiceExceptions: false,
    ...(props.resultPath ? { resultPath: props.resultPath } : {}),
    ...(props.payload ? { payload: props.payload } : {}),
    // Explicit, so a hung invocation ends the Task instead of waiting on the service default.
    taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
  });
  for (const retry of props.retries ?? [THROTTLING_RETRY]) task.addRetry(retry);
  return task;
}
