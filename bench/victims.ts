import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SSM_ENDPOINT_SERVICES } from '../handlers/domain/memory-capture';
import { emulatorClientConfig, type EmulatorContext } from '../cli/local/emulator-resources';
import { emulatorImageId } from '../cli/local/emulator-image';

/**
 * Benchmark victims: instances with exactly N EBS volumes (root + N-1 data volumes, all from the launch's block
 * device mappings), one network interface each, all in one VPC and subnet — as a worm spreading through one tier
 * would find them. Sharing the VPC also means concurrent cases race to create the same isolation groups, which the
 * isolate step must settle. Seeding is not measured (its calls go through a separate client, not the handlers').
 */
export interface BenchVictim {
  instanceId: string;
  volumes: number;
}

type Network = { subnetId: string; groupId: string; imageId: string };

export class VictimFactory {
  private readonly ec2: EC2Client;
  private readonly region: string;
  private network: Promise<Network> | undefined;
  private memoryNetwork: Promise<Network> | undefined;
  private toolsSnapshot: Promise<string> | undefined;
  private count = 0;

  constructor(ctx: EmulatorContext) {
    this.ec2 = new EC2Client({ ...emulatorClientConfig(ctx), maxAttempts: 10 });
    this.region = ctx.region;
  }

  /**
   * The memory scenarios' network: a VPC of its own with the three SSM interface endpoints (ssm, ssmmessages,
   * ec2messages) behind one security group, so that the plan made in "Preserve and snapshot" decides to capture.
   */
  private prepareMemory(): Promise<Network> {
    this.memoryNetwork ??= (async () => {
      const base = await this.createNetwork('10.41.0.0/16', '10.41.0.0/18', 'bench-memory-web');
      const vpcId = base.vpcId;
      const endpointGroup = await this.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'bench-ssm-endpoints', Description: 'SSM endpoints', VpcId: vpcId }));
      for (const service of SSM_ENDPOINT_SERVICES) {
        await this.ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: vpcId,
            ServiceName: `com.amazonaws.${this.region}.${service}`,
            VpcEndpointType: 'Interface',
            SubnetIds: [base.subnetId],
            SecurityGroupIds: [endpointGroup.GroupId ?? ''],
          }),
        );
      }
      return base;
    })();
    return this.memoryNetwork;
  }

  /** The region's tools snapshot, as `forensics tools build` leaves it (content is not read on the emulator). */
  toolsSnapshotId(): Promise<string> {
    this.toolsSnapshot ??= (async () => {
      const volume = await this.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${this.region}a`, Size: 1 }));
      const snapshot = await this.ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId, Description: 'bench memory tools' }));
      if (!snapshot.SnapshotId) throw new Error('CreateSnapshot returned no id');
      return snapshot.SnapshotId;
    })();
    return this.toolsSnapshot;
  }

  private async createNetwork(vpcCidr: string, subnetCidr: string, groupName: string): Promise<Network & { vpcId: string }> {
    const vpc = await this.ec2.send(new CreateVpcCommand({ CidrBlock: vpcCidr }));
    const vpcId = vpc.Vpc?.VpcId ?? '';
    const subnet = await this.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: subnetCidr, AvailabilityZone: `${this.region}a` }));
    const group = await this.ec2.send(new CreateSecurityGroupCommand({ GroupName: groupName, Description: 'web tier', VpcId: vpcId }));
    const imageId = await emulatorImageId(this.ec2);
    if (!imageId) throw new Error('the emulator has no AMI to launch victims from');
    return { vpcId, subnetId: subnet.Subnet?.SubnetId ?? '', groupId: group.GroupId ?? '', imageId };
  }

  private prepare(): Promise<Network> {
    this.network ??= (async () => {
      const vpc = await this.ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }));
      const vpcId = vpc.Vpc?.VpcId ?? '';
      const subnet = await this.ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.0.0/18', AvailabilityZone: 'us-east-1a' }),
      );
      const group = await this.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'bench-web', Description: 'web tier', VpcId: vpcId }),
      );
      const imageId = await emulatorImageId(this.ec2);
      if (!imageId) throw new Error('the emulator has no AMI to launch victims from');
      return { subnetId: subnet.Subnet?.SubnetId ?? '', groupId: group.GroupId ?? '', imageId };
    })();
    return this.network;
  }

  async create(volumes: number, options: { memory?: boolean } = {}): Promise<BenchVictim> {
    if (volumes < 1 || volumes > 24) throw new Error(`volumes: 1–24 supported, got ${volumes}`);
    const { subnetId, groupId, imageId } = await (options.memory ? this.prepareMemory() : this.prepare());
    const letters = 'fghijklmnopqrstuvwxyz';
    const mappings = [
      { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, DeleteOnTermination: true } },
      ...Array.from({ length: volumes - 1 }, (_, i) => ({
        DeviceName: i < letters.length ? `/dev/sd${letters[i]}` : `/dev/sda${letters[i - letters.length]}`,
        Ebs: { VolumeSize: 20 + i, VolumeType: 'gp3' as const, DeleteOnTermination: true },
      })),
    ];
    const run = await this.ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [groupId] }],
        BlockDeviceMappings: mappings,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `bench-${this.count++}` }] }],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new Error('RunInstances returned no instance');
    return { instanceId, volumes };
  }

  /** Many victims, a few launches at a time (the emulator is single-process). */
  async createMany(n: number, volumes: number, options: { memory?: boolean } = {}): Promise<BenchVictim[]> {
    const out: BenchVictim[] = [];
    for (let i = 0; i < n; i += 8) {
      out.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, () => this.create(volumes, options)))));
    }
    return out;
  }
}
