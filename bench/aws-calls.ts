import { AsyncLocalStorage } from 'node:async_hooks';
import { type AwsCallMiddleware, addClientMiddleware, awsError } from '../test/support/aws-call-hooks';

/**
 * The benchmark's view of AWS: one call middleware (test/support/aws-call-hooks.ts `addClientMiddleware`) on every
 * handler client that, per attempt of every AWS call,
 *  1. waits the configured latency (the emulator answers in about a millisecond; AWS APIs take tens),
 *  2. optionally fails the attempt with a throttling error before it reaches the emulator (the SDK's retries and
 *     then the state machine's retries must absorb it),
 *  3. records the attempt (service, command, start, end, error) under the case it belongs to — attribution uses
 *     AsyncLocalStorage: every execution is started inside `runAs(caseKey, …)`, and its handlers inherit it,
 *  4. optionally rewrites DescribeSnapshots answers so that snapshots stay `pending` for a simulated duration,
 *  5. in the memory scenarios, answers the two Systems Manager calls moto lacks or answers emptily, as AWS would:
 *     DescribeInstanceInformation (the victims' agents Online, Linux) and GetCommandInvocation (InProgress until the
 *     simulated capture time has passed since SendCommand, then Success with the capture script's result line).
 */
export interface CallRecord {
  caseKey: string;
  service: string;
  command: string;
  /** Wall-clock milliseconds (Date.now(): the same clock as the handlers' timestamps). */
  start: number;
  end: number;
  error?: string;
  injected?: boolean;
}

export interface CallInstrumentOptions {
  /** Latency added to every attempt, ms. */
  latencyMs: number;
  /** Share of attempts failed with a throttling error before reaching the emulator, 0–1. */
  throttleRate: number;
  /** Seed of the throttling draws (reproducible runs). */
  seed: number;
}

/** Throttling error names, as each service spells them. */
const THROTTLE_NAME: Record<string, string> = {
  EC2: 'RequestLimitExceeded',
  S3: 'SlowDown',
  DynamoDB: 'ThrottlingException',
  SNS: 'Throttling',
  AutoScaling: 'Throttling',
  ElasticLoadBalancingV2: 'Throttling',
  IAM: 'Throttling',
};

/** mulberry32: a tiny seeded PRNG, so a throttled run can be repeated exactly (modulo scheduling). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Snapshots created while a slow-snapshot simulation is on stay pending this long (simulated time). */
export interface SnapshotSimulation {
  durationMs: number;
}

/** What the memory scenarios serve for the SSM agent of their victims (moto runs no agent). */
export interface MemorySimulation {
  /** Instances whose agent is Online (Linux). */
  instanceIds: ReadonlySet<string>;
  /** How long the capture runs, from SendCommand (simulated when the clock is). */
  captureMs: number;
  /** The capture script's stdout once it has finished. */
  resultStdout: string;
}

export class CallInstrument {
  readonly calls: CallRecord[] = [];
  private readonly context = new AsyncLocalStorage<string>();
  private readonly random: () => number;
  private readonly remove: () => void;
  private simulation: SnapshotSimulation | undefined;
  private memory: MemorySimulation | undefined;
  /** Command id → SendCommand time, while a memory simulation is on. */
  private readonly commands = new Map<string, number>();
  /** Snapshot id → creation time (Date.now(), simulated when the clock is) while a simulation is on. */
  private readonly created = new Map<string, number>();
  throttled = 0;

  constructor(private options: CallInstrumentOptions) {
    this.random = seededRandom(options.seed);
    this.remove = addClientMiddleware(this.middleware);
  }

  configure(patch: Partial<CallInstrumentOptions>): void {
    this.options = { ...this.options, ...patch };
  }

  simulateSlowSnapshots(simulation: SnapshotSimulation | undefined): void {
    this.simulation = simulation;
    this.created.clear();
  }

  simulateMemoryCapture(simulation: MemorySimulation | undefined): void {
    this.memory = simulation;
    this.commands.clear();
  }

  /** Runs `fn` with every AWS call it causes attributed to `caseKey`. */
  runAs<T>(caseKey: string, fn: () => Promise<T>): Promise<T> {
    return this.context.run(caseKey, fn);
  }

  callsOf(caseKey: string): CallRecord[] {
    return this.calls.filter((c) => c.caseKey === caseKey);
  }

  dispose(): void {
    this.remove();
  }

  private readonly middleware: AwsCallMiddleware = async (call, next) => {
    const caseKey = this.context.getStore() ?? 'unattributed';
    const start = Date.now();
    const record: CallRecord = { caseKey, service: call.service, command: call.command, start, end: start };
    this.calls.push(record);
    try {
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
      if (this.options.throttleRate > 0 && this.random() < this.options.throttleRate) {
        this.throttled++;
        record.injected = true;
        const name = THROTTLE_NAME[call.service] ?? 'ThrottlingException';
        throw awsError(name, `Rate exceeded (injected by the benchmark)`, name === 'SlowDown' ? 503 : 400);
      }
      const served = this.serveMemory(call.service, call.command, call.input);
      const result = served ?? (await next());
      if (this.simulation) this.simulate(call.command, result.output);
      if (this.memory && call.service === 'SSM' && call.command === 'SendCommand') {
        const id = (result.output.Command as { CommandId?: string } | undefined)?.CommandId;
        if (id) this.commands.set(id, Date.now());
      }
      return result;
    } catch (err) {
      record.error = err instanceof Error ? err.name : 'UnknownError';
      throw err;
    } finally {
      record.end = Date.now();
    }
  };

  private serveMemory(service: string, command: string, input: Record<string, unknown>): { output: Record<string, unknown>; response: unknown } | undefined {
    const memory = this.memory;
    if (!memory || service !== 'SSM') return undefined;
    const ok = (output: Record<string, unknown>) => ({ output: { $metadata: { httpStatusCode: 200 }, ...output }, response: { statusCode: 200, headers: {} } });
    if (command === 'DescribeInstanceInformation') {
      const filters = (input.Filters ?? input.InstanceInformationFilterList ?? []) as { Key?: string; key?: string; Values?: string[]; valueSet?: string[] }[];
      const ids = filters.flatMap((f) => f.Values ?? f.valueSet ?? []);
      return ok({
        InstanceInformationList: ids.filter((id) => memory.instanceIds.has(id)).map((id) => ({ InstanceId: id, PingStatus: 'Online', PlatformType: 'Linux', PlatformName: 'Amazon Linux' })),
      });
    }
    if (command === 'GetCommandInvocation') {
      const sentAt = this.commands.get(String(input.CommandId));
      const done = sentAt !== undefined && Date.now() - sentAt >= memory.captureMs;
      return ok({
        CommandId: input.CommandId,
        InstanceId: input.InstanceId,
        Status: done ? 'Success' : 'InProgress',
        StandardOutputContent: done ? memory.resultStdout : '',
        StandardErrorContent: '',
      });
    }
    return undefined;
  }

  private simulate(command: string, output: Record<string, unknown>): void {
    const simulation = this.simulation;
    if (!simulation) return;
    const snapshots = output.Snapshots as { SnapshotId?: string; State?: string; Progress?: string }[] | undefined;
    if (command === 'CreateSnapshots') {
      for (const s of snapshots ?? []) if (s.SnapshotId) this.created.set(s.SnapshotId, Date.now());
      return;
    }
    if (command !== 'DescribeSnapshots') return;
    for (const s of snapshots ?? []) {
      const createdAt = s.SnapshotId ? this.created.get(s.SnapshotId) : undefined;
      if (createdAt === undefined) continue;
      const elapsed = Date.now() - createdAt;
      if (elapsed >= simulation.durationMs) continue;
      // Linear progress: EC2 reports whole percentages and never 100% while pending.
      s.State = 'pending';
      s.Progress = `${Math.min(99, Math.floor((elapsed / simulation.durationMs) * 100))}%`;
    }
  }
}
