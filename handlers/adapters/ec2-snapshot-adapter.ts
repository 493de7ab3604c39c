import {
  CopySnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Filter,
  type Snapshot,
} from '@aws-sdk/client-ec2';

/**
 * EBS snapshots: the crash-consistent multi-volume snapshot, progress checks, and the evidence copies.
 * Nothing here deletes a snapshot, on purpose: evidence is only ever added.
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

export class Ec2SnapshotAdapter {
  constructor(private readonly ec2: EC2Client) {}

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

  /** Copies a snapshot in the same region, re-encrypted with the given key. Returns the copy's id. */
  async copySnapshot(request: CopyRequest): Promise<string> {
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
}
