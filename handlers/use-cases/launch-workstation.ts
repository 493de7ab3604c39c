import { createHash } from 'node:crypto';
import type { Ec2WorkstationAdapter, WorkstationVolumeStatus } from '../adapters/ec2-workstation-adapter';
import { WORKSTATION_METADATA_OPTIONS } from '../adapters/ec2-workstation-adapter';
import { drillObjectRetention } from '../domain/drill';
import { errorMessage } from '../domain/errors';
import { CaseNotFound, EvidenceExists } from '../domain/evidence-errors';
import { canonicalBody } from '../domain/hashing';
import type { ManifestSnapshot } from '../domain/manifest';
import type { Clock, CustodyLog, EvidenceCaseTable, EvidenceStore } from '../domain/ports';
import type { CaseRef, CustodyAction, SealedObject } from '../domain/types';
import {
  type PlannedVolume,
  type WorkstationResult,
  type WorkstationVolume,
  WorkstationNotAttached,
  WorkstationNotFound,
  WorkstationRegionMismatch,
  analysisPrefix,
  chooseWorkstationSubnet,
  planWorkstationVolumes,
  workstationInstanceTags,
  workstationRecord,
  workstationRecordKey,
  workstationVolumeTags,
} from '../domain/workstation';

/** Step name in custody records (the handler's file name, like the other steps). */
export const WORKSTATION_STEP = 'launch-workstation';

export interface WorkstationConfig {
  /** Region of the forensic VPC (the IR stack's region). */
  region: string;
  tagPrefix: string;
  evidenceKeyArn: string;
  subnetIds: string[];
  launchTemplateId: string;
  securityGroupId: string;
}

export interface WorkstationDeps {
  ec2: Ec2WorkstationAdapter;
  cases: EvidenceCaseTable;
  store: EvidenceStore;
  custody: CustodyLog;
  clock: Clock;
  config: WorkstationConfig;
  /** Bounded wait for volumes, instance and attachments: polls × interval (default 48 × 5 s = 4 min). */
  wait?: { polls?: number; intervalMs?: number; sleep?: (ms: number) => Promise<void> };
}

export interface LaunchWorkstationInput {
  caseRef: Pick<CaseRef, 'caseId' | 'executionArn' | 'target'>;
  /** Volume → original snapshot → evidence snapshot, as in the manifest (`snapshotLineage`). */
  snapshots: readonly (Pick<ManifestSnapshot, 'volumeId' | 'deviceName' | 'sizeGiB' | 'evidenceSnapshotId' | 'evidenceState'> &
    Pick<ManifestSnapshot, 'evidenceRegion'>)[];
  rootDeviceName?: string | null;
  /** Who asked: recorded in custody (`acquisition` for the workflow step, the CLI user otherwise). */
  requestedBy?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** ClientToken for CreateVolume/RunInstances: the same request on a retry, ≤ 64 characters. */
function token(...parts: string[]): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 48);
}

/**
 * "Launch forensic workstation" (after sealing): a volume from each IR-owned evidence snapshot in the availability
 * zone of the chosen workstation subnet (evidence key, case tags), the workstation from the launch template (IMDSv2
 * only, hop limit 1, no public address, no key pair), the volumes attached in the original device order, a bounded
 * wait until every attachment is `attached`, every action in the custody log, and a record of the workstation
 * (`cases/<caseId>/workstation-<instanceId>.json`, written once under legal hold and hashed in the custody chain).
 *
 * Re-runnable: a workstation of the case that is not terminated is reused, and volumes already created for it are
 * found by their tags, so a retried step (or `forensics workstation launch` after a partial failure) completes
 * what is missing instead of launching a second one.
 */
export async function launchWorkstation(deps: WorkstationDeps, input: LaunchWorkstationInput): Promise<WorkstationResult> {
  const { config } = deps;
  const caseId = input.caseRef.caseId;
  const actions: CustodyAction[] = [];
  const now = () => deps.clock().toISOString();
  const record = (action: string, status: CustodyAction['status'], request: Record<string, unknown>, result: Record<string, unknown>) =>
    actions.push({ step: WORKSTATION_STEP, action, status, performedAt: now(), request, result });

  try {
    // The evidence snapshots are in the home region whatever the instance's region; manifests from before
    // that name no evidence region, and their evidence is in the instance's region.
    const elsewhere = [
      ...new Set(
        input.snapshots
          .filter((s) => s.evidenceSnapshotId)
          .map((s) => s.evidenceRegion ?? input.caseRef.target.region)
          .filter((r) => r !== config.region),
      ),
    ];
    if (elsewhere.length > 0) {
      throw new WorkstationRegionMismatch(
        `the evidence snapshots are in ${elsewhere.join(', ')}, the forensic VPC in ${config.region}: ` +
          'volumes can only be created from snapshots of the same region',
      );
    }
    const current = await deps.cases.getCase(caseId);
    if (!current) throw new CaseNotFound(caseId);
    const plan = planWorkstationVolumes({ snapshots: input.snapshots, rootDeviceName: input.rootDeviceName ?? null });

    const caseTags = { [`${config.tagPrefix}:case-id`]: caseId };
    const existing = (await deps.ec2.findInstances({ ...caseTags, [`${config.tagPrefix}:role`]: 'workstation' }))[0];
    const subnets = await deps.ec2.describeSubnets(config.subnetIds);
    const subnet = existing?.subnetId
      ? (subnets.find((s) => s.subnetId === existing.subnetId) ?? {
          subnetId: existing.subnetId,
          availabilityZone: existing.availabilityZone ?? '',
          state: 'available',
          availableIpAddressCount: 0,
        })
      : chooseWorkstationSubnet(subnets);
    const az = subnet.availabilityZone;

    // ── Volumes from the evidence snapshots, in the subnet's availability zone. ──
    const found = await deps.ec2.findVolumes({ ...caseTags, [`${config.tagPrefix}:role`]: 'workstation-volume' });
    const volumes: (PlannedVolume & { volumeId: string })[] = [];
    for (const p of plan) {
      const reusable = found.find(
        (v) =>
          v.tags[`${config.tagPrefix}:evidence-snapshot`] === p.evidenceSnapshotId &&
          v.availabilityZone === az &&
          (v.state === 'creating' || v.state === 'available' || v.attachments.some((a) => a.instanceId === existing?.instanceId)),
      );
      if (reusable) {
        volumes.push({ ...p, volumeId: reusable.volumeId });
        continue;
      }
      const request = { evidenceSnapshotId: p.evidenceSnapshotId, sourceVolumeId: p.sourceVolumeId, availabilityZone: az, kmsKeyId: config.evidenceKeyArn };
      const volumeId = await deps.ec2.createVolume({
        snapshotId: p.evidenceSnapshotId,
        availabilityZone: az,
        kmsKeyId: config.evidenceKeyArn,
        clientToken: token(caseId, existing?.instanceId ?? 'new', p.evidenceSnapshotId, az),
        tags: workstationVolumeTags(config.tagPrefix, caseId, p),
      });
      record('create-workstation-volume', 'succeeded', request, { volumeId, encrypted: true, sourceDevice: p.sourceDeviceName });
      volumes.push({ ...p, volumeId });
    }

    // ── The workstation. ──
    let instanceId = existing?.instanceId;
    if (!instanceId) {
      instanceId = await deps.ec2.launch({
        launchTemplateId: config.launchTemplateId,
        subnetId: subnet.subnetId,
        securityGroupId: config.securityGroupId,
        clientToken: token(caseId, 'workstation', volumes.map((v) => v.volumeId).join(',')),
        tags: workstationInstanceTags(config.tagPrefix, caseId, volumes),
      });
      record(
        'launch-workstation',
        'succeeded',
        { launchTemplateId: config.launchTemplateId, subnetId: subnet.subnetId, availabilityZone: az, securityGroupId: config.securityGroupId, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) },
        { instanceId, metadataOptions: WORKSTATION_METADATA_OPTIONS, publicIp: false, keyPair: false },
      );
    } else {
      record('reuse-workstation', 'succeeded', { caseId }, { instanceId, state: existing?.state ?? 'unknown' });
    }

    // ── Attach in the original device order, once the volumes are available and the instance runs. ──
    const wait = { polls: deps.wait?.polls ?? 48, intervalMs: deps.wait?.intervalMs ?? 5000, sleep: deps.wait?.sleep ?? defaultSleep };
    const ids = volumes.map((v) => v.volumeId);
    const ready = await pollUntil(wait, async () => {
      const [instance] = await deps.ec2.findInstances({ ...caseTags, [`${config.tagPrefix}:role`]: 'workstation' });
      const states = await deps.ec2.volumesById(ids);
      const volumesReady = ids.every((id) => states.some((s) => s.volumeId === id && (s.state === 'available' || s.state === 'in-use')));
      return instance?.instanceId === instanceId && instance.state === 'running' && volumesReady ? states : undefined;
    });
    if (!ready) throw new WorkstationNotAttached(`workstation ${instanceId} or its volumes not ready after ${wait.polls} checks`);
    for (const v of volumes) {
      const status = ready.find((s) => s.volumeId === v.volumeId);
      if (status?.attachments.some((a) => a.instanceId === instanceId)) continue;
      const state = await deps.ec2.attachVolume(v.volumeId, instanceId, v.attachDevice);
      record('attach-workstation-volume', 'succeeded', { volumeId: v.volumeId, instanceId, device: v.attachDevice }, { state, sourceVolumeId: v.sourceVolumeId, sourceDevice: v.sourceDeviceName });
    }
    const attached = await pollUntil(wait, async () => {
      const states = await deps.ec2.volumesById(ids);
      return ids.every((id) => attachmentOf(states, id, instanceId)?.state === 'attached') ? states : undefined;
    });
    if (!attached) throw new WorkstationNotAttached(`evidence volumes not attached to ${instanceId} after ${wait.polls} checks`);

    const [instance] = await deps.ec2.findInstances({ ...caseTags, [`${config.tagPrefix}:role`]: 'workstation' });
    const wsVolumes: WorkstationVolume[] = volumes.map((v) => ({
      sourceVolumeId: v.sourceVolumeId,
      sourceDeviceName: v.sourceDeviceName,
      evidenceSnapshotId: v.evidenceSnapshotId,
      sizeGiB: v.sizeGiB,
      volumeId: v.volumeId,
      attachDevice: v.attachDevice,
      attachmentState: attachmentOf(attached, v.volumeId, instanceId)?.state ?? 'unknown',
    }));
    const base: Omit<WorkstationResult, 'record'> = {
      status: 'ready',
      instanceId,
      launchTemplateId: config.launchTemplateId,
      subnetId: subnet.subnetId,
      availabilityZone: az,
      // From EC2, not the clock: a retried step rebuilds the same record body (and hash).
      launchedAt: instance?.launchTime ?? now(),
      metadataOptions: {
        httpTokens: instance?.metadataOptions.httpTokens ?? WORKSTATION_METADATA_OPTIONS.HttpTokens,
        httpPutResponseHopLimit: instance?.metadataOptions.httpPutResponseHopLimit ?? WORKSTATION_METADATA_OPTIONS.HttpPutResponseHopLimit,
        instanceMetadataTags: instance?.metadataOptions.instanceMetadataTags ?? WORKSTATION_METADATA_OPTIONS.InstanceMetadataTags,
      },
      volumes: wsVolumes,
      allAttached: true,
      analysisPrefix: `s3://${deps.store.bucket}/${analysisPrefix(caseId)}`,
    };

    // ── The record: written once, legal hold, indexed in the case and hashed in the custody chain. ──
    const key = workstationRecordKey(caseId, instanceId);
    const { body, sha256 } = canonicalBody(workstationRecord({ caseId, bucket: deps.store.bucket, result: base }));
    let written: SealedObject;
    try {
      written = await deps.store.put(key, body, 'application/json', drillObjectRetention(current.details?.options as never, deps.clock()));
    } catch (err) {
      if (!(err instanceof EvidenceExists)) throw err;
      written = { key, sha256 };
    }
    if (!(current.evidence ?? []).some((o) => o.key === key)) await deps.cases.appendEvidence(caseId, [written]);
    record('record-workstation', 'succeeded', { key }, { ...written, instanceId, volumes: wsVolumes.length });
    const result: WorkstationResult = { ...base, record: written };
    await deps.custody.append(input.caseRef, actions);
    await deps.cases.updateCase(caseId, { details: { workstation: result } });
    return result;
  } catch (err) {
    // What was done is recorded, and the failure with it; the error goes on (the state machine catches it).
    record('launch-workstation', 'failed', { caseId }, { error: (err as Error).name ?? 'Error', message: errorMessage(err) });
    try {
      await deps.custody.append(input.caseRef, actions);
      await deps.cases.updateCase(caseId, {
        details: { workstation: { status: 'failed', error: (err as Error).name ?? 'Error', message: errorMessage(err), failedAt: now() } },
      });
    } catch {
      // Recording failed too: the error below is the record (execution history, notification).
    }
    throw err;
  }
}

function attachmentOf(states: WorkstationVolumeStatus[], volumeId: string, instanceId: string) {
  return states.find((s) => s.volumeId === volumeId)?.attachments.find((a) => a.instanceId === instanceId);
}

async function pollUntil<T>(
  wait: { polls: number; intervalMs: number; sleep: (ms: number) => Promise<void> },
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  for (let i = 1; i <= wait.polls; i++) {
    const out = await check();
    if (out !== undefined) return out;
    if (i < wait.polls) await wait.sleep(wait.intervalMs);
  }
  return undefined;
}

export interface TerminateWorkstationInput {
  caseId: string;
  reason: string;
  requestedBy?: string;
  /** Delete the workstation's volumes (copies of the evidence snapshots) once detached. Default true. */
  deleteVolumes?: boolean;
}

export interface TerminateWorkstationResult {
  caseId: string;
  terminated: string[];
  deletedVolumes: string[];
  keptVolumes: { volumeId: string; reason: string }[];
}

/**
 * `forensics workstation terminate`: terminates the case's workstation(s) and deletes the volumes made for them
 * (copies; the evidence snapshots are never touched), each action in the custody log. A volume that is not
 * detached within the bounded wait is kept and reported, so running the command again finishes the clean-up.
 */
export async function terminateWorkstation(
  deps: Omit<WorkstationDeps, 'config'> & { config: Pick<WorkstationConfig, 'tagPrefix'> },
  input: TerminateWorkstationInput,
): Promise<TerminateWorkstationResult> {
  const { tagPrefix } = deps.config;
  const current = await deps.cases.getCase(input.caseId);
  if (!current) throw new CaseNotFound(input.caseId);
  const caseTags = { [`${tagPrefix}:case-id`]: input.caseId };
  const instances = await deps.ec2.findInstances({ ...caseTags, [`${tagPrefix}:role`]: 'workstation' });
  const volumes = await deps.ec2.findVolumes({ ...caseTags, [`${tagPrefix}:role`]: 'workstation-volume' });
  if (instances.length === 0 && volumes.length === 0) {
    throw new WorkstationNotFound(`case ${input.caseId} has no workstation and no workstation volume`);
  }
  const actions: CustodyAction[] = [];
  const now = () => deps.clock().toISOString();
  const who = { reason: input.reason, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) };
  const terminated: string[] = [];
  for (const i of instances) {
    const state = await deps.ec2.terminate(i.instanceId);
    terminated.push(i.instanceId);
    actions.push({ step: 'workstation-cli', action: 'terminate-workstation', status: 'succeeded', performedAt: now(), request: { instanceId: i.instanceId, ...who }, result: { state } });
  }
  const deletedVolumes: string[] = [];
  const keptVolumes: { volumeId: string; reason: string }[] = [];
  if (input.deleteVolumes !== false && volumes.length > 0) {
    const wait = { polls: deps.wait?.polls ?? 48, intervalMs: deps.wait?.intervalMs ?? 5000, sleep: deps.wait?.sleep ?? defaultSleep };
    const ids = volumes.map((v) => v.volumeId);
    let states = await deps.ec2.volumesById(ids);
    for (let i = 1; i < wait.polls && !states.every((s) => s.state === 'available'); i++) {
      await wait.sleep(wait.intervalMs);
      states = await deps.ec2.volumesById(ids);
    }
    for (const v of volumes) {
      const s = states.find((x) => x.volumeId === v.volumeId);
      const request = { volumeId: v.volumeId, evidenceSnapshotId: v.tags[`${tagPrefix}:evidence-snapshot`] ?? null, ...who };
      if (s?.state !== 'available') {
        keptVolumes.push({ volumeId: v.volumeId, reason: `still ${s?.state ?? 'unknown'}: run the command again` });
        actions.push({ step: 'workstation-cli', action: 'delete-workstation-volume', status: 'skipped', performedAt: now(), request, result: { state: s?.state ?? 'unknown' } });
        continue;
      }
      await deps.ec2.deleteVolume(v.volumeId);
      deletedVolumes.push(v.volumeId);
      actions.push({
        step: 'workstation-cli',
        action: 'delete-workstation-volume',
        status: 'succeeded',
        performedAt: now(),
        request,
        result: { deleted: true, evidenceSnapshot: 'untouched' },
      });
    }
  }
  await deps.custody.append({ caseId: input.caseId, executionArn: current.executionArn }, actions);
  const previous = (current.details.workstation ?? {}) as Record<string, unknown>;
  await deps.cases.updateCase(input.caseId, {
    details: { workstation: { ...previous, status: 'terminated', terminatedAt: now(), terminated, deletedVolumes } },
  });
  return { caseId: input.caseId, terminated, deletedVolumes, keptVolumes };
}
