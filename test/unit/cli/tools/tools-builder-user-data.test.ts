import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builderUserData } from '../../../../cli/tools/tools-snapshot';
import { PROJECT_ROOT } from '../../../../infra/constructs/forensic-function';

/**
 * The tools builder's user data (cli/tools/tools-builder-user-data.sh): syntax, shellcheck, the generated user data
 * (values first, quoted; anything unexpected refused), and its content verification in test mode (`--verify-dir`),
 * which is what the builder runs on the volume before it reports "built". Formatting and S3 need a real host.
 */
const SCRIPT = path.join(PROJECT_ROOT, 'cli', 'tools', 'tools-builder-user-data.sh');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const sha = (b: string) => createHash('sha256').update(b).digest('hex');

function volume(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-volume-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'bin'));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(root, name), body);
  return root;
}

const FILES = { 'bin/avml': 'avml-bytes', 'bin/capture-memory.sh': '#!/bin/sh\n', 'TOOLS.json': '{}\n' };
const HASHES = { AVML_SHA256: sha(FILES['bin/avml']), SCRIPT_SHA256: sha(FILES['bin/capture-memory.sh']), MANIFEST_SHA256: sha(FILES['TOOLS.json']) };

function verify(root: string, hashes: Record<string, string> = HASHES) {
  return spawnSync('bash', [SCRIPT, '--verify-dir', root], { encoding: 'utf8', env: { ...process.env, ...hashes } });
}

describe('tools-builder-user-data.sh', () => {
  it('is valid bash (bash -n)', () => {
    const out = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it.skipIf(spawnSync('shellcheck', ['--version']).status !== 0)('is clean under shellcheck (skipped when shellcheck is not installed)', () => {
    const out = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(out.stdout).toBe('');
    expect(out.status).toBe(0);
  });

  it('accepts a volume whose three files hash as pinned', () => {
    const run = verify(volume(FILES));
    expect(run.stdout).toBe('');
    expect(run.status).toBe(0);
  });

  it('refuses a changed byte, or a missing file, naming it', () => {
    const changed = verify(volume({ ...FILES, 'bin/avml': 'avml-bytez' }));
    expect(changed.status).toBe(1);
    expect(changed.stdout).toMatch(/^bin\/avml SHA-256 [0-9a-f]{64} is not the expected/);
    const { 'TOOLS.json': _omit, ...withoutManifest } = FILES;
    const missing = verify(volume(withoutManifest));
    expect(missing.status).toBe(1);
    expect(missing.stdout.trim()).toBe('TOOLS.json missing');
  });

  it('the generated user data sets the values before the script, and refuses a value that could break out', () => {
    // Prepare
    const template = fs.readFileSync(SCRIPT, 'utf8');
    const values = { bucket: 'evidence-bucket', prefix: 'tools/20261129T100000Z-abc/', region: 'eu-west-1', volumeId: 'vol-0abc', avmlSha256: 'a'.repeat(64), scriptSha256: 'b'.repeat(64), manifestSha256: 'c'.repeat(64) };

    // Act
    const text = builderUserData(template, values);

    // Assess
    const lines = text.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(lines).toContain("export FORENSICS_TOOLS_VOLUME_ID='vol-0abc'");
    expect(lines.indexOf(`export AVML_SHA256='${'a'.repeat(64)}'`)).toBeLessThan(lines.indexOf('set -u -o pipefail'));
    expect(text.match(/^#!/gm)).toHaveLength(1);
    expect(spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' }).status).toBe(0);
    expect(() => builderUserData(template, { ...values, prefix: "tools/'; reboot; '" })).toThrow(/FORENSICS_TOOLS_PREFIX/);
  });
});
