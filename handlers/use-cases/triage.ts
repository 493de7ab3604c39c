import { newCaseId } from '../domain/case-id';
import { InvalidInput, errorMessage, errorName, isTransientErrorName } from '../domain/errors';
import { decide, type DecisionConfig } from '../domain/finding-decision';
import { normalize, type NormalizedFinding } from '../domain/finding-normalizer';
import { requireText } from '../domain/identifier-formats';
import { mergeOptions } from '../domain/manual-request';
import type { CaseTable, Clock } from '../domain/ports';
import type { CaseOptions, CaseRef, Decision, DescribeResult, FindingSummary, StepFailure, TriageResult } from '../domain/types';

/** What "Triage, open case and describe instance" receives: the execution input plus two fields of the execution context. */
export interface TriageInput {
  event: unknown;
  executionArn: string;
  /** `$$.Execution.StartTime`: the case id's time, the same on every retry of this step. */
  startedAt: string;
}

export interface TriageConfig extends DecisionConfig {
  workloadAccounts: string[];
  defaultOptions: CaseOptions;
}

export interface TriageDeps {
  cases: CaseTable;
  config: TriageConfig;
  clock: Clock;
  /**
   * Records the instance's pre-incident state (handlers/use-cases/describe-instance.ts), run beside the case lock;
   * it receives the case (its id names the responder session in the target's account).
   */
  describe: (caseRef: CaseRef) => Promise<DescribeResult>;
}

const MAX_EXECUTION_ARN_LENGTH = 2048;
/** An IGNORED result lists the reasons of a batch; past this many the rest are counted, not listed. */
const MAX_REASONS_LISTED = 10;

/**
 * "Triage, open case and describe instance": normalize the input, decide, and open the case (or append to the open
 * one) while describing the instance.
 *
 * One execution acquires one instance. When the input carries several findings (`get-findings` output), every
 * finding is normalized and decided first — one malformed finding rejects the input — and the FIRST finding that
 * decides `acquire` is acquired, in input order; the others are not acted on by this execution (run `plan` on the
 * same input to see each decision, and start one execution per instance). When none is acquired the result is
 * IGNORED with every finding's reason.
 *
 * Invalid input throws `InvalidInput` before any call to the case table. An ACQUIRE result carries the execution
 * input exactly as received (`rawEvent`, the whole batch for get-findings output): it is sealed as evidence.
 *
 * When the target already has an open case, the finding is appended to it and the result is DUPLICATE — except when
 * that open case is this very execution's (same case id and execution ARN: the step was retried after it had
 * opened the case, e.g. its response was lost), which continues as ACQUIRE instead of abandoning the acquisition.
 *
 * The instance is described while the case is opened (the two calls are independent, and the describe only reads),
 * so the path to containment spends one round trip, not two, before "Preserve and snapshot". A DUPLICATE discards
 * the description. When the case is opened but the description fails for good (the instance is gone, the step may
 * not read it, a drill case names an instance that is not its canary), the ACQUIRE result carries that error as
 * `failure`, exactly as a Catch would have put it, and the state machine sends it to "Record failure": the case is
 * open by then and must be closed as failed. A transient error (throttling, a server or Lambda service error) of
 * either call is thrown: the state machine retries the whole step (opening is idempotent for this execution,
 * describing only reads) and, past its retries, the redrive function runs it again.
 */
export async function triage(input: TriageInput, deps: TriageDeps): Promise<TriageResult> {
  const executionArn = requireText(input.executionArn, 'executionArn', MAX_EXECUTION_ARN_LENGTH);
  const startedAt = parseStartedAt(input.startedAt);

  const items = normalize(input.event);
  const decisions = items.map((item) => decide(item, deps.config));
  const chosen = decisions.findIndex((d) => d.decision === 'acquire');
  const item = items[chosen];
  const decision = decisions[chosen];
  if (!item || !decision || decision.decision !== 'acquire') return ignored(decisions);

  const caseRef: CaseRef = {
    caseId: newCaseId(decision.target, startedAt),
    target: decision.target,
    finding: decision.finding,
    ...requestFields(item, deps.config.defaultOptions),
    openedAt: deps.clock().toISOString(),
    executionArn,
  };

  const [openedR, describedR] = await Promise.allSettled([deps.cases.openCase(caseRef), deps.describe(caseRef)]);
  if (openedR.status === 'rejected') throw openedR.reason;
  const opened = openedR.value;
  const acquire = (ref: CaseRef): TriageResult => {
    if (describedR.status === 'fulfilled') return { outcome: 'ACQUIRE', case: ref, rawEvent: input.event, describe: describedR.value };
    if (isTransientErrorName(errorName(describedR.reason))) throw describedR.reason;
    return { outcome: 'ACQUIRE', case: ref, rawEvent: input.event, failure: lambdaErrorOf(describedR.reason) };
  };
  if (opened.opened) return acquire(opened.caseRef);

  if (opened.existingCaseId === caseRef.caseId) {
    const existing = await deps.cases.getCase(opened.existingCaseId);
    if (existing?.executionArn === executionArn) return acquire({ ...caseRef, openedAt: existing.openedAt });
  }
  await deps.cases.appendFinding(opened.existingCaseId, decision.finding, deps.clock().toISOString());
  return { outcome: 'DUPLICATE', caseId: opened.existingCaseId, target: decision.target, finding: decision.finding };
}

/**
 * A describe error as a Catch would record it: `Error` the error's name, `Cause` the Lambda error document
 * (`{errorType, errorMessage}`) that "Record failure" parses (handlers/domain/case-evidence.ts).
 */
function lambdaErrorOf(err: unknown): StepFailure {
  const name = errorName(err);
  return { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: errorMessage(err) }) };
}

function parseStartedAt(value: unknown): Date {
  const text = requireText(value, 'startedAt', 64);
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at.getTime())) {
    throw new InvalidInput('startedAt', 'expected an ISO 8601 timestamp');
  }
  return at;
}

/** Source, options and, for a manual request, who asked and why. */
function requestFields(
  item: NormalizedFinding,
  defaults: CaseOptions,
): Pick<CaseRef, 'source' | 'options' | 'reason' | 'requestedBy'> {
  if (item.source === 'guardduty') return { source: 'guardduty', options: { ...defaults } };
  return {
    source: 'manual',
    options: mergeOptions(defaults, item.request.options),
    reason: item.request.reason,
    requestedBy: item.request.requestedBy,
  };
}

function ignored(decisions: Decision[]): TriageResult {
  const first = decisions[0];
  const finding: Partial<FindingSummary> = first?.finding ?? {};
  if (decisions.length === 1 && first?.decision === 'ignore') {
    return { outcome: 'IGNORED', reason: first.reason, finding };
  }
  const listed = decisions.slice(0, MAX_REASONS_LISTED).map((d, index) => {
    const reason = d.decision === 'ignore' ? d.reason : 'acquire';
    return `[${index}] ${d.finding.id ?? 'finding'}: ${reason}`;
  });
  const more = decisions.length > MAX_REASONS_LISTED ? `; and ${decisions.length - MAX_REASONS_LISTED} more` : '';
  return {
    outcome: 'IGNORED',
    reason: `none of the ${decisions.length} findings is acquired: ${listed.join('; ')}${more}`,
    finding,
  };
}
