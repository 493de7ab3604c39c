import type { CustodyRecord } from '../../handlers/domain/custody-record';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { ManifestMemory } from '../../handlers/domain/memory-capture';
import { type CheckStatus, shortHash } from '../output/format';

/**
 * `case verify`'s checks of the manifest's `memory` section (nothing when the manifest has none: sealed before memory
 * capture existed). Pure: the evidence snapshot itself (exists, state, owner, key, lock) is checked with the disks'
 * snapshots, because the workflow lists the memory snapshot in `snapshots[]`; this only proves it is listed there.
 * - `memory.status`: a known status; skipped or failed carry a reason (FAIL without one: an unexplained gap).
 * - captured:
 *   `memory.host-sha256`: the SHA-256 the host printed is present and 64 hex characters;
 *   `memory.tool`: the tool that ran is named, with its version and a 64-hex SHA-256;
 *   `memory.snapshot`: `evidenceSnapshotId` is present and is the evidence snapshot of an entry of `snapshots[]`;
 *   `memory.custody`: a custody record holds that SHA-256 in its result (recorded the moment it was read, so a
 *   manifest edited later cannot introduce another hash: the chain is checked by `custody.chain`).
 * - failed with an evidence snapshot (what was acquired before the failure): `memory.snapshot` as above.
 */

type Add = (status: CheckStatus, check: string, subject: string, detail: string) => void;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATUSES: readonly string[] = ['captured', 'skipped', 'failed'];

export function checkMemory(
  manifest: Pick<ManifestV1, 'caseId' | 'snapshots'> & { memory?: ManifestMemory | null },
  custody: readonly (CustodyRecord | undefined)[],
  add: Add,
): void {
  const mem = manifest.memory;
  if (!mem) return;
  const subject = `cases/${manifest.caseId}/manifest.json#memory`;
  if (!STATUSES.includes(mem.status)) {
    add('FAIL', 'memory.status', subject, `unknown status ${String(mem.status)}`);
    return;
  }
  if (mem.status !== 'captured') {
    const reason = typeof mem.reason === 'string' ? mem.reason.trim() : '';
    add(reason ? 'PASS' : 'FAIL', 'memory.status', subject, reason ? `${mem.status}: ${reason}` : `${mem.status} without a reason`);
    if (mem.status === 'failed' && mem.evidenceSnapshotId) checkListed(manifest, mem.evidenceSnapshotId, add);
    return;
  }
  add('PASS', 'memory.status', subject, `captured${mem.imageSizeBytes ? `, ${mem.imageSizeBytes} bytes` : ''}`);

  const host = mem.hostSha256;
  const hostOk = typeof host === 'string' && SHA256_HEX.test(host);
  add(hostOk ? 'PASS' : 'FAIL', 'memory.host-sha256', subject, hostOk ? `host SHA-256 ${shortHash(host)}` : `captured without a 64-hex host SHA-256 (${host === null ? 'none' : 'malformed'})`);

  const tool = mem.tool;
  const toolOk = Boolean(tool?.name && tool.version && SHA256_HEX.test(tool.sha256 ?? ''));
  add(toolOk ? 'PASS' : 'FAIL', 'memory.tool', subject, toolOk && tool ? `${tool.name} ${tool.version}, sha256 ${shortHash(tool.sha256)}` : 'captured without the tool name, version and 64-hex SHA-256');

  if (mem.evidenceSnapshotId) checkListed(manifest, mem.evidenceSnapshotId, add);
  else add('FAIL', 'memory.snapshot', subject, 'captured without an evidence snapshot id: the image is not in the evidence chain');

  if (!hostOk) return;
  const holder = custody.find((r) => r && holds(r.result, host));
  add(
    holder ? 'PASS' : 'FAIL',
    'memory.custody',
    subject,
    holder ? `custody record seq ${holder.seq} (${holder.step} / ${holder.action}) holds the host SHA-256` : 'no custody record holds the host SHA-256',
  );
}

function checkListed(manifest: Pick<ManifestV1, 'snapshots'>, evidenceSnapshotId: string, add: Add): void {
  const entry = manifest.snapshots.find((s) => s.evidenceSnapshotId === evidenceSnapshotId);
  add(
    entry ? 'PASS' : 'FAIL',
    'memory.snapshot',
    evidenceSnapshotId,
    entry
      ? `listed in the manifest's snapshots (volume ${entry.volumeId}, from ${entry.originalSnapshotId}): checked with them below`
      : "not listed in the manifest's snapshots: the memory image's evidence snapshot is unaccounted for",
  );
}

/** Whether `value` holds `needle` as a string anywhere (bounded depth: custody results are small JSON). */
function holds(value: unknown, needle: string, depth = 0): boolean {
  if (typeof value === 'string') return value === needle;
  if (depth > 6 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => holds(v, needle, depth + 1));
}
