import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup/polyfills.ts'],
    // moto_server found or installed once before the files run in parallel, or a stop with the command to run.
    globalSetup: ['test/setup/emulator.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // e2e suites each start their own moto_server; two cores, so keep file parallelism modest.
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
          name: 'unit, e2e, docs',
          include: ['test/**/*.test.ts'],
          exclude: ['test/infra/**'],
        },
      },
    ],
  },
});
