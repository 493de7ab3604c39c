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
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type LivePlan, runPlanLive } from '../../../../cli/commands/plan-live';
import { createAwsClients } from '../../../../handlers/adapters/aws-client-set';

/**
 * `plan --live` with aws-sdk-client-mock: every call of every client is recorded, and none may mutate; the plan
 * states exactly what acquisition would change.
 */
const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const MOCKS: Record<string, { calls(): { args: unknown[] }[]; reset(): unknown }> = { EC2: ec2, AutoScaling: asg, ELBv2: elb, IAM: iam, STS: sts };
const INSTANCE = 'i-0abc1234def567890';
const VPC = 'vpc-0aaa1111bbb22222c';
const ACCOUNT = '111122223333';
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';
const ALL = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] };

function mockVictim(role = { RoleName: 'web-role', Arn: `arn:aws:iam::${ACCOUNT}:role/web-role`, Path: '/' }) {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: 'running' },
            InstanceType: 'm5d.large',
            VpcId: VPC,
            IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/web`, Id: 'AIPA1' },
            NetworkInterfaces: [
              { NetworkInterfaceId: 'eni-a', VpcId: VPC, Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-web' }, { GroupId: 'sg-ssh' }] },
              { NetworkInterfaceId: 'eni-b', VpcId: VPC, Attachment: { DeviceIndex: 1 }, Groups: [{ GroupId: 'sg-app' }] },
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
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [{ InstanceType: 'm5d.large', InstanceStorageSupported: true, InstanceStorageInfo: { TotalSizeInGB: 75, Disks: [{ Count: 1, SizeInGB: 75, Type: 'ssd' }] } }],
  });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      { GroupId: 'sg-trans', GroupName: 'forensics-transition', VpcId: VPC, Tags: [{ Key: 'forensics:role', Value: 'transition' }], IpPermissions: [ALL], IpPermissionsEgress: [ALL] },
    ],
  });
  asg.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never],
  });
  elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG, VpcId: VPC, TargetType: 'instance' }] });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 } }] });
  iam.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { Roles: [role] } as never });
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
}

async function plan(extra: Record<string, string> = {}): Promise<{ code: number; plan: LivePlan; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPlanLive(
    { instance: INSTANCE, account: ACCOUNT, region: 'eu-west-1', output: 'json', ...extra },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    createAwsClients(),
  );
  return { code, plan: JSON.parse(out[0] ?? 'null') as LivePlan, err };
}

/** Every command sent to any mocked client, as `Service:Command`. */
const recorded = () =>
  Object.entries(MOCKS).flatMap(([service, m]) => m.calls().map((c) => `${service}:${(c.args[0] as object).constructor.name.replace(/Command$/, '')}`));

beforeEach(() => {
  for (const m of Object.values(MOCKS)) m.reset();
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
});

describe('forensics plan --live', () => {
  it('makes read-only calls only', async () => {
    mockVictim();
    const { code, err } = await plan();
    expect(code, err.join('\n')).toBe(0);
    const calls = recorded();
    expect(calls).toEqual(expect.arrayContaining(['EC2:DescribeInstances', 'IAM:GetInstanceProfile', 'AutoScaling:DescribeAutoScalingInstances', 'ELBv2:DescribeTargetHealth']));
    for (const call of calls) expect(call).toMatch(/^[A-Za-z0-9]+:(Describe|Get|List)[A-Za-z]*$/);
  });

  it('states exactly what acquisition would change', async () => {
    mockVictim();
    const { plan: p } = await plan();
    expect(p.snapshots).toEqual([
      { volumeId: 'vol-root', deviceName: '/dev/xvda', sizeGiB: 8, volumeType: 'gp3', encrypted: false },
      { volumeId: 'vol-data', deviceName: '/dev/sdf', sizeGiB: 100, volumeType: 'io2', encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
    ]);
    expect(p.notAcquirable).toHaveLength(1);
    expect(p.notAcquirable[0]?.note).toMatch(/instance store/);
    expect(p.preservation).toEqual([
      { action: 'tag-instance', planned: 'forensics:case-id=<caseId>' },
      { action: 'termination-protection', current: false, planned: true },
      { action: 'shutdown-behavior', current: 'terminate', planned: 'stop' },
      { action: 'delete-on-termination /dev/xvda (vol-root)', current: true, planned: false },
    ]);
    expect(p.networkInterfaces).toEqual([
      {
        networkInterfaceId: 'eni-a',
        vpcId: VPC,
        currentGroups: [{ groupId: 'sg-web' }, { groupId: 'sg-ssh' }],
        transitionGroup: { groupId: 'sg-trans' },
        isolationGroup: { create: `forensics-isolation in ${VPC}` },
      },
      {
        networkInterfaceId: 'eni-b',
        vpcId: VPC,
        currentGroups: [{ groupId: 'sg-app' }],
        transitionGroup: { groupId: 'sg-trans' },
        isolationGroup: { create: `forensics-isolation in ${VPC}` },
      },
    ]);
    expect(p.credentials).toEqual({
      action: 'put-deny-role-policy',
      mode: 'instance',
      instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/web`,
      roleName: 'web-role',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/web-role`,
      policyName: 'forensics-deny-<caseId>',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ForensicsDenyCompromisedInstance',
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { StringEquals: { 'ec2:SourceInstanceARN': `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${INSTANCE}` } },
          },
        ],
      },
      blastRadius: expect.stringContaining('this instance only'),
    });
    expect(p.autoScaling).toMatchObject({ action: 'enter-standby', groupName: 'web-asg', lifecycleState: 'InService' });
    expect(p.targetGroups).toEqual([{ targetGroupArn: TG, port: 80, action: 'deregister-targets' }]);
    expect(p.readOnly).toBe(true);
  });

  it('per revoke mode: role adds the older-sessions deny; none and a service-linked role are skipped with the reason', async () => {
    mockVictim();
    const role = (await plan({ revoke: 'role' })).plan.credentials;
    expect(role.action === 'put-deny-role-policy' && role.document.Statement.map((s) => s.Sid)).toEqual([
      'ForensicsDenyCompromisedInstance',
      'ForensicsRevokeOlderSessions',
    ]);
    expect((await plan({ revoke: 'none' })).plan.credentials).toEqual({ action: 'skip', mode: 'none', reason: 'revoke mode is none' });
    iam.reset();
    iam.on(GetInstanceProfileCommand).resolves({
      InstanceProfile: { Roles: [{ RoleName: 'AWSServiceRoleForX', Arn: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/x/AWSServiceRoleForX`, Path: '/aws-service-role/x/' }] } as never,
    });
    expect((await plan()).plan.credentials).toMatchObject({ action: 'skip', reason: expect.stringContaining('service-linked') });
  });

  it('refuses bad flags with exit 2 before any call, and credentials of another account', async () => {
    mockVictim();
    const err: string[] = [];
    const io = { out: () => undefined, err: (l: string) => err.push(l) };
    expect(await runPlanLive({ instance: 'i-1', account: ACCOUNT, region: 'eu-west-1' }, io, createAwsClients())).toBe(2);
    expect(err.at(-1)).toContain('--instance');
    expect(await runPlanLive({ instance: INSTANCE, account: ACCOUNT, region: 'eu-west-1', revoke: 'all' }, io, createAwsClients())).toBe(2);
    expect(await runPlanLive({ instance: INSTANCE, account: ACCOUNT, region: 'eu-west-1', endpoint: 'http://192.0.2.1:5000' }, io, createAwsClients())).toBe(2);
    expect(recorded()).toEqual([]);
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    expect(await runPlanLive({ instance: INSTANCE, account: ACCOUNT, region: 'eu-west-1' }, io, createAwsClients())).toBe(2);
    expect(err.at(-1)).toContain('credentials are for account 999999999999');
    expect(recorded()).toEqual(['STS:GetCallerIdentity']);
  });
});
