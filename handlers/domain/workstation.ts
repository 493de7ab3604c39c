import type { ManifestSnapshot } from './manifest';
import type { WorkstationResult, WorkstationSubnet, WorkstationVolume } from './workstation-result';

/**
 * The forensic workstation's pure decisions (DESIGN.md step 10): which evidence snapshots become volumes, in which
 * order and on which device, which subnet (and so which availability zone) the workstation is launched in, and the
 * keys and tags of what it creates. No I/O: the use case (handlers/use-cases/launch-workstation.ts) does the calls.
 */

export type { WorkstationResult, WorkstationSubnet, WorkstationVolume } from './workstation-result';

/**
 * Devices the evidence volumes are attached on, in order. AWS recommends /dev/sd[f-p] for EBS data volumes on
 * Linux; /dev/sd[q-z] are accepted too. The workstation's own root volume is /dev/xvda, so none of these collide.
 */
export const WORKSTATION_DEVICES: readonly string[] = 'fghijklmnopqrstuvwxyz'.split('').map((l) => `/dev/sd${l}`);

/** The object written once per workstation launch, next to the manifest (the manifest is sealed before it exists). */
export function workstationRecordKey(caseId: string, instanceId: string): string {
  return `cases/${caseId}/workstation-${instanceId}.json`;
}

/** The mount report the workstation's user data writes (one per workstation instance). */
export function mountReportKey(caseId: string, instanceId: string): string {
  return `${analysisPrefix(caseId)}mount-report-${instanceId}.json`;
}

/** Where the workstation's user data writes its mount report, and where analysts write results. */
export function analysisPrefix(caseId: string): string {
  return `cases/${caseId}/analysis/`;
}

/**
 * Sort key of an original device name, so volumes attach in the instance's own order: root device first, then by
 * the drive letter(s) and partition number, whatever the naming scheme (`/dev/xvda`, `/dev/sda1`, `/dev/sdf`,
 * `xvdg`, `/dev/sdaa`). Unknown shapes sort last, by name.
 */
export function deviceSortKey(deviceName: string | null | undefined): [number, string, number, string] {
  const name = (deviceName ?? '').replace(/^\/dev\//, '');
  const m = /^(?:xv|s|h|v)d([a-z]+)(\d*)$/.exec(name);
  if (!m) return [1, '', 0, name];
  // Two-letter suffixes (sdaa) come after one-letter ones (sdz): pad so the string compare orders them by length.
  const letters = m[1]!.padStart(3, ' ');
  return [0, letters, m[2] ? Number(m[2]) : 0, name];
}

function compareDevices(a: string | null | undefined, b: string | null | undefined): number {
  const ka = deviceSortKey(a);
  const kb = deviceSortKey(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i]! < kb[i]!) return -1;
    if (ka[i]! > kb[i]!) return 1;
  }
  return 0;
}

export class NoEvidenceSnapshots extends Error {
  override readonly name = 'NoEvidenceSnapshots';
}

export class TooManyEvidenceVolumes extends Error {
  override readonly name = 'TooManyEvidenceVolumes';
}

export class NoWorkstationSubnet extends Error {
  override readonly name = 'NoWorkstationSubnet';
}

export class WorkstationRegionMismatch extends Error {
  override readonly name = 'WorkstationRegionMismatch';
}

export class WorkstationNotAttached extends Error {
  override readonly name = 'WorkstationNotAttached';
}

export class WorkstationNotFound extends Error {
  override readonly name = 'WorkstationNotFound';
}

/** One evidence volume to create: the completed evidence snapshot of one source volume, and where it goes. */
export type PlannedVolume = Pick<
  WorkstationVolume,
  'sourceVolumeId' | 'sourceDeviceName' | 'evidenceSnapshotId' | 'attachDevice' | 'sizeGiB'
>;

/**
 * Which evidence snapshots become workstation volumes, in the original device order (root first), each with the
 * device it is attached on (/dev/sdf, /dev/sdg, …). Only completed evidence copies (IR-owned, evidence key) are
 * used — never the workload account's original snapshots.
 */
export function planWorkstationVolumes(input: {
  snapshots: readonly Pick<
    ManifestSnapshot,
    'volumeId' | 'deviceName' | 'sizeGiB' | 'evidenceSnapshotId' | 'evidenceState'
  >[];
  rootDeviceName?: string | null;
}): PlannedVolume[] {
  const usable = input.snapshots.filter((s) => s.evidenceState === 'completed' && s.evidenceSnapshotId);
  if (usable.length === 0) throw new NoEvidenceSnapshots('no completed evidence snapshot to build workstation volumes from');
  if (usable.length > WORKSTATION_DEVICES.length) {
    throw new TooManyEvidenceVolumes(
      `${usable.length} evidence volumes, but a workstation attaches at most ${WORKSTATION_DEVICES.length} (/dev/sdf../dev/sdz)`,
    );
  }
  const root = input.rootDeviceName ?? undefined;
  const ordered = [...usable].sort((a, b) => {
    const ra = root !== undefined && a.deviceName === root ? 0 : 1;
    const rb = root !== undefined && b.deviceName === root ? 0 : 1;
    return ra - rb || compareDevices(a.deviceName, b.deviceName) || a.volumeId.localeCompare(b.volumeId);
  });
  return ordered.map((s, i) => ({
    sourceVolumeId: s.volumeId,
    sourceDeviceName: s.deviceName ?? null,
    evidenceSnapshotId: s.evidenceSnapshotId as string,
    attachDevice: WORKSTATION_DEVICES[i] as string,
    sizeGiB: s.sizeGiB ?? null,
  }));
}

/**
 * The subnet the workstation is launched in, which fixes the availability zone of its volumes: among the available
 * isolated subnets, the one with the most free addresses (ties: the availability zone name, then the subnet id, so
 * the choice is deterministic and a retry picks the same one).
 */
export function chooseWorkstationSubnet(subnets: readonly WorkstationSubnet[]): WorkstationSubnet {
  const available = subnets.filter((s) => s.state === 'available' && s.availableIpAddressCount > 0);
  if (available.length === 0) {
    throw new NoWorkstationSubnet(
      subnets.length === 0
        ? 'no workstation subnet found (check WORKSTATION_SUBNET_IDS)'
        : `no workstation subnet with free addresses (${subnets.map((s) => `${s.subnetId}: ${s.state}, ${s.availableIpAddressCount} free`).join('; ')})`,
    );
  }
  return [...available].sort(
    (a, b) =>
      b.availableIpAddressCount - a.availableIpAddressCount ||
      a.availabilityZone.localeCompare(b.availabilityZone) ||
      a.subnetId.localeCompare(b.subnetId),
  )[0] as WorkstationSubnet;
}

/**
 * Tags of the workstation instance, which its user data reads from IMDS (instance metadata tags): the case id, how
 * many evidence volumes to wait for, and for each workstation volume the source volume it is a copy of
 * (`<prefix>:source-of:<volumeId>`), so the mount report names the compromised instance's volume.
 */
export function workstationInstanceTags(
  tagPrefix: string,
  caseId: string,
  volumes: readonly { volumeId: string; sourceVolumeId: string }[] = [],
): Record<string, string> {
  return {
    [`${tagPrefix}:case-id`]: caseId,
    [`${tagPrefix}:role`]: 'workstation',
    [`${tagPrefix}:evidence-volumes`]: String(volumes.length),
    ...Object.fromEntries(volumes.map((v) => [`${tagPrefix}:source-of:${v.volumeId}`, v.sourceVolumeId])),
    Name: `forensic-workstation-${caseId}`,
  };
}

/** Tags of one evidence volume: case, source volume and device, evidence snapshot, device on the workstation. */
export function workstationVolumeTags(tagPrefix: string, caseId: string, v: PlannedVolume): Record<string, string> {
  return {
    [`${tagPrefix}:case-id`]: caseId,
    [`${tagPrefix}:role`]: 'workstation-volume',
    [`${tagPrefix}:source-volume`]: v.sourceVolumeId,
    ...(v.sourceDeviceName ? { [`${tagPrefix}:source-device`]: v.sourceDeviceName } : {}),
    [`${tagPrefix}:evidence-snapshot`]: v.evidenceSnapshotId,
    [`${tagPrefix}:attach-device`]: v.attachDevice,
    Name: `evidence-${v.sourceVolumeId}`,
  };
}

/** The manifest-like record of one workstation (`workstation-<time>.json`), canonicalised by the store. */
export function workstationRecord(input: {
  caseId: string;
  bucket: string;
  result: Omit<WorkstationResult, 'record'>;
}): Record<string, unknown> {
  return {
    schema: 'forensics/workstation/v1',
    caseId: input.caseId,
    instanceId: input.result.instanceId,
    launchTemplateId: input.result.launchTemplateId,
    subnetId: input.result.subnetId,
    availabilityZone: input.result.availabilityZone,
    launchedAt: input.result.launchedAt,
    metadataOptions: input.result.metadataOptions,
    volumes: input.result.volumes.map((v) => ({ ...v })),
    allAttached: input.result.allAttached,
    mountReport: `s3://${input.bucket}/${mountReportKey(input.caseId, input.result.instanceId)}`,
    note:
      'Volumes are created from the IR-owned evidence snapshots (the snapshots themselves are never modified) and ' +
      'mounted read-only by the workstation user data (ext4 ro,noload; xfs ro,norecovery,nouuid; others ro).',
  };
}
