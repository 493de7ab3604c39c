import '../runtime/polyfills';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { logThroughConsole } from '../../handlers/adapters/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { HandlerEnvironment } from '../../handlers/config/env';
import { environment, resetEnvironment } from '../../handlers/config/env';
import type { WorkstationEnvironment } from '../../handlers/config/workstation-env';
import type { SynthesizedIrStack } from '../../infra/synthesize';
import { cachedSynthesis, withSynthesisCache } from './synthesis-cache';
import { ACQUISITION_STEPS, ACQUISITION_STEP_NAMES, CONTROL_STATES } from '../../workflows/acquisition-steps';
import { RELEASE_STEPS, RELEASE_STEP_NAMES } from '../../workflows/release-steps';
import { renderDefinition } from '../../workflows/render-definition';
import { IR_STACK_OUTPUTS } from '../deployment/stack-outputs';
import {
  EMULATOR_ACCOUNT,
  EMULATOR_REGION,
  emulatorClientConfig,
  LOCAL_ACQUISITION_MACHINE,
  LOCAL_RELEASE_MACHINE,
  provisionIrResources,
} from './emulator-resources';
import { forensicVpcCidr } from './emulator-workstation';
import { type CfnTemplate, functionEnvironment, missingOutputs, processEnvironment } from './lambda-environment';
import { registerLocalStack } from './local-stack';
import { assertLoopbackEndpoint, startMoto, type MotoServer } from './moto-server';

/**
 * Runs the acquisition state machine locally: the definition CDK synthesizes (rendered with placeholder ARNs),
 * executed by aws-local-stepfunctions, with every Lambda Task mapped to the real handler module in-process, against
 * an AWS-compatible emulator. Without an endpoint it starts moto_server on a free loopback port and stops it after.
 */
export type RunStatus = 'SUCCEEDED' | 'FAILED' | 'DUPLICATE' | 'IGNORED';

export interface RunLocalResult {
  caseId: string | null;
  status: RunStatus;
  manifest: { bucket: string; key: string; sha256: string } | null;
  snapshots: { volumeId: string; snapshotId: string; evidenceSnapshotId: string | null; kmsKeyId: string | null; region?: string }[];
  isolation: { securityGroupId: string | null; networkInterfaceIds: string[] };
  forensicInstanceId: string | null;
  error?: { name: string; cause?: string };
  reason?: string;
  /**
   * FAILED only: the state the execution stopped in (the last state entered) with its type and input, as the
   * execution history shows it; what a redrive continues from.
   */
  stoppedIn?: { name: string; type: string; input: unknown };
}

/** The handlers' environment as the local runner sets it: strings, as Lambda gives them. */
export type LocalHandlerEnvironment = { readonly [K in keyof HandlerEnvironment]: string } & {
  readonly [K in keyof WorkstationEnvironment]?: string;
};

export interface LocalEnvironment {
  endpoint: string;
  region: string;
  accountId: string;
  /** The configured stack name (`forensics:stackName`): the local deployment is registered in the emulator under it. */
  stackName: string;
  /** CDK context given over cdk.json (`run-local -c key=value`). */
  context: Readonly<Record<string, string>>;
  /** The local deployment's stack outputs (the names and ARNs of what was provisioned). */
  outputs: Readonly<Record<string, string>>;
  /** The union of the synthesized functions' environments, resolved (what the handlers read from process.env). */
  handlerEnv: LocalHandlerEnvironment;
  /** The moto_server this environment started, if it started one. */
  moto?: { pid: number; endpoint: string };
  stop(): Promise<void>;
}

export interface ProgressEvent {
  at: number;
  kind: 'entered' | 'exited' | 'retried' | 'caught' | 'failed' | 'succeeded';
  state: string;
  detail?: string;
}

export interface RunLocalOptions {
  /** Called for every state transition; the CLI prints these on stderr. */
  onProgress?: (event: ProgressEvent) => void;
  /** Milliseconds each Wait state pauses (the emulator completes snapshots at once). Default 0. */
  waitMs?: number;
  /**
   * Milliseconds between state-level retries. Default 50. `as-defined`: the definition's own Retry intervals,
   * backoff, MaxDelaySeconds and full jitter, in real time (the benchmark).
   */
  retryIntervalMs?: number | 'as-defined';
  /**
   * Continue a FAILED execution as RedriveExecution does: from the state it stopped in, with that state's input,
   * under the same execution name and start time, with `$$.Execution.RedriveCount` set.
   */
  redrive?: { fromState: string; input: unknown; redriveCount: number; startedAt: string };
  /** Execution name (defaults to a random one). */
  executionName?: string;
  /**
   * Wraps the handler of a Task state (by state name), e.g. to observe its output or to fail it the way the Lambda
   * service would (benchmark, fault-injection tests). Default: the real handlers as they are.
   */
  wrapHandler?: (state: string, handler: (input: unknown) => Promise<unknown>) => (input: unknown) => Promise<unknown>;
}

/** The subset of aws-local-stepfunctions' event log entries the runner reads (the library does not export the type). */
type EventLog =
  | { type: 'StateEntered' | 'StateExited' | 'StateCaught'; timestamp: number; state: { name: string; type?: string; input?: unknown; output?: unknown } }
  | { type: 'StateRetried'; timestamp: number; state: { name: string }; retry: { attempt: number } }
  | { type: 'StateFailed'; timestamp: number; state: { name: string }; Error: string; Cause: unknown }
  | { type: 'ExecutionStarted' | 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionAborted' | 'ExecutionTimeout'; timestamp: number };

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PrepareOptions {
  endpoint?: string;
  region?: string;
  /** CDK context over cdk.json, as `cdk synth -c key=value` takes it (strings; see cli/local/cdk-context.ts). */
  context?: Readonly<Record<string, string>>;
  /**
   * Test hook: values put over the resolved environment (e.g. a second emulated account as a workload account).
   * The CLI never sets it: what run-local runs is configured by cdk.json and `-c` only.
   */
  overrides?: Partial<Record<keyof HandlerEnvironment, string>>;
  /** Where the handlers' own log lines go (CloudWatch in AWS). Default: stderr, so stdout stays the result. */
  handlerLogs?: 'stderr' | 'silent';
  /** Start moto_server so that it outlives this process (`npm run demo -- --keep`); stop it by its PID. */
  keepEmulator?: boolean;
}

/**
 * Deploys locally what `cdk deploy` would deploy from the same configuration: synthesizes the IR stack from cdk.json
 * with `context` over it (validated by the same schema), provisions its resources in the emulator (starting
 * moto_server when no endpoint is given) with the controls the template configures (cli/local/local-controls.ts), gives the handlers the synthesized functions' environment resolved to
 * those resources, and registers the deployment as a CloudFormation stack so that the CLI finds it with --endpoint.
 */
export async function prepareLocalEnvironment(options: PrepareOptions = {}): Promise<LocalEnvironment> {
  const context = { ...(options.context ?? {}) };
  if (options.endpoint) assertLoopbackEndpoint(options.endpoint);
  // Before anything is started: an invalid setting fails here, naming it (ConfigError), as `cdk synth` would.
  const synthesized = await loadIrStack(context);
  redirectHandlerLogs(options.handlerLogs ?? 'stderr');
  let moto: MotoServer | undefined;
  let endpoint = options.endpoint;
  if (!endpoint) {
    moto = await startMoto({ ...(options.keepEmulator ? { detached: true } : {}) });
    endpoint = moto.endpoint;
  }
  const region = options.region ?? EMULATOR_REGION;
  pointProcessAt(endpoint, region);
  try {
    const ctx = { endpoint, region, accountId: EMULATOR_ACCOUNT };
    const workloadRegions = [
      ...new Set([...(synthesized.config.workloadRegions ?? []), ...(options.overrides?.WORKLOAD_REGIONS?.split(',').filter(Boolean) ?? [])]),
    ];
    const template = synthesized.template as CfnTemplate;
    const provisioned = await provisionIrResources(ctx, {
      forensicVpcCidr: forensicVpcCidr(template),
      workstationInstanceType: synthesized.config.workstationInstanceType,
      workloadRegions,
    });
    const missing = missingOutputs(template, provisioned);
    if (missing.length > 0) throw new Error(`the emulator provisions no counterpart for stack output(s) ${missing.join(', ')}`);
    // The deployment's outputs are the template's, with the emulator's values.
    const outputs = Object.fromEntries(Object.keys(template.Outputs ?? {}).map((key) => [key, provisioned[key] as string]));
    const cfn = new CloudFormationClient(emulatorClientConfig(ctx));
    try {
      await registerLocalStack(cfn, {
        stackName: synthesized.config.stackName,
        outputs,
        descriptions: Object.fromEntries(
          Object.entries((synthesized.template as { Outputs?: Record<string, { Description?: string }> }).Outputs ?? {}).flatMap(([k, o]) =>
            o.Description ? [[k, o.Description]] : [],
          ),
        ),
        context,
      });
    } finally {
      cfn.destroy();
    }
    // The rest of what the stack deploys (key rotation, table and bucket protections, state machines, rules, alarms),
    // from the same template: what `forensics doctor` checks (cli/local/local-controls.ts).
    const { provisionLocalControls, provisionRegionalForwarding } = await import('./local-controls');
    await provisionLocalControls(ctx, template, outputs, synthesized.config.stackName);
    await provisionRegionalForwarding(ctx, template, synthesized.config.stackName, workloadRegions);
    const handlerEnv = applyHandlerEnvironment(synthesized, outputs, ctx, options.overrides);
    const started = moto;
    return {
      endpoint,
      region,
      accountId: EMULATOR_ACCOUNT,
      stackName: synthesized.config.stackName,
      context,
      outputs,
      handlerEnv,
      ...(started ? { moto: { pid: started.pid, endpoint: started.endpoint } } : {}),
      stop: async () => {
        await started?.stop();
      },
    };
  } catch (err) {
    await moto?.stop();
    throw err;
  }
}

/**
 * Opens a deployment that run-local registered in the emulator, to run one of its workflows locally (the release
 * command): its outputs as DescribeStacks returns them and the context it was provisioned with. Nothing is created.
 */
export async function openLocalDeployment(options: {
  endpoint: string;
  region?: string;
  stackName: string;
  outputs: Readonly<Record<string, string>>;
  context: Readonly<Record<string, string>>;
  handlerLogs?: 'stderr' | 'silent';
}): Promise<LocalEnvironment> {
  assertLoopbackEndpoint(options.endpoint);
  const context = { ...options.context };
  const synthesized = await loadIrStack(context);
  redirectHandlerLogs(options.handlerLogs ?? 'stderr');
  const region = options.region ?? EMULATOR_REGION;
  pointProcessAt(options.endpoint, region);
  const ctx = { endpoint: options.endpoint, region, accountId: EMULATOR_ACCOUNT };
  const handlerEnv = applyHandlerEnvironment(synthesized, options.outputs, ctx);
  return {
    endpoint: options.endpoint,
    region,
    accountId: EMULATOR_ACCOUNT,
    stackName: options.stackName,
    context,
    outputs: options.outputs,
    handlerEnv,
    stop: async () => undefined,
  };
}

/** This process's SDK clients (the handlers') talk to the emulator with dummy credentials, never to AWS. */
function pointProcessAt(endpoint: string, region: string): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/**
 * Every step function's environment from the template, resolved against the deployment's outputs, merged into the
 * one process environment of the local handlers and checked with the handlers' own schema.
 */
function applyHandlerEnvironment(
  synthesized: SynthesizedIrStack,
  outputs: Readonly<Record<string, string>>,
  ctx: { region: string; accountId: string },
  overrides: PrepareOptions['overrides'] = {},
): LocalHandlerEnvironment {
  const template = synthesized.template as CfnTemplate;
  const functions = synthesized.functions.map((f) => ({
    logicalId: f.logicalId,
    variables: functionEnvironment(template, f.logicalId, outputs, { accountId: ctx.accountId, region: ctx.region }),
  }));
  const merged = { ...processEnvironment(functions), ...overrides } as Record<string, string>;
  // A template the handlers would reject fails here, naming the variable, as the Lambda would at its first call.
  environment(merged);
  for (const [k, v] of Object.entries(merged)) process.env[k] = v;
  resetEnvironment();
  return merged as LocalHandlerEnvironment;
}

/**
 * In Lambda, handlers log JSON lines to stdout and stderr (CloudWatch). Locally stdout carries the runner's one JSON
 * result, so the handlers' log lines (the handler logger, switched to the console methods) and any other console
 * output go to stderr — or nowhere, for the demo and the tests.
 */
export function redirectHandlerLogs(mode: 'stderr' | 'silent'): void {
  logThroughConsole();
  const write = mode === 'silent' ? () => undefined : (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
  console.log = write;
  console.info = write;
  console.warn = write;
  console.error = write;
  console.debug = write;
}

/**
 * Logical-id parts of the IR stack's state machines (construct ids `Acquisition` and `Release`), so each is
 * rendered by name: the template holds more than one state machine.
 */
export const ACQUISITION_MACHINE_LOGICAL_ID = 'AcquisitionStateMachine';
export const RELEASE_MACHINE_LOGICAL_ID = 'ReleaseStateMachine';

const stackCache = new Map<string, Promise<SynthesizedIrStack>>();
const definitionCache = new Map<string, Record<string, unknown>>();

/** A stable key for a context object (key order does not matter). */
function contextKey(context: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The IR stack synthesized in-process with `context` over cdk.json, once per context (bundling skipped: the
 * handlers run from source), and kept on disk for the next process with the same sources (cli/local/synthesis-cache.ts).
 */
export async function loadIrStack(context: Readonly<Record<string, string>> = {}): Promise<SynthesizedIrStack> {
  const key = contextKey(context);
  let cached = stackCache.get(key);
  if (!cached) {
    // From disk when stored, without loading the synthesizer (aws-cdk-lib) at all; else synthesized and stored.
    const stored = cachedSynthesis<SynthesizedIrStack>(key, { root: REPO_ROOT });
    cached = (
      stored
        ? Promise.resolve(stored)
        : import('../../infra/synthesize').then(({ synthesizeIrStack }) =>
            withSynthesisCache(key, () => synthesizeIrStack({ ...context }), { root: REPO_ROOT }),
          )
    )
      .catch((err: unknown) => {
        stackCache.delete(key);
        throw err;
      });
    stackCache.set(key, cached);
  }
  return cached;
}

async function loadDefinition(logicalId: string, context: Readonly<Record<string, string>>): Promise<Record<string, unknown>> {
  const key = `${logicalId} ${contextKey(context)}`;
  const cached = definitionCache.get(key);
  if (cached) return cached;
  const { template } = await loadIrStack(context);
  const definition = renderDefinition(template, { region: EMULATOR_REGION, accountId: EMULATOR_ACCOUNT }, logicalId);
  definitionCache.set(key, definition);
  return definition;
}

/** Synthesizes the IR stack in-process and renders the acquisition state machine's ASL. */
export async function loadAcquisitionDefinition(context: Readonly<Record<string, string>> = {}): Promise<Record<string, unknown>> {
  return loadDefinition(ACQUISITION_MACHINE_LOGICAL_ID, context);
}

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

let handlersCache: Record<string, (input: unknown) => Promise<unknown>> | undefined;

/** Imports every step's handler module once (from source: the same code esbuild bundles for Lambda). */
export async function loadHandlers(): Promise<Record<string, (input: unknown) => Promise<unknown>>> {
  if (handlersCache) return handlersCache;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const step of ACQUISITION_STEP_NAMES) {
    const { entry, state } = ACQUISITION_STEPS[step];
    const mod = (await import(pathToFileURL(resolve(REPO_ROOT, entry)).href)) as { handler: LambdaHandler };
    handlers[state] = (input) =>
      mod.handler(input, {
        functionName: `local-${step}`,
        awsRequestId: randomUUID(),
        getRemainingTimeInMillis: () => 900_000,
      });
  }
  handlersCache = handlers;
  return handlers;
}

function summarize(output: Record<string, unknown>, status: RunStatus): RunLocalResult {
  const summary = (output.closure ?? output.failureRecord) as Partial<RunLocalResult> | undefined;
  return {
    caseId: (summary?.caseId ?? (output.case as { caseId?: string } | undefined)?.caseId ?? output.caseId ?? null) as
      | string
      | null,
    status,
    manifest: summary?.manifest ?? null,
    snapshots: summary?.snapshots ?? [],
    isolation: summary?.isolation ?? { securityGroupId: null, networkInterfaceIds: [] },
    forensicInstanceId: summary?.forensicInstanceId ?? null,
  };
}

/** Executes one acquisition against the prepared environment. */
export async function executeLocal(
  env: LocalEnvironment,
  event: unknown,
  options: RunLocalOptions = {},
): Promise<RunLocalResult> {
  const loaded = await loadAcquisitionDefinition(env.context);
  const handlers = await loadHandlers();
  const redrive = options.redrive;
  const definition = redrive ? { ...loaded, StartAt: redrive.fromState } : loaded;
  // A redrive starts mid-graph: the states before it are unreachable from there, which validation would refuse (the
  // same definition was validated on the first run).
  const machine = new StateMachine(definition as never, { validationOptions: redrive ? { noValidate: true } : { checkArn: false } });
  const name = options.executionName ?? `local-${randomUUID()}`;
  const stateMachineArn = env.outputs[IR_STACK_OUTPUTS.stateMachineArn] ?? localMachineArn(env, LOCAL_ACQUISITION_MACHINE);
  const machineName = stateMachineArn.split(':').at(-1) ?? LOCAL_ACQUISITION_MACHINE;
  const executionArn = localAcquisitionExecutionArn(env, name);
  const waits = { [CONTROL_STATES.waitSnapshots]: options.waitMs ?? 0, [CONTROL_STATES.waitCopies]: options.waitMs ?? 0 };
  const retryIntervalMs = options.retryIntervalMs ?? 50;
  const retryIntervals =
    retryIntervalMs === 'as-defined'
      ? {}
      : Object.fromEntries(ACQUISITION_STEP_NAMES.map((s) => [ACQUISITION_STEPS[s].state, retryIntervalMs]));
  const wrap = options.wrapHandler;
  // aws-local-stepfunctions sets `$$.Execution.StartTime` to the run's own start, whatever the context says; a
  // redrive keeps the execution's start time (and so triage's case id): the triage payload gets the original one.
  const redriven = redrive
    ? {
        ...handlers,
        [ACQUISITION_STEPS.triage.state]: (input: unknown) =>
          (handlers[ACQUISITION_STEPS.triage.state] as (i: unknown) => Promise<unknown>)({ ...(input as object), startedAt: redrive.startedAt }),
      }
    : handlers;
  const taskHandlers = wrap
    ? Object.fromEntries(Object.entries(redriven).map(([state, fn]) => [state, wrap(state, fn)]))
    : redriven;
  const execution = machine.run((redrive ? redrive.input : event) as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: {
        Id: executionArn,
        Name: name,
        Input: event,
        StartTime: redrive?.startedAt ?? new Date().toISOString(),
        RoleArn: `arn:aws:iam::${env.accountId}:role/local-runner`,
        RedriveCount: redrive?.redriveCount ?? 0,
        ...(redrive ? { RedriveTime: new Date().toISOString() } : {}),
      },
      StateMachine: { Id: stateMachineArn, Name: machineName },
    } as never,
  });

  // Keep the last output of the steps whose results the summary needs, even when the execution then fails.
  const captured: Record<string, unknown> = {};
  let lastEntered: RunLocalResult['stoppedIn'];
  const follow = (async () => {
    for await (const log of execution.eventLogs as unknown as AsyncGenerator<EventLog>) {
      const at = log.timestamp;
      switch (log.type) {
        case 'StateEntered':
          lastEntered = { name: log.state.name, type: log.state.type ?? 'Unknown', input: log.state.input };
          options.onProgress?.({ at, kind: 'entered', state: log.state.name });
          break;
        case 'StateExited':
          if (log.state.output && typeof log.state.output === 'object') {
            Object.assign(captured, log.state.output as Record<string, unknown>);
          }
          options.onProgress?.({ at, kind: 'exited', state: log.state.name });
          break;
        case 'StateRetried':
          options.onProgress?.({ at, kind: 'retried', state: log.state.name, detail: `attempt ${log.retry.attempt}` });
          break;
        case 'StateCaught':
          options.onProgress?.({ at, kind: 'caught', state: log.state.name });
          break;
        case 'StateFailed':
          options.onProgress?.({ at, kind: 'failed', state: log.state.name, detail: `${log.Error}: ${String(log.Cause)}` });
          break;
        default:
          break;
      }
    }
  })();

  try {
    const output = (await execution.result) as Record<string, unknown>;
    await follow.catch(() => undefined);
    const outcome = output.outcome;
    if (outcome === 'IGNORED') return { ...summarize(output, 'IGNORED'), reason: String(output.reason ?? '') };
    if (outcome === 'DUPLICATE') return summarize(output, 'DUPLICATE');
    return summarize(output, 'SUCCEEDED');
  } catch (err) {
    await follow.catch(() => undefined);
    if (!(err instanceof ExecutionError)) throw err;
    // The cause is the error the execution failed with: for a Fail state, its Error (name) and Cause (message).
    const inner = err.cause instanceof Error ? err.cause : err;
    return {
      ...summarize(captured, 'FAILED'),
      error: { name: inner.name, cause: inner.message },
      ...(lastEntered ? { stoppedIn: lastEntered } : {}),
    };
  }
}

/** `$$.Execution.Id` of a local acquisition run named `name` (what triage records as the case's execution). */
export function localAcquisitionExecutionArn(env: Pick<LocalEnvironment, 'region' | 'accountId' | 'outputs'>, name: string): string {
  const stateMachineArn = env.outputs[IR_STACK_OUTPUTS.stateMachineArn] ?? localMachineArn(env, LOCAL_ACQUISITION_MACHINE);
  const machineName = stateMachineArn.split(':').at(-1) ?? LOCAL_ACQUISITION_MACHINE;
  return `arn:aws:states:${env.region}:${env.accountId}:execution:${machineName}:${name}`;
}

function localMachineArn(env: Pick<LocalEnvironment, 'region' | 'accountId'>, name: string): string {
  return `arn:aws:states:${env.region}:${env.accountId}:stateMachine:${name}`;
}

/** One-shot: prepare (start moto if needed), execute, stop. */
export async function runLocal(
  event: unknown,
  options: RunLocalOptions & { endpoint?: string; region?: string; context?: Readonly<Record<string, string>> } = {},
): Promise<RunLocalResult> {
  const env = await prepareLocalEnvironment({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  try {
    return await executeLocal(env, event, options);
  } finally {
    await env.stop();
  }
}

// ── Release: the release state machine, run the same way ──────────────────────────────────────────────────────

let releaseHandlersCache: Record<string, (input: unknown) => Promise<unknown>> | undefined;

/** The release state machine's ASL, from the same in-process synthesis as the acquisition's. */
export async function loadReleaseDefinition(context: Readonly<Record<string, string>> = {}): Promise<Record<string, unknown>> {
  return loadDefinition(RELEASE_MACHINE_LOGICAL_ID, context);
}

/** Imports every release step's handler module once, keyed by state name (of the release machine). */
export async function loadReleaseHandlers(): Promise<Record<string, (input: unknown) => Promise<unknown>>> {
  if (releaseHandlersCache) return releaseHandlersCache;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const step of RELEASE_STEP_NAMES) {
    const { entry, state } = RELEASE_STEPS[step];
    const mod = (await import(pathToFileURL(resolve(REPO_ROOT, entry)).href)) as { handler: LambdaHandler };
    handlers[state] = (input) =>
      mod.handler(input, { functionName: `local-${step}`, awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 900_000 });
  }
  releaseHandlersCache = handlers;
  return handlers;
}

export interface ReleaseRunInput {
  caseId: string;
  reason: string;
  requestedBy: string;
}

export interface RunLocalReleaseResult {
  caseId: string;
  status: 'SUCCEEDED' | 'FAILED';
  executionArn: string;
  /** The release use case's result (`$.release`) when the release step succeeded. */
  release?: unknown;
  notification?: unknown;
  /** For a failed execution: the error it failed with (e.g. CaseAlreadyReleased, ReleaseIncomplete) and its cause. */
  error?: { name: string; cause?: string };
}

/**
 * Executes the release state machine (the synthesized definition, the real release handlers) against the prepared
 * environment. The input goes to the machine as is: validating it is the machine's first step.
 */
export async function executeLocalRelease(
  env: LocalEnvironment,
  input: ReleaseRunInput,
  options: Pick<RunLocalOptions, 'onProgress' | 'retryIntervalMs' | 'executionName' | 'wrapHandler'> = {},
): Promise<RunLocalReleaseResult> {
  const definition = await loadReleaseDefinition(env.context);
  const handlers = await loadReleaseHandlers();
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const name = options.executionName ?? `local-release-${randomUUID()}`;
  const stateMachineArn = env.outputs[IR_STACK_OUTPUTS.releaseStateMachineArn] ?? localMachineArn(env, LOCAL_RELEASE_MACHINE);
  const machineName = stateMachineArn.split(':').at(-1) ?? LOCAL_RELEASE_MACHINE;
  const executionArn = `arn:aws:states:${env.region}:${env.accountId}:execution:${machineName}:${name}`;
  const releaseRetryMs = options.retryIntervalMs ?? 50;
  const retryIntervals =
    releaseRetryMs === 'as-defined' ? {} : Object.fromEntries(RELEASE_STEP_NAMES.map((s) => [RELEASE_STEPS[s].state, releaseRetryMs]));
  const wrap = options.wrapHandler;
  const taskHandlers = wrap ? Object.fromEntries(Object.entries(handlers).map(([state, fn]) => [state, wrap(state, fn)])) : handlers;
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: {
        Id: executionArn,
        Name: name,
        Input: input,
        StartTime: new Date().toISOString(),
        RoleArn: `arn:aws:iam::${env.accountId}:role/local-runner`,
      },
      StateMachine: { Id: stateMachineArn, Name: machineName },
    } as never,
  });
  const follow = (async () => {
    for await (const log of execution.eventLogs as unknown as AsyncGenerator<EventLog>) {
      if (log.type === 'StateEntered') options.onProgress?.({ at: log.timestamp, kind: 'entered', state: log.state.name });
      else if (log.type === 'StateExited') options.onProgress?.({ at: log.timestamp, kind: 'exited', state: log.state.name });
      else if (log.type === 'StateCaught') options.onProgress?.({ at: log.timestamp, kind: 'caught', state: log.state.name });
      else if (log.type === 'StateRetried') {
        options.onProgress?.({ at: log.timestamp, kind: 'retried', state: log.state.name, detail: `attempt ${log.retry.attempt}` });
      } else if (log.type === 'StateFailed') {
        options.onProgress?.({ at: log.timestamp, kind: 'failed', state: log.state.name, detail: `${log.Error}: ${String(log.Cause)}` });
      }
    }
  })();
  try {
    const output = (await execution.result) as { release?: unknown; notification?: unknown };
    await follow.catch(() => undefined);
    return {
      caseId: input.caseId,
      status: 'SUCCEEDED',
      executionArn,
      ...(output.release !== undefined ? { release: output.release } : {}),
      ...(output.notification !== undefined ? { notification: output.notification } : {}),
    };
  } catch (err) {
    await follow.catch(() => undefined);
    if (!(err instanceof ExecutionError)) throw err;
    const inner = err.cause instanceof Error ? err.cause : err;
    return { caseId: input.caseId, status: 'FAILED', executionArn, error: { name: inner.name, cause: inner.message } };
  }
}
