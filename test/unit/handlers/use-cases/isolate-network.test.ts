import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ContainmentFailed } from '../../../../handlers/domain/errors';
import { type PartialContainment, isolateNetwork } from '../../../../handlers/use-cases/isolate-network';
import { CASE, VPC_ID, adapters, awsError, describeResult, tickingClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const ENIS = ['eni-a', 'eni-b', 'eni-c'];

const deps = () => ({
  securityGroups: adapters().securityGroups,
  clock: tickingClock(),
  tagPrefix: 'forensics',
  retry: { sleep: async () => undefined },
});

const threeEnis = (groups: { transitionGroupId?: string; isolationGroupId?: string } = { transitionGroupId: 'sg-trans', isolationGroupId: 'sg-iso' }) =>
  describeResult(
    {
      networkInterfaces: ENIS.map((id, i) => ({
        networkInterfaceId: id,
        deviceIndex: i,
        vpcId: VPC_ID,
        groups: [{ groupId: `sg-orig-${i}` }],
      })),
    },
    [{ vpcId: VPC_ID, ...groups }],
  );

const modifyCalls = () =>
  ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => [c.args[0].input.NetworkInterfaceId, c.args[0].input.Groups]);

describe('isolateNetwork', () => {
  beforeEach(() => {
    ec2.reset();
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  });

  it('with existing groups: every ENI to the transition group, then — once all have — to the isolation group', async () => {
    // Act
    const result = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis() });
    // Assess
    const calls = modifyCalls();
    expect(calls.slice(0, 3)).toEqual(expect.arrayContaining(ENIS.map((id) => [id, ['sg-trans']])));
    expect(calls.slice(3)).toEqual(expect.arrayContaining(ENIS.map((id) => [id, ['sg-iso']])));
    expect(calls).toHaveLength(6);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
    expect(result.groups).toEqual([{ vpcId: VPC_ID, transitionGroupId: 'sg-trans', isolationGroupId: 'sg-iso', created: false }]);
    expect(result.networkInterfaces.map((e) => [e.networkInterfaceId, e.originalGroupIds])).toEqual([
      ['eni-a', ['sg-orig-0']],
      ['eni-b', ['sg-orig-1']],
      ['eni-c', ['sg-orig-2']],
    ]);
    expect(result.containedAt >= result.startedAt).toBe(true);
    expect(result.actions.filter((a) => a.action === 'isolate-network-interface' && a.status === 'succeeded')).toHaveLength(3);
  });

  it('sends the ENI changes of one phase in parallel', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return {};
    });
    // Act
    await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis() });
    // Assess
    expect(maxInFlight).toBe(3);
  });

  it('first time in a VPC: creates both groups, tagged, opens the transition group and empties the isolation group', async () => {
    // Prepare
    ec2
      .on(CreateSecurityGroupCommand, { GroupName: 'forensics-transition' })
      .resolves({ GroupId: 'sg-new-trans' })
      .on(CreateSecurityGroupCommand, { GroupName: 'forensics-isolation' })
      .resolves({ GroupId: 'sg-new-iso' });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    // Act
    const result = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis({}) });
    // Assess
    const created = ec2.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input);
    expect(created).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          VpcId: VPC_ID,
          GroupName: 'forensics-isolation',
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: 'forensics:role', Value: 'isolation' },
                { Key: 'Name', Value: 'forensics-isolation' },
              ],
            },
          ],
        }),
        expect.objectContaining({ VpcId: VPC_ID, GroupName: 'forensics-transition' }),
      ]),
    );
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-new-trans',
      IpPermissions: [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
    });
    // IPv4 all-traffic egress is a new group's default; only IPv6 is added.
    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-new-trans',
      IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: 'sg-new-iso', IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
    ]);
    expect(result.groups).toEqual([{ vpcId: VPC_ID, transitionGroupId: 'sg-new-trans', isolationGroupId: 'sg-new-iso', created: true }]);
    expect(modifyCalls().slice(3)).toEqual(expect.arrayContaining(ENIS.map((id) => [id, ['sg-new-iso']])));
    expect(result.actions.map((a) => a.action)).toEqual(
      expect.arrayContaining(['create-transition-group', 'create-isolation-group']),
    );
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(0);
  });

  it('reuses the group another case created first (InvalidGroup.Duplicate), repairing it if half configured', async () => {
    // Prepare
    ec2.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate', "The security group 'forensics-isolation' already exists"));
    // The winner has created the group but not yet revoked its default egress.
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: 'sg-their-iso',
          GroupName: 'forensics-isolation',
          VpcId: VPC_ID,
          IpPermissions: [],
          IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        },
      ],
    });
    ec2.on(RevokeSecurityGroupEgressCommand).rejects(awsError('InvalidPermission.NotFound', 'already revoked by the winner'));
    // Act
    const result = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis({ transitionGroupId: 'sg-trans' }) });
    // Assess
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { Name: 'vpc-id', Values: [VPC_ID] },
        { Name: 'group-name', Values: ['forensics-isolation'] },
      ],
    });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)[0]?.args[0].input.GroupId).toBe('sg-their-iso');
    expect(result.groups).toEqual([{ vpcId: VPC_ID, transitionGroupId: 'sg-trans', isolationGroupId: 'sg-their-iso', created: false }]);
    expect(result.actions.find((a) => a.action === 'reuse-isolation-group')?.result).toMatchObject({ repaired: true });
  });

  it('retries a throttled ENI change and succeeds', async () => {
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-b', Groups: ['sg-iso'] })
      .rejectsOnce(awsError('RequestLimitExceeded'))
      .resolves({});
    const result = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis() });
    expect(result.networkInterfaces).toHaveLength(3);
    expect(modifyCalls()).toHaveLength(7);
  });

  it('throws ContainmentFailed listing what was isolated, and never leaves an ENI in the open transition group', async () => {
    // Prepare
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-b', Groups: ['sg-iso'] })
      .rejects(awsError('InvalidNetworkInterfaceID.NotFound', 'gone'));
    // Act
    const error = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis() }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ContainmentFailed);
    const partial = (error as ContainmentFailed).partial as PartialContainment;
    expect(partial.isolated.map((e) => e.networkInterfaceId).sort()).toEqual(['eni-a', 'eni-c']);
    expect(partial.failed).toEqual([
      {
        networkInterfaceId: 'eni-b',
        vpcId: VPC_ID,
        phase: 'isolation',
        error: 'InvalidNetworkInterfaceID.NotFound: gone',
        leftIn: 'original-groups',
      },
    ]);
    expect(modifyCalls().at(-1)).toEqual(['eni-b', ['sg-orig-1']]);
  });

  it('still isolates an ENI whose transition failed, and reports it', async () => {
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-c', Groups: ['sg-trans'] })
      .rejects(awsError('UnauthorizedOperation'));
    const error = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis() }).catch((e: unknown) => e);
    const partial = (error as ContainmentFailed).partial as PartialContainment;
    expect(partial.failed).toEqual([
      expect.objectContaining({ networkInterfaceId: 'eni-c', phase: 'transition', leftIn: 'isolation-group' }),
    ]);
    expect(modifyCalls()).toContainEqual(['eni-c', ['sg-iso']]);
  });

  it('uses the groups Preserve and snapshot made ready (first case in a VPC): no group call on the path, creation recorded here', async () => {
    // Prepare: the describe step found none; the previous step created both.
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const action = (role: string, groupId: string) => ({
      step: 'isolateNetwork',
      action: `create-${role}-group`,
      status: 'succeeded' as const,
      performedAt: '2026-01-10T10:00:00.000Z',
      request: { role },
      result: { groupId },
    });
    const vpcId = threeEnis({}).preIncident.networkInterfaces[0]?.vpcId as string;
    const prepared = [
      {
        vpcId,
        transition: { groupId: 'sg-ready-trans', created: true, action: action('transition', 'sg-ready-trans') },
        isolation: { groupId: 'sg-ready-iso', created: true, action: action('isolation', 'sg-ready-iso') },
      },
    ];
    // Act
    const result = await isolateNetwork(deps(), { caseRef: CASE, describe: threeEnis({}), prepared });
    // Assess
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toHaveLength(0);
    const switches = ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups);
    expect(switches.slice(0, 3)).toEqual([['sg-ready-trans'], ['sg-ready-trans'], ['sg-ready-trans']]);
    expect(switches.slice(3)).toEqual([['sg-ready-iso'], ['sg-ready-iso'], ['sg-ready-iso']]);
    expect(result.groups).toEqual([{ vpcId, transitionGroupId: 'sg-ready-trans', isolationGroupId: 'sg-ready-iso', created: true }]);
    expect(result.actions.filter((a) => a.action.endsWith('-group')).map((a) => a.action)).toEqual(['create-transition-group', 'create-isolation-group']);
  });
});
