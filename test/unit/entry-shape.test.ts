import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One entry shape for every Lambda: `createXHandler(deps = {})`, whose optional deps replace what the composition
 * roots (handlers/composition/) would build, and `export const handler = createXHandler()`. Nothing else is composed
 * in an entry, so a newcomer reads every entry the same way and tests replace dependencies the same way.
 */
const HANDLERS = join(__dirname, '../../handlers');
const entries = readdirSync(HANDLERS).filter((f) => f.endsWith('.ts'));

describe('Lambda entries', () => {
  it('are found (every deployed function has its entry here)', () => {
    // Assess
    expect(entries.length).toBeGreaterThanOrEqual(15);
  });

  it.each(entries)('%s has the one shape: createXHandler(deps = {}) and handler = createXHandler()', (file) => {
    // Prepare
    const source = readFileSync(join(HANDLERS, file), 'utf8');

    // Act
    const factories = [...source.matchAll(/export function (create\w+Handler)\(\s*deps\b[\s\S]*?=\s*\{\}\s*,?\s*\)(?::[^{]+)?\s*\{/g)].map((m) => m[1]);
    const handlers = [...source.matchAll(/^export const handler = (create\w+Handler)\(\);$/gm)].map((m) => m[1]);

    // Assess
    expect(factories).toHaveLength(1);
    expect(handlers).toEqual(factories);
    // No SDK client is made in an entry: clients come from the composition roots and adapters.
    expect(source).not.toMatch(/from '@aws-sdk\/client-/);
  });
});
