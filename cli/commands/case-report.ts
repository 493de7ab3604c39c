import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { RotateDocument, TimelineDocument } from '../../handlers/domain/scope-documents';
import { type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { type ObjectLockView, renderCaseReport } from '../output/case-report-html';
import { EXIT_OK, type Io, OperationFailed, runCommand, UsageError } from './common';
import { loadManifest, mapLimit, readCaseRecord, requireCaseId } from './evidence-reader';
import { loadScopeDocument, missingScopeReason } from './scope-reader';

/**
 * `forensics case report <caseId> --out FILE.html [--force]`: one self-contained HTML page of the case for an
 * incident commander (cli/output/case-report-html.ts): header, the principal's activity chart with containment
 * marked, flagged events, the evidence (every object with its SHA-256 and its Object Lock state as S3 reports it
 * now, every snapshot with its evidence copy, key and lock), the rotate list, the preserved logs, the gaps.
 *
 * The scope documents are read through the manifest and checked against its SHA-256 like `case timeline` does; a
 * document that does not match fails the command (a report must never show altered evidence). A case without a
 * scope (older, or scope skipped) still gets a report, saying why that part is missing.
 *
 * An existing FILE is not overwritten unless `--force`: a report handed to someone is not silently replaced.
 */

export interface ReportOptions extends DeploymentOptions {
  out: string;
  force?: boolean;
  /** Clock for the "generated at" line (tests). */
  now?: Date;
}

export async function runCaseReport(caseId: string, options: ReportOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    requireCaseId(caseId);
    if (!options.out) throw new UsageError('--out: required (the HTML file to write)');
    const file = resolve(options.out);
    // Checked first so nothing is read for nothing; the write itself is exclusive too.
    if (!options.force && existsSync(file)) throw new UsageError(`--out: ${file} exists; use --force to overwrite it`);
    const deployment = await resolveDeployment(options, ['bucket', 'table']);
    const bucket = deployment.bucket as string;
    const s3 = new S3Client(s3Config(deployment));
    let html: string;
    try {
      const record = await readCaseRecord(deployment, caseId);
      const loaded = await loadManifest(s3, bucket, caseId, record);
      const m = loaded.manifest;
      if (m.caseId !== caseId || !Array.isArray(m.objects)) throw new OperationFailed(`s3://${bucket}/${loaded.key}: not the manifest of case ${caseId}`);
      const timeline = missingScopeReason(m, 'timeline') ? null : (await loadScopeDocument(s3, bucket, m, 'timeline')).document;
      const rotate = missingScopeReason(m, 'rotate') ? null : (await loadScopeDocument(s3, bucket, m, 'rotate')).document;
      html = renderCaseReport({
        caseId,
        status: record?.status ?? null,
        manifest: m,
        manifestSha256: loaded.object.sha256,
        timeline: timeline as TimelineDocument | null,
        timelineNote: missingScopeReason(m, 'timeline'),
        rotate: rotate as RotateDocument | null,
        rotateNote: missingScopeReason(m, 'rotate'),
        objectLocks: await objectLocks(s3, bucket, m),
        generatedAt: (options.now ?? new Date()).toISOString(),
      });
    } finally {
      s3.destroy();
    }
    try {
      // `wx`: created only if absent, atomically (no window between a check and the write).
      await writeFile(file, html, { encoding: 'utf8', flag: options.force ? 'w' : 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`--out: ${file} exists; use --force to overwrite it`);
      throw new UsageError(`--out: cannot write ${file}: ${(err as Error).message}`);
    }
    io.err(`forensics: report of case ${caseId} written (${Buffer.byteLength(html)} bytes)`);
    io.out(file);
    return EXIT_OK;
  });
}

/** Object Lock retention and legal hold of every object the manifest lists, at the version it lists. */
async function objectLocks(s3: S3Client, bucket: string, manifest: ManifestV1): Promise<Map<string, ObjectLockView>> {
  const views = await mapLimit(manifest.objects, 8, async (o): Promise<[string, ObjectLockView]> => {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.key, ...(o.versionId ? { VersionId: o.versionId } : {}) }));
      return [o.key, { mode: head.ObjectLockMode ?? null, retainUntil: head.ObjectLockRetainUntilDate?.toISOString() ?? null, legalHold: head.ObjectLockLegalHoldStatus ?? null }];
    } catch (err) {
      return [o.key, { error: (err as Error).name }];
    }
  });
  return new Map(views);
}
