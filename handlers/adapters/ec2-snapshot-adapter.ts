import {
  CopySnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  type Filter,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { regionOfKeyArn } from '../domain/evidence-regions';

/**
 * EBS snapshots: the crash-consistent multi-volume snapshot, progress checks, and the evidence copies.
 * Nothing here deletes an original or an evidence snapshot, on purpose: evidence is only ever added. The one
 * delete, `deleteIntermediateCopy`, removes the workload-side shared copy of the cross-account chain and refuses
 * any snapshot it was not told is that copy (see evidence-chain.ts).
 */

export interface TakenSnapshot {
  snapshotId: string;
  volumeId: string;
  sizeGiB?: number;
  startTime?: string;
}

export interface SnapshotStatus {
  snapshotId: string;
  volumeId?: string;
  state: string;
  progress?: string;
  stateMessage?: string;
  encrypted?: boolean;
  kmsKeyId?: string;
  sizeGiB?: number;
  tags: Record<string, string>;
}

export interface SnapshotLockRequest {
  snapshotId: string;
  mode: 'compliance' | 'governance';
  durationDays: number;
  /** Compliance mode only: hours during which the lock can still be removed or changed (0 = none). */
  coolOffHours: number;
}

export interface SnapshotLockResult {
  lockState?: string;
  lockCreatedOn?: string;
  lockExpiresOn?: string;
  coolOffPeriodExpiresOn?: string;
  lockDurationDays?: number;
}

export interface CopyRequest {
  sourceSnapshotId: string;
  sourceRegion: string;
  kmsKeyId: string;
  description: string;
  tags: Record<string, string>;
}

const toTags = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function toStatus(s: Snapshot): SnapshotStatus {
  const tags: Record<string, string> = {};
  for (const t of s.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return {
    snapshotId: s.SnapshotId ?? '',
    volumeId: s.VolumeId,
    state: s.State ?? 'unknown',
    ...(s.Progress !== undefined ? { progress: s.Progress } : {}),
    ...(s.StateMessage ? { stateMessage: s.StateMessage } : {}),
    encrypted: s.Encrypted,
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
    sizeGiB: s.VolumeSize,
    tags,
  };
}

/** DescribeSnapshots accepts at most 200 values per filter. */
const FILTER_VALUES_MAX = 200;

/** A key named in a call made in another region (AWS refuses it; the emulator does not). */
export class KeyRegionMismatch extends Error {
  override readonly name = 'KeyRegionMismatch';
}

export class Ec2SnapshotAdapter {
  constructor(private readonly ec2: EC2Client) {}

  /** The region this adapter's calls go to (undefined when the client has none configured). */
  async region(): Promise<string | undefined> {
    try {
      const region = this.ec2.config.region;
      return typeof region === 'function' ? await region() : (region as string | undefined);
    } catch {
      return undefined;
    }
  }

  /** One CreateSnapshots call: every EBS volume of the instance at the same point in time. */
  async createInstanceSnapshots(input: {
    instanceId: string;
    description: string;
    tags: Record<string, string>;
  }): Promise<TakenSnapshot[]> {
    const out = await this.ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: input.instanceId, ExcludeBootVolume: false },
        Description: input.description,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(input.tags) }],
        // CopyTagsFromSource is left unset: the workload's volume tags are not copied onto evidence.
      }),
    );
    return (out.Snapshots ?? [])
      .filter((s) => s.SnapshotId && s.VolumeId)
      .map((s) => ({
        snapshotId: s.SnapshotId as string,
        volumeId: s.VolumeId as string,
        ...(s.VolumeSize !== undefined ? { sizeGiB: s.VolumeSize } : {}),
        ...(s.StartTime ? { startTime: s.StartTime.toISOString() } : {}),
      }));
  }

  /**
   * Snapshots by id, through a filter rather than `SnapshotIds`: a missing id is then simply absent instead of
   * failing the whole call with InvalidSnapshot.NotFound, so one lost snapshot does not hide the others.
   */
  async describeSnapshots(snapshotIds: string[]): Promise<SnapshotStatus[]> {
    const found: SnapshotStatus[] = [];
    for (let i = 0; i < snapshotIds.length; i += FILTER_VALUES_MAX) {
      const chunk = snapshotIds.slice(i, i + FILTER_VALUES_MAX);
      found.push(...(await this.describeByFilters([{ Name: 'snapshot-id', Values: chunk }])));
    }
    return found;
  }

  /** Snapshots owned by this account carrying every given tag (used to find evidence copies already made). */
  async findByTags(tags: Record<string, string>): Promise<SnapshotStatus[]> {
    return this.describeByFilters(Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })));
  }

  private async describeByFilters(filters: Filter[]): Promise<SnapshotStatus[]> {
    const found: SnapshotStatus[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(
        new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, ...(token ? { NextToken: token } : {}) }),
      );
      found.push(...(out.Snapshots ?? []).map(toStatus));
      token = out.NextToken;
    } while (token);
    return found;
  }

  async tag(resourceIds: string[], tags: Record<string, string>): Promise<void> {
    await this.ec2.send(new CreateTagsCommand({ Resources: resourceIds, Tags: toTags(tags) }));
  }

  /**
   * Copies a snapshot into this client's region (from `sourceRegion`, the same or another region), re-encrypted with
   * the given key. Returns the copy's id. CopySnapshot is issued in the DESTINATION region and its KmsKeyId must be a
   * key of that region (KMS keys are regional; the SDK adds the presigned URL a cross-region copy needs): a key ARN
   * of another region is refused here with `KeyRegionMismatch`, before anything is sent.
   */
  async copySnapshot(request: CopyRequest): Promise<string> {
    const region = await this.region();
    const keyRegion = regionOfKeyArn(request.kmsKeyId);
    if (region && keyRegion && keyRegion !== region) {
      throw new KeyRegionMismatch(
        `CopySnapshot of ${request.sourceSnapshotId} in ${region} cannot use key ${request.kmsKeyId}: it is a key of ${keyRegion} ` +
          '(the copy\'s key must be in the region where the copy is made)',
      );
    }
    const out = await this.ec2.send(
      new CopySnapshotCommand({
        SourceSnapshotId: request.sourceSnapshotId,
        SourceRegion: request.sourceRegion,
        Encrypted: true,
        KmsKeyId: request.kmsKeyId,
        Description: request.description,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(request.tags) }],
      }),
    );
    if (!out.SnapshotId) throw new Error(`CopySnapshot of ${request.sourceSnapshotId} returned no snapshot id`);
    return out.SnapshotId;
  }

  /** Shares a snapshot with one account (createVolumePermission add): what lets the IR account copy it. */
  async shareWith(snapshotId: string, accountId: string): Promise<void> {
    await this.ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: [accountId],
      }),
    );
  }

  /** EBS Snapshot Lock. Compliance mode: after the cool-off nobody, the account root included, can delete it. */
  async lock(request: SnapshotLockRequest): Promise<SnapshotLockResult> {
    const out = await this.ec2.send(
      new LockSnapshotCommand({
        SnapshotId: request.snapshotId,
        LockMode: request.mode,
        LockDuration: request.durationDays,
        ...(request.mode === 'compliance' && request.coolOffHours > 0 ? { CoolOffPeriod: request.coolOffHours } : {}),
      }),
    );
    return {
      ...(out.LockState ? { lockState: out.LockState } : {}),
      ...(out.LockCreatedOn ? { lockCreatedOn: out.LockCreatedOn.toISOString() } : {}),
      ...(out.LockExpiresOn ? { lockExpiresOn: out.LockExpiresOn.toISOString() } : {}),
      ...(out.CoolOffPeriodExpiresOn ? { coolOffPeriodExpiresOn: out.CoolOffPeriodExpiresOn.toISOString() } : {}),
      ...(out.LockDuration !== undefined ? { lockDurationDays: out.LockDuration } : {}),
    };
  }

  /**
   * Deletes the intermediate copy of the cross-account chain (in the workload account), never anything else: the
   * caller names the original snapshot and the IR copy, and a request to delete either is refused.
   */
  async deleteIntermediateCopy(copy: { intermediateSnapshotId: string; originalSnapshotId: string; evidenceSnapshotId?: string }): Promise<void> {
    const id = copy.intermediateSnapshotId;
    if (!id || id === copy.originalSnapshotId || id === copy.evidenceSnapshotId) {
      throw new Error(`refusing to delete ${id}: it is not an intermediate copy`);
    }
    await this.ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }));
  }
}
