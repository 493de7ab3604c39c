import { createRequire } from 'node:module';
import { vi } from 'vitest';

/**
 * What a test file may leave behind in a worker that then runs the next file (the projects with `isolate: false` in
 * vitest.config.ts), and how to put it back: test/setup/file-isolation.ts calls `restoreWorkerBaseline()` before each
 * file is imported.
 *
 * - `process.env` exactly as the worker started with it (variables a file set are removed, changed ones restored),
 *   vitest's own `VITEST*` variables aside;
 * - the console methods vitest installed (the local runner redirects them for the handlers' logs);
 * - `process.exitCode` unset (the CLI commands set it);
 * - no aws-sdk-client-mock stub left on a client class: its stubs live in sinon's default sandbox, which is restored
 *   (vitest itself restores `vi.spyOn` spies after each file);
 * - real timers;
 * - the project's own modules evaluated anew on their next import (`vi.resetModules()`): no module-level state (cached
 *   clients, the handlers' environment, the local runner's caches, registered call middleware) survives. Packages
 *   under node_modules stay loaded — that is the time saved; the ones with state a test changes are the ones above.
 *
 * The baseline is taken the first time this runs in a worker, before any test file ran there.
 */
interface Baseline {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly console: Readonly<Partial<Record<keyof Console, unknown>>>;
}

const BASELINE = Symbol.for('forensics.test.workerBaseline');
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

// The sinon instance aws-sdk-client-mock stubs with (its own dependency, not the project's).
const fromClientMock = createRequire(createRequire(import.meta.url).resolve('aws-sdk-client-mock'));
const clientMockSinon = fromClientMock('sinon') as { restore(): void };

/** vitest's own variables (VITEST_WORKER_ID changes with each file): vitest sets them, they stay as it set them. */
const isVitestOwn = (key: string) => key === 'VITEST' || key.startsWith('VITEST_');

export function restoreWorkerBaseline(): void {
  const store = globalThis as typeof globalThis & { [BASELINE]?: Baseline };
  store[BASELINE] ??= {
    env: { ...process.env },
    console: Object.fromEntries(CONSOLE_METHODS.map((m) => [m, console[m]])),
  };
  const baseline = store[BASELINE];
  for (const key of Object.keys(process.env)) {
    if (!(key in baseline.env) && !isVitestOwn(key)) delete process.env[key];
  }
  for (const [key, value] of Object.entries(baseline.env)) {
    if (value !== undefined && process.env[key] !== value && !isVitestOwn(key)) process.env[key] = value;
  }
  Object.assign(console, baseline.console);
  process.exitCode = undefined;
  vi.useRealTimers();
  clientMockSinon.restore();
  vi.resetModules();
}
