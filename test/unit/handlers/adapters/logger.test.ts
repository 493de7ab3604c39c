import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { caseLog, logThroughConsole } from '../../../../handlers/adapters/logger';
import { PROJECT_ROOT } from '../../../../infra/constructs/forensic-function';
import { redirectHandlerLogs } from '../../../../cli/local/local-runner';

/**
 * The handlers' one logger: under Lambda's JSON log format the level of a line comes from its console method (or the
 * `level` of a JSON line on stdout/stderr), so an ERROR must leave at ERROR, through stderr; and every line names its
 * case. Locally the lines must stay off stdout, which carries the run-local result.
 */
const lines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map((c) => String(c[0]).trim()).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('handler logger', () => {
  const saved = { ...console };
  afterEach(() => {
    vi.restoreAllMocks();
    Object.assign(console, saved);
    logThroughConsole(false);
  });

  it('in Lambda, an ERROR entry is written to stderr at level ERROR with the case id; INFO to stdout', () => {
    // Prepare
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = caseLog('20260110T100000Z-i-0123456789abcdef0', 'isolateNetwork');

    // Act
    log({ level: 'error', message: 'credential containment failed', detail: 'AccessDenied' });
    log({ level: 'info', message: 'isolated', networkInterfaces: 2 });

    // Assess
    const errors = lines(err);
    const infos = lines(out);
    vi.restoreAllMocks();
    expect(errors).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'credential containment failed',
        caseId: '20260110T100000Z-i-0123456789abcdef0',
        step: 'isolateNetwork',
        detail: 'AccessDenied',
        timestamp: expect.any(String),
      }),
    ]);
    expect(infos).toEqual([expect.objectContaining({ level: 'INFO', message: 'isolated', caseId: '20260110T100000Z-i-0123456789abcdef0', networkInterfaces: 2 })]);
  });

  it('through the console, each level takes its own console method (ERROR → console.error)', () => {
    // Prepare
    logThroughConsole();
    const error = vi.fn();
    const warn = vi.fn();
    const info = vi.fn();
    Object.assign(console, { error, warn, info });
    const log = caseLog('case-1', 'copyEvidence');

    // Act
    log({ level: 'error', message: 'CopySnapshot refused' });
    log({ level: 'warn', message: 'lookup failed' });
    log({ level: 'info', message: 'copies requested' });

    // Assess
    expect(lines(error)).toEqual([expect.objectContaining({ level: 'ERROR', message: 'CopySnapshot refused', caseId: 'case-1' })]);
    expect(lines(warn)).toEqual([expect.objectContaining({ level: 'WARN', caseId: 'case-1' })]);
    expect(lines(info)).toEqual([expect.objectContaining({ level: 'INFO', caseId: 'case-1' })]);
  });

  it('each invocation\'s lines carry its own case id, even when invocations interleave (local runner, benchmark)', () => {
    logThroughConsole();
    const info = vi.fn();
    Object.assign(console, { info });
    const a = caseLog('case-a', 'checkSnapshots');
    const b = caseLog('case-b', 'checkSnapshots');
    a({ level: 'info', message: '1' });
    b({ level: 'info', message: '2' });
    a({ level: 'info', message: '3' });
    expect(lines(info).map((l) => [l.message, l.caseId])).toEqual([['1', 'case-a'], ['2', 'case-b'], ['3', 'case-a']]);
  });

  it('the local runner keeps every handler log line off stdout', () => {
    // Prepare
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    redirectHandlerLogs('stderr');

    // Act
    const log = caseLog('case-local', 'triage');
    log({ level: 'info', message: 'triage: ACQUIRE' });
    log({ level: 'error', message: 'boom' });

    // Assess
    const stdout = out.mock.calls.map((c) => String(c[0]));
    const stderr = lines(err);
    vi.restoreAllMocks();
    expect(stdout).toEqual([]);
    expect(stderr.map((l) => [l.level, l.caseId])).toEqual([['INFO', 'case-local'], ['ERROR', 'case-local']]);
  });

  it('no handler writes to the console on its own: every line goes through the one logger', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
    const offenders = files(join(PROJECT_ROOT, 'handlers'))
      .filter((f) => !f.endsWith(join('adapters', 'logger.ts')))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => [f, i + 1, line] as const))
      .filter(([, , line]) => /\bconsole\.(log|info|warn|error|debug)\b/.test(line) && !line.trim().startsWith('*') && !line.trim().startsWith('//'))
      .map(([f, n]) => `${f.slice(PROJECT_ROOT.length + 1)}:${n}`);
    expect(offenders).toEqual([]);
  });
});
