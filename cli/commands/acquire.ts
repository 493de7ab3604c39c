import { hostname, userInfo } from 'node:os';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InvalidInput } from '../../handlers/domain/errors';
import { type ManualRequest, parseManualRequest } from '../../handlers/domain/manual-request';
import { clientConfig, type Deployment, type DeploymentOptions, resolveDeployment } from '../deployment/discover';
import { executionConsoleUrl } from '../output/format';
import { EXIT_FAILED, EXIT_OK, type Io, OperationFailed, parseOutputFormat, runCommand, UsageError } from './common';

/**
 * `forensics acquire --instance ID --account ID --region R --reason TEXT [--requested-by NAME] [--no-workstation]
 * [--revoke MODE] [--wait]`: starts the acquisition state machine with a manual request.
 *
 * The request is validated with the same schema the workflow's triage step applies (bad arguments: exit 2 naming
 * the flag), so what the CLI sends is exactly what triage accepts. `--region` is the *target's* region, as in the
 * manual request; the state machine's own region is `--deployment-region`, else the region in its ARN, else the
 * SDK's default region. `--requested-by` defaults to the caller's identity (STS GetCallerIdentity ARN).
 * `--wait` polls DescribeExecution and GetExecutionHistory, prints one line per state entered, and exits 1 when the
 * execution fails, times out or is aborted, or is still running after `--timeout` minutes.
 */

export interface AcquireOptions extends Omit<DeploymentOptions, 'region'> {
  instance?: string;
  account?: string;
  /** The target's region. */
  region?: string;
  reason?: string;
  requestedBy?: string;
  /** `false` with --no-workstation, `true` with --workstation, absent: the deployment default. */
  workstation?: boolean;
  revoke?: string;
  wait?: boolean;
  deploymentRegion?: string;
  /** Execution name (default `cli-<instance>-<UTC time>`). */
  name?: string;
  /** Minutes `--wait` follows the execution before giving up (default 120). */
  timeout?: number | string;
  /** Milliseconds between polls (default 5000). */
  pollIntervalMs?: number;
  output?: string;
}

/** Where each manual-request field comes from on the command line, so errors name what the responder typed. */
const FIELD_FLAG: Record<string, string> = {
  instanceId: '--instance',
  accountId: '--account',
  region: '--region',
  reason: '--reason',
  requestedBy: '--requested-by',
  'options.workstation': '--no-workstation',
  'options.revoke': '--revoke',
};

/** Builds and validates the manual request; throws UsageError naming the flag. No AWS call. */
export function buildManualRequest(options: AcquireOptions, requestedBy: string): ManualRequest {
  const request: Record<string, unknown> = {
    instanceId: options.instance,
    accountId: options.account,
    region: options.region,
    reason: options.reason,
    requestedBy,
  };
  const opts: Record<string, unknown> = {};
  if (options.workstation !== undefined) opts.workstation = options.workstation;
  if (options.revoke !== undefined) opts.revoke = options.revoke;
  if (Object.keys(opts).length > 0) request.options = opts;
  try {
    return parseManualRequest(request);
  } catch (err) {
    if (!(err instanceof InvalidInput)) throw err;
    throw new UsageError(flagMessage(err.message));
  }
}

function flagMessage(message: string): string {
  const match = /^([A-Za-z.]+): (.*)$/.exec(message);
  if (!match) return message;
  const [, field = '', problem = ''] = match;
  const flag = FIELD_FLAG[field];
  return flag ? `${flag} (${field}): ${problem}` : message;
}

export function defaultExecutionName(instanceId: string, at: Date): string {
  return `cli-${instanceId}-${at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}`;
}

export async function runAcquire(options: AcquireOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    // Everything the responder typed is checked before any AWS call (the caller's identity stands in below).
    buildManualRequest(options, options.requestedBy ?? 'placeholder');
    const timeoutMinutes = Number(options.timeout ?? 120);
    if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) throw new UsageError('--timeout: expected a number of minutes');
    const { region: _target, deploymentRegion, ...rest } = options;
    // A local deployment: its own definition in the local runner. With --state-machine-arn, that machine is started
    // through the Step Functions API at the endpoint instead (an emulator that executes, such as Step Functions Local).
    if (options.endpoint && !options.stateMachineArn) return runLocalAcquisition(options, io, format);
    const deployment = await resolveDeployment({ ...rest, ...(deploymentRegion ? { region: deploymentRegion } : {}) }, ['stateMachineArn']);
    const stateMachineArn = deployment.stateMachineArn as string;
    const sfnRegion = deploymentRegion ?? stateMachineArn.split(':')[3] ?? deployment.region;
    const requestedBy = options.requestedBy ?? (await callerIdentity(deployment, sfnRegion));
    const request = buildManualRequest(options, requestedBy);

    return startExecution(
      { deployment, region: sfnRegion, stateMachineArn, request, format, io },
      {
        name: options.name ?? defaultExecutionName(request.instanceId, new Date()),
        wait: Boolean(options.wait),
        timeoutMinutes,
        pollIntervalMs: options.pollIntervalMs ?? 5000,
      },
    );
  });
}

/**
 * `--endpoint URL` (a local deployment that `run-local` registered in the emulator): moto's Step Functions stores
 * state machines but does not execute them, so the acquisition runs here, in the local runner — the synthesized
 * definition and the real handlers, configured as that deployment was — and is followed to its end as with `--wait`.
 * Progress lines go to stderr; stdout carries the outcome (`--output json`: run-local's result object).
 */
async function runLocalAcquisition(options: AcquireOptions, io: Io, format: 'json' | 'text'): Promise<number> {
  const [{ openLocalDeploymentAt }, { executeLocal }] = await Promise.all([import('../local/open-local-deployment'), import('../local/local-runner')]);
  const { deployment, env } = await openLocalDeploymentAt(
    {
      endpoint: options.endpoint as string,
      ...(options.stack ? { stack: options.stack } : {}),
      ...(options.deploymentRegion ? { region: options.deploymentRegion } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    },
    ['stateMachineArn'],
  );
  const requestedBy = options.requestedBy ?? (await callerIdentity(deployment, deployment.region));
  const request = buildManualRequest(options, requestedBy);
  let origin: number | undefined;
  const result = await executeLocal(env, request, {
    executionName: options.name ?? defaultExecutionName(request.instanceId, new Date()),
    onProgress: (p) => {
      origin ??= p.at;
      const t = `[${((p.at - origin) / 1000).toFixed(1).padStart(7)}s]`;
      if (p.kind === 'entered') io.err(`${t} entered  ${p.state}`);
      if (p.kind === 'failed') io.err(`${t} failed   ${p.state}${p.detail ? ` ${p.detail}` : ''}`);
    },
  });
  const { error, ...outcome } = result;
  if (format === 'json') {
    io.out(JSON.stringify({ request, ...outcome, ...(error ? { error: error.name, cause: error.cause } : {}) }));
  } else {
    io.out(`${result.status} case ${result.caseId ?? '-'} (local runner)${error ? ` ${error.name}: ${error.cause ?? ''}` : ''}`);
  }
  return result.status === 'SUCCEEDED' || result.status === 'DUPLICATE' ? EXIT_OK : EXIT_FAILED;
}

export async function callerIdentity(deployment: Deployment, region: string | undefined): Promise<string> {
  const sts = new STSClient(clientConfig(deployment, region));
  try {
    const id = await sts.send(new GetCallerIdentityCommand({}));
    if (id.Arn) return id.Arn;
  } catch {
    // fall through to the local user
  } finally {
    sts.destroy();
  }
  const user = userInfo().username.replace(/[^A-Za-z0-9._@+=,:/-]/g, '') || 'unknown';
  return `${user}@${hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}`;
}

export interface FollowResult {
  status: string;
  output?: string;
  error?: string;
  cause?: string;
}

/** Follows an execution: one line per state entered (stderr), until it ends or `timeoutMs` passes. */
export async function follow(
  sfn: SFNClient,
  executionArn: string,
  io: Io,
  options: { timeoutMs: number; pollIntervalMs: number },
): Promise<FollowResult> {
  const deadline = Date.now() + options.timeoutMs;
  let origin: number | undefined;
  let lastEventId = 0;
  for (;;) {
    // History first, then status: a finished execution's last states are printed before its end.
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    origin ??= events[0]?.timestamp?.getTime();
    for (const e of events) {
      if ((e.id ?? 0) <= lastEventId) continue;
      lastEventId = e.id ?? lastEventId;
      const line = progressLine(e, origin ?? Date.now());
      if (line) io.err(line);
    }
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = described.status ?? 'UNKNOWN';
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      return {
        status,
        ...(described.output ? { output: described.output } : {}),
        ...(described.error ? { error: described.error } : {}),
        ...(described.cause ? { cause: described.cause } : {}),
      };
    }
    if (Date.now() >= deadline) return { status: 'RUNNING' };
    await new Promise((r) => setTimeout(r, Math.min(options.pollIntervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/** `[   12.3s] entered  Snapshot volumes` for a StateEntered event; failures and the end too; null for the rest. */
export function progressLine(event: HistoryEvent, startedAt: number): string | null {
  const at = event.timestamp ? event.timestamp.getTime() : Date.now();
  const t = `[${((at - startedAt) / 1000).toFixed(1).padStart(7)}s]`;
  if (event.type === 'TaskStateEntered' || event.type?.endsWith('StateEntered')) {
    return `${t} entered  ${event.stateEnteredEventDetails?.name ?? '?'}`;
  }
  if (event.type === 'ExecutionFailed') return `${t} failed   ${event.executionFailedEventDetails?.error ?? ''}`;
  if (event.type === 'ExecutionSucceeded') return `${t} succeeded`;
  if (event.type === 'ExecutionTimedOut') return `${t} timed out`;
  if (event.type === 'ExecutionAborted') return `${t} aborted`;
  return null;
}

/**
 * Starts an execution of a workflow (acquisition or release) with a validated request, prints its ARN and console
 * URL, and with `wait` follows it to the end: exit 0 when it succeeded, 1 when it failed or is still running.
 */
export async function startExecution(
  target: { deployment: Deployment; region: string | undefined; stateMachineArn: string; request: unknown; format: 'json' | 'text'; io: Io },
  run: { name: string; wait: boolean; timeoutMinutes: number; pollIntervalMs: number },
): Promise<number> {
  const { deployment, region, stateMachineArn, request, format, io } = target;
  const sfn = new SFNClient(clientConfig(deployment, region));
  try {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: run.name, input: JSON.stringify(request) }));
    const executionArn = started.executionArn ?? '';
    const url = executionConsoleUrl(executionArn);
    if (format === 'json' && !run.wait) io.out(JSON.stringify({ executionArn, consoleUrl: url, startDate: started.startDate, request }));
    if (format === 'text') {
      io.out(`Started ${executionArn}`);
      io.out(`Console ${url}`);
    }
    if (!run.wait) return EXIT_OK;
    const final = await follow(sfn, executionArn, io, { timeoutMs: run.timeoutMinutes * 60_000, pollIntervalMs: run.pollIntervalMs });
    if (format === 'json') io.out(JSON.stringify({ executionArn, consoleUrl: url, request, ...final }));
    else io.out(`${final.status}${final.output ? ` ${final.output}` : ''}${final.error ? ` ${final.error}: ${final.cause ?? ''}` : ''}`);
    if (final.status === 'RUNNING') throw new OperationFailed(`execution still running after ${run.timeoutMinutes} minutes: ${executionArn}`);
    return final.status === 'SUCCEEDED' ? EXIT_OK : EXIT_FAILED;
  } finally {
    sfn.destroy();
  }
}
