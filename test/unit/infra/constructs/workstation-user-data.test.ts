import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../../infra/constructs/forensic-function';
import { USER_DATA_SCRIPT } from '../../../../infra/constructs/forensic-workstation';

/** The workstation user data: syntax, and its mount decisions on lsblk fixtures (plan mode: nothing is run). */
const fixture = (name: string) => path.join(PROJECT_ROOT, 'test', 'fixtures', 'workstation', name);
const plan = (name: string, ...extra: string[]) =>
  execFileSync('bash', [USER_DATA_SCRIPT, '--plan-from', fixture(name), ...extra], { encoding: 'utf8' }).trim().split('\n');

describe('user-data.sh', () => {
  it('is valid bash (bash -n)', () => {
    const out = spawnSync('bash', ['-n', USER_DATA_SCRIPT], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('plans ext4 ro,noload, xfs ro,norecovery,nouuid, vfat ro; skips swap, LVM and no file system; never the root disk', () => {
    expect(plan('nitro-mixed.lsblk')).toEqual([
      '# skip /dev/nvme0n1 (-): workstation root or in use: never touched',
      'blockdev --setro /dev/nvme1n1',
      'blockdev --setro /dev/nvme1n1p1',
      'mkdir -p /mnt/evidence/vol-01111111111111111/nvme1n1p1 && mount -t ext4 -o ro,noload /dev/nvme1n1p1 /mnt/evidence/vol-01111111111111111/nvme1n1p1',
      'blockdev --setro /dev/nvme1n1p2',
      'mkdir -p /mnt/evidence/vol-01111111111111111/nvme1n1p2 && mount -t xfs -o ro,norecovery,nouuid /dev/nvme1n1p2 /mnt/evidence/vol-01111111111111111/nvme1n1p2',
      'blockdev --setro /dev/nvme1n1p3',
      '# skip /dev/nvme1n1p3 (swap): swap space (analyse the raw device)',
      'blockdev --setro /dev/nvme1n1p15',
      'mkdir -p /mnt/evidence/vol-01111111111111111/nvme1n1p15 && mount -t vfat -o ro /dev/nvme1n1p15 /mnt/evidence/vol-01111111111111111/nvme1n1p15',
      'blockdev --setro /dev/nvme2n1',
      'mkdir -p /mnt/evidence/vol-02222222222222222/nvme2n1 && mount -t xfs -o ro,norecovery,nouuid /dev/nvme2n1 /mnt/evidence/vol-02222222222222222/nvme2n1',
      'blockdev --setro /dev/nvme3n1',
      '# skip /dev/nvme3n1 (LVM2_member): LVM physical volume: activate read-only by hand (vgchange -ay --readonly)',
      'blockdev --setro /dev/nvme4n1',
      '# skip /dev/nvme4n1 (-): no file system found',
      'blockdev --setro /dev/nvme5n1',
      'mkdir -p /mnt/evidence/vol-05555555555555555/nvme5n1 && mount -t ext4 -o ro,noload /dev/nvme5n1 /mnt/evidence/vol-05555555555555555/nvme5n1',
    ]);
  });

  it('the root disk can be named when lsblk shows no mount points (ext3 ro,noload; LUKS skipped)', () => {
    expect(plan('xen-no-mountpoints.lsblk', '--root-disk', 'xvda')).toEqual([
      '# skip /dev/xvda (-): workstation root or in use: never touched',
      'blockdev --setro /dev/xvdf',
      'mkdir -p /mnt/evidence/xvdf/xvdf && mount -t ext3 -o ro,noload /dev/xvdf /mnt/evidence/xvdf/xvdf',
      'blockdev --setro /dev/xvdg',
      '# skip /dev/xvdg (crypto_LUKS): LUKS encrypted: needs the key',
    ]);
  });

  it('a hostile serial never reaches a path or command unsanitised, and nothing is executed in plan mode', () => {
    const lines = plan('hostile-labels.lsblk');
    expect(lines.join('\n')).not.toContain('$(');
    expect(lines).toContain('blockdev --setro /dev/nvme1n1p1');
    expect(lines.some((l) => l.includes('mount -t ntfs -o ro /dev/nvme1n1p1 /mnt/evidence/vol-0__touch__tmp_pwned_/nvme1n1p1'))).toBe(true);
  });

  it('writes the mount report as evidence: SHA-256 checksum, its own retention from now, a legal hold', () => {
    // Prepare: the script's functions without its `main` call, and an `aws` on PATH that records its arguments.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-data-'));
    const argsFile = path.join(dir, 'aws.args');
    fs.writeFileSync(path.join(dir, 'aws'), `#!/bin/bash\nprintf '%s\\n' "$@" > '${argsFile}'\necho v1\n`, { mode: 0o755 });
    const functions = fs.readFileSync(USER_DATA_SCRIPT, 'utf8').replace(/^main "\$@"\s*$/m, '');
    const script = path.join(dir, 'run.sh');
    fs.writeFileSync(script, `${functions}\nput_evidence /tmp/report.json cases/c-1/analysis/mount-report-i-1.json\n`);
    const before = Date.now();

    // Act
    execFileSync('bash', [script], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FORENSICS_EVIDENCE_BUCKET: 'evidence', FORENSICS_RETENTION_MODE: 'COMPLIANCE', FORENSICS_RETENTION_DAYS: '30' },
    });

    // Assess
    const args = fs.readFileSync(argsFile, 'utf8').trim().split('\n');
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.slice(0, 2)).toEqual(['s3api', 'put-object']);
    expect(value('--bucket')).toBe('evidence');
    expect(value('--key')).toBe('cases/c-1/analysis/mount-report-i-1.json');
    expect(value('--checksum-algorithm')).toBe('SHA256');
    expect(value('--object-lock-mode')).toBe('COMPLIANCE');
    expect(value('--object-lock-legal-hold-status')).toBe('ON');
    const until = Date.parse(value('--object-lock-retain-until-date') ?? '');
    const days30 = 30 * 24 * 3600 * 1000;
    expect(until).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + days30);
    expect(until).toBeLessThanOrEqual(Date.now() + days30);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never plans a read-write mount: every mount is ro and only with the documented options', () => {
    for (const [name, extra] of [['nitro-mixed.lsblk', []], ['xen-no-mountpoints.lsblk', ['--root-disk', 'xvda']], ['hostile-labels.lsblk', []]] as const) {
      for (const line of plan(name, ...extra).filter((l) => l.includes(' mount '))) {
        const opts = / -o (\S+) /.exec(line)?.[1] ?? '';
        expect(['ro,noload', 'ro,norecovery,nouuid', 'ro'], line).toContain(opts);
        expect(opts.split(','), line).not.toContain('rw');
      }
    }
  });

  describe('the memory image of a capture volume (memory_image_report)', () => {
    /** Runs the script's function (without its `main` call) on a file-system root; the JSON member it prints, parsed. */
    function report(root: string): Record<string, unknown> | null {
      const functions = fs.readFileSync(USER_DATA_SCRIPT, 'utf8').replace(/^main "\$@"\s*$/m, '');
      const out = execFileSync('bash', ['-c', `${functions}\nmemory_image_report "$1"`, 'report', root], { encoding: 'utf8' });
      return out === '' ? null : (JSON.parse(`{${out.slice(1)}}`) as { memoryImage: Record<string, unknown> }).memoryImage;
    }
    function captureVolume(image: string | null, sha256File?: string): string {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-volume-'));
      fs.mkdirSync(path.join(root, 'memory'));
      if (image !== null) fs.writeFileSync(path.join(root, 'memory', 'memory.lime.snappy'), image);
      if (sha256File !== undefined) fs.writeFileSync(path.join(root, 'memory', 'memory.lime.snappy.sha256'), sha256File);
      return root;
    }
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');

    it('recomputes the SHA-256 and compares it with the hash written next to the image on the host', () => {
      // Prepare
      const root = captureVolume('LiME image bytes', `${sha('LiME image bytes')}  memory.lime.snappy\n`);

      // Act
      const r = report(root);

      // Assess
      expect(r).toEqual({ path: 'memory/memory.lime.snappy', sizeBytes: 16, sha256: sha('LiME image bytes'), recordedSha256: sha('LiME image bytes'), match: true });
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('reports a mismatch, and a missing hash file as not comparable', () => {
      const changed = captureVolume('LiME image bytez', `${sha('LiME image bytes')}  memory.lime.snappy\n`);
      const unhashed = captureVolume('LiME image bytes');
      expect(report(changed)).toMatchObject({ sha256: sha('LiME image bytez'), recordedSha256: sha('LiME image bytes'), match: false });
      expect(report(unhashed)).toMatchObject({ recordedSha256: null, match: null });
      for (const r of [changed, unhashed]) fs.rmSync(r, { recursive: true, force: true });
    });

    it('says nothing for a file system without an image, and never follows a symlink planted on the evidence', () => {
      const none = captureVolume(null);
      const linked = captureVolume(null);
      fs.symlinkSync('/proc/self/status', path.join(linked, 'memory', 'memory.lime.snappy'));
      expect(report(none)).toBeNull();
      expect(report(linked)).toBeNull();
      for (const r of [none, linked]) fs.rmSync(r, { recursive: true, force: true });
    });
  });
});
