#!/usr/bin/env tsx
import './runtime/quiet-warnings';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, type OptionValues } from '@commander-js/extra-typings';
import { UsageError } from './commands/common';
import { registerReleaseCommand } from './commands/release';
import { registerRunLocalCommand } from './commands/run-local';
import { registerWorkstationCommands } from './commands/workstation';
import { collect } from './local/cdk-context';

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
  .option('--event <file>', 'input file, or - for stdin (required unless --live)')
  .option('--min-severity <n>', 'minimum severity acquired', '7')
  .option('--acquire-container-hosts', 'acquire the host node named by container runtime findings', false)
  // Dry run against the real instance (read-only calls): cli/commands/plan-live.ts.
  .option('--live', 'describe the real instance (read-only) and print what an acquisition would change', false)
  .option('--instance <id>', 'with --live: instance id')
  .option('--account <id>', 'with --live: account id of the instance (the credentials must be for it)')
  .option('--region <region>', 'with --live: region of the instance')
  .option('--revoke <mode>', 'with --live: revoke mode to plan for (default: cdk.json forensics:revokeMode)')
  .option('--profile <name>', 'with --live: shared config profile')
  .option('--endpoint <url>', 'with --live: AWS-compatible emulator endpoint (loopback only)')
  .option('--output <format>', 'with --live: json or text', 'text')
  .action(async (opts) => {
    if (opts.live) {
      const { runPlanLive } = await import('./commands/plan-live');
      await exitWith(runPlanLive(opts, processIoWithPrefix()));
      return;
    }
    if (opts.event === undefined) fail("error: required option '--event <file>' not specified", 2);
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

registerRunLocalCommand(program);
registerReleaseCommand(program);
registerWorkstationCommands(program);

// ── Responder commands (cases, evidence, manual acquisition) ──
const DEPLOYMENT_REGION = 'region of the IR deployment (default: the SDK default region)';
// Deployment discovery flags shared by every command that talks to the IR deployment.
// Typed by @commander-js/extra-typings: each action's options are checked against its command's options interface.
function deploymentOptions<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd
    .option('--stack <name>', 'IR CloudFormation stack to read resources from (default: cdk.json forensics:stackName)')
    .option('--profile <name>', 'shared config profile (credentials and region)')
    .option('--endpoint <url>', 'AWS-compatible emulator endpoint (loopback only)')
    .option('--state-machine-arn <arn>', 'acquisition state machine (or FORENSICS_STATE_MACHINE_ARN)')
    .option('--bucket <name>', 'evidence bucket (or FORENSICS_BUCKET)')
    .option('--table <name>', 'case table (or FORENSICS_TABLE)')
    .option('--key-arn <arn>', 'evidence KMS key ARN (or FORENSICS_KEY_ARN)')
    .option('--output <format>', 'json or text', 'text');
}

async function exitWith(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

deploymentOptions(
  program
    .command('acquire')
    .description('Start an acquisition of an instance by hand (a manual request), optionally following it.')
    .option('--instance <id>', 'instance id of the target')
    .option('--account <id>', 'account id of the target')
    .option('--region <region>', 'region of the target (the deployment region is --deployment-region)')
    .option('--reason <text>', 'why the instance is acquired (recorded in the case and the custody log)')
    .option('--requested-by <name>', 'who asks (default: the caller identity ARN)')
    .option('--workstation', 'launch a forensic workstation (default: the deployment default)')
    .option('--no-workstation', 'do not launch a forensic workstation')
    .option('--revoke <mode>', 'credential containment: instance, role or none')
    .option('--wait', 'follow the execution, one line per state, exit 1 if it fails', false)
    .option('--timeout <minutes>', 'with --wait: give up after this many minutes', '120')
    .option('--name <name>', 'execution name (default cli-<instance>-<time>)')
    .option('--deployment-region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runAcquire } = await import('./commands/acquire');
  await exitWith(runAcquire(opts, processIoWithPrefix()));
});

deploymentOptions(
  program
    .command('cases')
    .description('List cases from the case table, newest first.')
    .option('--status <status>', 'ACQUIRING, CONTAINED, FAILED or RELEASED')
    .option('--instance <id>', 'only cases of this instance')
    .option('--since <date>', 'only cases opened at or after this ISO 8601 date/time')
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runCases } = await import('./commands/cases');
  await exitWith(runCases(opts, processIoWithPrefix()));
});

const caseCommand = program.command('case').description('Inspect, verify, download and report one case.');
deploymentOptions(
  caseCommand.command('show').description('Readable manifest summary and custody timeline.').argument('<caseId>').option('--region <region>', DEPLOYMENT_REGION),
).action(async (caseId, opts) => {
  const { runCaseShow } = await import('./commands/case-show');
  await exitWith(runCaseShow(caseId, opts, processIoWithPrefix()));
});
deploymentOptions(
  caseCommand
    .command('verify')
    .description('Recompute and check every hash, version, hold and snapshot: PASS/FAIL per check.')
    .argument('<caseId>')
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (caseId, opts) => {
  const { runCaseVerify } = await import('./commands/case-verify');
  await exitWith(runCaseVerify(caseId, opts, processIoWithPrefix()));
});
deploymentOptions(
  caseCommand
    .command('timeline')
    .description("The principal's CloudTrail timeline sealed in the case (checked against the manifest): one line per event, or JSON.")
    .argument('<caseId>')
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (caseId, opts) => {
  const { runCaseTimeline } = await import('./commands/case-timeline');
  await exitWith(runCaseTimeline(caseId, opts, processIoWithPrefix()));
});
deploymentOptions(
  caseCommand
    .command('report')
    .description('One self-contained HTML page of the case: activity chart with containment, flagged events, evidence, rotate list, logs, gaps.')
    .argument('<caseId>')
    .requiredOption('--out <file>', 'HTML file to write (not overwritten unless --force)')
    .option('--force', 'overwrite --out if it exists', false)
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (caseId, opts) => {
  const { runCaseReport } = await import('./commands/case-report');
  await exitWith(runCaseReport(caseId, opts, processIoWithPrefix()));
});
deploymentOptions(
  caseCommand
    .command('download')
    .description('Write the evidence objects byte for byte, plus SHA256SUMS, then verify them.')
    .argument('<caseId>')
    .requiredOption('--out <dir>', 'directory to write to (absent or empty)')
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (caseId, opts) => {
  const { runCaseDownload } = await import('./commands/case-download');
  await exitWith(runCaseDownload(caseId, opts, processIoWithPrefix()));
});

// ── Preparation: prove the deployment before the incident ──
const toolsCommand = program.command('tools').description('Capture tools prepared before any incident (memory capture).');
deploymentOptions(
  toolsCommand
    .command('build')
    .description('Build the memory tools snapshot of a region (pinned AVML + capture script) in the forensic workstation VPC; print the settings.')
    .requiredOption('--avml <path>', 'the AVML binary to pin (static Linux build, x86_64 or arm64)')
    .requiredOption('--region <region>', 'region the snapshot is for (where workload instances run)')
    .option('--avml-version <version>', 'AVML version (required when the binary cannot run here to report it)')
    .option('--share-with <accounts>', 'workload accounts allowed to create volumes from it, comma-separated')
    .option('--timeout <minutes>', 'give up on each wait after this many minutes', '20')
    .option('--launch-template <id>', 'workstation launch template (default: stack output WorkstationLaunchTemplateId)')
    .option('--subnets <ids>', 'forensic VPC subnets, comma-separated (default: stack output WorkstationSubnetIds)')
    .option('--security-group <id>', 'workstation group (default: stack output WorkstationSecurityGroupId)')
    .option('--deployment-region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runToolsBuild } = await import('./commands/tools-build');
  await exitWith(runToolsBuild(opts, processIoWithPrefix()));
});

deploymentOptions(
  program
    .command('doctor')
    .description('Read-only checks of the deployment: PASS/WARN/FAIL per check with the fix; exit 1 when any check fails.')
    .option('-c, --context <key=value>', 'cdk.json context override, as for cdk synth (repeatable)', collect)
    .option('--account <id>', 'check this workload account (repeatable; default: forensics:workloadAccounts)', collect)
    .option('--region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runDoctor } = await import('./commands/doctor');
  await exitWith(runDoctor(opts, processIoWithPrefix()));
});

const drillCommand = deploymentOptions(
  program
    .command('drill')
    .description('End-to-end exercise: launch a tagged canary, acquire it as a drill case, verify, release, remove the canary; report the measured times.')
    .option('--account <id>', 'account to launch the canary in (the credentials, or --canary-profile, must be for it)')
    .option('--region <region>', 'region to launch the canary in (the deployment region is --deployment-region)')
    .option('--keep-canary', 'leave the canary and its VPC and role (forensics drill clean removes them later)', false)
    .option('--retention-days <n>', 'how long the drill case\'s objects and snapshots are kept (1-30)', '1')
    .option('--instance-type <type>', 'canary instance type', 't3.nano')
    .option('--canary-profile <name>', 'shared config profile with credentials for --account')
    .option('--timeout <minutes>', 'give up on each workflow after this many minutes', '60')
    .option('--release-state-machine-arn <arn>', 'release state machine (or FORENSICS_RELEASE_STATE_MACHINE_ARN)')
    .option('-c, --context <key=value>', 'cdk.json context override, as for cdk synth (repeatable)', collect)
    .option('--deployment-region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runDrillCommand } = await import('./commands/drill');
  await exitWith(runDrillCommand(opts, processIoWithPrefix()));
});
deploymentOptions(
  drillCommand
    .command('clean')
    .description('Remove what drills left once their retention has passed: canaries, their VPC and role, drill cases\' objects and snapshots.')
    .option('--region <region>', 'region searched for left-over canaries (default: the deployment region)')
    .option('--canary-profile <name>', 'shared config profile with credentials for the canaries\' account')
    .option('--older-than <minutes>', 'only canaries launched at least this long ago (a drill may be running)', '60')
    .option('-c, --context <key=value>', 'cdk.json context override, as for cdk synth (repeatable)', collect)
    .option('--deployment-region <region>', DEPLOYMENT_REGION),
).action(async (opts) => {
  const { runDrillCleanCommand } = await import('./commands/drill');
  await exitWith(runDrillCleanCommand(opts, processIoWithPrefix()));
});

/** stdout for answers, stderr for progress and the one-line error (the commands add the `forensics:` prefix). */
function processIoWithPrefix() {
  return {
    out: (line: string) => process.stdout.write(`${line}\n`),
    err: (line: string) => process.stderr.write(`${line}\n`),
  };
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof UsageError) fail(err.message, 2);
  fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 1);
}
