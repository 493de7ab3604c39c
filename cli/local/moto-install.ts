import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds the local AWS emulator, `moto_server`, and installs a pinned moto when a machine has none ("a fresh
 * laptop has no emulator"): the demo, run-local and the tests need it, and a Node.js project's `npm ci` does not
 * install Python packages.
 *
 * Where it looks, in order: the PATH, then the project's own virtual environment `.venv-moto/` (what the
 * automatic install creates). When neither has it and Python 3.9+ with `venv` is on the PATH, it creates
 * `.venv-moto` and pip-installs exactly `moto[server]==MOTO_VERSION` into it, with a progress line: once per
 * checkout, inside the project, nothing global. `FORENSICS_MOTO_INSTALL=0` forbids that (for machines that must not
 * reach a package index). Otherwise, and when the install fails, it stops at once with the exact command to run.
 */

/** The moto version the project is tested with (moto 5.2; 5.2.1 is what the CI image carries). */
export const MOTO_VERSION = '5.2.1';
export const MOTO_REQUIREMENT = `moto[server]==${MOTO_VERSION}`;
/** Project-local virtual environment, relative to the repository root (git-ignored). */
export const MOTO_VENV = '.venv-moto';
/** Set to 0 (or false, never) to forbid the automatic install. */
export const INSTALL_SWITCH = 'FORENSICS_MOTO_INSTALL';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class EmulatorUnavailable extends Error {
  override readonly name = 'EmulatorUnavailable';
}

export interface Lookup {
  env?: NodeJS.ProcessEnv;
  projectRoot?: string;
  platform?: NodeJS.Platform;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `command` in the PATH directories (with PATHEXT's extensions on Windows). */
export function findOnPath(command: string, lookup: Lookup = {}): string | undefined {
  const env = lookup.env ?? process.env;
  const platform = lookup.platform ?? process.platform;
  const extensions = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)] : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = join(dir, command + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** An executable of the project's moto virtual environment (bin/ on POSIX, Scripts\ on Windows). */
export function venvExecutable(name: string, lookup: Lookup = {}): string {
  const windows = (lookup.platform ?? process.platform) === 'win32';
  return join(lookup.projectRoot ?? PROJECT_ROOT, MOTO_VENV, windows ? 'Scripts' : 'bin', windows ? `${name}.exe` : name);
}

export interface Located {
  path: string;
  source: 'PATH' | typeof MOTO_VENV;
}

/** moto_server on the PATH, else in the project's virtual environment; undefined when neither has it. */
export function locateMotoServer(lookup: Lookup = {}): Located | undefined {
  const onPath = findOnPath('moto_server', lookup);
  if (onPath) return { path: onPath, source: 'PATH' };
  const inVenv = venvExecutable('moto_server', lookup);
  if (isExecutableFile(inVenv)) return { path: inVenv, source: MOTO_VENV };
  return undefined;
}

/** The exact command that installs the emulator where `locateMotoServer` finds it (run from the repository root). */
export function installCommand(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32'
    ? `python -m venv ${MOTO_VENV} && ${MOTO_VENV}\\Scripts\\python -m pip install "${MOTO_REQUIREMENT}"`
    : `python3 -m venv ${MOTO_VENV} && ${MOTO_VENV}/bin/python -m pip install '${MOTO_REQUIREMENT}'`;
}

/** The one-line error when there is no emulator; `why` says why it was not installed automatically. */
export function missingMotoMessage(why: string, platform: NodeJS.Platform = process.platform): string {
  return (
    `moto_server (moto ${MOTO_VERSION}) is needed and was found neither on the PATH nor in ${MOTO_VENV}/ (${why}); ` +
    `install it from the repository root with: ${installCommand(platform)}`
  );
}

export function installAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env[INSTALL_SWITCH] ?? '').trim().toLowerCase();
  return !['0', 'false', 'no', 'never', 'off'].includes(value);
}

interface Run {
  code: number | null;
  output: string;
}

/** Runs a command without a shell; resolves with its exit code and the tail of its output. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolveRun) => {
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => resolveRun({ code: null, output: err.message }));
    child.once('close', (code) => resolveRun({ code, output }));
  });
}

function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? 'no output'
  );
}

/** A Python 3.9+ (moto 5.2's minimum) with the venv module, from the PATH. */
async function findPython(lookup: Required<Pick<Lookup, 'env' | 'projectRoot'>> & Lookup): Promise<string | undefined> {
  const names = (lookup.platform ?? process.platform) === 'win32' ? ['python', 'python3'] : ['python3', 'python'];
  for (const name of names) {
    const path = findOnPath(name, lookup);
    if (!path) continue;
    const probe = await run(path, ['-c', 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 3)'], lookup.env, lookup.projectRoot);
    if (probe.code === 0) return path;
  }
  return undefined;
}

export interface InstallOptions extends Lookup {
  /** One line per stage (default: stderr). */
  onProgress?: (line: string) => void;
}

/**
 * Creates `.venv-moto` with the Python found on the PATH and installs the pinned moto into it. Returns the path of
 * its moto_server; throws EmulatorUnavailable with the exact command when it cannot.
 */
export async function installMoto(options: InstallOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const platform = options.platform ?? process.platform;
  const progress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const lookup = { env, projectRoot, platform };
  const python = await findPython(lookup);
  if (!python) throw new EmulatorUnavailable(missingMotoMessage('no Python 3.9+ with the venv module on the PATH to install it', platform));
  progress(`emulator: moto_server not found; installing ${MOTO_REQUIREMENT} into ${MOTO_VENV}/ with ${python} (once; about a minute)`);
  const venv = await run(python, ['-m', 'venv', join(projectRoot, MOTO_VENV)], env, projectRoot);
  if (venv.code !== 0) {
    throw new EmulatorUnavailable(missingMotoMessage(`creating ${MOTO_VENV} failed: ${lastLine(venv.output)}`, platform));
  }
  const pip = await run(
    venvExecutable('python', lookup),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', MOTO_REQUIREMENT],
    env,
    projectRoot,
  );
  if (pip.code !== 0) {
    throw new EmulatorUnavailable(missingMotoMessage(`pip install ${MOTO_REQUIREMENT} failed: ${lastLine(pip.output)}`, platform));
  }
  const installed = venvExecutable('moto_server', lookup);
  if (!isExecutableFile(installed)) throw new EmulatorUnavailable(missingMotoMessage(`the install left no ${installed}`, platform));
  progress(`emulator: installed moto ${MOTO_VERSION} (${installed})`);
  return installed;
}

/** moto_server's path: found, else installed (when allowed), else EmulatorUnavailable with the exact command. */
export async function ensureMotoServer(options: InstallOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const located = locateMotoServer(options);
  if (located) return located.path;
  if (!installAllowed(env)) {
    throw new EmulatorUnavailable(missingMotoMessage(`automatic install disabled by ${INSTALL_SWITCH}=${env[INSTALL_SWITCH] ?? ''}`, options.platform));
  }
  return installMoto(options);
}
