import type { ManifestMemory } from '../../handlers/domain/memory-capture';
import { sanitize, seconds } from './format';

/**
 * The manifest's `memory` section as `case show` prints it: status and why, the tool that ran (name, version, hash),
 * the image's size and the SHA-256 the host computed, the volume / snapshot / evidence snapshot ids, the Run Command,
 * and the time the interfaces spent in the acquisition channel. Nothing for a manifest sealed without the section. Pure.
 */
export function renderMemorySummary(m: { memory?: ManifestMemory | null }): string[] {
  const mem = m.memory;
  if (!mem) return [];
  const lines = ['', 'Memory'];
  const field = (name: string, value: string) => lines.push(`  ${name.padEnd(18)}${sanitize(value)}`);
  field('status', `${mem.status}${mem.reason ? ` (${mem.reason})` : ''}`);
  if (mem.tool) field('tool', `${mem.tool.name} ${mem.tool.version}, sha256 ${mem.tool.sha256}`);
  if (mem.imageSizeBytes !== null) field('image size', `${mem.imageSizeBytes} bytes (${(mem.imageSizeBytes / 2 ** 20).toFixed(1)} MiB, compressed)`);
  if (mem.hostSha256) field('host SHA-256', `${mem.hostSha256} (computed on the instance; the workstation's mount report recomputes it)`);
  if (mem.volumeId) field('capture volume', mem.volumeId);
  if (mem.snapshotId) field('volume snapshot', mem.snapshotId);
  if (mem.evidenceSnapshotId) field('evidence snapshot', mem.evidenceSnapshotId);
  if (mem.commandId) field('run command', mem.commandId);
  if (mem.startedAt || mem.endedAt) field('capture', `${mem.startedAt ?? '-'} to ${mem.endedAt ?? '-'}`);
  const ch = mem.channel;
  if (ch) {
    const groups = ch.groups.map((g) => `${g.vpcId}: ${g.groupId}`).join(', ');
    field('channel', `${groups || 'no group'}; opened ${ch.openedAt ?? '-'}, closed ${ch.closedAt ?? '-'} (${seconds(ch.seconds)} in the channel)`);
  }
  return lines;
}
