import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContextArgumentError, parseContextArguments } from '../../../../cli/local/cdk-context';
import { ConfigError, parseConfig } from '../../../../infra/config';

/**
 * `run-local -c key=value` is read exactly as the CDK CLI reads `cdk synth -c key=value`. The rules,
 * then the proof: the project's own aws-cdk CLI is run with the same arguments on a probe app that records the
 * context it is given, and both must agree.
 */
const ARGS = ['a=b=c', 'x=1', 'noeq', 'e=', 'x=2', 'j=[1,2]', 't=true', 'forensics:workstation=false', 'forensics:minSeverity=8'];

describe('parseContextArguments', () => {
  it('splits at the first "=", keeps every value a string, lets a later value win, ignores a non-assignment with a warning', () => {
    // Prepare
    const warnings: string[] = [];
    // Act
    const context = parseContextArguments(ARGS, (w) => warnings.push(w));
    // Assess
    expect(context).toEqual({
      a: 'b=c',
      x: '2',
      e: '',
      j: '[1,2]',
      t: 'true',
      'forensics:workstation': 'false',
      'forensics:minSeverity': '8',
    });
    expect(warnings).toEqual(['context argument is not an assignment (key=value): noeq']);
  });

  it('refuses keys of the reserved aws: prefix', () => {
    expect(() => parseContextArguments(['aws:cdk:bundling-stacks=[]'])).toThrow(ContextArgumentError);
    expect(() => parseContextArguments(['aws:x=1'])).toThrow(/-c aws:x: .*'aws:'/);
  });

  it('the settings schema reads the strings as cdk synth does (cdk.json context below them)', () => {
    const config = parseConfig({ 'forensics:workstation': true, 'forensics:minSeverity': 7, ...parseContextArguments(ARGS.slice(7)) });
    expect(config.workstation).toBe(false);
    expect(config.minSeverity).toBe(8);
    expect(() => parseConfig(parseContextArguments(['forensics:workstation=nope']))).toThrow(ConfigError);
    expect(() => parseConfig(parseContextArguments(['forensics:workstation=nope']))).toThrow(/^cdk\.json context forensics:workstation: expected true or false/);
  });

  it('agrees with the aws-cdk CLI itself on the same arguments', () => {
    // Prepare: a probe app that records the context the CLI hands it, in a directory without cdk.json.
    const dir = mkdtempSync(join(tmpdir(), 'cdk-context-'));
    const require = createRequire(import.meta.url);
    const cdkBin = join(dirname(require.resolve('aws-cdk/package.json')), 'bin', 'cdk');
    const cdkLib = dirname(require.resolve('aws-cdk-lib/package.json'));
    writeFileSync(
      join(dir, 'app.cjs'),
      `require('fs').writeFileSync(${JSON.stringify(join(dir, 'context.json'))}, process.env.CDK_CONTEXT_JSON || '{}');\n` +
        `const { App } = require(${JSON.stringify(cdkLib)}); new App().synth();\n`,
    );
    // Act
    const run = spawnSync(
      process.execPath,
      [cdkBin, 'synth', '--app', `"${process.execPath}" app.cjs`, '-o', join(dir, 'out'), '--no-notices', ...ARGS.flatMap((a) => ['-c', a])],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, CDK_HOME: dir, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: '1', CI: 'true' },
      },
    );
    // Assess (the CLI then reports that the probe app has no stacks: what matters is the context it handed over)
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`).toContain('Context argument is not an assignment (key=value): noeq');
    const received = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Record<string, unknown>;
    const fromCommandLine = Object.fromEntries(Object.entries(received).filter(([k]) => !k.startsWith('aws:') && !k.startsWith('@aws-cdk/')));
    expect(parseContextArguments(ARGS)).toEqual(fromCommandLine);
  }, 90_000);
});
