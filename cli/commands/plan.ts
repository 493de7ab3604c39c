import { InvalidInput } from '../../handlers/domain/errors';
import { DEFAULT_DECISION_CONFIG, decide, type DecisionConfig } from '../../handlers/domain/finding-decision';
import { normalize } from '../../handlers/domain/finding-normalizer';
import { displayText } from '../../handlers/domain/identifier-formats';
import type { Decision } from '../../handlers/domain/types';

/**
 * `forensics plan --event FILE`: the offline decision, with no AWS call — the same normalizer and decision the
 * triage step runs.
 *
 * Contract of `runPlan(inputText, write, config?, writeError?)`:
 *  - returns 0 and calls `write` once per finding, in input order, with one JSON line (no newline):
 *      {"decision":"acquire","target":{"accountId","region","instanceId"},"finding":{"id","type","severity"}}
 *      {"decision":"ignore","reason":"…","finding":{"id","type","severity"}}
 *    Both decisions exit 0: ignoring is an answer, not an error.
 *  - returns 2 on malformed input (not JSON, empty, too large, or anything the normalizer or the decision refuses),
 *    writes nothing with `write`, and calls `writeError` once with a one-line message naming the field, e.g.
 *    `invalid input: detail.severity: expected a number between 0 and 10`. Every finding is decided before the
 *    first line is written, so a batch with one bad finding prints no partial answer.
 *    `writeError` defaults to stderr; the caller adds its own prefix.
 *  - any other error is a bug and is thrown.
 * `config` overrides DEFAULT_DECISION_CONFIG (minimum severity 7, no container hosts, any account).
 */

export const PLAN_EXIT_OK = 0;
export const PLAN_EXIT_INVALID_INPUT = 2;

/** Files beyond this are not GuardDuty output; reading on would only cost memory. */
export const MAX_INPUT_BYTES = 5 * 1024 * 1024;

export function runPlan(
  inputText: string,
  write: (line: string) => void,
  config?: Partial<DecisionConfig>,
  writeError: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): number {
  let lines: string[];
  try {
    const decisionConfig: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, ...config };
    lines = normalize(parseInputText(inputText)).map((item) => planLine(decide(item, decisionConfig)));
  } catch (err) {
    if (!(err instanceof InvalidInput)) throw err;
    writeError(displayText(`invalid input: ${err.message}`, 1000));
    return PLAN_EXIT_INVALID_INPUT;
  }
  for (const line of lines) write(line);
  return PLAN_EXIT_OK;
}

/** JSON text to a value; a UTF-8 byte order mark (Windows editors add one) is not an error. */
export function parseInputText(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) {
    throw new InvalidInput('input', `larger than ${MAX_INPUT_BYTES / (1024 * 1024)} MiB`);
  }
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new InvalidInput('input', 'empty: expected JSON');
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    // The parser's message quotes the input; only the position is kept, the input may hold anything.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new InvalidInput('input', position ? `not valid JSON (at position ${position})` : 'not valid JSON');
  }
}

/** One output line; keys in a fixed order so the output can be diffed and grepped. */
export function planLine(decision: Decision): string {
  const finding = {
    id: decision.finding.id,
    type: decision.finding.type,
    severity: decision.finding.severity,
  };
  if (decision.decision === 'acquire') {
    const { accountId, region, instanceId } = decision.target;
    return JSON.stringify({ decision: 'acquire', target: { accountId, region, instanceId }, finding });
  }
  return JSON.stringify({ decision: 'ignore', reason: decision.reason, finding });
}
