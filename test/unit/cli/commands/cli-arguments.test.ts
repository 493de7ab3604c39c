import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildManualRequest, defaultExecutionName, runAcquire } from '../../../../cli/commands/acquire';
import { runCaseDownload } from '../../../../cli/commands/case-download';
import { runCaseVerify } from '../../../../cli/commands/case-verify';
import { parseCaseFilters, runCases } from '../../../../cli/commands/cases';
import { UsageError } from '../../../../cli/commands/common';
import { clientConfig, defaultStackName, resolveDeployment } from '../../../../cli/deployment/discover';
import { IR_STACK_OUTPUTS as CLI_OUTPUTS } from '../../../../cli/deployment/stack-outputs';
import { PROJECT_ROOT } from '../../../../infra/constructs/forensic-function';
import { IR_STACK_OUTPUTS } from '../../../../infra/ir-stack';

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l: string) => stdout.push(l), err: (l: string) => stderr.push(l) };
}

const good = { instance: 'i-0123456789abcdef0', account: '111122223333', region: 'eu-west-1', reason: 'EDR alert' };

describe('acquire arguments (no AWS call)', () => {
  it('builds the manual request the workflow validates, options only when given', () => {
    expect(buildManualRequest(good, 'alice')).toEqual({ instanceId: good.instance, accountId: good.account, region: good.region, reason: 'EDR alert', requestedBy: 'alice' });
    expect(buildManualRequest({ ...good, workstation: false, revoke: 'none' }, 'alice').options).toEqual({ workstation: false, revoke: 'none' });
  });

  it.each([
    [{ ...good, instance: 'vol-0123' }, /^--instance \(instanceId\): expected/],
    [{ ...good, account: '12' }, /^--account \(accountId\): /],
    [{ ...good, region: 'us-east-1a' }, /^--region \(region\): /],
    [{ ...good, reason: '   ' }, /^--reason \(reason\): must not be empty/],
    [{ ...good, reason: undefined }, /^--reason \(reason\): required/],
    [{ ...good, revoke: 'everything' }, /^--revoke \(options\.revoke\): expected one of/],
  ])('refuses bad arguments naming the flag (%#)', (options, message) => {
    expect(() => buildManualRequest(options, 'alice')).toThrow(UsageError);
    expect(() => buildManualRequest(options, 'alice')).toThrow(message);
  });

  it('refuses a requested-by with spaces', () => {
    expect(() => buildManualRequest(good, 'alice smith')).toThrow(/^--requested-by \(requestedBy\): /);
  });

  it('exits 2 with one line on stderr before any AWS call', async () => {
    const io = capture();
    expect(await runAcquire({ ...good, instance: 'nope', stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:x' }, io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(/^forensics: --instance \(instanceId\): /);
    expect(io.stdout).toEqual([]);
  });

  it('names executions after the instance and the time', () => {
    expect(defaultExecutionName('i-0123456789abcdef0', new Date('2026-11-28T09:15:00.123Z'))).toBe('cli-i-0123456789abcdef0-20261128T091500Z');
  });
});

describe('cases / case arguments', () => {
  it('validates filters', () => {
    expect(parseCaseFilters({ status: 'contained', since: '2026-01-31' })).toEqual({ status: 'CONTAINED', since: '2026-01-31T00:00:00.000Z' });
    expect(() => parseCaseFilters({ status: 'open' })).toThrow(/^--status: expected one of ACQUIRING/);
    expect(() => parseCaseFilters({ instance: 'i-XYZ' })).toThrow(/^--instance: /);
    expect(() => parseCaseFilters({ since: 'yesterday' })).toThrow(/^--since: /);
  });

  it('exits 2 for a bad --output, a malformed case id, a missing --out', async () => {
    const a = capture();
    expect(await runCases({ output: 'yaml', table: 't' }, a)).toBe(2);
    expect(a.stderr).toEqual(['forensics: --output: expected json or text']);
    const b = capture();
    expect(await runCaseVerify('../../etc', { bucket: 'b', table: 't', keyArn: 'k' }, b)).toBe(2);
    expect(b.stderr[0]).toMatch(/^forensics: caseId: expected/);
    const c = capture();
    expect(await runCaseDownload('20260101T000000Z-i-0123456789abcdef0', { out: '' }, c)).toBe(2);
  });
});

describe('deployment discovery', () => {
  it('takes flags over environment and reads no stack when everything is given', async () => {
    const d = await resolveDeployment({ bucket: 'flag-bucket', region: 'eu-west-1' }, ['bucket', 'table'], { FORENSICS_BUCKET: 'env-bucket', FORENSICS_TABLE: 'env-table' });
    expect(d).toMatchObject({ bucket: 'flag-bucket', table: 'env-table', region: 'eu-west-1', sources: { bucket: 'flag', table: 'env' } });
  });

  it('refuses a non-loopback endpoint', async () => {
    await expect(resolveDeployment({ endpoint: 'http://10.1.2.3:5000', table: 't' }, ['table'], {})).rejects.toThrow(/only loopback/);
  });

  it('says how to pass the resources when the stack cannot be read', async () => {
    // An unused loopback port: the CloudFormation call fails fast, never leaving the machine.
    await expect(
      resolveDeployment({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', stack: 'Missing' }, ['table'], {}),
    ).rejects.toThrow(/cannot find the deployment: .*Missing.*--table or set FORENSICS_TABLE/);
  });

  it('uses the stack name of cdk.json and emulator credentials only on an emulator', () => {
    expect(defaultStackName()).toBe('ForensicAcquisition');
    expect(clientConfig({ endpoint: 'http://127.0.0.1:5000', region: 'us-east-1' }, undefined, {}).credentials).toEqual({ accessKeyId: 'testing', secretAccessKey: 'testing' });
    expect(clientConfig({ region: 'us-east-1', profile: 'ir' }, undefined, {})).toEqual({ region: 'us-east-1', profile: 'ir' });
  });

  it('knows the same output keys as the IR stack', () => {
    expect(CLI_OUTPUTS).toEqual(IR_STACK_OUTPUTS);
  });
});

describe('forensics (the command line itself)', () => {
  it('an unreadable --event is a usage error: exit 2, one line on stderr', () => {
    // Act
    const run = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['cli/forensics.ts', 'plan', '--event', '/nonexistent/event.json'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

    // Assess
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n').filter((l) => l.startsWith('forensics: '))).toEqual([
      expect.stringMatching(/^forensics: --event: cannot read \/nonexistent\/event\.json: ENOENT/),
    ]);
  });
});
