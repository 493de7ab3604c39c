import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TRANSIENT_ERRORS } from '../handlers/domain/errors';
import { MAX_AUTOMATIC_REDRIVES } from '../handlers/domain/redrive';
import { ACQUISITION_STEPS, type AcquisitionStep, CONTROL_STATES } from './acquisition-steps';
import { type AslDefinition, HISTORY_EVENT_BUDGET, type HistoryBudget, largestLoopBoundWithin, worstCaseHistory } from './history-budget';
import { IDEMPOTENT_TIMEOUT_RETRY, PRE_CONTAINMENT_RETRIES, THROTTLING_RETRY, lambdaStep } from './task-defaults';

/**
 * The forensic acquisition state machine (Standard workflow, JSONPath).
 *
 * Flow, as a responder sees it in the console:
 *  1. Triage, open case and describe instance — validate the input (a GuardDuty event or a manual request), decide
 *     whether to acquire, and open the case with a conditional write on the instance; beside that write (one round
 *     trip, not two, before anything changes), record the pre-incident state (ENIs and groups, volumes, profile,
 *     ASG, target groups) and find this product's isolation groups in the instance's VPCs. Invalid input fails the
 *     execution with `InvalidInput`; an instance that already has an open case gets the finding appended and ends
 *     as a duplicate; a case opened on an instance that cannot be described (gone, not readable, not the drill's
 *     canary) carries the error at `$.failure` and goes to "Record failure".
 *  2. Acquire, duplicate or ignore? — the outcome of triage.
 *  3. Preserve and snapshot — one CreateSnapshots call for every EBS volume (crash-consistent) in parallel with the
 *     preservation calls (case tag, termination protection, shutdown = stop, volumes kept, ASG standby, target
 *     group deregistration). The snapshots' point in time is fixed here, so nothing waits for them to complete.
 *  4. Isolate network — on every ENI, the all-traffic transition group then the rule-less isolation group, which
 *     also cuts established connections. Containment is done. Nothing on the path to containment writes evidence:
 *     its actions travel in the execution state to "Record containment" (below), so these functions bundle no
 *     evidence-store client and their roles cannot write evidence.
 *     When "Preserve and snapshot" planned a memory capture (its facts read beside CreateSnapshots: the VPC's SSM
 *     endpoints, the instance's SSM registration and platform, its memory), the deny policy exempts exactly the SSM
 *     agent's own actions (MEMORY_AGENT_ACTIONS); nothing else on this path changes.
 *  5. Start memory capture — off the containment path: the VPC's acquisition-channel group (no inbound, egress only
 *     TCP 443 to the SSM endpoints' groups) and the capture volume from the region's tools snapshot, at once; then
 *     every ENI moves from the isolation group into the channel. A skip plan returns at once. Any failure is caught
 *     into `$.memoryFailure` (the first poll then puts the ENIs back and the deny is made total) and the acquisition
 *     goes on. The rest of the capture is advanced by "Check snapshot progress" (below).
 *  6. Record containment — the custody records the path to containment left in the state (case opened, finding,
 *     describe, preservation and snapshot, containment, in that order), the raw finding and the pre-incident state,
 *     each written once; the case details release reads. A failure goes to "Record failure", which writes the same.
 *     The memory capture's own records follow them, appended by the first "Check snapshot progress".
 *  7. Scope the incident — off the containment path, while EC2 completes the snapshots: the principal's CloudTrail
 *     timeline, the incident window's logs copied under legal hold, the list of what the role could read (to
 *     rotate), each sealed (handlers/use-cases/scope-incident.ts). Bounded by its own time cap; any failure is
 *     caught into `$.scopeFailure` and the acquisition goes on (the seal records the scope as failed).
 *  8. Check snapshot progress / Wait for snapshots — a bounded poll loop (interval from size and progress, backing off
 *     while progress stands still; a time cap in the handler; and a hard count in the Choice rule, derived from the
 *     execution's history budget, see below); a snapshot in `error` does not stop the others. Each poll also moves the
 *     memory capture one stage (attach the capture volume → Run Command with a hard executionTimeout → the result
 *     line and the host SHA-256 into the custody log at once → ENIs back to the isolation group and the full deny →
 *     detach → snapshot, which joins the disks' and follows them into the evidence chain); the loop does not settle
 *     before the memory is done, and its last allowed poll ends a capture still running (no new loop, no new state).
 *  9. Copy snapshots with evidence key / Check evidence copies — re-encrypt every completed snapshot with the
 *     evidence CMK, bounded in the same way. Multi-account, per volume: copy in the workload account
 *     with the evidence CMK → wait → share with the IR account → IR-owned copy under the evidence key → wait
 *     (State and StateMessage) → EBS Snapshot Lock (skipped and recorded where the API is unavailable). The two
 *     loop steps advance every volume's stage (workload-copy → shared → ir-copy → locked) on each poll
 *     (handlers/use-cases/evidence-chain.ts). Why not a Map state: what must be bounded is the number of copies
 *     in flight per account (EBS copy limits are account-wide and shared between cases), and the Lambda bounds
 *     that (COPY_CONCURRENCY, limit errors retried with jitter, then deferred to the next poll); a Map with an
 *     inner Wait/poll loop per volume would multiply state transitions (cost, and the benchmark) by the number
 *     of volumes, where this keeps them flat: no state was added, the transition count is unchanged.
 * 10. Seal evidence — raw findings, pre-incident state and manifest, SHA-256 checked, under Object Lock legal hold.
 * 11. Workstation requested? / Launch forensic workstation — only when the case's `options.workstation` is true:
 *     volumes from the evidence snapshots attached to a hardened instance in the isolated forensic VPC. The
 *     evidence is sealed by then, so its failure is caught into "Notify responders" (at `$.workstationFailure`),
 *     recorded and reported, and never fails the acquisition.
 * 12. Notify responders — SNS; a notification failure is recorded and does not fail the acquisition.
 * 13. Close case — the case becomes CONTAINED and keeps its lock until a responder releases it.
 *
 * Every Task retries throttling, transient server and Lambda service errors with exponential backoff and full jitter.
 * From "Preserve and snapshot" on, every Task catches everything into "Record failure", which writes what was
 * already secured to the case and the custody log, notifies, and fails the execution. The step before anything is
 * changed (triage, which opens the case and describes the instance) retries far longer (PRE_CONTAINMENT_RETRIES) and
 * catches only the errors no retry can fix: a transient error that outlasts its retries fails the execution in that
 * very step, where the redrive function (handlers/domain/redrive.ts, an EventBridge rule on the execution's status)
 * runs it again with RedriveExecution — a redrive of a caught failure would only re-run the Fail state. Whatever else
 * escapes it is recorded by the same function through "Record failure".
 *
 * History budget: a Standard execution stops at 25,000 history events, redrives included. After the states are
 * built, the definition's worst case (workflows/history-budget.ts: every Task's retries spent, the longest path,
 * the redrives) sets the largest poll count per loop that keeps it within HISTORY_EVENT_BUDGET; the Choice rules
 * enforce it and the poll steps receive it, so they spread their checks over the time cap.
 */
export interface AcquisitionStateMachineProps {
  /** One function per step; each has its own role with only the permissions its step needs. */
  readonly functions: Record<AcquisitionStep, IFunction>;
  /** Cap on each wait loop (snapshots, copies); the Choice rules enforce the matching number of polls. */
  readonly maxWaitMinutes: number;
  /** Key for the execution log group. */
  readonly logKey?: kms.IKey;
  /** Log retention for execution history logs. */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What no retry fixes in the step before any change: caught at once (rejected). The describe's own permanent errors
 * (the instance gone, not readable) never reach the Catch: triage returns them at `$.failure` once the case is open.
 */
const PERMANENT_BEFORE_CHANGE = ['InvalidInput', 'ConfigurationError', 'States.Timeout', 'States.Permissions', 'Lambda.Unknown'];

/** The history budget of a definition: redrives of the steps that let transient errors through count in it. */
export const HISTORY_BUDGET_OPTIONS = { maxRedrives: MAX_AUTOMATIC_REDRIVES, redriveErrors: TRANSIENT_ERRORS } as const;

export class AcquisitionStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** Checks allowed per wait loop: the largest count that keeps the worst-case history within the budget. */
  readonly maxPolls: number;
  /** The definition's worst-case history with that bound. */
  readonly historyBudget: HistoryBudget;

  constructor(scope: Construct, id: string, props: AcquisitionStateMachineProps) {
    super(scope, id);
    // Set once every state exists (below): the Choice rules and the poll steps' payloads read it at synthesis.
    let derivedMaxPolls: number | undefined;
    const maxPolls = Lazy.number({
      produce: () => {
        if (derivedMaxPolls === undefined) throw new Error('the poll bound is derived after the states are built');
        return derivedMaxPolls;
      },
    });

    // Every Task from the one builder both machines use (workflows/task-defaults.ts): the function's own result,
    // the explicit Task timeout, and by default the throttling rule shared with the release machine.
    const step = (
      name: AcquisitionStep,
      resultPath: string | undefined,
      payload?: sfn.TaskInput,
      retries: readonly sfn.RetryProps[] = [THROTTLING_RETRY],
    ): tasks.LambdaInvoke =>
      lambdaStep(this, {
        state: ACQUISITION_STEPS[name].state,
        lambdaFunction: props.functions[name],
        ...(resultPath ? { resultPath } : {}),
        ...(payload ? { payload } : {}),
        retries,
      });

    // ── Failure path: record what failed and what was already secured, notify, fail. ──
    const failed = new sfn.Fail(this, CONTROL_STATES.failed, {
      error: 'AcquisitionFailed',
      causePath: '$.failure.Cause',
    });
    const unrecorded = new sfn.Fail(this, CONTROL_STATES.unrecorded, {
      comment: 'Recording the failure failed too: the execution history is the remaining record.',
      errorPath: '$.recordFailureError.Error',
      causePath: '$.recordFailureError.Cause',
    });
    const recordFailure = step('recordFailure', '$.failureRecord');
    recordFailure.addCatch(unrecorded, { errors: ['States.ALL'], resultPath: '$.recordFailureError' });
    recordFailure.next(failed);

    const catchInto = (task: tasks.LambdaInvoke): tasks.LambdaInvoke => {
      task.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.failure' });
      return task;
    };

    // ── 1. Triage ──
    const rejected = new sfn.Fail(this, CONTROL_STATES.rejected, {
      comment: 'Invalid input, or the case could not be opened: nothing was changed in AWS.',
      errorPath: '$.Error',
      causePath: '$.Cause',
    });
    const triage = step(
      'triage',
      undefined,
      sfn.TaskInput.fromObject({
        'event.$': '$',
        'executionArn.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
      }),
      PRE_CONTAINMENT_RETRIES,
    );
    // Not States.ALL: a transient error past the retries fails the execution here, to be redriven.
    triage.addCatch(rejected, { errors: PERMANENT_BEFORE_CHANGE });

    // ── 3–4. Preserve and snapshot, isolate: the rest of the path to containment. ──
    const preserve = catchInto(step('preserveAndSnapshot', '$.acquisition'));
    const isolate = catchInto(step('isolateNetwork', '$.containment'));

    // ── 8. Bounded wait for the snapshots. ──
    // The poll steps receive the state and the loop's bound (handlers/domain/poll-payload.ts).
    const pollPayload = sfn.TaskInput.fromObject({ 'state.$': '$', maxPolls });
    const checkSnapshots = catchInto(step('checkSnapshots', '$.snapshotProgress', pollPayload, [THROTTLING_RETRY, IDEMPOTENT_TIMEOUT_RETRY]));
    const waitSnapshots = new sfn.Wait(this, CONTROL_STATES.waitSnapshots, {
      time: sfn.WaitTime.secondsPath('$.snapshotProgress.nextCheckSeconds'),
    });

    // ── 7. Scope the incident: after containment, while the snapshots complete in EC2 — off the
    // containment path. Bounded by its own time cap; a failure is recorded at `$.scopeFailure` and the acquisition
    // goes on (the seal records the scope as failed), so it never costs the evidence.
    const scopeIncident = step('scopeIncident', '$.scope');
    scopeIncident.addCatch(checkSnapshots, { errors: ['States.ALL'], resultPath: '$.scopeFailure' });
    scopeIncident.next(checkSnapshots);

    // ── 5. Start memory capture: right after containment, off its path. Opens the acquisition channel and creates
    // the capture volume when the plan (made in "Preserve and snapshot") says capture; the rest is advanced by
    // "Check snapshot progress". A failure is recorded at `$.memoryFailure` and never fails the acquisition.
    const startMemory = step('startMemoryCapture', '$.memory');
    // ── 6. Record containment: what the path to containment left in the state, written to the evidence store. ──
    const recordContainment = catchInto(step('recordContainment', '$.containmentRecord'));
    startMemory.addCatch(recordContainment, { errors: ['States.ALL'], resultPath: '$.memoryFailure' });
    startMemory.next(recordContainment);
    recordContainment.next(scopeIncident);

    // ── 9. Re-encrypted evidence copies, bounded wait. ──
    const copyEvidence = catchInto(step('copyEvidence', '$.evidence', undefined, [THROTTLING_RETRY, IDEMPOTENT_TIMEOUT_RETRY]));
    const checkCopies = catchInto(step('checkEvidenceCopies', '$.evidence', pollPayload, [THROTTLING_RETRY, IDEMPOTENT_TIMEOUT_RETRY]));
    const waitCopies = new sfn.Wait(this, CONTROL_STATES.waitCopies, {
      time: sfn.WaitTime.secondsPath('$.evidence.nextCheckSeconds'),
    });

    // ── 10–13. Seal, notify, close. ──
    const seal = catchInto(step('sealEvidence', '$.seal'));
    const notify = step('notify', '$.notification');
    const closeCase = catchInto(step('closeCase', '$.closure'));
    // The evidence is sealed by now: a notification failure is recorded by closing the case, not fatal.
    notify.addCatch(closeCase, { errors: ['States.ALL'], resultPath: '$.notificationFailure' });
    // The workstation comes after sealing: its failure is reported by the notification and recorded at closing.
    const launchWorkstation = step('launchWorkstation', '$.workstation');
    launchWorkstation.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.workstationFailure' });
    launchWorkstation.next(notify);
    const workstationRequested = new sfn.Choice(this, CONTROL_STATES.workstationRequested)
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.case.options.workstation'),
          sfn.Condition.booleanEquals('$.case.options.workstation', true),
        ),
        launchWorkstation,
      )
      .otherwise(notify);
    const succeeded = new sfn.Succeed(this, CONTROL_STATES.succeeded);

    const snapshotsSettled = new sfn.Choice(this, CONTROL_STATES.snapshotsSettled)
      .when(sfn.Condition.booleanEquals('$.snapshotProgress.allSettled', true), copyEvidence)
      .when(sfn.Condition.numberGreaterThanEquals('$.snapshotProgress.attempt', maxPolls), copyEvidence)
      .otherwise(waitSnapshots.next(checkSnapshots));

    const copiesSettled = new sfn.Choice(this, CONTROL_STATES.copiesSettled)
      .when(sfn.Condition.booleanEquals('$.evidence.allSettled', true), seal)
      .when(sfn.Condition.numberGreaterThanEquals('$.evidence.attempt', maxPolls), seal)
      .otherwise(waitCopies.next(checkCopies));

    checkSnapshots.next(snapshotsSettled);
    copyEvidence.next(copiesSettled);
    checkCopies.next(copiesSettled);
    seal.next(workstationRequested);
    notify.next(closeCase);
    closeCase.next(succeeded);

    const outcome = new sfn.Choice(this, CONTROL_STATES.outcome)
      .when(sfn.Condition.stringEquals('$.outcome', 'IGNORED'), new sfn.Succeed(this, CONTROL_STATES.ignored))
      .when(sfn.Condition.stringEquals('$.outcome', 'DUPLICATE'), new sfn.Succeed(this, CONTROL_STATES.duplicate))
      // The case is open but its instance could not be described for good: record it (and release the lock).
      .when(sfn.Condition.isPresent('$.failure'), recordFailure)
      .otherwise(preserve.next(isolate).next(startMemory));

    const start = triage.next(outcome);

    // ── History budget: the loop bound the Choice rules enforce, from the definition as built. ──
    const definition = renderStates(triage);
    this.maxPolls = largestLoopBoundWithin(definition, { ...HISTORY_BUDGET_OPTIONS, budget: HISTORY_EVENT_BUDGET });
    derivedMaxPolls = this.maxPolls;
    this.historyBudget = worstCaseHistory(definition, { ...HISTORY_BUDGET_OPTIONS, loopBound: this.maxPolls });

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Forensic acquisition of a compromised EC2 instance: snapshot, contain, seal evidence.',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      // Two capped wait loops plus the work itself; beyond this something is wrong and the execution stops.
      timeout: Duration.minutes(props.maxWaitMinutes * 2 + 60),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}

/** The ASL of every state reachable from `start` (Catch targets included), as the state machine will render it. */
function renderStates(start: sfn.State): AslDefinition {
  const states = sfn.State.findReachableStates(start, { includeErrorHandlers: true });
  return {
    StartAt: start.stateId,
    States: Object.fromEntries(states.map((s) => [s.stateId, s.toStateJson(sfn.QueryLanguage.JSON_PATH) as AslDefinition['States'][string]])),
  };
}
