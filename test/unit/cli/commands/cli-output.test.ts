import { describe, expect, it } from 'vitest';
import { renderCaseTable, type CaseListItem } from '../../../../cli/commands/cases';
import { renderCaseView, type CaseView } from '../../../../cli/commands/case-show';
import { executionConsoleUrl, renderChecks, renderTable, sanitize, sha256sumsLine, summarizeChecks } from '../../../../cli/output/format';
import { oneLine, runCommand, UsageError } from '../../../../cli/commands/common';
import { progressLine } from '../../../../cli/commands/acquire';

describe('output formatting', () => {
  it('aligns table columns, shows - for empty cells and keeps no trailing spaces', () => {
    expect(renderTable(['A', 'LONGER'], [['xxx', null], ['y', 'z']])).toEqual(['A    LONGER', 'xxx  -', 'y    z']);
  });

  it('renders checks as STATUS, check, subject, detail', () => {
    const lines = renderChecks([
      { status: 'PASS', check: 'object.sha256', subject: 'instance.json', detail: 'matches' },
      { status: 'FAIL', check: 'snapshot.exists', subject: 'snap-1', detail: 'not found' },
    ]);
    expect(lines).toEqual(['PASS  object.sha256    instance.json  matches', 'FAIL  snapshot.exists  snap-1         not found']);
    expect(summarizeChecks([{ status: 'SKIP', check: 'a', subject: 'b', detail: '' }])).toEqual({ PASS: 0, FAIL: 0, WARN: 0, SKIP: 1 });
  });

  it('never lets stored text forge a line or reorder the terminal', () => {
    expect(sanitize('evil\nFAIL  fake\u202e')).toBe('evil FAIL  fake ');
    expect(oneLine('first\nsecond')).toBe('first');
  });

  it('links executions to the console of their partition and region', () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:execution:Acq:run-1';
    expect(executionConsoleUrl(arn)).toBe(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn%3Aaws%3Astates%3Aeu-west-1%3A111122223333%3Aexecution%3AAcq%3Arun-1',
    );
    expect(executionConsoleUrl('arn:aws-us-gov:states:us-gov-west-1:1:execution:A:b')).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\//);
    expect(executionConsoleUrl('arn:aws-cn:states:cn-north-1:1:execution:A:b')).toMatch(/^https:\/\/console\.amazonaws\.cn\//);
  });

  it('writes SHA256SUMS lines in sha256sum format', () => {
    expect(sha256sumsLine('a'.repeat(64), 'custody/000001-triage.json')).toBe(`${'a'.repeat(64)}  custody/000001-triage.json`);
  });

  it('prints a progress line per state entered and ignores other history events', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(progressLine({ id: 2, type: 'TaskStateEntered', timestamp: new Date(t0 + 1500), stateEnteredEventDetails: { name: 'Snapshot volumes' } }, t0)).toBe(
      '[    1.5s] entered  Snapshot volumes',
    );
    expect(progressLine({ id: 3, type: 'TaskScheduled', timestamp: new Date(t0) }, t0)).toBeNull();
    expect(progressLine({ id: 9, type: 'ExecutionFailed', timestamp: new Date(t0), executionFailedEventDetails: { error: 'InvalidInput' } }, t0)).toMatch(/failed {3}InvalidInput$/);
  });

  it('renders the case table and an empty list', () => {
    const item: CaseListItem = {
      caseId: '20260101T000000Z-i-0123456789abcdef0',
      status: 'CONTAINED',
      openedAt: '2026-01-01T00:00:00.123Z',
      updatedAt: null,
      target: { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' },
      source: 'manual',
      findings: 1,
      findingType: 'Manual',
      severity: 10,
    };
    const lines = renderCaseTable([item]);
    expect(lines[0]).toMatch(/^CASE ID\s+STATUS\s+OPENED \(UTC\)\s+ACCOUNT/);
    expect(lines[1]).toContain('2026-01-01T00:00:00Z');
    expect(lines[1]).toContain('Manual (10)');
    expect(renderCaseTable([])).toEqual(['No cases.']);
  });

  it('shows an unsealed (failed) case from the case record', () => {
    const view: CaseView = {
      caseId: '20260101T000000Z-i-0123456789abcdef0',
      status: 'FAILED',
      manifest: null,
      manifestSha256: null,
      record: {
        status: 'FAILED',
        openedAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:01:00Z',
        target: { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' },
        findings: [{ id: 'f1', type: 'Backdoor:EC2/C&CActivity.B!DNS', severity: 8 }],
        executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:A:b',
        failure: { step: 'describeInstance', error: 'InstanceNotFound', at: '2026-01-01T00:00:30Z' },
      },
      custody: [],
    };
    const text = renderCaseView(view).join('\n');
    expect(text).toContain('Manifest      none: the case was not sealed');
    expect(text).toContain('Failure       describeInstance: InstanceNotFound');
    expect(text).toContain('Backdoor:EC2/C&CActivity.B!DNS  severity 8');
  });
});

describe('runCommand', () => {
  it('maps usage errors to exit 2 and others to exit 1, one line on stderr', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (l: string) => err.push(l) };
    expect(await runCommand(io, async () => { throw new UsageError('--x: bad'); })).toBe(2);
    expect(await runCommand(io, async () => { throw new TypeError('boom\nstack'); })).toBe(1);
    expect(err).toEqual(['forensics: --x: bad', 'forensics: TypeError: boom']);
  });
});
