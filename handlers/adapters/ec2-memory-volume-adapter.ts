import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { errorName } from '../domain/errors';

/**
 * The memory capture volume: made from the region's tools snapshot, attached to the contained instance, detached
 * and snapshotted. Nothing here deletes a volume or a snapshot.
 */
export class Ec2MemoryVolumeAdapter {
  constructor(private readonly ec2: EC2Client) {}

  /** The tools snapshot (any owner: it may be shared with this account); null when EC2 does not list it. */
  async describeToolsSnapshot(snapshotId: string): Promise<{ sizeGiB: number; state: string; tags: Record<string, string> } | null> {
    try {
      const out = await this.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
      const s = out.Snapshots?.[0];
      const tags: Record<string, string> = {};
      for (const t of s?.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
      return s ? { sizeGiB: s.VolumeSize ?? 0, state: s.State ?? 'unknown', tags } : null;
    } catch (err) {
      if (errorName(err) === 'InvalidSnapshot.NotFound') return null;
      throw err;
    }
  }

  /** CreateVolume from the tools snapshot, encrypted (with `kmsKeyId` when given), tagged at creation. */
  async createVolume(input: {
    snapshotId: string;
    availabilityZone: string;
    sizeGiB: number;
    kmsKeyId?: string;
    tags: Record<string, string>;
    clientToken: string;
  }): Promise<string> {
    const out = await this.ec2.send(
      new CreateVolumeCommand({
        SnapshotId: input.snapshotId,
        AvailabilityZone: input.availabilityZone,
        Size: input.sizeGiB,
        VolumeType: 'gp3',
        Encrypted: true,
        ...(input.kmsKeyId ? { KmsKeyId: input.kmsKeyId } : {}),
        // Idempotent: a retried step gets the same volume back instead of a second one.
        ClientToken: input.clientToken,
        TagSpecifications: [{ ResourceType: 'volume', Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    if (!out.VolumeId) throw new Error('CreateVolume returned no volume id');
    return out.VolumeId;
  }

  /** The volume's state and its attachment's (null when the volume does not exist). */
  async describeVolume(volumeId: string): Promise<{ state: string; attachmentState?: string; instanceId?: string } | null> {
    try {
      const out = await this.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
      const v = out.Volumes?.[0];
      if (!v) return null;
      const a = v.Attachments?.[0];
      return {
        state: v.State ?? 'unknown',
        ...(a?.State ? { attachmentState: a.State } : {}),
        ...(a?.InstanceId ? { instanceId: a.InstanceId } : {}),
      };
    } catch (err) {
      if (errorName(err) === 'InvalidVolume.NotFound') return null;
      throw err;
    }
  }

  async attachVolume(volumeId: string, instanceId: string, device: string): Promise<void> {
    await this.ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }));
  }

  /** DetachVolume (never forced: the command unmounted and synced it; a refused detach is retried, then left). */
  async detachVolume(volumeId: string, instanceId: string): Promise<void> {
    try {
      await this.ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId }));
    } catch (err) {
      // Already detached (a retried poll): the goal holds.
      if (errorName(err) === 'IncorrectState' || errorName(err) === 'InvalidAttachment.NotFound') return;
      throw err;
    }
  }

  async createSnapshot(volumeId: string, description: string, tags: Record<string, string>): Promise<string> {
    const out = await this.ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        Description: description.slice(0, 255),
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    if (!out.SnapshotId) throw new Error('CreateSnapshot returned no snapshot id');
    return out.SnapshotId;
  }
}
