import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ACQUISITION_STEPS, ACQUISITION_STEP_NAMES, type AcquisitionStep } from '../workflows/acquisition-steps';
import { median } from './metrics';

/**
 * Each Lambda's bundle, built with esbuild's JS API and the settings of infra/constructs/forensic-function.ts
 * (NodejsFunction bundling: ESM, node22, platform node, mainFields module/main, minified, external source map
 * without sources content, AWS SDK bundled, the createRequire banner, the project's tsconfig), into a temp dir.
 * Reported: the bundle's bytes (the .mjs; the source map is deployed beside it but not loaded unless
 * --enable-source-maps reads it on an error) and its cold import time — `import()` of the bundle in a fresh
 * `node` process, measured inside that process (process start-up excluded), median of a few runs.
 */
export interface BundleMeasurement {
  step: AcquisitionStep;
  entry: string;
  bytes: number;
  sourceMapBytes: number;
  coldImportMs: number;
  coldImportRunsMs: number[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BANNER =
  "import { createRequire as __forensicsCreateRequire } from 'node:module'; const require = __forensicsCreateRequire(import.meta.url);";

function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolvePromise, reject) => {
    // A clean environment: no emulator endpoint, so nothing the module does at import can reach anything.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number.parseFloat(out);
      if (code === 0 && Number.isFinite(ms)) resolvePromise(ms);
      else reject(new Error(`importing ${file} failed (exit ${code}): ${err.slice(0, 500)}`));
    });
  });
}

export async function measureBundles(options: { runs?: number; steps?: AcquisitionStep[] } = {}): Promise<BundleMeasurement[]> {
  const runs = options.runs ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'forensics-bundles-'));
  try {
    const results: BundleMeasurement[] = [];
    for (const step of options.steps ?? ACQUISITION_STEP_NAMES) {
      const { entry } = ACQUISITION_STEPS[step];
      const outfile = join(dir, step, 'index.mjs');
      await build({
        entryPoints: [join(ROOT, entry)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        external: [],
        banner: { js: BANNER },
        tsconfig: join(ROOT, 'tsconfig.json'),
        logLevel: 'silent',
      });
      const bytes = (await stat(outfile)).size;
      const sourceMapBytes = (await stat(`${outfile}.map`).catch(() => ({ size: 0 }))).size;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await importTime(outfile));
      results.push({
        step,
        entry,
        bytes,
        sourceMapBytes,
        coldImportMs: Math.round((median(times) ?? 0) * 10) / 10,
        coldImportRunsMs: times.map((t) => Math.round(t * 10) / 10),
      });
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
