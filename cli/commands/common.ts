/**
 * What every responder command shares: where its lines go, the errors that map to exit codes, and the wrapper that
 * turns any error into one line on stderr and an exit code (0 ok, 1 failed / a check failed, 2 bad usage or input).
 */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Where a command writes: `out` is stdout (the answer), `err` is stderr (progress, warnings, the error line). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Bad arguments or configuration the responder must fix: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation ran and did not succeed (an execution failed, evidence missing): exit 1. */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}

export type OutputFormat = 'json' | 'text';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new UsageError(`--output: expected json or text`);
}

/** First line only, control characters replaced: an error message never forges a second line on stderr. */
export function oneLine(message: string): string {
  const first = message.split(/\r?\n/)[0] ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  return first.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
}

export function describeError(err: unknown): string {
  if (err instanceof UsageError || err instanceof OperationFailed) return err.message;
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message}`;
  }
  return String(err);
}

/** Runs a command body; any error becomes one line on `io.err` (prefixed `forensics: `) and its exit code. */
export async function runCommand(io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    io.err(`forensics: ${oneLine(describeError(err))}`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
