import { inject } from 'vitest';
import { type LocalEnvironment, type PrepareOptions, prepareLocalEnvironment } from '../../cli/local/local-runner';
import { startMoto } from '../../cli/local/moto-server';

/**
 * The emulator of one e2e test file: the moto_server of the worker slot the file runs in (started once per slot by
 * test/setup/emulator.ts), reset to an empty state first, so the file sees nothing another file made. Only one file at
 * a time runs in a slot, so nothing else touches the server until this file is done. Without a server for the slot
 * (a config without that global setup) the file starts its own, as every e2e file did before.
 */
export interface E2eEmulator {
  readonly endpoint: string;
  /** Stops the emulator if this file started it; the slot's shared server is stopped when the run ends. */
  stop(): Promise<void>;
}

export async function e2eEmulator(): Promise<E2eEmulator> {
  const slot = Number(process.env.VITEST_POOL_ID ?? '0');
  const endpoint = (inject('workerEmulators') ?? [])[slot - 1];
  if (!endpoint) {
    const own = await startMoto();
    return { endpoint: own.endpoint, stop: () => own.stop() };
  }
  // moto's own reset: every service back to empty (and its backends stay imported: the first touch is paid once).
  const reset = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`moto_server ${endpoint}: reset answered ${reset.status}`);
  return { endpoint, stop: async () => undefined };
}

/**
 * `prepareLocalEnvironment` on this file's emulator (reset): what `forensics run-local` deploys, for an e2e file. The
 * environment's `stop()` also stops the emulator when the file started its own.
 */
export async function prepareE2eEnvironment(options: Omit<PrepareOptions, 'endpoint' | 'keepEmulator'> = {}): Promise<LocalEnvironment> {
  const emulator = await e2eEmulator();
  try {
    const env = await prepareLocalEnvironment({ ...options, endpoint: emulator.endpoint });
    return { ...env, stop: async () => emulator.stop() };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}
