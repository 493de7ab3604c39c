import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The synthesized IR stack on disk, so that the local runner's processes (run-local, acquire and release against a
 * local deployment, the demo, each e2e test file) do not each pay a full synthesis with cdk-nag (seconds of CPU) for
 * the same sources and configuration.
 *
 * The key is a SHA-256 over everything synthesis reads: every file under the source trees the app imports
 * (infra, workflows, handlers, schemas), cdk.json, package.json and package-lock.json (the CDK and cdk-nag versions),
 * the context given, and CDK_CONTEXT_JSON (which `App` reads). Any change to any of them is a new key; only a
 * synthesis that succeeded is stored, so a template that fails cdk-nag fails every time. `FORENSICS_SYNTH_CACHE=off`
 * turns the cache off.
 */

const SOURCE_TREES = ['infra', 'workflows', 'handlers', 'schemas'] as const;
const SOURCE_FILES = ['cdk.json', 'package.json', 'package-lock.json'] as const;
export const SYNTH_CACHE_DIR = join('node_modules', '.cache', 'ec2-forensic-acquisition', 'synth');

export interface SynthesisCacheOptions {
  readonly root: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The cache key of a synthesis of the sources under `root` with `contextKey` (a stable rendering of the context). */
export function synthesisKey(root: string, contextKey: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  hash.update(`context\0${contextKey}\0CDK_CONTEXT_JSON\0${env.CDK_CONTEXT_JSON ?? ''}\0`);
  const files = [...SOURCE_TREES.flatMap((tree) => filesUnder(join(root, tree))), ...SOURCE_FILES.map((f) => join(root, f))].sort();
  for (const file of files) {
    hash.update(`${relative(root, file)}\0`);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('(absent)');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The stored synthesis for `contextKey` and the sources as they are now, or undefined (none stored, or the cache off):
 * lets a caller skip even loading the synthesizer (aws-cdk-lib, seconds of CPU) when the result is on disk.
 */
export function cachedSynthesis<T>(contextKey: string, options: SynthesisCacheOptions): T | undefined {
  const env = options.env ?? process.env;
  if (env.FORENSICS_SYNTH_CACHE === 'off') return undefined;
  try {
    return JSON.parse(readFileSync(cacheFile(contextKey, options, env), 'utf8')) as T;
  } catch {
    // Absent or unreadable: synthesize.
    return undefined;
  }
}

function cacheFile(contextKey: string, options: SynthesisCacheOptions, env: NodeJS.ProcessEnv): string {
  return join(options.root, SYNTH_CACHE_DIR, `${synthesisKey(options.root, contextKey, env)}.json`);
}

/** `produce()`'s result, from the cache when the key matches, else produced and stored. */
export function withSynthesisCache<T>(contextKey: string, produce: () => T, options: SynthesisCacheOptions): T {
  const env = options.env ?? process.env;
  if (env.FORENSICS_SYNTH_CACHE === 'off') return produce();
  const cached = cachedSynthesis<T>(contextKey, options);
  if (cached !== undefined) return cached;
  const file = cacheFile(contextKey, options, env);
  const dir = join(options.root, SYNTH_CACHE_DIR);
  const value = produce();
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside then renamed: a reader in another process never sees half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(value));
    renameSync(partial, file);
  } catch {
    // A read-only tree: no cache, same result.
  }
  return value;
}

function filesUnder(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return e.isFile() ? [path] : [];
  });
}
