import { motoPython } from '../../../../cli/local/moto-server';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EmulatorUnavailable,
  ensureMotoServer,
  installCommand,
  locateMotoServer,
  missingMotoMessage,
  MOTO_REQUIREMENT,
  MOTO_VERSION,
} from '../../../../cli/local/moto-install';

/**
 * Finding moto_server on a fresh machine, with fake PATHs and fake project roots: the PATH first,
 * then the project's `.venv-moto`; the automatic install runs the pinned pip install with the Python on the PATH (a
 * fake Python here: this machine has no package index); without either, one error line with the exact command.
 */
function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'moto-install-'));
}

function executable(path: string, body = '#!/bin/sh\nexit 0\n'): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, 0o755);
  return path;
}

/**
 * A stand-in for python3: answers the version probe, creates a virtual environment (bin/python: itself), and for
 * `-m pip install REQ` writes bin/moto_server unless FAKE_PIP_FAIL is set. Every call is logged. Absolute paths to
 * coreutils: the fake PATH holds only this script.
 */
function fakePython(dir: string, log: string): string {
  return executable(
    join(dir, 'python3'),
    `#!/bin/sh
echo "$0 $*" >> "${log}"
if [ "$1" = "-c" ]; then exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then /bin/mkdir -p "$3/bin" && /bin/cp "$0" "$3/bin/python" && exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  if [ -n "$FAKE_PIP_FAIL" ]; then echo "ERROR: No matching distribution found for $6" >&2; exit 1; fi
  printf '#!/bin/sh\\nexit 0\\n' > "\${0%/*}/moto_server" && /bin/chmod 755 "\${0%/*}/moto_server" && exit 0
fi
exit 2
`,
  );
}

describe('locateMotoServer', () => {
  it('finds moto_server on the PATH first, skipping directories where it is not executable', () => {
    // Prepare
    const root = scratch();
    const notExecutable = join(root, 'a');
    mkdirSync(notExecutable);
    writeFileSync(join(notExecutable, 'moto_server'), '');
    const bin = executable(join(root, 'b', 'moto_server'));
    executable(join(root, 'project', '.venv-moto', 'bin', 'moto_server'));
    // Act
    const found = locateMotoServer({ env: { PATH: [join(root, 'empty'), notExecutable, join(root, 'b')].join(':') }, projectRoot: join(root, 'project'), platform: 'linux' });
    // Assess
    expect(found).toEqual({ path: bin, source: 'PATH' });
  });

  it('then the project\'s .venv-moto', () => {
    const root = scratch();
    const venv = executable(join(root, 'project', '.venv-moto', 'bin', 'moto_server'));
    expect(locateMotoServer({ env: { PATH: join(root, 'nothing-here') }, projectRoot: join(root, 'project'), platform: 'linux' })).toEqual({
      path: venv,
      source: '.venv-moto',
    });
  });

  it('undefined when neither has it (empty PATH too)', () => {
    const root = scratch();
    expect(locateMotoServer({ env: { PATH: '' }, projectRoot: root, platform: 'linux' })).toBeUndefined();
    expect(locateMotoServer({ env: {}, projectRoot: root, platform: 'linux' })).toBeUndefined();
  });
});

describe('the message and the command', () => {
  it('names the pinned version, why it was not installed, and the exact command', () => {
    expect(MOTO_REQUIREMENT).toBe(`moto[server]==${MOTO_VERSION}`);
    expect(installCommand('linux')).toBe("python3 -m venv .venv-moto && .venv-moto/bin/python -m pip install 'moto[server]==5.2.1'");
    expect(missingMotoMessage('no Python 3.9+ with the venv module on the PATH to install it', 'linux')).toBe(
      'moto_server (moto 5.2.1) is needed and was found neither on the PATH nor in .venv-moto/ ' +
        '(no Python 3.9+ with the venv module on the PATH to install it); install it from the repository root with: ' +
        "python3 -m venv .venv-moto && .venv-moto/bin/python -m pip install 'moto[server]==5.2.1'",
    );
    expect(installCommand('win32')).toBe('python -m venv .venv-moto && .venv-moto\\Scripts\\python -m pip install "moto[server]==5.2.1"');
  });
});

describe('ensureMotoServer', () => {
  it('returns what it finds without installing anything', async () => {
    const root = scratch();
    const bin = executable(join(root, 'bin', 'moto_server'));
    await expect(ensureMotoServer({ env: { PATH: join(root, 'bin') }, projectRoot: join(root, 'project'), platform: 'linux' })).resolves.toBe(bin);
  });

  it('without moto and without Python: stops at once with the exact command', async () => {
    const root = scratch();
    const attempt = ensureMotoServer({ env: { PATH: join(root, 'bin') }, projectRoot: root, platform: 'linux', onProgress: () => undefined });
    await expect(attempt).rejects.toThrow(EmulatorUnavailable);
    await expect(attempt).rejects.toThrow(`install it from the repository root with: ${installCommand('linux')}`);
  });

  it('with FORENSICS_MOTO_INSTALL=0: no install even with Python, the command instead', async () => {
    const root = scratch();
    const log = join(root, 'calls.log');
    fakePython(join(root, 'bin'), log);
    await expect(
      ensureMotoServer({ env: { PATH: join(root, 'bin'), FORENSICS_MOTO_INSTALL: '0' }, projectRoot: join(root, 'project'), platform: 'linux' }),
    ).rejects.toThrow(/automatic install disabled by FORENSICS_MOTO_INSTALL=0\); install it from the repository root with: python3 -m venv/);
    expect(() => readFileSync(log)).toThrow(); // Python was never called
  });

  it('with Python on the PATH: creates .venv-moto, pip-installs the pinned moto with a progress line, and uses it', async () => {
    // Prepare
    const root = scratch();
    const project = join(root, 'project');
    mkdirSync(project);
    const log = join(root, 'calls.log');
    const python = fakePython(join(root, 'bin'), log);
    const progress: string[] = [];
    // Act
    const path = await ensureMotoServer({ env: { PATH: join(root, 'bin') }, projectRoot: project, platform: 'linux', onProgress: (l) => progress.push(l) });
    // Assess
    expect(path).toBe(join(project, '.venv-moto', 'bin', 'moto_server'));
    expect(locateMotoServer({ env: { PATH: '' }, projectRoot: project, platform: 'linux' })?.source).toBe('.venv-moto');
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(new RegExp(`^${python} -c import sys, venv; `));
    expect(calls.slice(1)).toEqual([
      `${python} -m venv ${join(project, '.venv-moto')}`,
      `${join(project, '.venv-moto', 'bin', 'python')} -m pip install --disable-pip-version-check --quiet moto[server]==5.2.1`,
    ]);
    expect(progress[0]).toBe(
      `emulator: moto_server not found; installing moto[server]==5.2.1 into .venv-moto/ with ${python} (once; about a minute)`,
    );
    expect(progress).toHaveLength(2);
  });

  it('a failed pip install stops with pip\'s last line and the exact command', async () => {
    const root = scratch();
    mkdirSync(join(root, 'project'));
    fakePython(join(root, 'bin'), join(root, 'calls.log'));
    await expect(
      ensureMotoServer({
        env: { PATH: join(root, 'bin'), FAKE_PIP_FAIL: '1' },
        projectRoot: join(root, 'project'),
        platform: 'linux',
        onProgress: () => undefined,
      }),
    ).rejects.toThrow(
      "(pip install moto[server]==5.2.1 failed: ERROR: No matching distribution found for moto[server]==5.2.1); install it from the repository root with: python3 -m venv .venv-moto && .venv-moto/bin/python -m pip install 'moto[server]==5.2.1'",
    );
  });
});

describe('motoPython: the interpreter the single-threaded emulator runs on', () => {
  it('is the virtual environment\'s python beside a .venv-moto moto_server', () => {
    // Prepare / Act / Assess
    expect(motoPython('/repo/.venv-moto/bin/moto_server', 'linux')).toBe('/repo/.venv-moto/bin/python');
    expect(motoPython('C:\\repo\\.venv-moto\\Scripts\\moto_server.exe', 'win32')).toMatch(/\.venv-moto[\\/]Scripts[\\/]python\.exe$/);
  });

  it('is python3 from the PATH for a moto_server installed elsewhere (pyenv shim, pip --user)', () => {
    expect(motoPython('/root/.pyenv/shims/moto_server', 'linux')).toBe('python3');
    expect(motoPython('/usr/local/bin/moto_server', 'linux')).toBe('python3');
  });
});
