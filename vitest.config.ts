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
          // Most of a unit file's time is starting its worker and importing: a worker thread starts faster than a
          // forked process (measured: the project in 74 s instead of 90 s). Each file still gets its own module
          // context and its own copy of process.env; the e2e and infra files stay in forks.
          pool: 'threads',
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
          // After the root's setup files: the SDK's retry pauses shortened (the same retries), see the file.
          setupFiles: ['test/setup/e2e-sdk-retry-pauses.ts'],
        },
      },
    ],
  },
});
