/**
 * The vocabulary of `forensics doctor`: one check result, the outcome of one read-only AWS call, and how a call
 * that could not be made becomes a result. Pure: no SDK import.
 *
 * The rule every check follows: a check that could not read what it needs is a FAIL that names the call (and so
 * the IAM action) that was refused — never a PASS. The one softening is an emulator endpoint, where an API the
 * emulator does not implement is a WARN saying so (moto has no EBS Snapshot Lock, no EBS service quotas).
 */

export type DoctorStatus = 'PASS' | 'WARN' | 'FAIL';

/** One line of the report: `PASS|WARN|FAIL <name>: <detail and the fix>`. The JSON contract (DESIGN.md). */
export interface DoctorCheck {
  name: string;
  status: DoctorStatus;
  detail: string;
}

/** What went wrong with a call, classified once so that every check words it the same way. */
export interface CallError {
  /** The IAM action of the call, e.g. `kms:GetKeyRotationStatus`. */
  action: string;
  /** The SDK error name (AccessDenied, NoSuchBucketPolicy, …). */
  name: string;
  message: string;
  denied: boolean;
  notFound: boolean;
  /** The API does not exist where it was called (older region, or an emulator that does not implement it). */
  unsupported: boolean;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: CallError };

const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'AuthorizationErrorException',
  'Forbidden',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
]);

const UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented', 'NotImplementedError']);

/** Error names that mean "it is not there" for the resources the checks read. */
const NOT_FOUND =
  /NotFound|NoSuch|DoesNotExist|does not exist|ResourceNotFoundException|NonExistent|InvalidLaunchTemplateId\.(?:NotFound|Malformed)|ParameterNotFound/;

export function classifyError(action: string, err: unknown): CallError {
  const e = err as { name?: string; message?: string; Code?: string; $metadata?: { httpStatusCode?: number }; $response?: unknown };
  const name = e?.Code ?? e?.name ?? 'Error';
  const message = String(e?.message ?? err);
  const status = e?.$metadata?.httpStatusCode;
  // An emulator answering an API it does not implement returns an HTML page the SDK cannot parse.
  const unparsable = /Deserialization error|XML parse error|Unexpected token '<'/.test(message);
  const denied = DENIED.has(name) || (status === 403 && !unparsable);
  return {
    action,
    name,
    message: message.split('\n')[0] ?? '',
    denied,
    notFound: !denied && NOT_FOUND.test(`${name} ${message}`),
    unsupported: !denied && (UNSUPPORTED.has(name) || unparsable || status === 501),
  };
}

/** Runs one read-only call, never throws: the outcome carries the value or the classified error. */
export async function attempt<T>(action: string, call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return { ok: false, error: classifyError(action, err) };
  }
}

export function pass(name: string, detail: string): DoctorCheck {
  return { name, status: 'PASS', detail };
}
export function warn(name: string, detail: string): DoctorCheck {
  return { name, status: 'WARN', detail };
}
export function fail(name: string, detail: string): DoctorCheck {
  return { name, status: 'FAIL', detail };
}

/**
 * The result of a check whose call failed. Denied: FAIL naming the action to grant. Not implemented by an emulator:
 * WARN. Anything else: FAIL with the error (a not-found is usually worded by the check itself, before this).
 */
export function cannotRun(name: string, error: CallError, what: string, emulator: boolean): DoctorCheck {
  if (error.denied) {
    return fail(name, `cannot read ${what}: ${error.action} was denied (${error.name}) — grant ${error.action} to the identity running doctor`);
  }
  if (error.unsupported && emulator) {
    return warn(name, `cannot read ${what}: the emulator does not implement ${error.action} (checked on AWS only)`);
  }
  return fail(name, `cannot read ${what}: ${error.action} failed (${error.name}: ${error.message.slice(0, 160)})`);
}

/** Exit code of a report: 1 when any check FAILs. */
export function doctorExitCode(checks: readonly DoctorCheck[]): 0 | 1 {
  return checks.some((c) => c.status === 'FAIL') ? 1 : 0;
}

/** `PASS stack: …` lines, the text form of the report. */
export function renderDoctorLines(checks: readonly DoctorCheck[]): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control and format characters are what this removes
  return checks.map((c) => `${c.status} ${c.name}: ${c.detail}`.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, ' '));
}
