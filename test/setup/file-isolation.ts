import { createRequire } from 'node:module';
import { vi } from 'vitest';

/**
 * Per-file isolation for the projects that run their files one after another in one worker (`isolate: false` in
 * vitest.config.ts), instead of starting a fresh worker and importing the AWS SDK, CDK and vitest again for every
 * file. Runs before each test file is imported (vitest runs setup files again for every file), and gives the file
 * what a fresh worker would:
 *
 * - the project's own modules evaluated anew (`vi.resetModules()`): no module-level state (cached clients, the
 *   handlers' environment, the local runner's caches, registered call middleware) survives from the previous file.
 *   Packages under node_modules stay loaded: that is the time saved. The ones with state a test changes are reset
 *   below;
 * - `process.env` exactly as the worker started with it (variables a file set are removed, changed ones restored);
 * - the console methods vitest installed (the local runner redirects them for the handlers' logs);
 * - `process.exitCode` unset (the CLI commands set it);
 * - no aws-sdk-client-mock stub left on a client: its stubs live in sinon's default sandbox, which is restored
 *   (vitest itself restores `vi.spyOn` spies after each file);
 * - real timers.
 *
 * The baseline is taken by the first file of the worker, before any test file ran.
 */
interface Baseline {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly console: Readonly<Partial<Record<keyof Console, unknown>>>;
}

const BASELINE = Symbol.for('forensics.test.fileIsolationBaseline');
const store = globalThis as typeof globalThis & { [BASELINE]?: Baseline };
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

const baseline = (store[BASELINE] ??= {
  env: { ...process.env },
  console: Object.fromEntries(CONSOLE_METHODS.map((m) => [m, console[m]])),
});

for (const key of Object.keys(process.env)) {
  if (!(key in baseline.env)) delete process.env[key];
}
for (const [key, value] of Object.entries(baseline.env)) {
  if (value !== undefined && process.env[key] !== value) process.env[key] = value;
}

Object.assign(console, baseline.console);
process.exitCode = undefined;
vi.useRealTimers();

// The sinon instance aws-sdk-client-mock stubs with (its own dependency, not the project's).
const fromClientMock = createRequire(createRequire(import.meta.url).resolve('aws-sdk-client-mock'));
(fromClientMock('sinon') as { restore(): void }).restore();

vi.resetModules();
