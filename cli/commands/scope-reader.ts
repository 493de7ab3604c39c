import type { S3Client } from '@aws-sdk/client-s3';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { ManifestRotate, ManifestTimeline, RotateDocument, TimelineDocument } from '../../handlers/domain/scope-documents';
import { shortHash } from '../output/format';
import { OperationFailed } from './common';
import { readObject } from './evidence-reader';

/**
 * Reading the sealed scope documents of a case (`timeline.json`, `rotate.json`) through the manifest: the object at
 * the section's `key`, the version the manifest lists, its bytes hashed and compared with the manifest before a
 * single field is believed. Shared by `case timeline`, `case report` and `case verify`.
 */

export type ScopeDocumentKind = 'timeline' | 'rotate';

interface ScopeDocuments {
  timeline: TimelineDocument;
  rotate: RotateDocument;
}

export interface LoadedScopeDocument<K extends ScopeDocumentKind> {
  key: string;
  versionId: string | undefined;
  sha256: string;
  document: ScopeDocuments[K];
  /** The sealed document disagrees with the manifest's summary (a count): shown, not fatal. */
  warning?: string;
}

/** Why a case has no such document: the manifest predates the scope, or the scope was skipped or failed. */
export function missingScopeReason(manifest: Pick<ManifestV1, 'caseId' | ScopeDocumentKind>, kind: ScopeDocumentKind): string | null {
  const section: ManifestTimeline | ManifestRotate | undefined = manifest[kind];
  if (!section) return `case ${manifest.caseId} has no ${kind}: its manifest has no ${kind} section (sealed before the incident scope was recorded)`;
  if (!section.key) return `case ${manifest.caseId} has no ${kind}: scope ${section.status}${section.reason ? `: ${section.reason}` : ''}`;
  return null;
}

/**
 * The verdict on a stored scope document against the manifest (pure: `case verify` reports it, the readers throw it).
 * Checks: the section's sha256 equals the hash `objects` lists for the key, the bytes hash to it, the document parses
 * as this case's document of that kind. A count in the section that disagrees with the document is only a warning:
 * the hash proves the document is the sealed one, and a responder must still be able to read it.
 */
export function scopeDocumentVerdict<K extends ScopeDocumentKind>(
  manifest: Pick<ManifestV1, 'caseId' | 'objects' | ScopeDocumentKind>,
  kind: K,
  stored: { sha256: string; bytes: Buffer },
): { ok: true; document: ScopeDocuments[K]; detail: string; warning?: string } | { ok: false; problem: string } {
  const section = manifest[kind] as ManifestTimeline | ManifestRotate | undefined;
  if (!section?.key) return { ok: false, problem: missingScopeReason(manifest, kind) ?? `no ${kind}` };
  const listed = manifest.objects.find((o) => o.key === section.key);
  if (!listed) return { ok: false, problem: `the manifest's objects do not list ${section.key}` };
  if (section.sha256 !== listed.sha256) {
    return { ok: false, problem: `the manifest's ${kind}.sha256 ${shortHash(section.sha256)} differs from the hash its objects list for ${section.key} (${shortHash(listed.sha256)})` };
  }
  if (stored.sha256 !== listed.sha256) {
    return { ok: false, problem: `SHA-256 of the stored object ${shortHash(stored.sha256)} does not match the manifest (${shortHash(listed.sha256)}): not the sealed ${kind}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stored.bytes.toString('utf8'));
  } catch {
    return { ok: false, problem: 'not valid JSON' };
  }
  const d = doc as Partial<TimelineDocument & RotateDocument>;
  if (d?.caseId !== manifest.caseId) return { ok: false, problem: `the document names case ${String(d?.caseId)}, not ${manifest.caseId}` };
  if (kind === 'timeline') {
    if (!Array.isArray(d.events)) return { ok: false, problem: 'not a timeline document: no events array' };
    const counted = (section as ManifestTimeline).events;
    return {
      ok: true,
      document: doc as ScopeDocuments[K],
      detail: `${d.events.length} events, window ${d.window?.from ?? '-'} to ${d.window?.to ?? '-'}`,
      ...(counted !== d.events.length ? { warning: `the manifest counts ${counted} events, the sealed document holds ${d.events.length}` } : {}),
    };
  }
  if (!Array.isArray(d.items)) return { ok: false, problem: 'not a rotate document: no items array' };
  const counted = (section as ManifestRotate).items;
  return {
    ok: true,
    document: doc as ScopeDocuments[K],
    detail: `${d.items.length} items, ${d.items.filter((i) => i.observed).length} observed`,
    ...(counted !== d.items.length ? { warning: `the manifest counts ${counted} items, the sealed document holds ${d.items.length}` } : {}),
  };
}

/**
 * The document, verified against the manifest; `OperationFailed` (exit 1) naming the object when it is missing,
 * unreadable, altered or not this case's.
 */
export async function loadScopeDocument<K extends ScopeDocumentKind>(
  s3: S3Client,
  bucket: string,
  manifest: ManifestV1,
  kind: K,
): Promise<LoadedScopeDocument<K>> {
  const missing = missingScopeReason(manifest, kind);
  if (missing) throw new OperationFailed(missing);
  const key = manifest[kind]?.key as string;
  const versionId = manifest.objects.find((o) => o.key === key)?.versionId;
  let stored: Awaited<ReturnType<typeof readObject>>;
  try {
    stored = await readObject(s3, bucket, key, versionId);
  } catch (err) {
    throw new OperationFailed(`s3://${bucket}/${key}: cannot read the sealed ${kind}: ${(err as Error).name}`);
  }
  const verdict = scopeDocumentVerdict(manifest, kind, stored);
  if (!verdict.ok) throw new OperationFailed(`s3://${bucket}/${key}: ${verdict.problem}`);
  return { key, versionId: stored.versionId, sha256: stored.sha256, document: verdict.document, ...(verdict.warning ? { warning: verdict.warning } : {}) };
}
