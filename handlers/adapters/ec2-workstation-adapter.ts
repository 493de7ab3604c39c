import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Filter,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { WorkstationSubnet } from '../domain/workstation';

/**
 * EC2 calls of the forensic workstation: subnets of the forensic VPC, volumes created from evidence snapshots, the
 * workstation instance launched from the launch template, attachments. It never touches a snapshot: the evidence
 * snapshots are only read by CreateVolume.
 */

export interface WorkstationVolumeStatus {
  volumeId: string;
  state: string;
  availabilityZone?: string;
  snapshotId?: string;
  attachments: { instanceId: string; device: string; state: string }[];
  tags: Record<string, string>;
}

export interface WorkstationInstanceStatus {
  instanceId: string;
  state: string;
  subnetId?: string;
  availabilityZone?: string;
  launchTime?: string;
  metadataOptions: { httpTokens?: string; httpPutResponseHopLimit?: number; instanceMetadataTags?: string };
  publicIpAddress?: string;
  tags: Record<string, string>;
}

export interface LaunchRequest {
  launchTemplateId: string;
  subnetId: string;
  securityGroupId: string;
  clientToken: string;
  tags: Record<string, string>;
}

const toTags = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const tagMap = (tags: { Key?: string; Value?: string }[] | undefined) => {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
};

function toVolume(v: Volume): WorkstationVolumeStatus {
  return {
    volumeId: v.VolumeId ?? '',
    state: v.State ?? 'unknown',
    ...(v.AvailabilityZone ? { availabilityZone: v.AvailabilityZone } : {}),
    ...(v.SnapshotId ? { snapshotId: v.SnapshotId } : {}),
    attachments: (v.Attachments ?? []).map((a) => ({
      instanceId: a.InstanceId ?? '',
      device: a.Device ?? '',
      state: a.State ?? 'unknown',
    })),
    tags: tagMap(v.Tags),
  };
}

/**
 * The instance metadata options every workstation is launched with, also when the launch template says the same:
 * IMDSv2 only (session tokens required), hop limit 1 (no container or forwarded process reaches IMDS), and instance
 * tags readable from IMDS (the user data learns its case id from the `<prefix>:case-id` tag).
 */
export const WORKSTATION_METADATA_OPTIONS = {
  HttpTokens: 'required',
  HttpPutResponseHopLimit: 1,
  HttpEndpoint: 'enabled',
  InstanceMetadataTags: 'enabled',
} as const;

export class Ec2WorkstationAdapter {
  constructor(private readonly ec2: EC2Client) {}

  async describeSubnets(subnetIds: string[]): Promise<WorkstationSubnet[]> {
    const out = await this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }));
    return (out.Subnets ?? []).map((s) => ({
      subnetId: s.SubnetId ?? '',
      availabilityZone: s.AvailabilityZone ?? '',
      state: s.State ?? 'unknown',
      availableIpAddressCount: s.AvailableIpAddressCount ?? 0,
    }));
  }

  /** Volumes carrying every given tag (a retried step finds the volumes its first attempt created). */
  async findVolumes(tags: Record<string, string>): Promise<WorkstationVolumeStatus[]> {
    return this.describeVolumes(Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })));
  }

  async volumesById(volumeIds: string[]): Promise<WorkstationVolumeStatus[]> {
    if (volumeIds.length === 0) return [];
    return this.describeVolumes([{ Name: 'volume-id', Values: volumeIds }]);
  }

  private async describeVolumes(filters: Filter[]): Promise<WorkstationVolumeStatus[]> {
    const found: WorkstationVolumeStatus[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(new DescribeVolumesCommand({ Filters: filters, ...(token ? { NextToken: token } : {}) }));
      found.push(...(out.Volumes ?? []).map(toVolume));
      token = out.NextToken;
    } while (token);
    return found;
  }

  /** A gp3 volume from an evidence snapshot, encrypted with the evidence key, tagged at creation. */
  async createVolume(input: {
    snapshotId: string;
    availabilityZone: string;
    kmsKeyId: string;
    clientToken: string;
    tags: Record<string, string>;
  }): Promise<string> {
    const out = await this.ec2.send(
      new CreateVolumeCommand({
        SnapshotId: input.snapshotId,
        AvailabilityZone: input.availabilityZone,
        Encrypted: true,
        KmsKeyId: input.kmsKeyId,
        VolumeType: 'gp3',
        ClientToken: input.clientToken,
        TagSpecifications: [{ ResourceType: 'volume', Tags: toTags(input.tags) }],
      }),
    );
    if (!out.VolumeId) throw new Error(`CreateVolume from ${input.snapshotId} returned no volume id`);
    return out.VolumeId;
  }

  /** Workstation instances of a case that are not terminated (or terminating). */
  async findInstances(tags: Record<string, string>): Promise<WorkstationInstanceStatus[]> {
    const filters: Filter[] = [
      ...Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ];
    const found: WorkstationInstanceStatus[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(new DescribeInstancesCommand({ Filters: filters, ...(token ? { NextToken: token } : {}) }));
      for (const r of out.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          found.push({
            instanceId: i.InstanceId ?? '',
            state: i.State?.Name ?? 'unknown',
            ...(i.SubnetId ? { subnetId: i.SubnetId } : {}),
            ...(i.Placement?.AvailabilityZone ? { availabilityZone: i.Placement.AvailabilityZone } : {}),
            ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}),
            metadataOptions: {
              ...(i.MetadataOptions?.HttpTokens ? { httpTokens: i.MetadataOptions.HttpTokens } : {}),
              ...(i.MetadataOptions?.HttpPutResponseHopLimit !== undefined
                ? { httpPutResponseHopLimit: i.MetadataOptions.HttpPutResponseHopLimit }
                : {}),
              ...(i.MetadataOptions?.InstanceMetadataTags ? { instanceMetadataTags: i.MetadataOptions.InstanceMetadataTags } : {}),
            },
            ...(i.PublicIpAddress ? { publicIpAddress: i.PublicIpAddress } : {}),
            tags: tagMap(i.Tags),
          });
        }
      }
      token = out.NextToken;
    } while (token);
    return found;
  }

  /**
   * One workstation from the launch template, in the chosen subnet, with no public address and the template's
   * security group; the metadata options are repeated in the request so the instance is IMDSv2-only whatever the
   * template's version says. Returns the instance id.
   */
  async launch(request: LaunchRequest): Promise<string> {
    const out = await this.ec2.send(
      new RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateId: request.launchTemplateId, Version: '$Default' },
        MinCount: 1,
        MaxCount: 1,
        ClientToken: request.clientToken,
        NetworkInterfaces: [
          {
            DeviceIndex: 0,
            SubnetId: request.subnetId,
            Groups: [request.securityGroupId],
            AssociatePublicIpAddress: false,
            DeleteOnTermination: true,
          },
        ],
        MetadataOptions: { ...WORKSTATION_METADATA_OPTIONS },
        TagSpecifications: [
          { ResourceType: 'instance', Tags: toTags(request.tags) },
          { ResourceType: 'volume', Tags: toTags(request.tags) },
        ],
      }),
    );
    const id = out.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance id');
    return id;
  }

  async attachVolume(volumeId: string, instanceId: string, device: string): Promise<string> {
    const out = await this.ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }));
    return out.State ?? 'attaching';
  }

  async terminate(instanceId: string): Promise<string> {
    const out = await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    return out.TerminatingInstances?.[0]?.CurrentState?.Name ?? 'shutting-down';
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await this.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
  }
}
