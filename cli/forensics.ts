#!/usr/bin/env tsx
import './runtime/quiet-warnings';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';

/**
 * `forensics` — the responders' command line. Errors go to stderr as one line; exit codes follow AWS CLI habits:
 * 0 success, 1 the operation ran and failed (or a check failed), 2 bad usage or malformed input.
 */

function readInput(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--event: cannot read ${file}: ${(err as Error).message}`);
  }
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function fail(message: string, code: number): never {
  process.stderr.write(`forensics: ${message.split('\n')[0]}\n`);
  process.exit(code);
}

const program = new Command()
  .name('forensics')
  .description('Forensic acquisition of compromised EC2 instances: plan, run locally, inspect cases.')
  .showHelpAfterError()
  .exitOverride();

program
  .command('plan')
  .description('Offline decision for an event, finding(s) or manual request: one JSON line per finding. No AWS call.')
  .requiredOption('--event <file>', 'input file, or - for stdin')
  .option('--min-severity <n>', 'minimum severity acquired', '7')
  .option('--acquire-container-hosts', 'acquire the host node named by container runtime findings', false)
  .action(async (opts: { event: string; minSeverity: string; acquireContainerHosts: boolean }) => {
    const { runPlan } = await import('./commands/plan');
    const minSeverity = Number(opts.minSeverity);
    if (!Number.isFinite(minSeverity) || minSeverity < 0 || minSeverity > 10) {
      fail('--min-severity: expected a number between 0 and 10', 2);
    }
    const text = readInput(opts.event);
    const code = runPlan(
      text,
      (line) => process.stdout.write(`${line}\n`),
      { minSeverity, acquireContainerHosts: opts.acquireContainerHosts },
      (message) => process.stderr.write(`forensics: ${message.split('\n')[0]}\n`),
    );
    process.exitCode = code;
  });

program
  .command('run-local')
  .description('Run the synthesized state machine locally with the real handlers against an AWS emulator.')
  .requiredOption('--event <file>', 'input file, or - for stdin')
  .option('--endpoint <url>', 'AWS-compatible emulator endpoint (loopback only); default: start moto_server')
  .option('--quiet', 'no progress on stderr', false)
  .action(async (opts: { event: string; endpoint?: string; quiet: boolean }) => {
    const text = readInput(opts.event);
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      fail(`--event: not valid JSON: ${(err as Error).message}`, 2);
    }
    const { runLocal } = await import('./local/local-runner');
    const started = Date.now();
    const result = await runLocal(event, {
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      onProgress: opts.quiet
        ? undefined
        : (p) => {
            if (p.kind === 'exited') return;
            const t = ((p.at - started) / 1000).toFixed(2).padStart(6);
            const detail = p.detail ? ` — ${p.detail}` : '';
            process.stderr.write(`[${t}s] ${p.kind.padEnd(8)} ${p.state}${detail}\n`);
          },
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exitCode = result.status === 'FAILED' ? 1 : 0;
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof UsageError) fail(err.message, 2);
  fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 1);
}
