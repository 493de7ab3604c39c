import '../cli/runtime/polyfills';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAcquisitionDefinition, loadHandlers, prepareLocalEnvironment } from '../cli/local/local-runner';
import { CallInstrument } from './aws-calls';
import { measureBundles } from './bundles';
import { type BenchReport, PATH_TO_CONTAINMENT, callsVsVolumes, markdown, mergeScenarios, modeledColdContainment, summary, targetsOf, writeMarkdown } from './report';
import { SCENARIOS, SMOKE_SCENARIO, type ScenarioResult, runScenario } from './scenarios';
import { VictimFactory } from './victims';

/**
 * `npm run bench [-- --smoke] [--latency MS] [--throttle RATE] [--only id,id] [--no-bundles] [--seed N]
 *   [--retry-interval as-defined|MS] [--background-load TEXT]`
 *
 * State-level retries wait what the definition says (`as-defined`: exponential backoff, MaxDelaySeconds, full
 * jitter, in real time) unless `--retry-interval MS` fixes them. `--background-load` records, in the results, what
 * else was running on the machine (the CPU-heavy job beside the run).
 *
 * One moto_server for the whole run (started on a free loopback port, stopped at the end), the synthesized
 * definition and the real handlers in-process (cli/local/local-runner.ts), a call middleware on the handlers' SDK
 * clients (bench/aws-calls.ts). Writes bench/results/latest.json and the generated section of docs/benchmarks.md
 * (the smoke run writes bench/results/smoke.json and leaves the docs alone), and prints a summary on stdout. With
 * `--only`, the scenarios run replace theirs in latest.json and the others are kept, each row dated with its commit.
 * Measures; asserts nothing (exit 1 only when the benchmark itself could not run).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      latency: { type: 'string', default: '50' },
      throttle: { type: 'string', default: '0' },
      only: { type: 'string' },
      'no-bundles': { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
      'retry-interval': { type: 'string', default: 'as-defined' },
      'background-load': { type: 'string' },
    },
    allowPositionals: false,
  });
  const latencyMs = Number(values.latency);
  const throttleRate = Number(values.throttle);
  const seed = Number(values.seed);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency: milliseconds ≥ 0');
  if (!Number.isFinite(throttleRate) || throttleRate < 0 || throttleRate >= 1) throw new Error('--throttle: a rate in [0, 1)');
  const retryOption = values['retry-interval'];
  const retryIntervalMs: number | 'as-defined' = retryOption === 'as-defined' ? 'as-defined' : Number(retryOption);
  if (retryIntervalMs !== 'as-defined' && (!Number.isFinite(retryIntervalMs) || retryIntervalMs < 0)) {
    throw new Error('--retry-interval: "as-defined" or milliseconds ≥ 0');
  }
  const mode: BenchReport['mode'] = values.smoke ? 'smoke' : 'full';
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const scenarios = values.smoke ? [SMOKE_SCENARIO] : SCENARIOS.filter((s) => !only || only.includes(s.id));
  if (scenarios.length === 0) throw new Error(`--only: no such scenario (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  // A partial full-mode run merges into the last full report (bench/report.ts mergeScenarios), so the generated
  // docs keep one table, each row dated; a smoke run never touches them. Checked before anything runs: a long run
  // that could not be merged would be lost.
  const settings: BenchReport['settings'] = {
    latencyMs,
    throttleRate,
    seed,
    retryIntervals: retryIntervalMs === 'as-defined' ? 'as defined (backoff, full jitter, real time)' : `${retryIntervalMs} ms`,
    ...(values['background-load'] ? { backgroundLoad: values['background-load'] } : {}),
  };
  const latestPath = join(ROOT, 'bench', 'results', 'latest.json');
  const previous = mode === 'full' && only ? (JSON.parse(await readFile(latestPath, 'utf8')) as BenchReport) : undefined;
  if (previous) mergeScenarios(previous, { settings }, [], SCENARIOS.map((s) => s.id));

  const t0 = performance.now();
  // The commit the scenarios ran on (with "+" when the tree has changes), so a merged table says what each row measured.
  const commit = gitCommit();
  log(`bench: ${mode}, ${latencyMs} ms per AWS call, throttling ${Math.round(throttleRate * 100)}% by default`);
  const env = await prepareLocalEnvironment({ handlerLogs: 'silent' });
  const instrument = new CallInstrument({ latencyMs, throttleRate, seed });
  const results: ScenarioResult[] = [];
  try {
    // Loaded before the clock starts (synthesis and imports are not the workflow's time).
    await loadAcquisitionDefinition();
    await loadHandlers();
    const victims = new VictimFactory(env);
    for (const scenario of scenarios) {
      log(`scenario ${scenario.id}: ${scenario.title}`);
      const result = await runScenario(scenario, { env, instrument, victims, latencyMs, defaultThrottleRate: throttleRate, retryIntervalMs, log });
      results.push({
        ...result,
        measuredAt: new Date().toISOString(),
        ...(commit ? { commit } : {}),
        ...(values['background-load'] ? { backgroundLoad: values['background-load'] } : {}),
      });
      // Each scenario's outcome as soon as it is known: a run stopped later still tells what it measured.
      log(`  ${scenario.id}: ${Object.entries(result.outcomes).map(([k, v]) => `${v} ${k}`).join(', ')}; redrives ${result.redrives.executions} (${result.redrives.total}); wall ${Math.round(result.wallMs / 1000)} s`);
      for (const f of result.failures.slice(0, 10)) log(`    failed ${f.caseKey}: ${f.status} ${f.error ?? ''} ${f.detail ? JSON.stringify(f.detail).slice(0, 300) : ''}`);
    }
  } finally {
    instrument.dispose();
    await env.stop();
  }

  let bundles: BenchReport['bundles'] = [];
  if (!values['no-bundles']) {
    log('bundles: esbuild + cold import of every handler');
    // Smoke: the functions on the path to containment (the modeled cold time needs them) and the release's largest.
    bundles = await measureBundles({ runs: values.smoke ? 1 : 7, ...(values.smoke ? { steps: [...PATH_TO_CONTAINMENT, 'releaseContainment'] } : {}) });
  }

  const merged = previous ? mergeScenarios(previous, { settings }, results, SCENARIOS.map((s) => s.id)) : results;
  if (previous && bundles.length === 0) bundles = previous.bundles;
  const fit = callsVsVolumes(merged);
  const report: BenchReport = {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    mode,
    machine: { node: process.version, platform: `${platform()}-${process.arch}`, cpus: cpus().length },
    settings,
    totalWallMs: Math.round(performance.now() - t0),
    scenarios: merged,
    callsVsVolumes: fit,
    targets: targetsOf(merged, fit, bundles),
    bundles,
    modeledColdContainment: modeledColdContainment(merged, bundles, latencyMs),
    ...(previous ? { partial: { ran: results.map((r) => r.id), bundlesMeasured: !values['no-bundles'] } } : {}),
  };
  const resultsDir = join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, mode === 'smoke' ? 'smoke.json' : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (mode === 'full') await writeMarkdown(join(ROOT, 'docs', 'benchmarks.md'), markdown(report));
  process.stdout.write(`${summary(report)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? '+' : ''}`;
  } catch {
    return undefined;
  }
}
