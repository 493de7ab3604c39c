import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CAPTURE_SCRIPT_ARGS, parseMemoryScriptResult, TOOLS_VOLUME } from '../../../../handlers/domain/memory-capture';
import { PROJECT_ROOT } from '../../../../infra/constructs/forensic-function';

/**
 * cli/tools/capture-memory.sh, the host side of memory capture: syntax (sh -n, bash -n), shellcheck, and its
 * non-privileged paths against a capture volume laid out in a temp dir with a FAKE avml (a tiny shell script whose
 * SHA-256 is pinned below). Nothing privileged runs: the fake writes a small file where the image goes.
 */
const SCRIPT = path.join(PROJECT_ROOT, 'cli', 'tools', 'capture-memory.sh');
const FAKE_AVML = '#!/bin/sh\n# fake avml for tests: writes a small image to its last argument\nfor last; do :; done\nprintf "LiME-fake-image" > "$last"\n';
const FAKE_AVML_SHA256 = 'a15179b6a1428d51edc0058f81cd1654c0222a1b1a619955bcc351fb02191881';
const FAILING_AVML = '#!/bin/sh\necho "failed to read /proc/kcore: Permission denied" >&2\nexit 1\n';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A capture volume's root: bin/avml (the given body) and bin/capture-memory.sh, as the tools build writes them. */
function volume(avml = FAKE_AVML): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-volume-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, TOOLS_VOLUME.avml), avml, { mode: 0o755 });
  fs.copyFileSync(SCRIPT, path.join(root, TOOLS_VOLUME.script));
  return root;
}

/** Runs the script as the Run Command does: `/bin/sh <mount>/bin/capture-memory.sh <mount> <toolSha256>`. */
function capture(root: string, ...args: string[]) {
  const out = spawnSync('/bin/sh', [path.join(root, TOOLS_VOLUME.script), ...args], { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr, result: parseMemoryScriptResult(out.stdout) };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function hasShellcheck(): boolean {
  return spawnSync('shellcheck', ['--version'], { encoding: 'utf8' }).status === 0;
}

describe('capture-memory.sh', () => {
  it('is valid POSIX sh and bash (sh -n, bash -n)', () => {
    for (const shell of ['sh', 'bash']) {
      const out = spawnSync(shell, ['-n', SCRIPT], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
    }
  });

  it.skipIf(!hasShellcheck())('is clean under shellcheck -s sh (skipped when shellcheck is not installed: apt-get install shellcheck)', () => {
    const out = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
    expect(out.stdout).toBe('');
    expect(out.status).toBe(0);
  });

  it('the fake tool is the one whose hash is pinned here', () => {
    // Prepare
    const root = volume();

    // Act
    const hash = sha256(path.join(root, TOOLS_VOLUME.avml));

    // Assess
    expect(hash).toBe(FAKE_AVML_SHA256);
  });

  it('captures: writes the image and its .sha256 once, and prints a result line the workflow parses', () => {
    // Prepare
    const root = volume();

    // Act
    const run = capture(root, root, FAKE_AVML_SHA256);

    // Assess
    const image = path.join(root, TOOLS_VOLUME.image);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.result).toEqual({
      status: 'captured',
      sha256: sha256(image),
      sizeBytes: fs.statSync(image).size,
      image: TOOLS_VOLUME.image,
      toolSha256: FAKE_AVML_SHA256,
    });
    expect(fs.readFileSync(path.join(root, TOOLS_VOLUME.imageSha256), 'utf8')).toBe(`${sha256(image)}  memory.lime.snappy\n`);
    // The .sha256 file checks with the standard tool, from the image's directory.
    expect(execFileSync('sha256sum', ['-c', 'memory.lime.snappy.sha256'], { cwd: path.join(root, TOOLS_VOLUME.imageDir), encoding: 'utf8' })).toContain('OK');
  });

  it('refuses a tool whose SHA-256 is not the pinned one, runs nothing and writes nothing', () => {
    // Prepare: a different binary at bin/avml that would write the image if it ran.
    const root = volume(`${FAKE_AVML}# tampered\n`);

    // Act
    const run = capture(root, root, FAKE_AVML_SHA256);

    // Assess
    expect(run.status).not.toBe(0);
    expect(run.result?.status).toBe('refused');
    expect(run.result?.reason).toContain('is not the pinned');
    expect(run.result?.toolSha256).toBe(sha256(path.join(root, TOOLS_VOLUME.avml)));
    expect(fs.existsSync(path.join(root, TOOLS_VOLUME.imageDir))).toBe(false);
  });

  it('refuses when an image is already on the volume, and leaves it byte for byte', () => {
    // Prepare
    const root = volume();
    fs.mkdirSync(path.join(root, TOOLS_VOLUME.imageDir));
    fs.writeFileSync(path.join(root, TOOLS_VOLUME.image), 'earlier capture');

    // Act
    const run = capture(root, root, FAKE_AVML_SHA256);

    // Assess
    expect(run.status).not.toBe(0);
    expect(run.result?.status).toBe('refused');
    expect(run.result?.reason).toContain('never overwritten');
    expect(fs.readFileSync(path.join(root, TOOLS_VOLUME.image), 'utf8')).toBe('earlier capture');
    expect(fs.existsSync(path.join(root, TOOLS_VOLUME.imageSha256))).toBe(false);
  });

  it('reports failed, with the reason, when the tool fails (e.g. memory sources unreadable)', () => {
    // Prepare
    const root = volume(FAILING_AVML);
    const pinned = createHash('sha256').update(FAILING_AVML).digest('hex');

    // Act
    const run = capture(root, root, pinned);

    // Assess
    expect(run.status).toBe(1);
    expect(run.result?.status).toBe('failed');
    expect(run.result?.reason).toMatch(/avml exited 1/);
    expect(run.result?.sha256).toBeUndefined();
    expect(fs.existsSync(path.join(root, TOOLS_VOLUME.imageSha256))).toBe(false);
  });

  it('takes the arguments of the contract, in its order (CAPTURE_SCRIPT_ARGS)', () => {
    // Prepare
    const root = volume();

    // Act
    const run = capture(root, root);

    // Assess: the usage it refuses with names exactly the contract's arguments.
    expect(CAPTURE_SCRIPT_ARGS).toEqual(['mountPoint', 'toolSha256']);
    expect(run.result?.reason).toBe(`usage: capture-memory.sh ${CAPTURE_SCRIPT_ARGS.map((a) => `<${a}>`).join(' ')}`);
  });

  it('refuses bad arguments without running the tool: not 64 lowercase hex, missing mount point, wrong count', () => {
    // Prepare
    const root = volume();

    // Act
    const runs = [capture(root, root, FAKE_AVML_SHA256.toUpperCase()), capture(root, root, 'abc'), capture(root, path.join(root, 'nope'), FAKE_AVML_SHA256), capture(root, root)];

    // Assess
    for (const run of runs) {
      expect(run.status).not.toBe(0);
      expect(run.result?.status).toBe('refused');
    }
    expect(fs.existsSync(path.join(root, TOOLS_VOLUME.imageDir))).toBe(false);
  });
});
