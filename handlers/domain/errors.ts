/**
 * Named errors. Step Functions retries and catches by error *name*, so every failure a step can raise on
 * purpose has a class here whose `name` is what the state machine's Retry/Catch rules match.
 */

export class InvalidInput extends Error {
  override readonly name = 'InvalidInput';
  constructor(
    /** The offending field, as a dotted path into the input (e.g. `detail.resource.instanceDetails.instanceId`). */
    readonly field: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** The target instance does not exist (or no longer exists) in the finding's account and region. */
export class InstanceNotFound extends Error {
  override readonly name = 'InstanceNotFound';
  constructor(readonly instanceId: string, options?: { cause?: unknown }) {
    super(`instance ${instanceId} was not found`, options);
  }
}

/** CreateSnapshots did not return a snapshot for every attached EBS volume. */
export class SnapshotFailed extends Error {
  override readonly name = 'SnapshotFailed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Network isolation could not be completed on every interface; `partial` says what was already isolated. */
export class ContainmentFailed extends Error {
  override readonly name = 'ContainmentFailed';
  constructor(message: string, readonly partial: unknown, options?: { cause?: unknown }) {
    super(`${message} | partial=${JSON.stringify(partial)}`, options);
  }
}

/** Writing to the evidence store failed; evidence already written stays where it is. */
export class EvidenceWriteFailed extends Error {
  override readonly name = 'EvidenceWriteFailed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The custody chain head moved under us (another writer appended first). Retried by the writer. */
export class CustodyConflict extends Error {
  override readonly name = 'CustodyConflict';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Deployment configuration (Lambda environment, cdk.json context) is missing or wrong. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * AWS error names that mean "slow down and try again". The state machine retries these with backoff and
 * full jitter; the SDK clients have already retried them a few times inside the Lambda.
 */
export const THROTTLING_ERRORS = [
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'SnapshotCreationPerVolumeRateExceeded',
  'ConcurrentSnapshotLimitExceeded',
  'ResourceLimitExceeded',
] as const;

/**
 * Transient server-side failures of AWS APIs (5xx, transaction conflicts). The SDK retries them a few times inside
 * the Lambda; when they still surface, the state machine retries them too rather than failing an acquisition (or,
 * in the triage step, throwing a finding away) over a passing fault.
 */
export const TRANSIENT_SERVER_ERRORS = [
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'TransactionCanceledException',
  'TransactionConflictException',
  'TransactionInProgressException',
] as const;

/** Errors of the Lambda service itself (not of our code), retried by the state machine. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * What the Lambda service reports when an invocation ran past the function's timeout. Retried, and redriven, only
 * on the step that changes nothing (triage, which opens the case and describes the instance): there a slow
 * dependency is worth waiting out.
 */
export const LAMBDA_TIMEOUT_ERROR = 'Sandbox.Timedout';

/**
 * Errors that say "try again later" rather than "this cannot work": throttling, transient server errors, errors of
 * the Lambda service and a Lambda timeout. On the step before anything is changed, these are the errors the state
 * machine does not catch once its retries are spent, so that the execution fails in that very step and an
 * automatic RedriveExecution can run it again (workflows/acquisition-state-machine.ts, handlers/domain/redrive.ts).
 */
export const TRANSIENT_ERRORS: readonly string[] = [
  ...THROTTLING_ERRORS,
  ...TRANSIENT_SERVER_ERRORS,
  ...LAMBDA_SERVICE_ERRORS,
  LAMBDA_TIMEOUT_ERROR,
];

export function isTransientErrorName(name: string | undefined): boolean {
  return name !== undefined && TRANSIENT_ERRORS.includes(name);
}

/** Name of an unknown thrown value, for records and logs. */
export function errorName(err: unknown): string {
  if (err instanceof Error) return err.name;
  return 'UnknownError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `<name>: <message>` of an unknown thrown value: how records and custody entries state an error in one string. */
export function errorSummary(err: unknown): string {
  return `${errorName(err)}: ${errorMessage(err)}`;
}
