import type { TestProject } from 'vitest/node';
import { ensureMotoServer } from '../../cli/local/moto-install';
import { type MotoServer, startMoto } from '../../cli/local/moto-server';

/**
 * Vitest global setup of the project that holds the end-to-end tests.
 *
 * moto_server is found (PATH, then .venv-moto) or installed (pinned, into .venv-moto) once, before the test files run
 * in parallel — or the run stops at once with the exact command to install it (cli/local/moto-install.ts).
 *
 * Then one moto_server per vitest worker slot (`VITEST_POOL_ID`, 1…maxWorkers), each on its own free loopback port:
 * an e2e file takes the server of the slot it runs in, resets it (test/support/e2e-emulator.ts) and has it to itself,
 * as only one file at a time runs in a slot. Starting moto and its first touch of each service cost seconds per
 * server; paying them once per slot instead of once per file is most of what the e2e files spent outside their tests.
 * The servers are stopped by their PIDs when the run ends.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the moto_server of worker slot `VITEST_POOL_ID` at index `VITEST_POOL_ID - 1`. */
    workerEmulators: string[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureMotoServer({ onProgress: (line) => process.stderr.write(`${line}\n`) });
  const slots = Math.max(1, Number(project.globalConfig.maxWorkers) || 1);
  const started = await Promise.allSettled(Array.from({ length: slots }, () => startMoto()));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => {
    await Promise.all(servers.map((s: MotoServer) => s.stop()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  project.provide(
    'workerEmulators',
    servers.map((s) => s.endpoint),
  );
  return stopAll;
}
