import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BundleBytes } from '../support/bundle-bytes';

/**
 * The layering the handlers rely on, checked on the import graph of the source (type-only imports included: a type
 * cycle is still a cycle a reader has to untangle):
 *  - handlers/domain imports nothing outside handlers/domain (no SDK, no adapter, no workflow, no config) but
 *    Node's built-ins (hashing) and the validation library;
 *  - workflows/ may import handlers/domain, never the reverse;
 *  - no Lambda entry's import graph reaches the all-clients set (handlers/adapters/aws-client-set.ts), so each bundles
 *    only the SDK clients it uses; and the scope's bundle holds no EC2 client (its flow logs were looked up by
 *    "Preserve and snapshot"),
 *    checked on esbuild's metafile since type-only imports of EC2 adapter types cost nothing in a bundle;
 *  - no import cycle anywhere under handlers/ or workflows/.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Imports of a file: relative ones resolved to repository paths, package ones as they are written. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[1] ?? m[2]) as string;
    return spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), `${spec}.ts`)) : spec;
  });
}

const files = [...sources('handlers'), ...sources('workflows')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'visiting');
    stack.push(f);
    for (const dep of graph.get(f) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === 'visiting') found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

function reachable(from: string): Set<string> {
  const seen = new Set<string>();
  const next = [from];
  while (next.length) {
    const f = next.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    next.push(...(graph.get(f) ?? []).filter((d) => graph.has(d)));
  }
  return seen;
}

describe('module layers', () => {
  it('handlers/domain imports only handlers/domain, Node built-ins and zod (no SDK, adapter, config or workflow)', () => {
    const outside = files
      .filter((f) => f.startsWith('handlers/domain/'))
      .flatMap((f) => (graph.get(f) ?? []).filter((d) => !d.startsWith('handlers/domain/') && !d.startsWith('node:') && d !== 'zod' && d !== 'zod/mini').map((d) => `${f} -> ${d}`));
    expect(outside).toEqual([]);
  });

  it('workflows/ may import handlers/domain, and handlers/ never import workflows/', () => {
    const up = files.filter((f) => f.startsWith('handlers/')).flatMap((f) => (graph.get(f) ?? []).filter((d) => d.startsWith('workflows/')).map((d) => `${f} -> ${d}`));
    const sideways = files
      .filter((f) => f.startsWith('workflows/'))
      .flatMap((f) => (graph.get(f) ?? []).filter((d) => d.startsWith('handlers/') && !d.startsWith('handlers/domain/')).map((d) => `${f} -> ${d}`));
    expect([...up, ...sideways]).toEqual([]);
  });

  it('no Lambda entry reaches the all-clients set', () => {
    const entries = files.filter((f) => /^handlers\/[^/]+\.ts$/.test(f));
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.filter((e) => reachable(e).has('handlers/adapters/aws-client-set.ts'))).toEqual([]);
  });

  it('the scope entry\'s bundle holds no byte of @aws-sdk/client-ec2 and triage\'s none of client-ssm; the preserve entry\'s holds both (esbuild metafile)', async () => {
    // Prepare: bundled as the functions are (infra/bundling/lambda-bundle.ts), not written; each entry once.
    const bundles = new BundleBytes(ROOT);
    const clientBytes = (entry: string, client = 'client-ec2') => bundles.of(entry, `@aws-sdk/${client}`);
    // Act
    const [scope, preserve] = await Promise.all([clientBytes('handlers/scope-incident.ts'), clientBytes('handlers/preserve-and-snapshot.ts')]);
    // Assess: the preserve entry shows the check sees the client where it is.
    expect(scope).toBe(0);
    expect(preserve).toBeGreaterThan(10_000);
    // Triage is on the path to containment: the memory plan's SSM client is the preserve step's alone.
    const [triageSsm, preserveSsm] = await Promise.all([clientBytes('handlers/triage.ts', 'client-ssm'), clientBytes('handlers/preserve-and-snapshot.ts', 'client-ssm')]);
    expect(triageSsm).toBe(0);
    expect(preserveSsm).toBeGreaterThan(10_000);
    // Nothing on the path to containment (nor the memory channel's start) writes evidence, so none of those bundles
    // holds the S3 or DynamoDB client; "Record containment" holds both and no EC2.
    const writers = ['handlers/isolate-network.ts', 'handlers/start-memory-capture.ts', 'handlers/record-containment.ts'];
    const [isolateS3, memoryS3, recordS3] = await Promise.all(writers.map((e) => clientBytes(e, 'client-s3')));
    const [isolateDb, memoryDb, recordDb] = await Promise.all(writers.map((e) => clientBytes(e, 'client-dynamodb')));
    expect([isolateS3, memoryS3, isolateDb, memoryDb]).toEqual([0, 0, 0, 0]);
    expect(recordS3).toBeGreaterThan(10_000);
    expect(recordDb).toBeGreaterThan(10_000);
    expect(await clientBytes('handlers/record-containment.ts')).toBe(0);
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(cycles().map((c) => c.join(' -> '))).toEqual([]);
  });
});
