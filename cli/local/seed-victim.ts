import { AttachInstancesCommand, AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateLaunchTemplateCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { emulatorImageId } from './emulator-image';
import { emulatorClientConfig, type EmulatorContext } from './emulator-resources';

/**
 * Seeds a realistic victim in the emulator for the demo, the end-to-end tests and the benchmark: an instance with
 * several EBS volumes (one encrypted with the default EBS key, one unencrypted, one attached later), two network
 * interfaces in different security groups, an instance role, and a target group registration. Like an instance an
 * Auto Scaling group launches, it terminates on shutdown and its launch volumes are deleted on termination, so every
 * preservation has something to change; on request it is also a member of an Auto Scaling group.
 */
export interface Victim {
  instanceId: string;
  vpcId: string;
  subnetId: string;
  volumeIds: string[];
  networkInterfaceIds: string[];
  originalGroups: Record<string, string[]>;
  roleName: string;
  targetGroupArn?: string;
  autoScalingGroupName?: string;
}

export interface VictimOptions {
  /** Extra data volumes beyond the root and the two standard data volumes. */
  extraVolumes?: number;
  /** Skip the second ENI, the role and the target group (lean victims for the benchmark). */
  lean?: boolean;
  name?: string;
  /** InstanceInitiatedShutdownBehavior at launch. Default terminate (what preservation must turn into stop). */
  shutdownBehavior?: 'stop' | 'terminate';
  /** Make the instance an InService member of an Auto Scaling group of its own (min 0, so standby is allowed). */
  autoScalingGroup?: boolean;
}

let counter = 0;

export async function seedVictim(ctx: EmulatorContext, options: VictimOptions = {}): Promise<Victim> {
  const config = emulatorClientConfig(ctx);
  const ec2 = new EC2Client(config);
  const suffix = `${Date.now().toString(36)}${(counter++).toString(36)}`;
  const name = options.name ?? `web-${suffix}`;
  const az = `${ctx.region}a`;

  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.1.0/24', AvailabilityZone: az }),
  );
  const subnetId = subnet.Subnet?.SubnetId ?? '';
  const web = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `web-${suffix}`, Description: 'web tier', VpcId: vpcId }),
  );
  const webGroupId = web.GroupId ?? '';
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: webGroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );

  let instanceProfileArn: string | undefined;
  const roleName = `${name}-role`;
  if (!options.lean) {
    const iam = new IAMClient(config);
    await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const profile = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: `${name}-profile` }));
    await iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: `${name}-profile`, RoleName: roleName }),
    );
    instanceProfileArn = profile.InstanceProfile?.Arn;
  }

  const imageId = await emulatorImageId(ec2);
  if (!imageId) throw new Error('the emulator has no AMI to launch the victim from');
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      // Groups on the interface, not the instance: moto reports instance-level groups on every attached ENI in
      // addition to the ENI's own, which would hide the effect of isolation from the tests.
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [webGroupId] }],
      ...(instanceProfileArn ? { IamInstanceProfile: { Arn: instanceProfileArn } } : {}),
      InstanceInitiatedShutdownBehavior: options.shutdownBehavior ?? 'terminate',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, DeleteOnTermination: true } },
        // Encrypted with the default EBS key: not shareable as is, which is why evidence is re-encrypted.
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 20, Encrypted: true, DeleteOnTermination: true } },
      ],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }] }],
    }),
  );
  const instance = run.Instances?.[0];
  const instanceId = instance?.InstanceId ?? '';

  const extra = 1 + (options.extraVolumes ?? 0);
  for (let i = 0; i < extra; i++) {
    const volume = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: az, Size: 50 + i, VolumeType: 'gp3' }),
    );
    // Devices /dev/sdg, /dev/sdh, ... then /dev/sdaa... for large counts.
    const letters = 'ghijklmnopqrstuvwxyz';
    const device = i < letters.length ? `/dev/sd${letters[i]}` : `/dev/sda${letters[i - letters.length]}`;
    await ec2.send(new AttachVolumeCommand({ VolumeId: volume.VolumeId, InstanceId: instanceId, Device: device }));
  }

  const originalGroups: Record<string, string[]> = {};
  const primaryEni = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '';
  originalGroups[primaryEni] = [webGroupId];
  const networkInterfaceIds = [primaryEni];

  let targetGroupArn: string | undefined;
  if (!options.lean) {
    const app = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `app-${suffix}`, Description: 'app tier', VpcId: vpcId }),
    );
    const appGroupId = app.GroupId ?? '';
    const eni = await ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [appGroupId, webGroupId], Description: 'app' }),
    );
    const eniId = eni.NetworkInterface?.NetworkInterfaceId ?? '';
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: instanceId, DeviceIndex: 1 }));
    originalGroups[eniId] = [appGroupId, webGroupId];
    networkInterfaceIds.push(eniId);

    const elbv2 = new ElasticLoadBalancingV2Client(config);
    const tg = await elbv2.send(
      new CreateTargetGroupCommand({ Name: `tg-${suffix}`.slice(0, 32), Protocol: 'HTTPS', Port: 443, VpcId: vpcId }),
    );
    targetGroupArn = tg.TargetGroups?.[0]?.TargetGroupArn;
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: 443 }] }));
  }

  let autoScalingGroupName: string | undefined;
  if (options.autoScalingGroup) {
    autoScalingGroupName = `asg-${suffix}`;
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-${suffix}`, LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' } }),
    );
    const autoScaling = new AutoScalingClient(config);
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: autoScalingGroupName,
        LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 2,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnetId,
      }),
    );
    await autoScaling.send(new AttachInstancesCommand({ AutoScalingGroupName: autoScalingGroupName, InstanceIds: [instanceId] }));
  }

  const { DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const volumeIds =
    described.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings?.map((m) => m.Ebs?.VolumeId ?? '').filter(Boolean) ??
    [];
  return {
    instanceId,
    vpcId,
    subnetId,
    volumeIds,
    networkInterfaceIds,
    originalGroups,
    roleName,
    ...(targetGroupArn ? { targetGroupArn } : {}),
    ...(autoScalingGroupName ? { autoScalingGroupName } : {}),
  };
}

/** A HIGH GuardDuty finding about the victim, in the EventBridge shape, written from the finding format. */
export function findingEventFor(
  victim: Pick<Victim, 'instanceId'>,
  ctx: Pick<EmulatorContext, 'accountId' | 'region'>,
  overrides: { id?: string; type?: string; severity?: number; count?: number } = {},
): Record<string, unknown> {
  const id = overrides.id ?? `local${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
  const now = new Date().toISOString();
  return {
    version: '0',
    id: `evt-${id}`,
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: ctx.accountId,
    time: now,
    region: ctx.region,
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: ctx.accountId,
      region: ctx.region,
      partition: 'aws',
      id,
      arn: `arn:aws:guardduty:${ctx.region}:${ctx.accountId}:detector/local/finding/${id}`,
      type: overrides.type ?? 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      title: 'EC2 instance is querying a domain name associated with Bitcoin-related activity.',
      description: `EC2 instance ${victim.instanceId} is querying a domain name associated with Bitcoin mining.`,
      severity: overrides.severity ?? 8,
      createdAt: now,
      updatedAt: now,
      resource: {
        resourceType: 'Instance',
        instanceDetails: { instanceId: victim.instanceId, instanceType: 't3.micro', instanceState: 'running' },
      },
      service: {
        serviceName: 'guardduty',
        detectorId: 'local',
        action: { actionType: 'DNS_REQUEST', dnsRequestAction: { domain: 'pool.example-miner.test', protocol: 'UDP', blocked: false } },
        resourceRole: 'ACTOR',
        archived: false,
        count: overrides.count ?? 1,
        eventFirstSeen: now,
        eventLastSeen: now,
      },
    },
  };
}
