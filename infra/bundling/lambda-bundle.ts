import { join } from 'node:path';
import { type BuildOptions, type Metafile, build } from 'esbuild';
import { sdkSchemaKeysPlugin } from './sdk-schema-keys';

/** The bundle's file name in its output directory; the Lambda handler is `index.handler`. */
export const LAMBDA_BUNDLE_FILE = 'index.mjs';

const BANNER = "import { createRequire as __forensicsCreateRequire } from 'node:module'; const require = __forensicsCreateRequire(import.meta.url);";

/**
 * How every deployed function is bundled: by the house construct's local bundling (infra/constructs/forensic-function.ts),
 * and exactly so by the benchmark (bench/bundles.ts) and the bundle tests, from this one definition.
 *
 * - ESM for Node 22+ on the platform `node`, minified, the ESM builds of dependencies first (`mainFields`) so that
 *   tree shaking works on the AWS SDK, and the SDK's schema modules rewritten so that it can (./sdk-schema-keys.ts).
 * - The AWS SDK is bundled rather than taken from the runtime: the SDK version that runs is the one locked and tested
 *   here. Nothing is external.
 * - A linked source map (`index.mjs.map`, named by the bundle's last line) without sources content: with
 *   `--enable-source-maps` stack traces point at the TypeScript source, and the bundle carries no source text.
 * - A small banner gives CommonJS dependencies the `require` they expect inside an ES module.
 *
 * `sdkSchemaRewrite: false` bundles the SDK as published (the benchmark's second reference only: what the same
 * handler costs without the rewrite). Deployed functions always have it.
 */
export function lambdaBundleOptions(projectRoot: string, entry: string, outdir: string, options: { sdkSchemaRewrite?: boolean } = {}): BuildOptions {
  return {
    entryPoints: [join(projectRoot, entry)],
    outfile: join(outdir, LAMBDA_BUNDLE_FILE),
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: [],
    banner: { js: BANNER },
    tsconfig: join(projectRoot, 'tsconfig.json'),
    plugins: options.sdkSchemaRewrite === false ? [] : [sdkSchemaKeysPlugin],
    logLevel: 'warning',
    metafile: true,
  };
}

/** Bundles one handler entry (relative to the project root) into `outdir/index.mjs` (+ `.map`); returns esbuild's metafile. */
export async function bundleLambda(projectRoot: string, entry: string, outdir: string, options: { sdkSchemaRewrite?: boolean } = {}): Promise<Metafile> {
  const result = await build(lambdaBundleOptions(projectRoot, entry, outdir, options));
  return result.metafile as Metafile;
}
