import { userInfo } from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import type { Clock } from '../../handlers/domain/ports';
import type { ReleaseResult } from '../../handlers/use-cases/release-containment';
import { assertLoopbackEndpoint } from '../local/moto-server';
import { EXIT_FAILED, EXIT_OK, type Io, parseOutputFormat, processIo, runCommand, UsageError } from './common';

/**
 * `forensics release <caseId> --reason TEXT [--requested-by WHO] [--wait]`: starts an execution of the release state
 * machine (stack output `ReleaseStateMachineArn`), which undoes the case's containment with its own least-privilege
 * roles: original security groups on every ENI, the case's deny policies removed, back into its Auto Scaling group
 * and target groups; the case becomes RELEASED. Evidence is never touched. The request is validated before any AWS
 * call with the same schema the machine's first step applies. Prints the execution ARN and its console URL;
 * `--wait` follows the execution like `acquire --wait` (one line per state on stderr; exit 1 when it fails, e.g. with
 * CaseAlreadyReleased or ReleaseIncomplete).
 *
 * `--endpoint URL` (a local deployment that `run-local` registered in the emulator): moto's Step Functions does not
 * execute state machines, so the release state machine runs here, in the local runner: the definition synthesized
 * from the configuration the deployment was provisioned with, the real release handlers, their environment resolved
 * from the deployment's stack outputs — found by `--endpoint` alone, like every other command. Progress and result
 * as with `--wait` on AWS (the local execution always runs to its end).
 *
 * `--local --endpoint URL`: the release use case directly in the CLI with the caller's credentials (no validation,
 * notification or failure-recording step). Loopback endpoints only; neither local path is ever used against AWS.
 */
export interface ReleaseCommandOptions {
  reason: string;
  endpoint?: string;
  /** Run the release use case in the CLI against the emulator (needs --endpoint). */
  local?: boolean;
  table?: string;
  bucket?: string;
  stack?: string;
  region?: string;
  profile?: string;
  requestedBy?: string;
  releaseStateMachineArn?: string;
  wait?: boolean;
  /** Minutes `--wait` follows the execution (default 30). */
  timeout?: number | string;
  /** Milliseconds between polls (default 3000). */
  pollIntervalMs?: number;
  /** Execution name (default `release-<caseId>-<UTC time>`). */
  name?: string;
  output?: string;
}

/** Where each release-request field comes from on the command line. */
const FIELD_FLAG: Record<string, string> = { caseId: '<caseId>', reason: '--reason', requestedBy: '--requested-by' };

export function defaultReleaseExecutionName(caseId: string, at: Date): string {
  return `release-${caseId}-${at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}`.slice(0, 80);
}

/** Validates the request as the machine's first step will; throws UsageError naming the flag. No AWS call. */
export async function buildReleaseRequest(caseId: string, reason: string, requestedBy: string) {
  const [{ parseReleaseRequest }, { InvalidInput }] = await Promise.all([
    import('../../handlers/domain/release-request'),
    import('../../handlers/domain/errors'),
  ]);
  try {
    return parseReleaseRequest({ caseId, reason, requestedBy });
  } catch (err) {
    if (!(err instanceof InvalidInput)) throw err;
    const flag = FIELD_FLAG[err.field];
    throw new UsageError(flag ? `${flag} (${err.message})` : err.message);
  }
}

/** The command: the release state machine, or the direct path against an emulator. Returns the exit code. */
export async function runReleaseCommand(caseId: string, opts: ReleaseCommandOptions, io: Io = processIo): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(opts.output);
    if (opts.local && !opts.endpoint) throw new UsageError('--local: needs --endpoint URL (the direct path runs against a local emulator only)');
    if (opts.endpoint) {
      try {
        assertLoopbackEndpoint(opts.endpoint);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (!opts.local) return runLocalReleaseExecution(caseId, opts, io, format);
      const result = await runRelease(caseId, opts);
      io.out(JSON.stringify(result));
      return EXIT_OK;
    }
    return startReleaseExecution(caseId, opts, io, format);
  });
}

/**
 * The release state machine of a local deployment, executed by the local runner (see the header). The deployment is
 * discovered as on AWS (flags, environment, then the stack outputs run-local registered in the emulator).
 */
async function runLocalReleaseExecution(caseId: string, opts: ReleaseCommandOptions, io: Io, format: 'json' | 'text'): Promise<number> {
  await buildReleaseRequest(caseId, opts.reason, opts.requestedBy ?? 'placeholder');
  const [{ openLocalDeploymentAt }, { callerIdentity }, { executeLocalRelease }] = await Promise.all([
    import('../local/open-local-deployment'),
    import('./acquire'),
    import('../local/local-runner'),
  ]);
  const { deployment, env } = await openLocalDeploymentAt(
    {
      endpoint: opts.endpoint as string,
      ...(opts.stack ? { stack: opts.stack } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.releaseStateMachineArn ? { releaseStateMachineArn: opts.releaseStateMachineArn } : {}),
    },
    ['releaseStateMachineArn'],
  );
  const requestedBy = opts.requestedBy ?? (await callerIdentity(deployment, deployment.region));
  const request = await buildReleaseRequest(caseId, opts.reason, requestedBy);

  let origin: number | undefined;
  const result = await executeLocalRelease(env, request, {
    executionName: opts.name ?? defaultReleaseExecutionName(request.caseId, new Date()),
    onProgress: (p) => {
      origin ??= p.at;
      const t = `[${((p.at - origin) / 1000).toFixed(1).padStart(7)}s]`;
      if (p.kind === 'entered') io.err(`${t} entered  ${p.state}`);
      if (p.kind === 'failed') io.err(`${t} failed   ${p.state}${p.detail ? ` ${p.detail}` : ''}`);
    },
  });
  const output = result.status === 'SUCCEEDED' ? JSON.stringify({ release: result.release, notification: result.notification }) : undefined;
  if (format === 'json') {
    io.out(
      JSON.stringify({
        executionArn: result.executionArn,
        request,
        status: result.status,
        ...(output ? { output } : {}),
        ...(result.error ? { error: result.error.name, cause: result.error.cause } : {}),
      }),
    );
  } else {
    io.out(`Started ${result.executionArn} (local runner)`);
    io.out(`${result.status}${output ? ` ${output}` : ''}${result.error ? ` ${result.error.name}: ${result.error.cause ?? ''}` : ''}`);
  }
  return result.status === 'SUCCEEDED' ? EXIT_OK : EXIT_FAILED;
}

async function startReleaseExecution(caseId: string, opts: ReleaseCommandOptions, io: Io, format: 'json' | 'text'): Promise<number> {
  // Everything the responder typed is checked before any AWS call (the caller's identity stands in below).
  await buildReleaseRequest(caseId, opts.reason, opts.requestedBy ?? 'placeholder');
  const timeoutMinutes = Number(opts.timeout ?? 30);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) throw new UsageError('--timeout: expected a number of minutes');
  const [{ resolveDeployment }, { startExecution, callerIdentity }] = await Promise.all([
    import('../deployment/discover'),
    import('./acquire'),
  ]);
  const deployment = await resolveDeployment(
    {
      ...(opts.stack ? { stack: opts.stack } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.releaseStateMachineArn ? { releaseStateMachineArn: opts.releaseStateMachineArn } : {}),
    },
    ['releaseStateMachineArn'],
  );
  const stateMachineArn = deployment.releaseStateMachineArn as string;
  const sfnRegion = opts.region ?? stateMachineArn.split(':')[3] ?? deployment.region;
  const requestedBy = opts.requestedBy ?? (await callerIdentity(deployment, sfnRegion));
  const request = await buildReleaseRequest(caseId, opts.reason, requestedBy);

  return startExecution(
    { deployment, region: sfnRegion, stateMachineArn, request, format, io },
    {
      name: opts.name ?? defaultReleaseExecutionName(request.caseId, new Date()),
      wait: Boolean(opts.wait),
      timeoutMinutes,
      pollIntervalMs: opts.pollIntervalMs ?? 3000,
    },
  );
}

/**
 * The direct path, for the emulator only: runs the release use case in this process with the caller's credentials
 * against `--endpoint` (loopback). Throws the use case's named errors (CaseNotFound, CaseStillAcquiring,
 * CaseAlreadyReleased, ReleaseIncomplete).
 */
export async function runRelease(caseId: string, opts: ReleaseCommandOptions): Promise<ReleaseResult> {
  if (!opts.reason.trim()) throw new UsageError('--reason: must not be empty');
  if (!opts.endpoint) {
    throw new UsageError('the direct release path runs against a local emulator only (--endpoint); against AWS, release starts the release state machine');
  }
  assertLoopbackEndpoint(opts.endpoint);
  // Same discovery as every other command: flag, then FORENSICS_TABLE / FORENSICS_BUCKET, then the stack outputs.
  const { resolveDeployment } = await import('../deployment/discover');
  const deployment = await resolveDeployment(
    {
      ...(opts.stack ? { stack: opts.stack } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      endpoint: opts.endpoint,
      ...(opts.table ? { table: opts.table } : {}),
      ...(opts.bucket ? { bucket: opts.bucket } : {}),
    },
    ['table', 'bucket'],
  );
  const table = deployment.table;
  const bucket = deployment.bucket;
  if (!table || !bucket) throw new UsageError('cannot find the case table and evidence bucket: use --stack, --table/--bucket or FORENSICS_TABLE/FORENSICS_BUCKET');
  process.env.AWS_ENDPOINT_URL = opts.endpoint;
  if (deployment.region) process.env.AWS_REGION = deployment.region;
  if (opts.profile) process.env.AWS_PROFILE = opts.profile;
  // Loaded here, not at startup: the other commands of the CLI do not pay for the SDK clients.
  const [{ createAwsClients }, { DynamoCaseTable }, { S3EvidenceStore, bucketRetention }, { releaseAdaptersFor }, { ChainedCustodyLog }, { releaseContainment }] =
    await Promise.all([
      import('../../handlers/adapters/aws-client-set'),
      import('../../handlers/adapters/case-table'),
      import('../../handlers/adapters/evidence-store'),
      import('../../handlers/adapters/release-adapters'),
      import('../../handlers/use-cases/custody-log'),
      import('../../handlers/use-cases/release-containment'),
    ]);
  const clients = createAwsClients();
  const clock: Clock = () => new Date();
  const cases = new DynamoCaseTable(clients.dynamodb(), table, clock);
  // The retention the deployment configured, as the bucket's default holds it: written explicitly on every object.
  const store = new S3EvidenceStore(clients.s3(), bucket, await bucketRetention(clients.s3(), bucket), clock);
  const requestedBy = opts.requestedBy ?? safeUser();
  return releaseContainment(
    {
      cases,
      custody: new ChainedCustodyLog({ cases, store, clock, actor: {} }),
      adaptersFor: (target) => releaseAdaptersFor(target, clients.scope),
      clock,
    },
    { caseId, reason: opts.reason, actor: `forensics-cli release${requestedBy ? ` (${requestedBy})` : ''}`, ...(requestedBy ? { requestedBy } : {}) },
  );
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

export function registerReleaseCommand(program: Command): void {
  program
    .command('release')
    .description("Undo a case's containment (network, credentials, Auto Scaling, target groups) through the release state machine; evidence stays as it is.")
    .argument('<caseId>', 'the case to release')
    .requiredOption('--reason <text>', 'why the instance is cleared (recorded in the case and the custody log)')
    .option('--requested-by <who>', 'responder recorded with the release (default: the caller identity ARN)')
    .option('--wait', 'follow the execution, one line per state, exit 1 if it fails', false)
    .option('--timeout <minutes>', 'with --wait: give up after this many minutes', '30')
    .option('--name <name>', 'execution name (default release-<caseId>-<time>)')
    .option('--stack <name>', 'IR stack whose outputs name the release state machine (default: cdk.json forensics:stackName)')
    .option('--region <region>', 'region of the IR deployment')
    .option('--profile <name>', 'shared-config profile')
    .option('--release-state-machine-arn <arn>', 'release state machine (or FORENSICS_RELEASE_STATE_MACHINE_ARN)')
    .option('--output <format>', 'json or text', 'text')
    .option('--local', 'emulator only: run the release use case in the CLI instead of the state machine (needs --endpoint)', false)
    .option('--endpoint <url>', 'local deployment on an emulator (loopback only): the release state machine runs in the local runner')
    .option('--table <name>', 'with --local: case table name (default: $FORENSICS_TABLE, else the stack output)')
    .option('--bucket <name>', 'with --local: evidence bucket name (default: $FORENSICS_BUCKET, else the stack output)')
    .action(async (caseId, opts) => {
      process.exitCode = await runReleaseCommand(caseId, opts, processIo);
    });
}
