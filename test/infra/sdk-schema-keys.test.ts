import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleBytes } from '../support/bundle-bytes';
import { SDK_SCHEMA_MODULE, SchemaKeyRewriteError, literalSchemaKeys, sdkSchemaKeysPlugin } from '../../infra/bundling/sdk-schema-keys';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every schema module of every AWS SDK client installed (the functions bundle a subset of them). */
async function schemaModules(): Promise<string[]> {
  const scope = join(ROOT, 'node_modules', '@aws-sdk');
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth < 6 && entry.name !== 'node_modules' && entry.name !== 'dist-cjs' && entry.name !== 'dist-types') await walk(path, depth + 1);
      else if (entry.isFile() && SDK_SCHEMA_MODULE.test(path)) found.push(path);
    }
  };
  await walk(scope, 0);
  return found.sort();
}

/**
 * Structural equality of two module graphs: arrays and plain objects by content and key order,  * Maps by entries in order,
 * zero-argument functions (the schemas' lazy references, `() => Shape$`) by what they return, other functions and
 * classes by their source text; cycles are followed once.
 */
function sameStructure(a: unknown, b: unknown, path: string, seen = new Map<unknown, unknown>()): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object' && typeof a !== 'function') return `${path}: ${String(a)} ≠ ${String(b)}`;
  if (seen.get(a) === b) return undefined;
  seen.set(a, b);
  if (typeof a === 'function') {
    const f = a as (...args: unknown[]) => unknown;
    const g = b as (...args: unknown[]) => unknown;
    if (f.length === 0 && !String(f).startsWith('class')) return sameStructure(f(), g(), `${path}()`, seen);
    return String(f) === String(g) ? undefined : `${path}: functions differ`;
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return `${path}: maps differ`;
    // Keyed by schema objects, which are each bundle's own: compared entry by entry, in insertion order.
    return sameStructure([...a.entries()], [...b.entries()], `${path}.entries`, seen);
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (Array.isArray(a) !== Array.isArray(b) || ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys ${ka.join(',')} ≠ ${kb.join(',')}`;
  for (const k of ka) {
    const problem = sameStructure((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, seen);
    if (problem) return problem;
  }
  return undefined;
}

describe('literalSchemaKeys', () => {
  it('writes computed keys that name the module\'s string constants as those literals, and nothing else', () => {
    // Prepare
    const source = ['const _xN = "xmlName";', 'const _m = "Min";', 'export var A$ = [3, n0, _m, 0, [_m], [[1, { [_xN]: _m }]]];', 'var list = [_m, [_xN]];'].join('\n');
    // Act
    const { code, rewritten } = literalSchemaKeys(source);
    // Assess: the key is a literal; the value and the array element naming the same constant are untouched.
    expect(rewritten).toBe(1);
    expect(code).toContain('{ "xmlName": _m }');
    expect(code).toContain('var list = [_m, [_xN]];');
  });

  it('refuses a computed key that names a table entry it cannot resolve (SchemaKeyRewriteError), and leaves other keys as they are', () => {
    // Prepare: a generator change the rewrite does not understand, and a key it need not touch.
    const unknown = 'const _xN = "xmlName";\nexport var A$ = [{ [_eQN]: 1 }];';
    const other = 'const _xN = "xmlName";\nexport var A$ = [{ [Symbol.iterator]: 1, [_xN]: 2 }];';
    // Act / Assess
    expect(() => literalSchemaKeys(unknown, 'schemas_0.js')).toThrow(SchemaKeyRewriteError);
    expect(() => literalSchemaKeys(unknown, 'schemas_0.js')).toThrow(/schemas_0\.js: computed key \[_eQN\]/);
    expect(literalSchemaKeys(other).code).toContain('[{ [Symbol.iterator]: 1, "xmlName": 2 }]');
  });
});

describe('the rewritten SDK schema modules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdk-schema-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('export exactly what the originals export, for every client installed', { timeout: 120_000 }, async () => {
    // Prepare: one module re-exporting every schema module by client, bundled as published and as rewritten.
    const modules = await schemaModules();
    expect(modules.length).toBeGreaterThan(20);
    const entry = modules.map((m, i) => `export * as m${i} from ${JSON.stringify(m)};`).join('\n');
    const bundle = async (name: string, plugins: (typeof sdkSchemaKeysPlugin)[]) => {
      const outfile = join(dir, `${name}.mjs`);
      await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'js' }, outfile, bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], plugins, logLevel: 'silent' });
      return pathToFileURL(outfile).href;
    };
    const [published, rewritten] = await Promise.all([bundle('published', []), bundle('rewritten', [sdkSchemaKeysPlugin])]);
    // Act: both imported by a plain Node process (10 MB of generated modules are no work for the test runner's
    // transform), compared there by `sameStructure` (its source, as the runner compiled it).
    const script = [
      `const sameStructure = ${String(sameStructure)};`,
      `const [a, b] = await Promise.all([import(${JSON.stringify(published)}), import(${JSON.stringify(rewritten)})]);`,
      `const names = ${JSON.stringify(modules.map((m) => m.slice(m.indexOf('@aws-sdk'))))};`,
      `const problems = names.flatMap((name, i) => { const p = sameStructure(a['m' + i], b['m' + i], name); return p ? [p] : []; });`,
      'process.stdout.write(JSON.stringify({ problems, exported: Object.keys(a.m0 ?? {}).length }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    expect(run.status, run.stderr).toBe(0);
    const { problems, exported } = JSON.parse(run.stdout) as { problems: string[]; exported: number };
    // Assess: every schema of every client, followed through its lazy references, is the same structure.
    expect(problems).toEqual([]);
    expect(exported).toBeGreaterThan(10);
  });

  it('let esbuild drop the shapes a function does not use: the EC2 client in the reference handler and in "Isolate network"', async () => {
    // Prepare: bundled as the functions are; EC2's published schema module alone is ~540 KB minified.
    const bundles = new BundleBytes(ROOT);
    const ec2Bytes = (entry: string) => bundles.of(entry, '@aws-sdk/client-ec2');
    // Act
    const [reference, isolate] = await Promise.all([ec2Bytes('bench/reference-handler.ts'), ec2Bytes('handlers/isolate-network.ts')]);
    // Assess
    expect(reference).toBeGreaterThan(5_000);
    expect(reference).toBeLessThan(100_000);
    expect(isolate).toBeGreaterThan(reference);
    expect(isolate).toBeLessThan(150_000);
  });
});
