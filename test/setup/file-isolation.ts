import { restoreWorkerBaseline } from '../support/worker-baseline';

/**
 * Setup file of the projects whose worker runs its files one after another (`isolate: false` in vitest.config.ts,
 * which spares each file a fresh worker that imports the AWS SDK, CDK and vitest again). vitest runs it before each
 * test file is imported: the file starts from what a fresh worker would give it (test/support/worker-baseline.ts).
 */
restoreWorkerBaseline();
