import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { EmulatorUnavailable, ensureMotoServer } from './moto-install';

/**
 * Starts `moto_server` (the local AWS emulator: on the PATH, else in the project's `.venv-moto`, installed there on
 * first use, see moto-install.ts) on a free loopback port and stops it by its PID. Only 127.0.0.1 is ever used: the
 * emulator is a local stand-in for AWS, never a remote target.
 */
export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new EmulatorUnavailable(`moto_server exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new EmulatorUnavailable(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

export interface StartOptions {
  timeoutMs?: number;
  seed?: number;
  /**
   * Let the emulator outlive this process (`npm run demo -- --keep`): its own process group, not waited for. It is
   * still stopped by `stop()`, or by its PID.
   */
  detached?: boolean;
}

export async function startMoto(options: StartOptions = {}): Promise<MotoServer> {
  const command = await ensureMotoServer();
  const port = await freeLoopbackPort();
  const endpoint = `http://${LOOPBACK}:${port}`;
  let child: ChildProcess;
  try {
    child = spawn(command, ['-H', LOOPBACK, '-p', String(port)], { stdio: 'ignore', detached: Boolean(options.detached) });
  } catch (err) {
    throw new EmulatorUnavailable(`moto_server could not be started (${command})`, { cause: err });
  }
  if (options.detached) child.unref();
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new EmulatorUnavailable(`moto_server could not be started: ${err.message}`))),
  );
  spawnError.catch(() => undefined);
  // Generous: moto imports for seconds, and much longer on a loaded two-core machine.
  await Promise.race([waitUntilReady(endpoint, child, options.timeoutMs ?? 90_000), spawnError]);
  if (options.seed !== undefined) {
    await fetch(`${endpoint}/moto-api/seed?a=${options.seed}`, { method: 'POST' });
  }
  const pid = child.pid ?? -1;
  return {
    endpoint,
    pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null) process.kill(pid, 'SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Refuses anything but a loopback endpoint, so a typo can never point the local runner at a real service. */
export function assertLoopbackEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`--endpoint: not a URL: ${endpoint}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (!loopback) throw new Error(`--endpoint: only loopback emulator endpoints are allowed, got ${host}`);
}
