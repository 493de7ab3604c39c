import { doctorExitCode, renderDoctorLines } from '../doctor/check';
import { type DoctorRunOptions, runDoctorChecks } from '../doctor/run-doctor';
import { deploymentSettings, parseContextOverrides } from '../deployment/deployment-config';
import { type Io, parseOutputFormat, runCommand, UsageError } from './common';

/**
 * `forensics doctor [--endpoint URL] [--output json|text] [-c key=value]…`: read-only checks that the deployment is
 * ready before the incident (cli/doctor/). Text: one line per check, `PASS|WARN|FAIL <check>: <detail and the fix>`;
 * JSON: `{"checks":[{"name","status","detail"}]}` (DESIGN.md contract). Exit 0 when no check FAILs, 1 otherwise,
 * 2 for bad arguments. Expected values come from cdk.json (`-c` overrides, as for `cdk synth`).
 */

export interface DoctorOptions extends DoctorRunOptions {
  output?: string;
  /** `-c key=value` context overrides. */
  context?: string[];
  /** Overrides given programmatically (tests), applied after `context`. */
  contextOverrides?: Record<string, unknown>;
  /** `--account ID` (repeatable). */
  account?: string[];
}

export async function runDoctor(options: DoctorOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    for (const a of options.account ?? []) if (!/^\d{12}$/.test(a)) throw new UsageError(`--account: expected a 12-digit account id, got ${a}`);
    const config = await deploymentSettings(options, { ...parseContextOverrides(options.context, (w) => io.err(`forensics: warning: ${w}`)), ...(options.contextOverrides ?? {}) }, env);
    const { output: _o, context: _c, contextOverrides: _co, account, ...deploymentOptions } = options;
    const checks = await runDoctorChecks({ ...deploymentOptions, ...(account ? { accounts: account } : {}) }, config, env);
    if (format === 'json') io.out(JSON.stringify({ checks }));
    else for (const line of renderDoctorLines(checks)) io.out(line);
    const count = (s: string) => checks.filter((c) => c.status === s).length;
    io.err(`doctor: ${count('PASS')} passed, ${count('WARN')} warnings, ${count('FAIL')} failed`);
    return doctorExitCode(checks);
  });
}
