import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * Restores tree shaking of the AWS SDK clients' schemas in our bundles.
 *
 * Since about v3.930 every client ships its whole model as one module (`dist-es/schemas/schemas_0.js`): one
 * top-level array per shape, with trait objects written with computed keys that name string constants,
 * `{ [_xN]: _m }`. esbuild must assume a computed key can run code (ToPropertyKey may call `toString`), so it keeps
 * every such declaration, and everything it references: the EC2 client alone puts ~540 KB of schemas into a bundle
 * that sends three commands (aws/aws-sdk-js-v3#7607, open; the generator fix, smithy-lang/smithy-typescript#1889,
 * not released). Writing the same keys as string literals, `{ "xmlName": _m }`, is the upstream fix: the objects are
 * identical, and esbuild drops the shapes nothing uses. The EC2-only reference handler goes from ~830 KB to ~320 KB.
 *
 * Equivalence is tested on every client the functions bundle (test/infra/sdk-schema-keys.test.ts): the
 * rewritten module's exports deep-equal the original's.
 */

/** A schema module of an AWS SDK client (the files the rewrite applies to). */
export const SDK_SCHEMA_MODULE = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/](?:submodules[\\/][^\\/]+[\\/])?schemas[\\/]schemas_\d+\.js$/;

/** `const _xN = "xmlName";`: the module's string table, one constant per line. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;

/** A computed key naming a constant: `[_xN]:` (in these generated modules only ever an object key). */
const COMPUTED_KEY = /\[(_\w+)\]:/g;

export class SchemaKeyRewriteError extends Error {
  override readonly name = 'SchemaKeyRewriteError';
}

/**
 * The module with every computed key that names one of its string constants written as that string literal.
 * Throws when a computed key names a `_`-table entry that is not one: a generator change must fail the build, not
 * quietly bundle a module that may differ. Other computed keys are left as they are (correct, only not dropped).
 */
export function literalSchemaKeys(source: string, file = 'schema module'): { code: string; rewritten: number } {
  const strings = new Map<string, string>();
  for (const m of source.matchAll(STRING_CONSTANT)) strings.set(m[1] as string, m[2] as string);
  let rewritten = 0;
  const code = source.replace(COMPUTED_KEY, (_all, name: string) => {
    const literal = strings.get(name);
    if (literal === undefined) throw new SchemaKeyRewriteError(`${file}: computed key [${name}] is not one of the module's string constants`);
    rewritten += 1;
    return `${literal}:`;
  });
  return { code, rewritten };
}

/** The esbuild plugin: applies `literalSchemaKeys` to every SDK schema module as it is loaded. */
export const sdkSchemaKeysPlugin: Plugin = {
  name: 'sdk-schema-literal-keys',
  setup(build) {
    build.onLoad({ filter: SDK_SCHEMA_MODULE }, async (args) => {
      const { code } = literalSchemaKeys(await readFile(args.path, 'utf8'), args.path);
      return { contents: code, loader: 'js' };
    });
  },
};
