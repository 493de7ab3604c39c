import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { lambdaBundleOptions } from '../../infra/bundling/lambda-bundle';

/**
 * How many bytes of a package a function's bundle holds, read from esbuild's metafile of the deployed bundling
 * (infra/bundling/lambda-bundle.ts), built in memory. Each entry is bundled once per `BundleBytes` however many
 * packages are looked for in it (a bundle costs seconds of CPU).
 */
export class BundleBytes {
  private readonly metafiles = new Map<string, Promise<Metafile | undefined>>();

  constructor(private readonly projectRoot: string) {}

  /** Bytes of `node_modules/<pkg>/` in the bundle of `entry` (a path under the project root), e.g. `@aws-sdk/client-ec2`. */
  async of(entry: string, pkg: string): Promise<number> {
    let metafile = this.metafiles.get(entry);
    if (!metafile) {
      const outdir = join(this.projectRoot, 'cdk.out', 'bundle-bytes', entry);
      metafile = build({ ...lambdaBundleOptions(this.projectRoot, entry, outdir), write: false }).then((r) => r.metafile);
      this.metafiles.set(entry, metafile);
    }
    const [output] = Object.values((await metafile)?.outputs ?? {}).filter((o) => o.entryPoint);
    return Object.entries(output?.inputs ?? {})
      .filter(([path]) => path.includes(`node_modules/${pkg}/`))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  }
}
