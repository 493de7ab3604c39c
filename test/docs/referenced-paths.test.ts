import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The docs and the code comments point newcomers at files ("`test/unit/handlers/use-cases/isolate-network.test.ts`
 * covers…", "see infra/acquisition-workflow.ts"). A moved or renamed file must not leave them pointing nowhere, and
 * nothing in the repository names the issue it was built for: the docs and the code speak of the product.
 */
const ROOT = resolve(__dirname, '../..');
const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md', '*.ts', '*.sh', '*.json'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('bench/results/') && existsSync(join(ROOT, f)));
// Files whose paths are fixtures of the test itself (a temporary tree it creates).
const FIXTURE_PATHS = new Set(['test/unit/cli/local/synthesis-cache.test.ts']);
const PATH = /(?<![\w./-])((?:handlers|infra|workflows|cli|bench|test|schemas|docs)\/[\w./-]+\.(?:ts|md|json|sh))/g;

describe('references inside the repository', () => {
  it('every repository path named in the docs and the code exists', () => {
    // Act
    const missing = tracked
      .filter((f) => !FIXTURE_PATHS.has(f))
      .flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(PATH)].map((m) => ({ file, path: (m[1] as string).replace(/\.$/, '') })))
      .filter(({ path }) => !path.includes('*') && !existsSync(join(ROOT, path)));

    // Assess
    expect(tracked.length).toBeGreaterThan(300);
    expect(missing).toEqual([]);
  });

  it('no file names an issue number (the docs and the code speak of the product)', () => {
    // Act
    const found = tracked
      .filter((f) => f !== 'test/docs/referenced-paths.test.ts')
      .flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/\bissue #?\d+/gi)].map((m) => `${file}: ${m[0]}`));

    // Assess
    expect(found).toEqual([]);
  });
});
