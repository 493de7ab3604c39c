import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Instance,
  type InstanceTypeInfo,
  ModifyInstanceAttributeCommand,
  CreateTagsCommand,
} from '@aws-sdk/client-ec2';
import { errorName } from '../domain/errors';

/**
 * The instance itself: describing it, and the preservation changes made on it. Returns plain shapes so the use
 * cases do not depend on SDK types.
 */

export interface InstanceDescription {
  instanceId: string;
  state: string;
  instanceType?: string;
  imageId?: string;
  launchTime?: string;
  availabilityZone?: string;
  vpcId?: string;
  subnetId?: string;
  privateIpAddress?: string;
  publicIpAddress?: string;
  rootDeviceName?: string;
  tags: Record<string, string>;
  iamInstanceProfile?: { arn: string; id?: string };
  networkInterfaces: {
    networkInterfaceId: string;
    deviceIndex: number;
    networkCardIndex: number;
    attachmentId?: string;
    vpcId?: string;
    subnetId?: string;
    privateIpAddress?: string;
    publicIp?: string;
    groups: { groupId: string; groupName?: string }[];
  }[];
  blockDevices: { deviceName: string; volumeId?: string; deleteOnTermination?: boolean; virtualName?: string }[];
}

export interface VolumeDescription {
  volumeId: string;
  sizeGiB: number;
  volumeType?: string;
  encrypted: boolean;
  kmsKeyId?: string;
}

export interface InstanceStorage {
  supported: boolean;
  totalSizeGB?: number;
  disks: { count: number; sizeGB?: number; type?: string }[];
}

export type InstanceAttributeName = 'disableApiTermination' | 'instanceInitiatedShutdownBehavior';

function toDescription(instance: Instance): InstanceDescription {
  const tags: Record<string, string> = {};
  for (const tag of instance.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return {
    instanceId: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    instanceType: instance.InstanceType,
    imageId: instance.ImageId,
    launchTime: instance.LaunchTime?.toISOString(),
    availabilityZone: instance.Placement?.AvailabilityZone,
    vpcId: instance.VpcId,
    subnetId: instance.SubnetId,
    privateIpAddress: instance.PrivateIpAddress,
    publicIpAddress: instance.PublicIpAddress,
    rootDeviceName: instance.RootDeviceName,
    tags,
    ...(instance.IamInstanceProfile?.Arn
      ? { iamInstanceProfile: { arn: instance.IamInstanceProfile.Arn, id: instance.IamInstanceProfile.Id } }
      : {}),
    networkInterfaces: (instance.NetworkInterfaces ?? []).map((eni) => ({
      networkInterfaceId: eni.NetworkInterfaceId ?? '',
      deviceIndex: eni.Attachment?.DeviceIndex ?? 0,
      networkCardIndex: eni.Attachment?.NetworkCardIndex ?? 0,
      attachmentId: eni.Attachment?.AttachmentId,
      vpcId: eni.VpcId,
      subnetId: eni.SubnetId,
      privateIpAddress: eni.PrivateIpAddress,
      publicIp: eni.Association?.PublicIp,
      groups: (eni.Groups ?? []).map((g) => ({ groupId: g.GroupId ?? '', groupName: g.GroupName })),
    })),
    blockDevices: (instance.BlockDeviceMappings ?? []).map((bdm) => ({
      deviceName: bdm.DeviceName ?? '',
      volumeId: bdm.Ebs?.VolumeId,
      deleteOnTermination: bdm.Ebs?.DeleteOnTermination,
    })),
  };
}

export class Ec2InstanceAdapter {
  /**
   * DescribeInstanceTypes answers by type, once per adapter (one invocation): "Preserve and snapshot" asks for the
   * instance store and for the memory plan's size and architecture in the same round trip, and they share one call.
   */
  private readonly instanceTypes = new Map<string, Promise<InstanceTypeInfo | undefined>>();

  constructor(private readonly ec2: EC2Client) {}

  private instanceType(instanceType: string): Promise<InstanceTypeInfo | undefined> {
    let found = this.instanceTypes.get(instanceType);
    if (!found) {
      found = this.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as never] })).then((out) => out.InstanceTypes?.[0]);
      // A failed answer is not kept: a later ask (a retry) calls again.
      found.catch(() => this.instanceTypes.delete(instanceType));
      this.instanceTypes.set(instanceType, found);
    }
    return found;
  }

  /** The instance, or undefined when EC2 does not know it (deleted, wrong account or region). */
  async describeInstance(instanceId: string): Promise<InstanceDescription | undefined> {
    try {
      const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
      return instance ? toDescription(instance) : undefined;
    } catch (err) {
      if (errorName(err) === 'InvalidInstanceID.NotFound') return undefined;
      throw err;
    }
  }

  async describeAttribute(instanceId: string, attribute: 'disableApiTermination'): Promise<boolean | undefined>;
  async describeAttribute(
    instanceId: string,
    attribute: 'instanceInitiatedShutdownBehavior',
  ): Promise<string | undefined>;
  async describeAttribute(instanceId: string, attribute: InstanceAttributeName): Promise<boolean | string | undefined> {
    const out = await this.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: attribute }));
    return attribute === 'disableApiTermination'
      ? out.DisableApiTermination?.Value
      : out.InstanceInitiatedShutdownBehavior?.Value;
  }

  /** Volumes attached to the instance, found by filter so this call needs nothing from DescribeInstances. */
  async describeAttachedVolumes(instanceId: string): Promise<VolumeDescription[]> {
    const volumes: VolumeDescription[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(
        new DescribeVolumesCommand({
          Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const v of out.Volumes ?? []) {
        volumes.push({
          volumeId: v.VolumeId ?? '',
          sizeGiB: v.Size ?? 0,
          volumeType: v.VolumeType,
          encrypted: v.Encrypted ?? false,
          ...(v.KmsKeyId ? { kmsKeyId: v.KmsKeyId } : {}),
        });
      }
      token = out.NextToken;
    } while (token);
    return volumes;
  }

  /** The association id of the instance profile (what replacing or removing the profile needs). */
  async describeProfileAssociation(instanceId: string): Promise<{ associationId: string; arn?: string } | undefined> {
    const out = await this.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [instanceId] }],
      }),
    );
    const current = (out.IamInstanceProfileAssociations ?? []).find(
      (a) => a.State === 'associated' || a.State === 'associating',
    );
    return current?.AssociationId
      ? { associationId: current.AssociationId, arn: current.IamInstanceProfile?.Arn }
      : undefined;
  }

  /**
   * Instance-store capacity of an instance type. Instance-store volumes do not appear in the instance's block
   * device mappings, so the type is the only reliable place that says they exist.
   */
  async describeInstanceStorage(instanceType: string): Promise<InstanceStorage> {
    const type = await this.instanceType(instanceType);
    return {
      supported: type?.InstanceStorageSupported ?? false,
      ...(type?.InstanceStorageInfo?.TotalSizeInGB !== undefined
        ? { totalSizeGB: type.InstanceStorageInfo.TotalSizeInGB }
        : {}),
      disks: (type?.InstanceStorageInfo?.Disks ?? []).map((d) => ({
        count: d.Count ?? 0,
        sizeGB: d.SizeInGB,
        type: d.Type,
      })),
    };
  }

  /** Memory size and architectures of an instance type (what the memory capture is planned from). */
  async describeInstanceTypeMemory(instanceType: string): Promise<{ memoryMiB?: number; architectures: string[] }> {
    const type = await this.instanceType(instanceType);
    return {
      ...(type?.MemoryInfo?.SizeInMiB !== undefined ? { memoryMiB: type.MemoryInfo.SizeInMiB } : {}),
      architectures: (type?.ProcessorInfo?.SupportedArchitectures ?? []).map(String),
    };
  }

  async tag(resourceIds: string[], tags: Record<string, string>): Promise<void> {
    await this.ec2.send(
      new CreateTagsCommand({
        Resources: resourceIds,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }

  /*
   * ModifyInstanceAttribute changes one attribute per call, in one of two forms: the structured parameter
   * (`DisableApiTermination.Value`, `InstanceInitiatedShutdownBehavior.Value`, `BlockDeviceMapping.N`) or
   * `Attribute` + `Value`, which AWS accepts for kernel, ramdisk, userData, disableApiTermination and
   * instanceInitiatedShutdownBehavior only. Each call below uses the form AWS documents AND the emulator honours
   * (moto ignores the structured shutdown behaviour, and stores `Value` for disableApiTermination as a string its
   * TerminateInstances does not treat as protection); the preserve step reads every attribute back anyway.
   */

  /** Structured form: the only one whose boolean both AWS and the emulator apply. */
  async enableTerminationProtection(instanceId: string): Promise<void> {
    await this.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }));
  }

  /** `Attribute`/`Value` form: AWS accepts it for this attribute; the emulator ignores the structured one. */
  async setShutdownBehaviorStop(instanceId: string): Promise<void> {
    await this.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior', Value: 'stop' }),
    );
  }

  /**
   * One call for every device: volumes survive a termination of the instance. `BlockDeviceMapping.N` is the only form
   * AWS takes for DeleteOnTermination (`Value` is not accepted for blockDeviceMapping).
   */
  async keepVolumesOnTermination(instanceId: string, deviceNames: string[]): Promise<void> {
    await this.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        BlockDeviceMappings: deviceNames.map((DeviceName) => ({ DeviceName, Ebs: { DeleteOnTermination: false } })),
      }),
    );
  }
}
