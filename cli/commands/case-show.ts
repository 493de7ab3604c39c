import { S3Client } from '@aws-sdk/client-s3';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import type { CaseRecord } from '../../handlers/domain/ports';
import { type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { renderTable, sanitize, seconds, shortHash } from '../output/format';
import type { ManifestMemory } from '../../handlers/domain/memory-capture';
import { renderMemorySummary } from '../output/memory-summary';
import { renderScopeSummary } from '../output/scope-summary';
import { EXIT_OK, type Io, OperationFailed, parseOutputFormat, runCommand } from './common';
import { loadCustody, loadManifest, readCaseRecord, requireCaseId } from './evidence-reader';

/**
 * `forensics case show <caseId>`: the sealed manifest in readable form (target, findings, snapshots with their
 * evidence copies and locks, containment, the incident scope and memory capture when recorded, workstation) and the custody timeline read from the custody records
 * themselves. A case that was never sealed (failed, or still acquiring) shows what the case table holds.
 */

export interface ShowOptions extends DeploymentOptions {
  output?: string;
}

export interface CustodyTimelineEntry {
  key: string;
  seq: number | null;
  step: string | null;
  action: string | null;
  status: string | null;
  performedAt: string | null;
  sha256: string;
  versions: number;
}

export interface CaseView {
  caseId: string;
  status: string | null;
  manifest: ManifestV1 | null;
  manifestSha256: string | null;
  record: Pick<CaseRecord, 'status' | 'openedAt' | 'updatedAt' | 'target' | 'findings' | 'failure' | 'executionArn'> | null;
  custody: CustodyTimelineEntry[];
}

export async function runCaseShow(caseId: string, options: ShowOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    requireCaseId(caseId);
    const deployment = await resolveDeployment(options, ['bucket', 'table']);
    const view = await loadCaseView(deployment, caseId);
    if (format === 'json') io.out(JSON.stringify(view, null, 2));
    else for (const line of renderCaseView(view)) io.out(line);
    return EXIT_OK;
  });
}

export async function loadCaseView(
  deployment: Awaited<ReturnType<typeof resolveDeployment>>,
  caseId: string,
): Promise<CaseView> {
  const record = await readCaseRecord(deployment, caseId);
  const s3 = new S3Client(s3Config(deployment));
  try {
    const bucket = deployment.bucket as string;
    let manifest: ManifestV1 | null = null;
    let manifestSha256: string | null = null;
    try {
      const loaded = await loadManifest(s3, bucket, caseId, record);
      manifest = loaded.manifest;
      manifestSha256 = loaded.object.sha256;
    } catch (err) {
      if (!(err instanceof OperationFailed) || !record) throw err;
    }
    if (!manifest && !record) throw new OperationFailed(`case ${caseId}: not found`);
    const { entries } = await loadCustody(s3, bucket, caseId);
    const custody = entries.map((e) => ({
      key: e.key,
      seq: e.record?.seq ?? null,
      step: e.record?.step ?? null,
      action: e.record?.action ?? null,
      status: e.record?.status ?? null,
      performedAt: e.record?.performedAt ?? null,
      sha256: e.object.sha256,
      versions: e.versionCount,
    }));
    return {
      caseId,
      status: record?.status ?? null,
      manifest,
      manifestSha256,
      record: record
        ? {
            status: record.status,
            openedAt: record.openedAt,
            updatedAt: record.updatedAt,
            target: record.target,
            findings: record.findings,
            executionArn: record.executionArn,
            ...(record.failure ? { failure: record.failure } : {}),
          }
        : null,
      custody,
    };
  } finally {
    s3.destroy();
  }
}

/** The text form. Pure, so the unit tests pin the layout. */
export function renderCaseView(view: CaseView): string[] {
  const m = view.manifest;
  const lines: string[] = [];
  const target = m?.target ?? view.record?.target;
  const field = (name: string, value: string) => lines.push(`${name.padEnd(14)}${sanitize(value)}`);
  lines.push(`Case ${view.caseId}`);
  field('Status', view.status ?? 'unknown (not in the case table)');
  if (target) field('Target', `${target.instanceId} in account ${target.accountId}, ${target.region}`);
  if (m) {
    field('Source', m.source + (m.requestedBy ? ` (requested by ${m.requestedBy})` : ''));
    if (m.reason) field('Reason', m.reason);
    field('Execution', m.executionArn);
    field('Manifest', `s3://${m.evidenceBucket}/cases/${view.caseId}/manifest.json  sha256 ${view.manifestSha256 ?? '-'}`);
    if (m.options) field('Options', `workstation ${m.options.workstation ? 'yes' : 'no'}, revoke ${m.options.revoke}`);
  } else {
    field('Manifest', 'none: the case was not sealed');
    if (view.record?.executionArn) field('Execution', view.record.executionArn);
  }
  if (view.record?.failure) {
    const f = view.record.failure;
    field('Failure', `${f.step}: ${f.error}${f.cause ? ` — ${f.cause}` : ''} (${f.at})`);
  }

  const findings = m?.findings ?? view.record?.findings ?? [];
  lines.push('', `Findings (${findings.length})`);
  for (const f of findings) {
    lines.push(`  ${sanitize(f.type)}  severity ${f.severity}  id ${sanitize(f.id)}${f.count ? `  count ${f.count}` : ''}`);
    if (f.title) lines.push(`    ${sanitize(f.title)}`);
  }

  if (m) {
    lines.push('', `Snapshots (${m.snapshots.length})`);
    if (m.snapshots.length > 0) {
      const rows = m.snapshots.map((s) => [
        s.deviceName,
        s.volumeId,
        s.sizeGiB === null ? null : `${s.sizeGiB} GiB`,
        `${s.originalSnapshotId} (${s.originalState ?? '-'})`,
        s.evidenceSnapshotId ? `${s.evidenceSnapshotId} (${s.evidenceState ?? '-'})` : `none (${s.evidenceState ?? '-'})`,
        s.kmsKeyId,
        s.lock ? `${s.lock.mode}${s.lock.lockedUntil ? ` until ${s.lock.lockedUntil}` : ''}` : 'not locked',
      ]);
      for (const l of renderTable(['DEVICE', 'VOLUME', 'SIZE', 'ORIGINAL SNAPSHOT', 'EVIDENCE COPY', 'KEY', 'LOCK'], rows)) lines.push(`  ${l}`);
    }

    lines.push('', 'Containment');
    const net = m.containment.network;
    if (net) {
      lines.push(`  network isolated at ${net.containedAt} (${seconds(m.timings.timeToContainmentSeconds)} after the case opened)`);
      for (const g of net.isolationGroups) {
        lines.push(`  ${g.vpcId}: isolation group ${g.isolationGroupId}, transition group ${g.transitionGroupId}${g.created ? ' (created)' : ''}`);
      }
      for (const eni of net.networkInterfaces) {
        lines.push(`  ${eni.networkInterfaceId}: ${eni.originalGroupIds.join(', ') || '(none)'} -> ${eni.isolationGroupId}`);
      }
    } else {
      lines.push('  network: not isolated');
    }
    for (const p of m.preservation) {
      lines.push(`  ${p.action}: ${p.status}${p.detail ? ` (${sanitize(p.detail)})` : ''}`);
    }

    lines.push(...renderScopeSummary(m));
    lines.push(...renderMemorySummary(m as ManifestV1 & { memory?: ManifestMemory | null }));

    lines.push('', `Workstation   ${m.workstation ? (m.workstation as { instanceId: string }).instanceId : 'none'}`);

    const pre = m.preIncident;
    if (pre) {
      lines.push('', `Pre-incident state (captured ${pre.capturedAt})`);
      lines.push(`  ${pre.instanceType ?? '-'} ${pre.imageId ?? '-'} in ${pre.availabilityZone ?? '-'}, ${pre.instanceState}, launched ${pre.launchTime ?? '-'}`);
      lines.push(`  VPC ${pre.vpcId ?? '-'} subnet ${pre.subnetId ?? '-'}, private IP ${pre.privateIpAddress ?? '-'}, public IP ${pre.publicIpAddress ?? '-'}`);
      lines.push(`  instance profile ${pre.iamInstanceProfileArn ?? '-'}`);
      if (pre.autoScalingGroup) lines.push(`  Auto Scaling group ${pre.autoScalingGroup.name} (${pre.autoScalingGroup.lifecycleState})`);
      if (pre.targetGroupArns.length) lines.push(`  target groups ${pre.targetGroupArns.join(', ')}`);
      for (const d of pre.instanceStoreDevices) lines.push(`  instance store ${d.deviceName}: ${sanitize(d.note)}`);
    }

    lines.push('', 'Timings');
    lines.push(`  opened ${m.timings.openedAt}, snapshots requested ${m.timings.snapshotRequestedAt ?? '-'}, contained ${m.timings.containedAt ?? '-'}, sealed ${m.timings.sealedAt}`);
    lines.push('', `Evidence objects listed in the manifest (${m.objects.length})`);
    for (const o of m.objects) lines.push(`  ${shortHash(o.sha256)}  ${o.key}`);
  }

  lines.push('', `Custody timeline (${view.custody.length} records)`);
  if (view.custody.length > 0) {
    const rows = view.custody.map((c) => [
      c.seq === null ? null : String(c.seq).padStart(3, '0'),
      c.performedAt,
      c.step,
      c.action,
      c.status,
      c.versions > 1 ? `${shortHash(c.sha256)} (${c.versions} versions!)` : shortHash(c.sha256),
    ]);
    for (const l of renderTable(['SEQ', 'PERFORMED AT (UTC)', 'STEP', 'ACTION', 'STATUS', 'SHA-256'], rows)) lines.push(`  ${l}`);
  }
  return lines;
}
