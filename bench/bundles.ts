import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS } from '../workflows/acquisition-steps';
import { RELEASE_STEPS } from '../workflows/release-steps';
import { LAMBDA_BUNDLE_FILE, bundleLambda } from '../infra/bundling/lambda-bundle';
import { median } from './metrics';

/**
 * Each Lambda's bundle, built by the deployed bundling itself (infra/bundling/lambda-bundle.ts, which the house
 * construct runs at synthesis), into a temp dir.
 * Reported: the bundle's bytes (the .mjs; the source map is deployed beside it but not loaded unless
 * --enable-source-maps reads it on an error) and its cold import time — `import()` of the bundle in a fresh
 * `node` process, measured inside that process (process start-up excluded), median of a few runs.
 */
export interface BundleMeasurement {
  /** The function's step key (acquisition, support or release), or `reference`. */
  step: string;
  entry: string;
  bytes: number;
  sourceMapBytes: number;
  coldImportMs: number;
  coldImportRunsMs: number[];
  /** Bytes and cold import relative to the reference (EC2-only) bundle of the same run. */
  bytesRatio?: number;
  coldImportRatio?: number;
  /** Cold import relative to the same reference bundled with the SDK's schemas as published (no rewrite), same run. */
  coldImportRatioToPublished?: number;
}

/** The minimal EC2-only handler every function is compared with (bench/reference-handler.ts). */
export const REFERENCE = { step: 'reference', entry: 'bench/reference-handler.ts' } as const;

/**
 * The same handler with the AWS SDK's schema modules bundled as published (infra/bundling/sdk-schema-keys.ts not
 * applied): the EC2-only reference as a plain esbuild bundle of this SDK makes it (~830 KiB), the one the cold-path
 * target was first set against. Reported beside the functions, not deployed.
 */
export const PUBLISHED_SDK_REFERENCE = { step: 'reference, SDK schemas as published', entry: REFERENCE.entry, sdkSchemaRewrite: false } as const;

/** Every deployed function's entry, by step key: the acquisition steps, the redrive function, the release steps. */
export const DEPLOYED_FUNCTIONS: Record<string, string> = Object.fromEntries(
  Object.entries({ ...ACQUISITION_STEPS, ...ACQUISITION_SUPPORT_FUNCTIONS, ...RELEASE_STEPS }).map(([step, { entry }]) => [step, entry]),
);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
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

/**
 * Builds and imports the reference bundle and every function's (or `steps`), interleaved run by run so that load on
 * the machine affects all alike; the ratios are to the reference of the same run.
 */
export async function measureBundles(options: { runs?: number; steps?: string[] } = {}): Promise<BundleMeasurement[]> {
  const runs = options.runs ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'forensics-bundles-'));
  try {
    const entries: { step: string; entry: string; sdkSchemaRewrite?: boolean }[] = [
      REFERENCE,
      PUBLISHED_SDK_REFERENCE,
      ...(options.steps ?? Object.keys(DEPLOYED_FUNCTIONS)).map((step) => {
        const entry = DEPLOYED_FUNCTIONS[step];
        if (!entry) throw new Error(`no deployed function ${step}`);
        return { step, entry };
      }),
    ];
    const built: { step: string; entry: string; outfile: string }[] = [];
    for (const [i, { step, entry, sdkSchemaRewrite }] of entries.entries()) {
      const outdir = join(dir, String(i));
      await bundleLambda(ROOT, entry, outdir, sdkSchemaRewrite === false ? { sdkSchemaRewrite } : {});
      const outfile = join(outdir, LAMBDA_BUNDLE_FILE);
      built.push({ step, entry, outfile });
    }
    const times = new Map<string, number[]>(built.map((b) => [b.step, []]));
    for (let i = 0; i < runs; i++) for (const b of built) times.get(b.step)?.push(await importTime(b.outfile));
    const results: BundleMeasurement[] = [];
    for (const b of built) {
      const runsMs = times.get(b.step) ?? [];
      results.push({
        step: b.step,
        entry: b.entry,
        bytes: (await stat(b.outfile)).size,
        sourceMapBytes: (await stat(`${b.outfile}.map`).catch(() => ({ size: 0 }))).size,
        coldImportMs: Math.round((median(runsMs) ?? 0) * 10) / 10,
        coldImportRunsMs: runsMs.map((t) => Math.round(t * 10) / 10),
      });
    }
    const [reference, published] = results;
    if (!reference || !published) return results;
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);
    return results.map((r) => {
      const bytesRatio = ratio(r.bytes, reference.bytes);
      const coldImportRatio = ratio(r.coldImportMs, reference.coldImportMs);
      const coldImportRatioToPublished = ratio(r.coldImportMs, published.coldImportMs);
      return {
        ...r,
        ...(bytesRatio !== undefined ? { bytesRatio } : {}),
        ...(coldImportRatio !== undefined ? { coldImportRatio } : {}),
        ...(coldImportRatioToPublished !== undefined ? { coldImportRatioToPublished } : {}),
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
