import { bundleLambda } from './lambda-bundle';

/**
 * `tsx infra/bundling/bundle-command.ts <projectRoot> <entry> <outdir>`: one function's bundle, for CDK's local
 * bundling, which calls a synchronous hook (esbuild plugins need the asynchronous API, hence this process).
 */
const [projectRoot, entry, outdir] = process.argv.slice(2);
if (!projectRoot || !entry || !outdir) {
  process.stderr.write('usage: bundle-command.ts <projectRoot> <entry> <outdir>\n');
  process.exit(2);
}
await bundleLambda(projectRoot, entry, outdir);
