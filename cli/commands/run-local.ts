import { readFile } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { collect, parseContextArguments } from '../local/cdk-context';
import { EXIT_FAILED, EXIT_OK, type Io, processIo, runCommand, UsageError } from './common';

/**
 * `forensics run-local --event FILE [--endpoint URL] [-c key=value …] [--quiet]`: the synthesized acquisition state
 * machine with the real handlers against an AWS emulator (cli/local/local-runner.ts), configured as the deployment:
 * cdk.json's context with `-c`/`--context` over it, exactly as `cdk synth` takes them (cli/local/cdk-context.ts).
 * Progress on stderr; on stdout one JSON object (the DESIGN.md contract); exit 1 when the execution failed, 2 for bad
 * input (the event, a context argument, an invalid setting named as cdk synth names it).
 */
export interface RunLocalCommandOptions {
  event: string;
  endpoint?: string;
  /** `-c key=value` assignments, in order. */
  context?: string[];
  quiet?: boolean;
}

async function readEvent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--event: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--event: not valid JSON: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runLocalCommand(opts: RunLocalCommandOptions, io: Io = processIo): Promise<number> {
  return runCommand(io, async () => {
    const event = await readEvent(opts.event);
    let context: Record<string, string>;
    try {
      context = parseContextArguments(opts.context ?? [], (warning) => io.err(`forensics: warning: ${warning}`));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { runLocal } = await import('../local/local-runner');
    const started = Date.now();
    let result: Awaited<ReturnType<typeof runLocal>>;
    try {
      result = await runLocal(event, {
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        context,
        onProgress: opts.quiet
          ? undefined
          : (p) => {
              if (p.kind === 'exited') return;
              const t = ((p.at - started) / 1000).toFixed(2).padStart(6);
              const detail = p.detail ? ` — ${p.detail}` : '';
              io.err(`[${t}s] ${p.kind.padEnd(8)} ${p.state}${detail}`);
            },
      });
    } catch (err) {
      // An invalid setting (cdk.json or -c) and a non-loopback endpoint are bad input, named as cdk synth names them.
      if ((err as Error).name === 'ConfigError' || /^--endpoint: /.test((err as Error).message)) throw new UsageError((err as Error).message);
      throw err;
    }
    io.out(JSON.stringify(result));
    if (opts.endpoint && !opts.quiet && result.caseId) {
      // The emulator keeps the deployment (registered as its stack): every command finds it with --endpoint alone.
      io.err(`next: npm run forensics -- case show ${result.caseId} --endpoint ${opts.endpoint}`);
    }
    return result.status === 'FAILED' ? EXIT_FAILED : EXIT_OK;
  });
}

export function registerRunLocalCommand(program: Command, io: Io = processIo): void {
  program
    .command('run-local')
    .description('Run the synthesized state machine locally with the real handlers against an AWS emulator.')
    .requiredOption('--event <file>', 'input file, or - for stdin')
    .option('--endpoint <url>', 'AWS-compatible emulator endpoint (loopback only); default: start moto_server')
    .option('-c, --context <key=value>', 'CDK context over cdk.json, as `cdk synth -c` takes it (repeatable)', collect, [])
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      process.exitCode = await runLocalCommand(opts, io);
    });
}
