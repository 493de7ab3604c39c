import { regionOfKeyArn } from './evidence-regions';
import { type DrillOptions, drillOf } from './drill';
import { preIncidentOf } from './instance-store';
import { preservationOf } from './preservation';
import { scopeSections } from './scope-manifest';
import type { ManifestMemory } from './memory-capture';
import { type MemoryState, manifestMemoryOf, skippedManifestMemory } from './memory-state';
import type { CaseRecord } from './ports';
import type { ManifestLogs, ManifestRotate, ManifestTimeline } from './scope-documents';
import type {
  AcquisitionState,
  SnapshotRef,
  CaseOptions,
  EvidenceCopy,
  FindingSummary,
  PreIncidentState,
  PreservationOutcome,
  SealedObject,
  Target,
} from './types';

/**
 * The case manifest (`cases/<caseId>/manifest.json`): what was acquired, what was changed on the instance, and the
 * SHA-256 of every evidence object written for the case. Built from the execution state and the case record; pure.
 *
 * The JSON Schema is `schemas/manifest.v1.schema.json`. A change that removes or renames a field, or changes its
 * meaning, is a new major version (new schema file); adding an optional field is a minor version.
 */

/**
 * Still 1.0: the multi-account chain only added optional members per snapshot (accounts, intermediate copy, lock
 * status and timings), and the home region others (source and evidence region, the intermediate copy's
 * region and key, hops); no required field changed; a reader of 1.0 manifests reads these unchanged.
 */
export const MANIFEST_SCHEMA_VERSION = '1.0';
export const MANIFEST_SCHEMA_ID = 'https://schemas.ec2-forensic-acquisition.dev/manifest/v1.json';

export function manifestKey(caseId: string): string {
  return `cases/${caseId}/manifest.json`;
}

export interface ManifestSnapshot {
  /** `memory`: the memory capture volume's snapshot (the `memory` section names it); absent for the instance's disks. */
  kind?: 'memory';
  volumeId: string;
  deviceName: string | null;
  sizeGiB: number | null;
  /** The snapshot taken in the workload account (crash-consistent set). */
  originalSnapshotId: string;
  originalState: string | null;
  originalStateMessage: string | null;
  /** The re-encrypted copy under the evidence key (null when not copied). */
  evidenceSnapshotId: string | null;
  kmsKeyId: string | null;
  evidenceState: string | null;
  evidenceStateMessage: string | null;
  /**
   * EBS Snapshot Lock on the evidence snapshot: null when no lock was attempted (locking disabled, or no
   * evidence snapshot). `status` says whether it is locked, or why not (optional).
   */
  lock: {
    mode: string;
    lockedUntil?: string;
    durationDays?: number;
    status?: 'locked' | 'unsupported' | 'failed';
    lockState?: string;
    lockedAt?: string;
    coolOffHours?: number;
    coolOffUntil?: string;
    reason?: string;
  } | null;
  /** Optional (multi-account): the account that owns the original snapshot (the workload account). */
  originalAccountId?: string;
  /** Optional (multi-account): the IR account that owns the evidence snapshot. */
  evidenceAccountId?: string | null;
  /** Optional, cross-account only: the workload-side copy under the evidence key, shared with the IR account. */
  intermediateCopy?: {
    snapshotId: string | null;
    accountId: string;
    sharedWith: string | null;
    removal: 'removed' | 'retained' | 'failed' | null;
    /** Optional: its region and key there (the evidence key, or its multi-Region replica). */
    region?: string;
    kmsKeyId?: string;
  } | null;
  /** Optional: the region of the original snapshot (the instance's region). */
  sourceRegion?: string;
  /** Optional: the region of the evidence snapshot (the home region, where `kmsKeyId` is a key). */
  evidenceRegion?: string | null;
  /** Optional: every copy, share and lock of the chain, in order, where it happened and when. */
  hops?: ManifestHop[];
  /** Optional (multi-account): when each link of the chain was requested and completed. */
  timings?: {
    originalRequestedAt: string | null;
    intermediateRequestedAt: string | null;
    intermediateCompletedAt: string | null;
    sharedAt: string | null;
    evidenceRequestedAt: string | null;
    evidenceCompletedAt: string | null;
    lockedAt: string | null;
    intermediateRemovedAt: string | null;
  };
}

/**
 * One link of a volume's evidence chain. `copy`: CopySnapshot issued in `region` by `accountId` from
 * `sourceRegion`, under `kmsKeyId` (a key of `region`); `share`: createVolumePermission for the IR account; `lock`: EBS
 * Snapshot Lock of the evidence snapshot. Timestamps are null when the step has not happened (or failed first).
 */
export interface ManifestHop {
  kind: 'workload-copy' | 'share' | 'ir-copy' | 'lock';
  accountId: string;
  region: string;
  sourceRegion?: string;
  snapshotId: string | null;
  kmsKeyId?: string | null;
  requestedAt: string | null;
  completedAt: string | null;
}

export interface ManifestContainment {
  network: {
    startedAt: string;
    containedAt: string;
    isolationGroups: { vpcId: string; transitionGroupId: string; isolationGroupId: string; created: boolean }[];
    networkInterfaces: {
      networkInterfaceId: string;
      vpcId: string;
      originalGroupIds: string[];
      isolationGroupId: string;
      isolatedAt: string;
    }[];
  } | null;
}

export interface ManifestPreIncident {
  capturedAt: string;
  instanceState: string;
  instanceType: string | null;
  imageId: string | null;
  launchTime: string | null;
  availabilityZone: string | null;
  vpcId: string | null;
  subnetId: string | null;
  privateIpAddress: string | null;
  publicIpAddress: string | null;
  iamInstanceProfileArn: string | null;
  autoScalingGroup: { name: string; lifecycleState: string } | null;
  targetGroupArns: string[];
  networkInterfaces: { networkInterfaceId: string; vpcId: string; groupIds: string[] }[];
  volumes: { volumeId: string; deviceName: string; sizeGiB: number; encrypted: boolean; kmsKeyId: string | null }[];
  instanceStoreDevices: { deviceName: string; note: string }[];
  tags: Record<string, string>;
}

export interface ManifestV1 {
  $schema: string;
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  caseId: string;
  executionArn: string;
  evidenceBucket: string;
  target: Target;
  source: 'guardduty' | 'manual';
  reason: string | null;
  requestedBy: string | null;
  options: CaseOptions | null;
  findings: FindingSummary[];
  snapshots: ManifestSnapshot[];
  preservation: PreservationOutcome[];
  containment: ManifestContainment;
  /** The forensic workstation (null until the workstation is implemented, or when not requested). */
  workstation: null;
  preIncident: ManifestPreIncident | null;
  timings: {
    openedAt: string;
    snapshotRequestedAt: string | null;
    containedAt: string | null;
    sealedAt: string;
    /** Seconds from the case opening (the workflow receiving the finding) to the last ENI isolated. */
    timeToContainmentSeconds: number | null;
  };
  /** Every evidence object of the case written before the manifest, custody chain first, with its SHA-256. */
  objects: SealedObject[];
  /** Optional (1.x minor): present only for a drill case (`forensics drill`, handlers/domain/drill.ts). */
  drill?: DrillOptions;
  /** Optional (1.x minor): the principal's CloudTrail timeline (handlers/domain/scope-documents.ts). */
  timeline?: ManifestTimeline;
  /** Optional (1.x minor): the incident window's preserved logs. */
  logs?: ManifestLogs;
  /** Optional (1.x minor): what the compromised role could read, ranked, to rotate. */
  rotate?: ManifestRotate;
  /** Optional (1.x minor): the memory capture (handlers/domain/memory-capture.ts); absent when none was planned. */
  memory?: ManifestMemory;
}

/** The memory capture's latest state: advanced by the snapshot loop, else as "Start memory capture" left it. */
export function memoryOfState(state: AcquisitionState): MemoryState | undefined {
  return state.snapshotProgress?.memory ?? state.memory;
}

/**
 * The manifest's `memory` section: from the capture's state, with the evidence copy of its snapshot; a skipped plan
 * with its reason; a capture whose start step failed as failed. Absent for a case that planned nothing.
 */
export function memorySection(state: AcquisitionState): { memory?: ManifestMemory } {
  const plan = state.acquisition?.memoryPlan;
  const memory = memoryOfState(state);
  if (memory) {
    const copy = memory.snapshot ? state.evidence?.copies.find((c) => c.sourceSnapshotId === memory.snapshot?.snapshotId) : undefined;
    return { memory: manifestMemoryOf(memory, { evidenceSnapshotId: copy?.evidenceSnapshotId ?? null }) };
  }
  if (plan?.decision === 'skip') return { memory: skippedManifestMemory(plan.reason, plan.detail) };
  if (plan?.decision === 'capture') {
    const reason = state.memoryFailure
      ? `Start memory capture failed: ${state.memoryFailure.Error}`
      : 'planned, not started (the acquisition ended before the memory step)';
    return {
      memory: { ...skippedManifestMemory('failed', reason), status: 'failed', reason, tool: plan.tool },
    };
  }
  return {};
}

/** Summary of the pre-incident state for the manifest and the case record (instance.json holds it all). */
export function summarizePreIncident(pre: PreIncidentState): ManifestPreIncident {
  return {
    capturedAt: pre.capturedAt,
    instanceState: pre.instanceState,
    instanceType: pre.instanceType ?? null,
    imageId: pre.imageId ?? null,
    launchTime: pre.launchTime ?? null,
    availabilityZone: pre.availabilityZone ?? null,
    vpcId: pre.vpcId ?? null,
    subnetId: pre.subnetId ?? null,
    privateIpAddress: pre.privateIpAddress ?? null,
    publicIpAddress: pre.publicIpAddress ?? null,
    iamInstanceProfileArn: pre.iamInstanceProfile?.arn ?? null,
    autoScalingGroup: pre.autoScalingGroup ?? null,
    targetGroupArns: pre.targetGroups.map((tg) => tg.targetGroupArn),
    networkInterfaces: pre.networkInterfaces.map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      groupIds: eni.groups.map((g) => g.groupId),
    })),
    volumes: pre.volumes.map((v) => ({
      volumeId: v.volumeId,
      deviceName: v.deviceName,
      sizeGiB: v.sizeGiB,
      encrypted: v.encrypted,
      kmsKeyId: v.kmsKeyId ?? null,
    })),
    instanceStoreDevices: pre.instanceStoreDevices.map((d) => ({ deviceName: d.deviceName, note: d.note })),
    tags: { ...pre.tags },
  };
}

/**
 * Volume → original snapshot → evidence snapshot, joined from the acquisition, the snapshot poll and the copies.
 * Exported because the case summary returned by close-case and record-failure lists the same chain.
 */
export function snapshotLineage(state: AcquisitionState): ManifestSnapshot[] {
  const progress = new Map((state.snapshotProgress?.volumes ?? []).map((v) => [v.snapshotId, v]));
  const copies = new Map((state.evidence?.copies ?? []).map((c) => [c.sourceSnapshotId, c]));
  const volumeSize = new Map((state.describe?.preIncident.volumes ?? []).map((v) => [v.volumeId, v.sizeGiB]));
  const memory = memoryOfState(state);
  const memorySnapshot: (SnapshotRef & { kind?: 'memory' })[] =
    memory?.snapshot && memory.volume
      ? [{ volumeId: memory.volume.volumeId, snapshotId: memory.snapshot.snapshotId, sizeGiB: memory.volume.sizeGiB, ...(memory.attachment ? { deviceName: memory.attachment.device } : {}), startTime: memory.snapshot.requestedAt, kind: 'memory' }]
      : [];
  const disks: (SnapshotRef & { kind?: 'memory' })[] = state.acquisition?.snapshots ?? [];
  return [...disks, ...memorySnapshot].map((snap) => {
    const p = progress.get(snap.snapshotId);
    const c = copies.get(snap.snapshotId);
    return {
      ...(snap.kind ? { kind: snap.kind } : {}),
      volumeId: snap.volumeId,
      deviceName: snap.deviceName ?? null,
      sizeGiB: snap.sizeGiB ?? volumeSize.get(snap.volumeId) ?? null,
      originalSnapshotId: snap.snapshotId,
      originalState: p?.state ?? null,
      originalStateMessage: p?.stateMessage ?? null,
      evidenceSnapshotId: c?.evidenceSnapshotId ?? null,
      // The key of the evidence snapshot: none when no copy exists (a skipped copy only names the intended key).
      kmsKeyId: c?.evidenceSnapshotId ? c.kmsKeyId : null,
      evidenceState: c?.state ?? null,
      evidenceStateMessage: c?.stateMessage ?? null,
      lock:
        c?.lock && c.lock.status !== 'disabled' && c.lock.mode
          ? {
              mode: c.lock.mode,
              status: c.lock.status,
              ...(c.lock.lockedUntil ? { lockedUntil: c.lock.lockedUntil } : {}),
              ...(c.lock.durationDays !== undefined ? { durationDays: c.lock.durationDays } : {}),
              ...(c.lock.lockState ? { lockState: c.lock.lockState } : {}),
              ...(c.lock.lockedAt ? { lockedAt: c.lock.lockedAt } : {}),
              ...(c.lock.coolOffHours !== undefined ? { coolOffHours: c.lock.coolOffHours } : {}),
              ...(c.lock.coolOffUntil ? { coolOffUntil: c.lock.coolOffUntil } : {}),
              ...(c.lock.reason ? { reason: c.lock.reason } : {}),
            }
          : null,
      originalAccountId: c?.sourceAccountId ?? state.case.target.accountId,
      evidenceAccountId: c?.evidenceSnapshotId ? evidenceAccountOf(c, state.case.target.accountId) : null,
      intermediateCopy: c?.intermediate
        ? {
            snapshotId: c.intermediate.snapshotId ?? null,
            accountId: c.intermediate.accountId,
            sharedWith: c.intermediate.sharedWith ?? null,
            removal: c.intermediate.removal?.status ?? null,
            ...(c.intermediate.region ? { region: c.intermediate.region } : {}),
            ...(c.intermediate.kmsKeyId ? { kmsKeyId: c.intermediate.kmsKeyId } : {}),
          }
        : null,
      sourceRegion: c?.sourceRegion ?? state.case.target.region,
      evidenceRegion: c?.evidenceSnapshotId ? (c.evidenceRegion ?? regionOfKeyArn(c.kmsKeyId) ?? state.case.target.region) : null,
      hops: c ? hopsOf(c, state.case.target) : [],
      timings: {
        originalRequestedAt: snap.startTime ?? state.acquisition?.snapshotRequestedAt ?? null,
        intermediateRequestedAt: c?.intermediate?.requestedAt ?? null,
        intermediateCompletedAt: c?.intermediate?.completedAt ?? null,
        sharedAt: c?.intermediate?.sharedAt ?? null,
        evidenceRequestedAt: c?.requestedAt ?? null,
        evidenceCompletedAt: c?.completedAt ?? null,
        lockedAt: c?.lock?.lockedAt ?? null,
        intermediateRemovedAt: c?.intermediate?.removal?.status === 'removed' ? (c.intermediate.removal.at ?? null) : null,
      },
    };
  });
}

/** The copies, share and lock a volume's evidence went through, from what the steps recorded. */
function hopsOf(c: EvidenceCopy, target: AcquisitionState['case']['target']): ManifestHop[] {
  const hops: ManifestHop[] = [];
  const i = c.intermediate;
  if (i) {
    const region = i.region ?? c.sourceRegion ?? target.region;
    hops.push({
      kind: 'workload-copy',
      accountId: i.accountId,
      region,
      sourceRegion: c.sourceRegion ?? target.region,
      snapshotId: i.snapshotId ?? null,
      kmsKeyId: i.kmsKeyId ?? null,
      requestedAt: i.requestedAt ?? null,
      completedAt: i.completedAt ?? null,
    });
    if (i.sharedWith || i.sharedAt) {
      hops.push({ kind: 'share', accountId: i.accountId, region, snapshotId: i.snapshotId ?? null, requestedAt: i.sharedAt ?? null, completedAt: i.sharedAt ?? null });
    }
  }
  if (c.evidenceSnapshotId) {
    const region = c.evidenceRegion ?? regionOfKeyArn(c.kmsKeyId) ?? target.region;
    const accountId = evidenceAccountOf(c, target.accountId);
    hops.push({
      kind: 'ir-copy',
      accountId,
      region,
      sourceRegion: i?.region ?? c.sourceRegion ?? target.region,
      snapshotId: c.evidenceSnapshotId,
      kmsKeyId: c.kmsKeyId,
      requestedAt: c.requestedAt ?? null,
      completedAt: c.completedAt ?? null,
    });
    if (c.lock && c.lock.status !== 'disabled') {
      hops.push({ kind: 'lock', accountId, region, snapshotId: c.evidenceSnapshotId, requestedAt: c.lock.lockedAt ?? null, completedAt: c.lock.status === 'locked' ? (c.lock.lockedAt ?? null) : null });
    }
  }
  return hops;
}

/** The evidence snapshot's owner: the IR account (the evidence key's account) when the chain crossed accounts. */
function evidenceAccountOf(c: { kmsKeyId: string; intermediate?: { sharedWith?: string } }, targetAccount: string): string {
  return c.intermediate?.sharedWith ?? /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(c.kmsKeyId)?.[1] ?? targetAccount;
}

export function secondsBetween(from: string, to: string): number | null {
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  // Milliseconds kept to three decimals: containment is measured in seconds, but sub-second runs happen locally.
  return Math.round(b - a) / 1000;
}

/** Builds the manifest. `objects` are the evidence objects to list (custody chain first, then the others). */
export function buildManifest(input: {
  state: AcquisitionState;
  caseRecord?: Pick<CaseRecord, 'findings'>;
  bucket: string;
  sealedAt: string;
  objects: readonly SealedObject[];
}): ManifestV1 {
  const { state } = input;
  const c = state.case;
  const containment = state.containment;
  const findings = input.caseRecord?.findings?.length ? input.caseRecord.findings : [c.finding];
  return {
    $schema: MANIFEST_SCHEMA_ID,
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    caseId: c.caseId,
    executionArn: c.executionArn,
    evidenceBucket: input.bucket,
    target: { accountId: c.target.accountId, region: c.target.region, instanceId: c.target.instanceId },
    source: c.source,
    reason: c.reason ?? null,
    requestedBy: c.requestedBy ?? null,
    options: c.options ?? null,
    findings: findings.map((f) => ({ ...f })),
    snapshots: snapshotLineage(state),
    preservation: preservationOf(state),
    containment: {
      network: containment
        ? {
            startedAt: containment.startedAt,
            containedAt: containment.containedAt,
            isolationGroups: containment.groups.map((g) => ({
              vpcId: g.vpcId,
              transitionGroupId: g.transitionGroupId,
              isolationGroupId: g.isolationGroupId,
              created: g.created,
            })),
            networkInterfaces: containment.networkInterfaces.map((eni) => ({
              networkInterfaceId: eni.networkInterfaceId,
              vpcId: eni.vpcId,
              originalGroupIds: [...eni.originalGroupIds],
              isolationGroupId: eni.isolationGroupId,
              isolatedAt: eni.isolatedAt,
            })),
          }
        : null,
    },
    workstation: null,
    preIncident: state.describe ? summarizePreIncident(preIncidentOf(state) ?? state.describe.preIncident) : null,
    timings: {
      openedAt: c.openedAt,
      snapshotRequestedAt: state.acquisition?.snapshotRequestedAt ?? null,
      containedAt: containment?.containedAt ?? null,
      sealedAt: input.sealedAt,
      timeToContainmentSeconds: containment ? secondsBetween(c.openedAt, containment.containedAt) : null,
    },
    objects: input.objects.map((o) => ({ key: o.key, sha256: o.sha256, ...(o.versionId ? { versionId: o.versionId } : {}) })),
    ...(drillOf(c.options) ? { drill: drillOf(c.options) as DrillOptions } : {}),
    // The scope's sections (its objects are in the case's evidence index, listed in `objects`).
    ...scopeSections(state),
    ...memorySection(state),
  };
}
