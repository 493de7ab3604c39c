import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { posix, win32 } from 'node:path';
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

/**
 * moto's own server (werkzeug, `moto_server`) with one request at a time instead of a thread per request.
 *
 * Why: moto applies a request's condition check and its write without a lock. With a thread per request, two
 * concurrent `UpdateItem … list_append` on one DynamoDB item lose one of the appends (measured on this machine: 2 to
 * 12 of 160 concurrent appends lost), and a conditional write can pass a check that a concurrent request is about to
 * invalidate. AWS applies every write to an item atomically, its condition included, so the concurrency tests (eight
 * findings for one instance, every one recorded in the one case) failed on the emulator for a reason AWS does not
 * have. moto is pure Python under one interpreter lock, so serving requests one at a time costs no throughput (the
 * same 160 appends: 5.2 s single-threaded, 6.4 s threaded, on a loaded machine).
 */
const SERIAL_SERVER = [
  'import sys',
  'from werkzeug.serving import run_simple',
  'from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app',
  'run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)',
].join('\n');

/**
 * The Python that has moto: the one beside `moto_server` in a virtual environment (the project's `.venv-moto`), else
 * `python3` from the PATH (where pip puts moto_server's own interpreter on a plain install).
 */
export function motoPython(motoServer: string, platform: NodeJS.Platform = process.platform): string {
  const path = platform === 'win32' ? win32 : posix;
  const bin = path.dirname(motoServer);
  const inVenv = ['bin', 'Scripts'].includes(path.basename(bin)) && motoServer.includes('.venv');
  if (inVenv) return path.join(bin, platform === 'win32' ? 'python.exe' : 'python');
  return platform === 'win32' ? 'python' : 'python3';
}

function spawnEmulator(command: string, args: string[], detached: boolean): ChildProcess {
  try {
    return spawn(command, args, { stdio: 'ignore', detached });
  } catch (err) {
    throw new EmulatorUnavailable(`moto_server could not be started (${command})`, { cause: err });
  }
}

async function startOn(child: ChildProcess, endpoint: string, timeoutMs: number): Promise<void> {
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new EmulatorUnavailable(`moto_server could not be started: ${err.message}`))),
  );
  spawnError.catch(() => undefined);
  await Promise.race([waitUntilReady(endpoint, child, timeoutMs), spawnError]);
}

export async function startMoto(options: StartOptions = {}): Promise<MotoServer> {
  const command = await ensureMotoServer();
  const port = await freeLoopbackPort();
  const endpoint = `http://${LOOPBACK}:${port}`;
  const detached = Boolean(options.detached);
  // Generous: moto imports for seconds, and much longer on a loaded two-core machine.
  const timeoutMs = options.timeoutMs ?? 90_000;
  let child = spawnEmulator(motoPython(command), ['-c', SERIAL_SERVER, LOOPBACK, String(port)], detached);
  try {
    await startOn(child, endpoint, timeoutMs);
  } catch (err) {
    if (child.exitCode === null && !(err instanceof EmulatorUnavailable && /could not be started/.test(err.message))) throw err;
    // That Python cannot load moto (moto_server installed some other way): moto_server itself, thread per request.
    process.stderr.write(
      `moto_server: ${motoPython(command)} cannot load moto; started ${command} instead, which serves requests on ` +
        'concurrent threads (concurrent writes to one DynamoDB item may then interleave, which AWS never does)\n',
    );
    child = spawnEmulator(command, ['-H', LOOPBACK, '-p', String(port)], detached);
    await startOn(child, endpoint, timeoutMs);
  }
  if (detached) child.unref();
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
