import {
  AuthorizeSecurityGroupEgressCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import type { WorkstationEnvironment } from '../../handlers/config/workstation-env';
import { emulatorImageId } from './emulator-image';
import type { CfnTemplate } from './lambda-environment';

/**
 * The forensic VPC's equivalent in the emulator (what infra/constructs/forensic-workstation.ts deploys): one VPC with
 * two isolated subnets, the workstation security group (no ingress, HTTPS egress) and a launch template with IMDSv2
 * required, hop limit 1, no public address and an encrypted root volume. Found by tag/name when it exists.
 * moto has no VPC endpoints worth provisioning; the template assertions cover them.
 */
const TAG = 'forensics:role';
export const EMULATOR_LAUNCH_TEMPLATE_NAME = 'forensics-workstation';

/**
 * The forensic VPC's CIDR block as the synthesized template deploys it (its one `AWS::EC2::VPC`). Read from the
 * template rather than imported from the construct: importing infra/ would load aws-cdk-lib into every process that
 * only provisions the emulator from an already synthesized (cached) template.
 */
export function forensicVpcCidr(template: CfnTemplate): string {
  const vpcs = Object.values(template.Resources ?? {}).filter((r) => r.Type === 'AWS::EC2::VPC');
  const cidr = vpcs.length === 1 ? (vpcs[0]?.Properties as { CidrBlock?: unknown } | undefined)?.CidrBlock : undefined;
  if (typeof cidr !== 'string') throw new Error(`the IR template should hold one AWS::EC2::VPC with a literal CidrBlock (found ${vpcs.length} VPCs)`);
  return cidr;
}

/** The i-th /24 of the forensic VPC's /22 (10.255.0.0/24, 10.255.1.0/24, …). */
function isolatedSubnetCidr(vpcCidr: string, index: number): string {
  const [base = '', prefix] = vpcCidr.split('/');
  if (prefix !== '22') throw new Error(`forensic VPC ${vpcCidr}: expected a /22`);
  const octets = base.split('.').map(Number);
  return `${octets[0]}.${octets[1]}.${(octets[2] ?? 0) + index}.0/24`;
}

export async function provisionWorkstationResources(
  config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  evidenceKeyArn: string,
  vpcCidr: string,
  instanceType = 'm7i.large',
): Promise<WorkstationEnvironment> {
  const ec2 = new EC2Client(config);
  try {
    const tagged = (value: string) => [{ Name: `tag:${TAG}`, Values: [value] }];
    let vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: tagged('forensic-vpc') }))).Vpcs?.[0]?.VpcId;
    if (!vpcId) {
      const vpc = await ec2.send(
        new CreateVpcCommand({
          CidrBlock: vpcCidr,
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: TAG, Value: 'forensic-vpc' }, { Key: 'Name', Value: 'forensic-vpc' }] }],
        }),
      );
      vpcId = vpc.Vpc?.VpcId as string;
    }
    // As the template's forensic VPC (maxAzs 2): one isolated /24 in each of the region's first two zones.
    const found = (await ec2.send(new DescribeSubnetsCommand({ Filters: tagged('forensic-isolated') }))).Subnets ?? [];
    const subnetIds: string[] = [];
    for (const [i, zone] of ['a', 'b'].entries()) {
      const availabilityZone = `${config.region}${zone}`;
      let subnetId = found.find((s) => s.AvailabilityZone === availabilityZone)?.SubnetId;
      if (!subnetId) {
        const subnet = await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: isolatedSubnetCidr(vpcCidr, i),
            AvailabilityZone: availabilityZone,
            TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: TAG, Value: 'forensic-isolated' }] }],
          }),
        );
        subnetId = subnet.Subnet?.SubnetId as string;
      }
      subnetIds.push(subnetId);
    }
    let groupId = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: tagged('workstation-group') }))).SecurityGroups?.[0]?.GroupId;
    if (!groupId) {
      const group = await ec2.send(
        new CreateSecurityGroupCommand({
          VpcId: vpcId,
          GroupName: 'forensic-workstation',
          Description: 'Forensic workstation: no ingress; HTTPS egress only',
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: TAG, Value: 'workstation-group' }] }],
        }),
      );
      groupId = group.GroupId as string;
      await ec2.send(
        new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
      );
      await ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
    }
    let templateId: string | undefined;
    try {
      const found = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [EMULATOR_LAUNCH_TEMPLATE_NAME] }));
      templateId = found.LaunchTemplates?.[0]?.LaunchTemplateId;
    } catch {
      // absent: created below
    }
    if (!templateId) {
      const imageId = await emulatorImageId(ec2, ['amazon']);
      const template = await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: EMULATOR_LAUNCH_TEMPLATE_NAME,
          LaunchTemplateData: {
            ImageId: imageId,
            InstanceType: instanceType as never,
            MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' },
            NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false, Groups: [groupId] }],
            BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30, VolumeType: 'gp3', Encrypted: true, KmsKeyId: evidenceKeyArn, DeleteOnTermination: true } }],
          },
        }),
      );
      templateId = template.LaunchTemplate?.LaunchTemplateId as string;
    }
    return { WORKSTATION_SUBNET_IDS: subnetIds.join(','), WORKSTATION_SECURITY_GROUP_ID: groupId, WORKSTATION_LAUNCH_TEMPLATE_ID: templateId };
  } finally {
    ec2.destroy();
  }
}
