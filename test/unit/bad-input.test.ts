import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseInputText, runPlan } from '../../cli/commands/plan';
import { InvalidInput } from '../../handlers/domain/errors';
import type { CaseTable } from '../../handlers/domain/ports';
import { triage, type TriageConfig } from '../../handlers/use-cases/triage';

/**
 * The bad-input corpus: every file of test/fixtures/bad-input/ must be refused with InvalidInput naming the field,
 * or be ignored with a reason when EXPECTED.json documents it as valid-but-ignored — and in both cases the triage
 * step must not touch the case table. The `plan` command must agree (exit 2, or exit 0 with ignore lines).
 */

const dir = fileURLToPath(new URL('../fixtures/bad-input/', import.meta.url));

type Expectation =
  | { error: 'InvalidInput'; field: string; note?: string }
  | { error: 'InvalidInput'; fieldPrefix: string; note?: string }
  | { ignore: true; note: string };

const EXPECTED = JSON.parse(readFileSync(`${dir}EXPECTED.json`, 'utf8')) as Record<string, Expectation>;
const files = readdirSync(dir)
  .filter((f) => f !== 'EXPECTED.json')
  .sort();

/** The deployment the corpus is judged against: one workload account. */
const CONFIG: TriageConfig = {
  minSeverity: 7,
  acquireContainerHosts: false,
  workloadAccounts: ['111122223333'],
  defaultOptions: { workstation: false, revoke: 'instance' },
};

/** Records any call at all: none is allowed for this corpus. */
function recordingCaseTable(): { table: CaseTable; calls: string[] } {
  const calls: string[] = [];
  const record = (method: string) => async () => {
    calls.push(method);
    throw new Error(`${method} must not be called for bad input`);
  };
  const table: CaseTable = {
    openCase: record('openCase'),
    appendFinding: record('appendFinding'),
    getCase: record('getCase'),
    updateCase: record('updateCase'),
    advanceCustody: record('advanceCustody'),
    appendEvidence: record('appendEvidence'),
    releaseLock: record('releaseLock'),
  };
  return { table, calls };
}

/** What the state machine would do with the file: parse it as an execution input, then triage it. */
async function triageText(text: string, cases: CaseTable) {
  const event = parseInputText(text);
  return triage(
    { event, executionArn: 'arn:aws:states:us-east-1:111122223333:execution:Acquisition:bad-input', startedAt: '2026-11-28T09:15:00Z' },
    {
      cases,
      config: CONFIG,
      clock: () => new Date('2026-11-28T09:15:01Z'),
      describe: async () => {
        throw new Error('describe must not be called for bad input');
      },
    },
  );
}

function assessField(error: InvalidInput, expected: Expectation): void {
  if ('field' in expected) expect(error.field).toBe(expected.field);
  else if ('fieldPrefix' in expected) expect(error.field.startsWith(expected.fieldPrefix)).toBe(true);
}

describe('bad-input corpus', () => {
  it('has at least 40 files, each with an expectation, and no expectation without its file', () => {
    // Assess
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });

  describe.each(files)('%s', (file) => {
    const text = readFileSync(`${dir}${file}`, 'utf8');
    const expected = EXPECTED[file] as Expectation;

    it('is refused or ignored by the triage step without any case table call', async () => {
      // Prepare
      const { table, calls } = recordingCaseTable();

      // Act
      const outcome = await triageText(text, table).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );

      // Assess
      if ('ignore' in expected) {
        expect(outcome).toEqual({ result: expect.objectContaining({ outcome: 'IGNORED', reason: expect.any(String) }) });
      } else {
        expect('error' in outcome && outcome.error).toBeInstanceOf(InvalidInput);
        const error = (outcome as { error: InvalidInput }).error;
        expect(error.name).toBe('InvalidInput');
        assessField(error, expected);
        expect(error.message.startsWith(`${error.field}: `)).toBe(true);
      }
      expect(calls).toEqual([]);
    });

    it('gets the same answer from the plan command, on one line', () => {
      // Prepare
      const out: string[] = [];
      const err: string[] = [];

      // Act
      const code = runPlan(text, (line) => out.push(line), CONFIG, (message) => err.push(message));

      // Assess
      if ('ignore' in expected) {
        expect(code).toBe(0);
        expect(out.map((line) => (JSON.parse(line) as { decision: string }).decision)).toEqual(['ignore']);
      } else {
        expect(code).toBe(2);
        expect(out).toEqual([]);
        expect(err).toHaveLength(1);
        expect(err[0]).not.toMatch(/[\n\r]/);
        expect(err[0]).toContain('field' in expected ? `${expected.field}: ` : expected.fieldPrefix);
      }
    });
  });
});
