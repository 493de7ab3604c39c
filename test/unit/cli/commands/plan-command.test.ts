import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_INPUT_BYTES, runPlan } from '../../../../cli/commands/plan';
import type { DecisionConfig } from '../../../../handlers/domain/finding-decision';

const text = (name: string) => readFileSync(new URL(`../../../fixtures/findings/${name}`, import.meta.url), 'utf8');

/** Runs the command and collects what it writes on each channel. */
function plan(input: string, config?: Partial<DecisionConfig>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runPlan(input, (line) => out.push(line), config, (message) => err.push(message));
  return { code, out, err, decisions: out.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('plan: one JSON line per finding, exit 0', () => {
  it('prints the acquire line with keys in the contract order', () => {
    // Act
    const result = plan(text('eventbridge-instance-high.json'));

    // Assess
    expect(result.code).toBe(0);
    expect(result.err).toEqual([]);
    expect(result.out).toEqual([
      '{"decision":"acquire","target":{"accountId":"111122223333","region":"eu-central-2","instanceId":"i-0123456789abcdef0"},' +
        '"finding":{"id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","type":"Backdoor:EC2/C&CActivity.B","severity":8}}',
    ]);
  });

  it('prints the ignore line with its reason', () => {
    // Act
    const result = plan(text('archived.json'));

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      '{"decision":"ignore","reason":"archived finding (detail.service.archived is true): it was closed in GuardDuty",' +
        '"finding":{"id":"3a4b5c6d7e8f90a1b2c3d4e5f6071829","type":"Trojan:EC2/BlackholeTraffic","severity":8}}',
    ]);
  });

  it.each([
    ['eventbridge-instance-critical.json', [{ decision: 'acquire', instanceId: 'i-0a1b2c3d' }]],
    ['finding-camel-bare.json', [{ decision: 'acquire', instanceId: 'i-0fedcba9876543210' }]],
    ['credential-exfiltration-outside-aws.json', [{ decision: 'acquire', instanceId: 'i-0dd44ee55ff667788' }]],
    ['manual-request.json', [{ decision: 'acquire', instanceId: 'i-0ee55ff6677889900' }]],
    ['get-findings-pascal.json', [{ decision: 'ignore' }, { decision: 'acquire', instanceId: 'i-0bb22cc33dd44ee55' }]],
    ['sample-additionalinfo-boolean.json', [{ decision: 'ignore' }]],
    ['sample-additionalinfo-string.json', [{ decision: 'ignore' }]],
    ['sample-additionalinfo-value-pascal.json', [{ decision: 'ignore' }]],
    ['sample-top-level.json', [{ decision: 'ignore' }]],
    ['eks-runtime-host-pascal.json', [{ decision: 'ignore' }]],
    ['accesskey-anomalous-with-instance-details.json', [{ decision: 'ignore' }]],
  ])('%s', (name, expected) => {
    // Act
    const result = plan(text(name));

    // Assess
    expect(result.code).toBe(0);
    expect(
      result.decisions.map((d) => ({
        decision: d.decision,
        ...(d.decision === 'acquire' ? { instanceId: (d.target as Record<string, unknown>).instanceId } : {}),
      })),
    ).toEqual(expected);
    for (const d of result.decisions) {
      expect(Object.keys(d.finding as object)).toEqual(['id', 'type', 'severity']);
      if (d.decision === 'ignore') expect(d.reason).toEqual(expect.any(String));
    }
  });

  it('follows the configuration it is given', () => {
    // Act
    const lowAcquired = plan(text('get-findings-pascal.json'), { minSeverity: 2 });
    const hostAcquired = plan(text('eks-runtime-host-pascal.json'), { acquireContainerHosts: true });
    const otherAccount = plan(text('eventbridge-instance-high.json'), { workloadAccounts: ['999999999999'] });

    // Assess
    expect(lowAcquired.decisions.map((d) => d.decision)).toEqual(['acquire', 'acquire']);
    expect(hostAcquired.decisions).toEqual([expect.objectContaining({ decision: 'acquire' })]);
    expect(otherAccount.decisions).toEqual([expect.objectContaining({ decision: 'ignore' })]);
  });

  it('accepts a UTF-8 byte order mark', () => {
    // Act
    const result = plan(`\uFEFF${text('finding-camel-bare.json')}`);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toHaveLength(1);
  });
});

describe('plan: malformed input, exit 2 and one line naming the problem', () => {
  it.each([
    ['not JSON', 'this is not json', /^invalid input: input: not valid JSON/],
    ['truncated JSON', '{"detail-type": "GuardDuty Finding", ', /^invalid input: input: not valid JSON/],
    ['empty input', '', /^invalid input: input: empty/],
    ['blank input', ' \n\t ', /^invalid input: input: empty/],
    ['JSON null', 'null', /^invalid input: input: expected a JSON object/],
  ])('%s', (_, input, message) => {
    // Act
    const result = plan(input);

    // Assess
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });

  it('names the field: detail.severity', () => {
    // Prepare
    const event = JSON.parse(text('eventbridge-instance-high.json')) as Record<string, Record<string, unknown>>;
    (event.detail as Record<string, unknown>).severity = 'HIGH';

    // Act
    const result = plan(JSON.stringify(event));

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['invalid input: detail.severity: expected a number between 0 and 10']);
  });

  it('prints nothing for a batch with one malformed finding', () => {
    // Prepare
    const output = JSON.parse(text('get-findings-pascal.json')) as { Findings: Record<string, unknown>[] };
    (output.Findings[1] as Record<string, unknown>).Region = 'mars-1';

    // Act
    const result = plan(JSON.stringify(output));

    // Assess
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toEqual(['invalid input: Findings[1].Region: expected an AWS region name such as us-east-1']);
  });

  it('keeps the error on one line and does not echo the input', () => {
    // Prepare
    const input = '{"evil":"\\u001b[2J\\nFAKE\\u2028LINE", oops}';

    // Act
    const result = plan(input);

    // Assess
    expect(result.code).toBe(2);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
    expect(result.err[0]).not.toMatch(/[\n\r\u001b\u2028]/);
    expect(result.err[0]).not.toContain('FAKE');
  });

  it('refuses input larger than the limit before parsing it', () => {
    // Act
    const result = plan(' '.repeat(MAX_INPUT_BYTES + 1));

    // Assess
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/larger than 5 MiB/);
  });

  it('writes the error to stderr when no error writer is given', () => {
    // Prepare
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out: string[] = [];

    // Act
    const code = runPlan('not json', (line) => out.push(line));

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^invalid input: input: not valid JSON.*\n$/));
  });
});
