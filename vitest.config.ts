import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/polyfills.ts'],
    // moto_server found or installed once before the files run in parallel, or a stop with the command to run.
    globalSetup: ['test/setup/emulator.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites each start their own moto_server; two cores, so keep file parallelism modest.
    maxWorkers: 2,
  },
});
