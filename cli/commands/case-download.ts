import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from '../../handlers/domain/hashing';
import { type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { sha256sumsLine, shortHash } from '../output/format';
import { EXIT_FAILED, EXIT_OK, type Io, parseOutputFormat, runCommand, UsageError } from './common';
import { loadCustody, loadManifest, mapLimit, readCaseRecord, readObject, requireCaseId } from './evidence-reader';

/**
 * `forensics case download <caseId> --out DIR`: the case's evidence objects written to DIR byte for byte as S3
 * stores them (the manifest version that was sealed, the version of every object the manifest names, every custody
 * record), at their path below `cases/<caseId>/`, plus `SHA256SUMS` (`sha256sum -c SHA256SUMS` re-checks them
 * offline). Then every written file is read back and compared with the hash the evidence names for it: the manifest
 * for the objects it lists, the case table (and the seal record) for the manifest and later custody records.
 * DIR must be absent or empty: evidence from two downloads never mixes.
 */

export interface DownloadOptions extends DeploymentOptions {
  out: string;
  output?: string;
}

export interface DownloadedFile {
  path: string;
  key: string;
  versionId: string | null;
  sha256: string;
  expectedSha256: string | null;
  listedBy: 'manifest' | 'case table' | 'none';
  ok: boolean;
}

export async function runCaseDownload(caseId: string, options: DownloadOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    requireCaseId(caseId);
    if (!options.out) throw new UsageError('--out: required');
    const outDir = resolve(options.out);
    await ensureEmptyDir(outDir);
    const deployment = await resolveDeployment(options, ['bucket', 'table']);
    const bucket = deployment.bucket as string;
    const s3 = new S3Client(s3Config(deployment));
    const prefix = `cases/${caseId}/`;
    let files: DownloadedFile[];
    try {
      const record = await readCaseRecord(deployment, caseId);
      const loaded = await loadManifest(s3, bucket, caseId, record);
      const sealed = (record?.details?.seal as { manifest?: { sha256?: string } } | undefined)?.manifest?.sha256 ?? null;
      const wanted: { key: string; versionId?: string; expected: string | null; listedBy: DownloadedFile['listedBy'] }[] = [];
      const seen = new Set<string>([loaded.key]);
      for (const o of loaded.manifest.objects ?? []) {
        if (seen.has(o.key) || !o.key.startsWith(prefix)) continue;
        seen.add(o.key);
        wanted.push({ key: o.key, ...(o.versionId ? { versionId: o.versionId } : {}), expected: o.sha256, listedBy: 'manifest' });
      }
      for (const c of record?.custody ?? []) {
        if (seen.has(c.key) || !c.key.startsWith(prefix)) continue;
        seen.add(c.key);
        wanted.push({ key: c.key, ...(c.versionId ? { versionId: c.versionId } : {}), expected: c.sha256, listedBy: 'case table' });
      }
      const { entries } = await loadCustody(s3, bucket, caseId);
      for (const e of entries) {
        if (seen.has(e.key)) continue;
        seen.add(e.key);
        wanted.push({ key: e.key, ...(e.versionId ? { versionId: e.versionId } : {}), expected: null, listedBy: 'none' });
      }
      const manifestFile = await writeEvidence(outDir, prefix, loaded.key, loaded.object.bytes);
      files = [
        { path: manifestFile, key: loaded.key, versionId: loaded.object.versionId ?? null, sha256: loaded.object.sha256, expectedSha256: sealed, listedBy: sealed ? 'case table' : 'none', ok: false },
        ...(await mapLimit(wanted, 8, async (w) => {
          const obj = await readObject(s3, bucket, w.key, w.versionId);
          const path = await writeEvidence(outDir, prefix, w.key, obj.bytes);
          return { path, key: w.key, versionId: obj.versionId ?? null, sha256: obj.sha256, expectedSha256: w.expected, listedBy: w.listedBy, ok: false };
        })),
      ];
    } finally {
      s3.destroy();
    }
    files.sort((a, b) => a.path.localeCompare(b.path));
    await writeFile(join(outDir, 'SHA256SUMS'), files.map((f) => `${sha256sumsLine(f.sha256, f.path)}\n`).join(''), { flag: 'wx' });

    // Read back what was written and compare with what the evidence says.
    for (const f of files) {
      const written = sha256Hex(await readFile(join(outDir, ...f.path.split('/'))));
      f.ok = written === f.sha256 && (f.expectedSha256 === null || written === f.expectedSha256);
    }
    const bad = files.filter((f) => !f.ok);
    const unlisted = files.filter((f) => f.listedBy === 'none');
    if (format === 'json') {
      io.out(JSON.stringify({ caseId, directory: outDir, files, result: bad.length ? 'FAIL' : 'PASS' }, null, 2));
    } else {
      for (const f of files) {
        const status = f.ok ? (f.expectedSha256 ? 'OK  ' : 'NOTE') : 'FAIL';
        const against = f.expectedSha256 ? `matches the ${f.listedBy}` : 'no hash listed for it';
        io.out(`${status}  ${f.path}  ${shortHash(f.sha256)}  ${f.ok ? against : `the ${f.listedBy} says ${shortHash(f.expectedSha256)}`}`);
      }
      io.out(`${bad.length ? 'FAIL' : 'PASS'}: ${files.length} files written to ${outDir} with SHA256SUMS; ${files.length - bad.length} verified${unlisted.length ? `, ${unlisted.length} not listed by any evidence` : ''}${bad.length ? `, ${bad.length} differ from the evidence` : ''}`);
    }
    return bad.length ? EXIT_FAILED : EXIT_OK;
  });
}

async function ensureEmptyDir(dir: string): Promise<void> {
  try {
    const entries = await readdir(dir);
    if (entries.length > 0) throw new UsageError(`--out: ${dir} is not empty`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(dir, { recursive: true });
      return;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new UsageError(`--out: ${dir} is not a directory`);
    throw err;
  }
}

/** Writes the object at its path relative to the case prefix (never outside `outDir`); returns that path with `/`. */
async function writeEvidence(outDir: string, prefix: string, key: string, bytes: Buffer): Promise<string> {
  const rel = key.slice(prefix.length);
  const target = resolve(outDir, ...rel.split('/'));
  const inside = relative(outDir, target);
  if (!rel || inside.startsWith('..') || inside.split(sep).includes('..')) throw new Error(`refusing to write ${key} outside ${outDir}`);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, bytes, { flag: 'wx' });
  return inside.split(sep).join('/');
}
