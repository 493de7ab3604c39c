import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup/polyfills.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // Two cores: two files at a time. The e2e files share one moto_server per worker slot (test/setup/emulator.ts).
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // The template tests only read synthesized apps: sharing one module context per worker lets each
          // configuration be synthesized once per worker (test/support/synthesis.ts) instead of once per file.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'unit, docs',
          include: ['test/**/*.test.ts'],
          exclude: ['test/infra/**', 'test/e2e/**'],
          // Most of a unit file's time was starting its worker and importing the SDK: a worker thread starts faster
          // than a forked process, and one thread per slot runs its files one after another, with the packages
          // loaded once. Each file still gets the project's modules evaluated anew, process.env, the console and
          // sinon as the worker started (test/setup/file-isolation.ts).
          pool: 'threads',
          isolate: false,
          setupFiles: ['test/setup/file-isolation.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // moto_server found or installed once before the files run in parallel (or a stop with the command to
          // run), then started once per worker slot for the e2e files (test/support/e2e-emulator.ts).
          globalSetup: ['test/setup/emulator.ts'],
          // One worker per slot runs its files one after another (the SDK and the local runner's packages loaded
          // once); each file gets fresh project modules, process.env and console (test/setup/file-isolation.ts)
          // and a reset emulator (test/support/e2e-emulator.ts).
          isolate: false,
          // After the root's setup files: the SDK's retry pauses shortened (the same retries), see the file.
          setupFiles: ['test/setup/file-isolation.ts', 'test/setup/e2e-sdk-retry-pauses.ts'],
        },
      },
    ],
  },
});
