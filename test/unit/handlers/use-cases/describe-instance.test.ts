import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeInstance } from '../../../../handlers/use-cases/describe-instance';
import { INSTANCE_ID, TARGET, VPC_ID, adapters, awsError, fixedClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const OTHER_VPC = 'vpc-0other';
const TG = (name: string) => `arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/${name}/0123456789abcdef`;
const ALL = (v4: boolean, v6: boolean) => ({
  IpProtocol: '-1',
  ...(v4 ? { IpRanges: [{ CidrIp: '0.0.0.0/0' }] } : {}),
  ...(v6 ? { Ipv6Ranges: [{ CidrIpv6: '::/0' }] } : {}),
});

function deps(targetHealthConcurrency?: number) {
  return {
    ...adapters(),
    clock: fixedClock('2026-01-10T10:00:00.000Z'),
    tagPrefix: 'forensics',
    ...(targetHealthConcurrency ? { targetHealthConcurrency } : {}),
  };
}

function mockHealthyVictim() {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE_ID,
            State: { Name: 'running' },
            InstanceType: 'm5d.large',
            ImageId: 'ami-0123',
            VpcId: VPC_ID,
            SubnetId: 'subnet-1',
            PrivateIpAddress: '10.0.1.10',
            PublicIpAddress: '203.0.113.7',
            RootDeviceName: '/dev/xvda',
            Placement: { AvailabilityZone: 'eu-west-1a' },
            LaunchTime: new Date('2026-01-01T00:00:00Z'),
            Tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'env', Value: 'prod' }],
            IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/web', Id: 'AIPA123' },
            // Listed out of order on purpose: the record sorts by device index.
            NetworkInterfaces: [
              {
                NetworkInterfaceId: 'eni-second',
                VpcId: VPC_ID,
                SubnetId: 'subnet-2',
                PrivateIpAddress: '10.0.2.10',
                Attachment: { DeviceIndex: 1, AttachmentId: 'eni-attach-2' },
                Groups: [{ GroupId: 'sg-app', GroupName: 'app' }],
              },
              {
                NetworkInterfaceId: 'eni-primary',
                VpcId: VPC_ID,
                SubnetId: 'subnet-1',
                PrivateIpAddress: '10.0.1.10',
                Association: { PublicIp: '203.0.113.7' },
                Attachment: { DeviceIndex: 0, AttachmentId: 'eni-attach-1' },
                Groups: [
                  { GroupId: 'sg-web', GroupName: 'web' },
                  { GroupId: 'sg-ssh', GroupName: 'ssh' },
                ],
              },
            ],
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', DeleteOnTermination: true } },
              { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-data', DeleteOnTermination: false } },
            ],
          },
        ],
      },
    ],
  });
  ec2
    .on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' })
    .resolves({ DisableApiTermination: { Value: false } })
    .on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' })
    .resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
  ec2.on(DescribeVolumesCommand).resolves({
    Volumes: [
      { VolumeId: 'vol-root', Size: 8, VolumeType: 'gp3', Encrypted: false },
      { VolumeId: 'vol-data', Size: 100, VolumeType: 'io2', Encrypted: true, KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
    ],
  });
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations: [
      { AssociationId: 'iip-assoc-old', State: 'disassociated' },
      { AssociationId: 'iip-assoc-1', State: 'associated', IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/web' } },
    ],
  });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      { InstanceType: 'm5d.large', InstanceStorageSupported: true, InstanceStorageInfo: { TotalSizeInGB: 75, Disks: [{ Count: 1, SizeInGB: 75, Type: 'ssd' }] } },
    ],
  });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      { GroupId: 'sg-trans', GroupName: 'forensics-transition', VpcId: VPC_ID, Tags: [{ Key: 'forensics:role', Value: 'transition' }], IpPermissions: [ALL(true, true)], IpPermissionsEgress: [ALL(true, true)] },
      // Tagged as isolation but someone added a rule: not trusted.
      { GroupId: 'sg-iso-tampered', GroupName: 'forensics-isolation', VpcId: VPC_ID, Tags: [{ Key: 'forensics:role', Value: 'isolation' }], IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], IpPermissionsEgress: [] },
      { GroupId: 'sg-iso-other-vpc', GroupName: 'forensics-isolation', VpcId: OTHER_VPC, Tags: [{ Key: 'forensics:role', Value: 'isolation' }], IpPermissions: [], IpPermissionsEgress: [] },
    ],
  });
  asg.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: [{ InstanceId: INSTANCE_ID, AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never],
  });
  elb
    .on(DescribeTargetGroupsCommand)
    .resolvesOnce({
      TargetGroups: [
        { TargetGroupArn: TG('web'), VpcId: VPC_ID, TargetType: 'instance' },
        { TargetGroupArn: TG('elsewhere'), VpcId: OTHER_VPC, TargetType: 'instance' },
      ],
      NextMarker: 'page-2',
    })
    .resolvesOnce({
      TargetGroups: [
        { TargetGroupArn: TG('by-ip'), VpcId: VPC_ID, TargetType: 'ip' },
        { TargetGroupArn: TG('api'), VpcId: VPC_ID, TargetType: 'instance' },
      ],
    });
  elb
    .on(DescribeTargetHealthCommand, { TargetGroupArn: TG('web') })
    .resolves({
      TargetHealthDescriptions: [
        { Target: { Id: INSTANCE_ID, Port: 80 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: INSTANCE_ID, Port: 8080 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-someoneelse', Port: 80 }, TargetHealth: { State: 'healthy' } },
      ],
    })
    .on(DescribeTargetHealthCommand, { TargetGroupArn: TG('api') })
    .resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-someoneelse', Port: 443 } }] });
}

describe('describeInstance', () => {
  beforeEach(() => {
    ec2.reset();
    asg.reset();
    elb.reset();
  });

  it('records the pre-incident state and finds only trustworthy isolation groups', async () => {
    // Prepare
    mockHealthyVictim();
    // Act
    const result = await describeInstance(deps(), TARGET);
    // Assess
    const pre = result.preIncident;
    expect(pre.networkInterfaces.map((e) => [e.networkInterfaceId, e.deviceIndex, e.groups.map((g) => g.groupId)])).toEqual([
      ['eni-primary', 0, ['sg-web', 'sg-ssh']],
      ['eni-second', 1, ['sg-app']],
    ]);
    expect(pre.networkInterfaces[0]?.publicIp).toBe('203.0.113.7');
    expect(pre.volumes).toEqual([
      { volumeId: 'vol-root', deviceName: '/dev/xvda', sizeGiB: 8, volumeType: 'gp3', encrypted: false, deleteOnTermination: true },
      {
        volumeId: 'vol-data',
        deviceName: '/dev/sdf',
        sizeGiB: 100,
        volumeType: 'io2',
        encrypted: true,
        kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc',
        deleteOnTermination: false,
      },
    ]);
    // The mappings show no instance store; the type is asked by "Preserve and snapshot", not here (no round B).
    expect(pre.instanceStoreDevices).toEqual([]);
    expect(ec2.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(0);
    expect(pre.iamInstanceProfile).toEqual({ arn: 'arn:aws:iam::111122223333:instance-profile/web', id: 'AIPA123', associationId: 'iip-assoc-1' });
    expect(pre.tags).toEqual({ Name: 'web-1', env: 'prod' });
    expect(pre.terminationProtection).toBe(false);
    expect(pre.shutdownBehavior).toBe('terminate');
    expect(pre.autoScalingGroup).toEqual({ name: 'web-asg', lifecycleState: 'InService' });
    expect(pre.targetGroups).toEqual([
      { targetGroupArn: TG('web'), port: 80 },
      { targetGroupArn: TG('web'), port: 8080 },
    ]);
    expect(result.isolationGroups).toEqual([{ vpcId: VPC_ID, transitionGroupId: 'sg-trans' }]);
    expect(result.actions).toHaveLength(1);
    expect(result.actions[0]).toMatchObject({ step: 'describeInstance', status: 'succeeded', result: { gaps: [] } });

    // Exact requests: volumes and groups found by filter, health asked only of instance groups in the VPC.
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({ InstanceIds: [INSTANCE_ID] });
    expect(ec2.commandCalls(DescribeVolumesCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'attachment.instance-id', Values: [INSTANCE_ID] }],
    });
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'tag:forensics:role', Values: ['isolation', 'transition'] }],
    });
    expect(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'instance-id', Values: [INSTANCE_ID] }],
    });
    expect(elb.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { PageSize: 400 },
      { PageSize: 400, Marker: 'page-2' },
    ]);
    expect(elb.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input.TargetGroupArn).sort()).toEqual(
      [TG('api'), TG('web')].sort(),
    );
  });

  it('with target health deferred (triage): one round, the candidate target groups returned for Preserve and snapshot', async () => {
    // Prepare
    mockHealthyVictim();
    // Act
    const result = await describeInstance({ ...deps(), deferTargetHealth: true }, TARGET);
    // Assess
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(0);
    expect(result.preIncident.targetGroups).toEqual([]);
    expect([...(result.targetGroupCandidates ?? [])].sort()).toEqual([TG('api'), TG('web')].sort());
  });

  it('throws InstanceNotFound when EC2 does not know the instance', async () => {
    // Prepare
    mockHealthyVictim();
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound', `The instance ID '${INSTANCE_ID}' does not exist`));
    ec2.on(DescribeInstanceAttributeCommand).rejects(awsError('InvalidInstanceID.NotFound'));
    // Act / Assess
    await expect(describeInstance(deps(), TARGET)).rejects.toMatchObject({ name: 'InstanceNotFound', instanceId: INSTANCE_ID });
  });

  it('throws InstanceNotFound on an empty reservation list', async () => {
    mockHealthyVictim();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    await expect(describeInstance(deps(), TARGET)).rejects.toMatchObject({ name: 'InstanceNotFound' });
  });

  it('lets throttling surface by its AWS error name so the state machine retries', async () => {
    mockHealthyVictim();
    ec2.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded', 'Request limit exceeded.'));
    await expect(describeInstance(deps(), TARGET)).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
  });

  it('rethrows throttling of an auxiliary call too (the step is read-only, a retry is safe)', async () => {
    mockHealthyVictim();
    asg.on(DescribeAutoScalingInstancesCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(describeInstance(deps(), TARGET)).rejects.toMatchObject({ name: 'Throttling' });
  });

  it('records other auxiliary failures as gaps instead of blocking containment', async () => {
    // Prepare
    mockHealthyVictim();
    elb.on(DescribeTargetGroupsCommand).rejects(awsError('AccessDenied', 'not authorized to DescribeTargetGroups'));
    // Act
    const result = await describeInstance(deps(), TARGET);
    // Assess
    expect(result.preIncident.targetGroups).toEqual([]);
    expect(result.actions[0]?.result.gaps).toEqual([
      { call: 'elasticloadbalancing:DescribeTargetGroups', error: 'AccessDenied', message: 'not authorized to DescribeTargetGroups' },
    ]);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(0);
  });

  it('runs round A in parallel and bounds DescribeTargetHealth concurrency', async () => {
    // Prepare
    mockHealthyVictim();
    const groups = Array.from({ length: 10 }, (_, i) => ({ TargetGroupArn: TG(`g${i}`), VpcId: VPC_ID, TargetType: 'instance' as const }));
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: groups });
    let inFlight = 0;
    let maxInFlight = 0;
    elb.on(DescribeTargetHealthCommand).callsFake(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { TargetHealthDescriptions: [] };
    });
    let roundA = 0;
    let maxRoundA = 0;
    const slow = async <T>(value: T): Promise<T> => {
      roundA++;
      maxRoundA = Math.max(maxRoundA, roundA);
      await new Promise((r) => setTimeout(r, 5));
      roundA--;
      return value;
    };
    ec2.on(DescribeVolumesCommand).callsFake(() => slow({ Volumes: [] }));
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(() => slow({}));
    ec2.on(DescribeSecurityGroupsCommand).callsFake(() => slow({ SecurityGroups: [] }));
    // Act
    await describeInstance(deps(3), TARGET);
    // Assess
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(10);
    expect(maxInFlight).toBe(3);
    expect(maxRoundA).toBe(3);
  });
});
