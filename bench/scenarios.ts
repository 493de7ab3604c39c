import { findingEventFor } from '../cli/local/seed-victim';
import { resetEnvironment } from '../handlers/config/env';
import { MEMORY_RESULT_PREFIX } from '../handlers/domain/memory-capture';
import { byCommand, median, percentile } from './metrics';
import { type CaseContext, type CaseMeasurement, type FailureDetail, runCase } from './cases';
import { SimulatedTime } from './simulated-time';
import type { VictimFactory } from './victims';

/**
 * The benchmark scenarios. Each prepares its victims first (not measured), then starts its executions — one after
 * the other (`repetitions`) or all at once (`instances` × `findingsPerInstance`) — and summarizes the measurements.
 */
export interface Scenario {
  id: string;
  title: string;
  /** EBS volumes per instance. */
  volumes: number;
  /** Distinct instances hit at once. */
  instances: number;
  /** Findings per instance, all at once (the first opens the case, the others must be DUPLICATE). */
  findingsPerInstance: number;
  /** Times the whole scenario is repeated one after the other (for percentiles of single-case scenarios). */
  repetitions: number;
  /** Share of AWS call attempts failed with throttling; undefined = the run's default (`--throttle`). */
  throttleRate?: number;
  /** Snapshots stay pending this many simulated minutes (simulated time; Wait states take 0 ms). */
  snapshotMinutes?: number;
  /**
   * Memory capture configured and possible for every victim (SSM endpoints in its VPC, its agent Online): the capture
   * (SendCommand → result) takes this many minutes, simulated when `snapshotMinutes` is set, else real time.
   */
  memoryCaptureMinutes?: number;
}

export const SCENARIOS: Scenario[] = [
  { id: 'single-1vol', title: '1 instance, 1 volume', volumes: 1, instances: 1, findingsPerInstance: 1, repetitions: 5 },
  { id: 'single-4vol', title: '1 instance, 4 volumes', volumes: 4, instances: 1, findingsPerInstance: 1, repetitions: 5 },
  { id: 'single-16vol', title: '1 instance, 16 volumes', volumes: 16, instances: 1, findingsPerInstance: 1, repetitions: 5 },
  {
    id: 'slow-4vol-15min',
    title: '1 instance, 4 volumes, snapshots take 15 simulated minutes',
    volumes: 4,
    instances: 1,
    findingsPerInstance: 1,
    repetitions: 1,
    snapshotMinutes: 15,
  },
  { id: 'burst-25', title: '25 instances at once (2 volumes each)', volumes: 2, instances: 25, findingsPerInstance: 1, repetitions: 1 },
  { id: 'burst-100', title: '100 instances at once (2 volumes each)', volumes: 2, instances: 100, findingsPerInstance: 1, repetitions: 1 },
  {
    id: 'burst-100-throttled',
    title: '100 instances at once (2 volumes each), 10% of calls throttled',
    volumes: 2,
    instances: 100,
    findingsPerInstance: 1,
    repetitions: 1,
    throttleRate: 0.1,
  },
  { id: 'single-4vol-memory', title: '1 instance, 4 volumes, memory captured', volumes: 4, instances: 1, findingsPerInstance: 1, repetitions: 3, memoryCaptureMinutes: 0 },
  {
    id: 'slow-4vol-15min-memory',
    title: '1 instance, 4 volumes, snapshots take 15 and the memory capture 10 simulated minutes',
    volumes: 4,
    instances: 1,
    findingsPerInstance: 1,
    repetitions: 1,
    snapshotMinutes: 15,
    memoryCaptureMinutes: 10,
  },
  {
    id: 'same-instance-10',
    title: '1 instance (4 volumes) hit by 10 findings at once',
    volumes: 4,
    instances: 1,
    findingsPerInstance: 10,
    repetitions: 1,
  },
];

export const SMOKE_SCENARIO: Scenario = { ...(SCENARIOS[0] as Scenario), repetitions: 3 };

const FINDING_TYPES = [
  'CryptoCurrency:EC2/BitcoinTool.B!DNS',
  'Backdoor:EC2/C&CActivity.B!DNS',
  'Trojan:EC2/DNSDataExfiltration',
  'UnauthorizedAccess:EC2/TorClient',
  'Backdoor:EC2/DenialOfService.Tcp',
];

type Stats = { p50: number | null; p95: number | null; max: number | null };
const stats = (values: (number | null)[]): Stats => {
  const v = values.filter((x): x is number => typeof x === 'number');
  return { p50: median(v), p95: percentile(v, 95), max: v.length ? Math.max(...v) : null };
};

export interface ScenarioResult {
  id: string;
  title: string;
  /** When, and on which commit, this scenario ran (a partial run, `--only`, keeps the other scenarios' own). */
  measuredAt?: string;
  /** What ran beside this scenario (`--background-load`), kept with the row when later partial runs merge. */
  backgroundLoad?: string;
  commit?: string;
  config: { volumes: number; instances: number; findingsPerInstance: number; repetitions: number; latencyMs: number; throttleRate: number; snapshotMinutes: number };
  wallMs: number;
  executions: number;
  outcomes: Record<string, number>;
  /** Each execution that did not succeed: where it failed and what was already secured (bench/cases.ts). */
  failures: { caseKey: string; status: string; error?: string; detail?: FailureDetail; redrives?: number }[];
  /** Executions the (emulated) redrive function redrove, and the redrives in all. */
  redrives: { executions: number; total: number };
  /** Only the executions that acquired (not the duplicates). */
  acquired: {
    count: number;
    containmentMs: Stats;
    roundTripsToContainment: Stats;
    transitionsToContainment: Stats;
    awsCallsPerCase: Stats;
    awsCallsPerVolume: number | null;
    transitionsPerCase: Stats;
    stateRetriesPerCase: Stats;
    endToEndMs: Stats;
    simulatedWaitSeconds: Stats;
    waitsPerCase: Stats;
  };
  duplicates: { count: number; awsCallsPerExecution: Stats; transitionsPerExecution: Stats; endToEndMs: Stats };
  throttledAttempts: number;
  /** Memory scenarios: acquired cases whose calls show the capture run, its volume detached and snapshotted. */
  memory?: { captured: number; cases: number };
  /** AWS calls of the first acquired case, by service and command. */
  callsByCommand: Record<string, number>;
  cases: CaseMeasurement[];
}

/** The deployment's memory settings as a configured one has them (a tools snapshot for the region), until restored. */
const BENCH_TOOL_SHA256 = 'b3'.repeat(32);
const BENCH_IMAGE_SHA256 = 'c4'.repeat(32);

async function configureMemory(ctx: CaseContext & { victims: VictimFactory }, victims: { instanceId: string }[], captureMs: number): Promise<() => void> {
  const toolsSnapshotId = await ctx.victims.toolsSnapshotId();
  const names = ['MEMORY_TOOLS_SNAPSHOTS', 'MEMORY_TOOL_VERSION', 'MEMORY_TOOL_SHA256'] as const;
  const before = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  process.env.MEMORY_TOOLS_SNAPSHOTS = JSON.stringify({ [ctx.env.region]: toolsSnapshotId });
  process.env.MEMORY_TOOL_VERSION = '0.14.0';
  process.env.MEMORY_TOOL_SHA256 = BENCH_TOOL_SHA256;
  resetEnvironment();
  const result = { status: 'captured', sha256: BENCH_IMAGE_SHA256, sizeBytes: 1_073_741_824, image: 'memory/memory.lime.snappy', toolSha256: BENCH_TOOL_SHA256 };
  ctx.instrument.simulateMemoryCapture({ instanceIds: new Set(victims.map((v) => v.instanceId)), captureMs, resultStdout: `${MEMORY_RESULT_PREFIX}${JSON.stringify(result)}\n` });
  return () => {
    ctx.instrument.simulateMemoryCapture(undefined);
    for (const n of names) {
      if (before[n] === undefined) delete process.env[n];
      else process.env[n] = before[n];
    }
    resetEnvironment();
  };
}

export async function runScenario(
  scenario: Scenario,
  ctx: CaseContext & { victims: VictimFactory; latencyMs: number; defaultThrottleRate: number; log: (line: string) => void },
): Promise<ScenarioResult> {
  const throttleRate = scenario.throttleRate ?? ctx.defaultThrottleRate;
  const cases: CaseMeasurement[] = [];
  let wallMs = 0;
  for (let rep = 0; rep < scenario.repetitions; rep++) {
    const memory = scenario.memoryCaptureMinutes !== undefined;
    const victims = await ctx.victims.createMany(scenario.instances, scenario.volumes, { memory });
    const restoreMemory = memory ? await configureMemory(ctx, victims, (scenario.memoryCaptureMinutes ?? 0) * 60_000) : undefined;
    const runs: { key: string; victim: (typeof victims)[number]; event: unknown }[] = [];
    for (const [i, victim] of victims.entries()) {
      for (let f = 0; f < scenario.findingsPerInstance; f++) {
        const key = `${scenario.id}-r${rep}-i${i}-f${f}`;
        const event = findingEventFor(victim, ctx.env, {
          id: `bench${Date.now().toString(16)}${rep}x${i}x${f}`,
          type: FINDING_TYPES[f % FINDING_TYPES.length] as string,
        });
        runs.push({ key, victim, event });
      }
    }
    let clock: SimulatedTime | undefined;
    if (scenario.snapshotMinutes) {
      clock = new SimulatedTime();
      clock.install();
      ctx.instrument.simulateSlowSnapshots({ durationMs: scenario.snapshotMinutes * 60_000 });
    }
    ctx.instrument.configure({ throttleRate });
    const t0 = performance.now();
    try {
      const measured = await Promise.all(
        runs.map((r) => runCase({ ...ctx, ...(clock ? { clock } : {}) }, r.key, r.victim, r.event)),
      );
      cases.push(...measured);
    } finally {
      wallMs += performance.now() - t0;
      ctx.instrument.configure({ throttleRate: ctx.defaultThrottleRate });
      ctx.instrument.simulateSlowSnapshots(undefined);
      restoreMemory?.();
      clock?.uninstall();
    }
    ctx.log(`  ${scenario.id} #${rep + 1}: ${runs.length} execution(s) in ${Math.round(performance.now() - t0)} ms`);
  }

  const acquired = cases.filter((c) => c.startedAt !== null && c.status !== 'DUPLICATE' && c.status !== 'IGNORED');
  const duplicates = cases.filter((c) => c.status === 'DUPLICATE');
  const outcomes: Record<string, number> = {};
  for (const c of cases) outcomes[c.status] = (outcomes[c.status] ?? 0) + 1;
  const expectedDuplicates = scenario.instances * (scenario.findingsPerInstance - 1) * scenario.repetitions;
  const failures: ScenarioResult['failures'] = cases
    .filter((c) => c.status === 'FAILED' || c.status === 'IGNORED')
    .map((c) => ({
      caseKey: c.caseKey,
      status: c.status,
      ...(c.error ? { error: c.error } : {}),
      ...(c.failure ? { detail: c.failure } : {}),
      ...(c.redrives ? { redrives: c.redrives } : {}),
    }));
  if (duplicates.length !== expectedDuplicates) {
    failures.push({ caseKey: scenario.id, status: 'UNEXPECTED', error: `expected ${expectedDuplicates} DUPLICATE, got ${duplicates.length}` });
  }
  const first = acquired.find((c) => c.status === 'SUCCEEDED');
  const callsPerVolume = acquired.filter((c) => c.status === 'SUCCEEDED').map((c) => c.awsCalls / c.volumes);

  return {
    id: scenario.id,
    title: scenario.title,
    config: {
      volumes: scenario.volumes,
      instances: scenario.instances,
      findingsPerInstance: scenario.findingsPerInstance,
      repetitions: scenario.repetitions,
      latencyMs: ctx.latencyMs,
      throttleRate,
      snapshotMinutes: scenario.snapshotMinutes ?? 0,
    },
    wallMs: Math.round(wallMs),
    executions: cases.length,
    outcomes,
    failures,
    redrives: { executions: cases.filter((c) => c.redrives > 0).length, total: cases.reduce((sum, c) => sum + c.redrives, 0) },
    acquired: {
      count: acquired.length,
      containmentMs: stats(acquired.map((c) => c.containmentMs)),
      roundTripsToContainment: stats(acquired.map((c) => c.roundTripsToContainment)),
      transitionsToContainment: stats(acquired.map((c) => c.transitionsToContainment)),
      awsCallsPerCase: stats(acquired.map((c) => c.awsCalls)),
      awsCallsPerVolume: median(callsPerVolume),
      transitionsPerCase: stats(acquired.map((c) => c.transitions)),
      stateRetriesPerCase: stats(acquired.map((c) => c.stateRetried)),
      endToEndMs: stats(acquired.map((c) => c.endToEndMs)),
      simulatedWaitSeconds: stats(acquired.map((c) => c.simulatedWaitSeconds)),
      waitsPerCase: stats(acquired.map((c) => c.waits)),
    },
    duplicates: {
      count: duplicates.length,
      awsCallsPerExecution: stats(duplicates.map((c) => c.awsCalls)),
      transitionsPerExecution: stats(duplicates.map((c) => c.transitions)),
      endToEndMs: stats(duplicates.map((c) => c.endToEndMs)),
    },
    throttledAttempts: cases.reduce((s, c) => s + c.throttledAttempts, 0),
    callsByCommand: first ? byCommand(ctx.instrument.callsOf(first.caseKey)) : {},
    ...(scenario.memoryCaptureMinutes !== undefined ? { memory: memoryOutcome(ctx, acquired) } : {}),
    cases,
  };
}

/**
 * Whether the memory was really captured in each acquired case of a memory scenario: its calls include the Run
 * Command, the capture volume's detach and the snapshot of that volume (the workflow's own output is not trusted).
 */
function memoryOutcome(ctx: CaseContext, acquired: CaseMeasurement[]): { captured: number; cases: number } {
  const captured = acquired.filter((c) => {
    const commands = new Set(ctx.instrument.callsOf(c.caseKey).filter((call) => !call.error).map((call) => `${call.service}:${call.command}`));
    return commands.has('SSM:SendCommand') && commands.has('EC2:DetachVolume') && commands.has('EC2:CreateSnapshot');
  }).length;
  return { captured, cases: acquired.length };
}
