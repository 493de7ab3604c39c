import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RELEASE_CONTROL_STATES, RELEASE_STEPS, RELEASE_TIMEOUT_MINUTES, type ReleaseStep } from './release-steps';
import { lambdaStep } from './task-defaults';

/**
 * The release state machine (Standard workflow, JSONPath): undoes a case's containment once the investigation has
 * cleared the instance. `forensics release <caseId> --reason TEXT` starts it; a responder can also start it from the
 * console with the input `{"caseId": "...", "reason": "...", "requestedBy": "..."}`.
 *
 * Flow, as a responder sees it in the console:
 *  1. Validate release request — the input (case id format, reason and requester without control characters), then
 *     the case: it must exist and be CONTAINED or FAILED. Otherwise the execution fails, with nothing changed,
 *     as `InvalidInput`, `CaseNotFound`, `CaseStillAcquiring` or `CaseAlreadyReleased` ("Release refused").
 *  2. Release containment — from what the case recorded: every ENI back in its original security groups, the case's
 *     deny policies deleted from the instance's role, the instance out of Auto Scaling standby and registered again
 *     in its target groups; then the case becomes RELEASED, its instance lock is deleted and every action, with the
 *     previous state, goes to the custody log. A failed action does not stop the others; the step then fails with
 *     `ReleaseIncomplete`, and a new execution retries only what did not succeed. Evidence (snapshots, objects,
 *     legal holds, manifest) is out of this step's reach: its role holds no permission on it.
 *  3. Notify responders — SNS, best effort: a publish failure is kept in the output and does not fail the release.
 *
 * Every Task retries throttling and Lambda service errors with exponential backoff and full jitter (the same rule
 * as the acquisition, workflows/task-defaults.ts). A failure after validation is caught into "Record release
 * failure", which writes it to the case (`details.releaseFailure`) and the custody log and fails the execution
 * with the original error name; the case keeps its status, so the release can simply be started again.
 */
export interface ReleaseStateMachineProps {
  /** One function per step; each has its own role with only the permissions its step needs. */
  readonly functions: Record<ReleaseStep, IFunction>;
  /** Key for the execution log group. */
  readonly logKey?: kms.IKey;
  /** Log retention for execution history logs. */
  readonly logRetention?: logs.RetentionDays;
}

export class ReleaseStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReleaseStateMachineProps) {
    super(scope, id);
    const step = (name: ReleaseStep, resultPath: string | undefined, payload?: sfn.TaskInput): tasks.LambdaInvoke =>
      lambdaStep(this, {
        state: RELEASE_STEPS[name].state,
        lambdaFunction: props.functions[name],
        ...(resultPath ? { resultPath } : {}),
        ...(payload ? { payload } : {}),
      });

    // ── 1. Validate: refusals fail the execution by name, nothing changed. ──
    const refused = new sfn.Fail(this, RELEASE_CONTROL_STATES.refused, {
      comment: 'Invalid input, unknown case, or a case that cannot be released now: nothing was changed.',
      errorPath: '$.Error',
      causePath: '$.Cause',
    });
    const validate = step(
      'validateRelease',
      undefined,
      sfn.TaskInput.fromObject({
        'request.$': '$',
        'executionArn.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
      }),
    );
    validate.addCatch(refused, { errors: ['States.ALL'] });

    // ── Failure path: record in the case and the custody log, fail with the original error. ──
    const failed = new sfn.Fail(this, RELEASE_CONTROL_STATES.failed, {
      comment: 'The failure is recorded in the case and the custody log; the case keeps its status.',
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });
    const unrecorded = new sfn.Fail(this, RELEASE_CONTROL_STATES.unrecorded, {
      comment: 'Recording the failure failed too: the execution history is the remaining record.',
      errorPath: '$.recordFailureError.Error',
      causePath: '$.recordFailureError.Cause',
    });
    const recordFailure = step('recordReleaseFailure', '$.failureRecord');
    recordFailure.addCatch(unrecorded, { errors: ['States.ALL'], resultPath: '$.recordFailureError' });
    recordFailure.next(failed);

    // ── 2. Release, 3. notify (best effort). ──
    const release = step('releaseContainment', '$.release');
    release.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.failure' });
    const released = new sfn.Succeed(this, RELEASE_CONTROL_STATES.released);
    const notify = step('notifyRelease', '$.notification');
    // The release is done and recorded by now: a notification failure is kept in the output, not fatal.
    notify.addCatch(released, { errors: ['States.ALL'], resultPath: '$.notificationFailure' });

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Release of a forensic case\'s containment: original groups, deny policies removed, back in service.',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(validate.next(release).next(notify).next(released)),
      timeout: Duration.minutes(RELEASE_TIMEOUT_MINUTES),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
