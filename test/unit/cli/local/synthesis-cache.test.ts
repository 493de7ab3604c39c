import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SYNTH_CACHE_DIR, synthesisKey, withSynthesisCache } from '../../../../cli/local/synthesis-cache';

/** A project tree with one file in each place synthesis reads. */
function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'synth-cache-'));
  for (const dir of ['infra', 'workflows', 'handlers/domain', 'schemas']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'infra', 'ir-stack.ts'), 'export const a = 1;');
  writeFileSync(join(root, 'workflows', 'steps.ts'), 'export const b = 1;');
  writeFileSync(join(root, 'handlers', 'domain', 'errors.ts'), 'export const c = 1;');
  writeFileSync(join(root, 'schemas', 'manifest.json'), '{}');
  writeFileSync(join(root, 'cdk.json'), '{"context":{}}');
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'package-lock.json'), '{}');
  return root;
}

let root: string;
beforeEach(() => {
  root = project();
});

describe('synthesis cache key', () => {
  it.each([
    ['a handler source', 'handlers/domain/errors.ts'],
    ['an infra source', 'infra/ir-stack.ts'],
    ['a workflow source', 'workflows/steps.ts'],
    ['a schema', 'schemas/manifest.json'],
    ['cdk.json', 'cdk.json'],
    ['the lock file (CDK, cdk-nag versions)', 'package-lock.json'],
  ])('changes when %s changes', (_what, file) => {
    // Prepare
    const before = synthesisKey(root, '[]', {});
    // Act
    writeFileSync(join(root, file), 'changed');
    // Assess
    expect(synthesisKey(root, '[]', {})).not.toBe(before);
  });

  it('changes with a new source file, the context and CDK_CONTEXT_JSON; not with an unrelated file', () => {
    const base = synthesisKey(root, '[]', {});
    writeFileSync(join(root, 'README.md'), 'docs');
    expect(synthesisKey(root, '[]', {})).toBe(base);
    expect(synthesisKey(root, '[["forensics:minSeverity","8"]]', {})).not.toBe(base);
    expect(synthesisKey(root, '[]', { CDK_CONTEXT_JSON: '{"x":1}' })).not.toBe(base);
    writeFileSync(join(root, 'infra', 'new-construct.ts'), 'export {};');
    expect(synthesisKey(root, '[]', {})).not.toBe(base);
  });
});

describe('withSynthesisCache', () => {
  it('synthesizes once for the same sources and context, and again after a source changes', () => {
    // Prepare
    const produce = vi.fn(() => ({ template: { Resources: { A: { Type: 'X' } } }, n: produce.mock.calls.length }));
    // Act
    const first = withSynthesisCache('[]', produce, { root, env: {} });
    const second = withSynthesisCache('[]', produce, { root, env: {} });
    writeFileSync(join(root, 'infra', 'ir-stack.ts'), 'export const a = 2;');
    withSynthesisCache('[]', produce, { root, env: {} });
    // Assess
    expect(second).toEqual(first);
    expect(produce).toHaveBeenCalledTimes(2);
    expect(readdirSync(join(root, SYNTH_CACHE_DIR)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('stores nothing when synthesis fails (a template that fails cdk-nag fails every time)', () => {
    const failing = () => {
      throw new Error('AwsSolutions-IAM5');
    };
    expect(() => withSynthesisCache('[]', failing, { root, env: {} })).toThrow('AwsSolutions-IAM5');
    expect(() => withSynthesisCache('[]', failing, { root, env: {} })).toThrow('AwsSolutions-IAM5');
  });

  it('is off with FORENSICS_SYNTH_CACHE=off', () => {
    const produce = vi.fn(() => ({ ok: true }));
    withSynthesisCache('[]', produce, { root, env: { FORENSICS_SYNTH_CACHE: 'off' } });
    withSynthesisCache('[]', produce, { root, env: { FORENSICS_SYNTH_CACHE: 'off' } });
    expect(produce).toHaveBeenCalledTimes(2);
  });
});
