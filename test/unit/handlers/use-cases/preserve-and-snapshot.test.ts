import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeFlowLogsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { preIncidentOf } from '../../../../handlers/domain/instance-store';
import { READ_BACK_PENDING } from '../../../../handlers/domain/preservation';
import { preserveAndSnapshot } from '../../../../handlers/use-cases/preserve-and-snapshot';
import { CASE, INSTANCE_ID, VPC_ID, adapters, awsError, describeResult, tickingClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';

const deps = () => ({ ...adapters(), clock: tickingClock(), tagPrefix: 'forensics' });
const victim = () =>
  describeResult({
    autoScalingGroup: { name: 'web-asg', lifecycleState: 'InService' },
    targetGroups: [
      { targetGroupArn: TG, port: 80 },
      { targetGroupArn: TG, port: 8080 },
    ],
  });

function mockAllSucceed() {
  ec2.on(CreateSnapshotsCommand).resolves({
    Snapshots: [
      { SnapshotId: 'snap-root', VolumeId: 'vol-root', VolumeSize: 8, StartTime: new Date('2026-01-10T10:00:01Z') },
      { SnapshotId: 'snap-data', VolumeId: 'vol-data', VolumeSize: 100, StartTime: new Date('2026-01-10T10:00:01Z') },
    ],
  });
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(ModifyInstanceAttributeCommand).resolves({});
  // The read-backs: what the instance says after the changes.
  ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
  ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({
    InstanceInitiatedShutdownBehavior: { Value: 'stop' },
  });
  ec2.on(DescribeInstancesCommand).resolves(instanceWithDeleteOnTermination(false));
  asg.on(EnterStandbyCommand).resolves({});
  elb.on(DeregisterTargetsCommand).resolves({});
  ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [VPC_FLOW_LOG] });
}

/** A flow log of the instance's VPC into S3, as DescribeFlowLogs describes it. */
const VPC_FLOW_LOG = {
  FlowLogId: 'fl-0123456789abcdef0',
  ResourceId: VPC_ID,
  LogDestinationType: 's3' as const,
  LogDestination: 'arn:aws:s3:::central-flows/flows',
  DestinationOptions: { FileFormat: 'plain-text' as const, HiveCompatiblePartitions: false, PerHourPartition: false },
};
const VPC_FLOW_LOG_SOURCE = {
  flowLogId: 'fl-0123456789abcdef0',
  resourceId: VPC_ID,
  destinationType: 's3',
  destination: 'arn:aws:s3:::central-flows/flows',
  logGroupName: null,
  hiveCompatible: false,
  perHour: false,
};

function instanceWithDeleteOnTermination(root: boolean) {
  return {
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE_ID,
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', DeleteOnTermination: root } },
              { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-data', DeleteOnTermination: false } },
            ],
          },
        ],
      },
    ],
  };
}

describe('preserveAndSnapshot', () => {
  beforeEach(() => {
    ec2.reset();
    asg.reset();
    elb.reset();
  });
  afterEach(() => {
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  it('takes one crash-consistent CreateSnapshots and applies every preservation with exact parameters', async () => {
    // Prepare
    mockAllSucceed();
    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    // Assess
    const create = ec2.commandCalls(CreateSnapshotsCommand);
    expect(create).toHaveLength(1);
    expect(create[0]?.args[0].input).toEqual({
      InstanceSpecification: { InstanceId: INSTANCE_ID, ExcludeBootVolume: false },
      Description: `Forensic acquisition case ${CASE.caseId}: ${INSTANCE_ID} (finding ${CASE.finding.id})`,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'forensics:case-id', Value: CASE.caseId },
            { Key: 'forensics:finding-id', Value: CASE.finding.id },
          ],
        },
      ],
    });
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: [INSTANCE_ID],
      Tags: [{ Key: 'forensics:case-id', Value: CASE.caseId }],
    });
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand).map((c) => c.args[0].input)).toEqual(
      expect.arrayContaining([
        // Structured form for the boolean, Attribute/Value for the shutdown behaviour: each AWS's documented form
        // that the emulator also applies.
        { InstanceId: INSTANCE_ID, DisableApiTermination: { Value: true } },
        { InstanceId: INSTANCE_ID, Attribute: 'instanceInitiatedShutdownBehavior', Value: 'stop' },
        // Only the volume that was deleted on termination; one call for all such devices.
        { InstanceId: INSTANCE_ID, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }] },
      ]),
    );
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(3);
    expect(asg.commandCalls(EnterStandbyCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'web-asg',
      InstanceIds: [INSTANCE_ID],
      ShouldDecrementDesiredCapacity: true,
    });
    expect(asg.commandCalls(DetachInstancesCommand)).toHaveLength(0);
    expect(elb.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG, Targets: [{ Id: INSTANCE_ID, Port: 80 }, { Id: INSTANCE_ID, Port: 8080 }] },
    ]);

    expect(result.snapshots).toEqual([
      { volumeId: 'vol-root', snapshotId: 'snap-root', deviceName: '/dev/xvda', sizeGiB: 8, startTime: '2026-01-10T10:00:01.000Z' },
      { volumeId: 'vol-data', snapshotId: 'snap-data', deviceName: '/dev/sdf', sizeGiB: 100, startTime: '2026-01-10T10:00:01.000Z' },
    ]);
    expect(result.snapshotRequestedAt).toBe('2026-01-10T10:00:00.000Z');
    expect(result.preservation.map((p) => [p.action, p.status, p.previous])).toEqual([
      ['tag-instance', 'applied', { 'forensics:case-id': null }],
      ['enable-termination-protection', 'applied', false],
      ['shutdown-behavior-stop', 'applied', 'terminate'],
      ['keep-volumes-on-termination', 'applied', [{ deviceName: '/dev/xvda', volumeId: 'vol-root', deleteOnTermination: true }]],
      ['leave-auto-scaling-group', 'applied', { autoScalingGroupName: 'web-asg', lifecycleState: 'InService' }],
      ['deregister-targets', 'applied', [{ targetGroupArn: TG, port: 80 }, { targetGroupArn: TG, port: 8080 }]],
    ]);
    // No read-back before containment: the changes are applied, not yet verified ("Isolate network" reads them).
    expect(ec2.commandCalls(DescribeInstanceAttributeCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(result.preservation.filter((p) => p.verified !== undefined).map((p) => [p.action, p.verified, p.detail])).toEqual([
      ['enable-termination-protection', false, READ_BACK_PENDING],
      ['shutdown-behavior-stop', false, READ_BACK_PENDING],
      ['keep-volumes-on-termination', false, READ_BACK_PENDING],
    ]);
    // One custody action per action taken, the snapshot first.
    expect(result.actions.map((a) => [a.action, a.status])).toEqual([
      ['create-snapshots', 'succeeded'],
      ['tag-instance', 'succeeded'],
      ['enable-termination-protection', 'succeeded'],
      ['shutdown-behavior-stop', 'succeeded'],
      ['keep-volumes-on-termination', 'succeeded'],
      ['leave-auto-scaling-group', 'succeeded'],
      ['deregister-targets', 'succeeded'],
      ['describe-flow-logs', 'succeeded'],
    ]);
    // The flow logs of the ENI, its subnet and VPC, for "Scope the incident" (which has no EC2 client).
    expect(ec2.commandCalls(DescribeFlowLogsCommand).map((c) => c.args[0].input.Filter)).toEqual([[{ Name: 'resource-id', Values: ['eni-0000000000000000a', VPC_ID] }]]);
    expect(result.flowLogSources).toEqual({ status: 'read', sources: [VPC_FLOW_LOG_SOURCE] });
    for (const a of result.actions) expect(a.performedAt).toMatch(/^2026-01-10T10:00:\d\d\.000Z$/);
  });

  it('issues the preservation calls while CreateSnapshots is still in flight', async () => {
    // Prepare
    mockAllSucceed();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let modifyCallsWhileSnapshotPending = -1;
    ec2.on(CreateSnapshotsCommand).callsFake(async () => {
      await gate;
      return { Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] };
    });
    // Act
    const running = preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    await new Promise((r) => setTimeout(r, 10));
    modifyCallsWhileSnapshotPending = ec2.commandCalls(ModifyInstanceAttributeCommand).length;
    release();
    await running;
    // Assess: the changes all overlap CreateSnapshots (no round trip added before isolation).
    expect(modifyCallsWhileSnapshotPending).toBe(3);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(1);
  });

  it('reads the target health the describe deferred beside CreateSnapshots, then deregisters what it found', async () => {
    // Prepare: triage's describe left one target group unread; CreateSnapshots answers only when released.
    mockAllSucceed();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ec2.on(CreateSnapshotsCommand).callsFake(async () => {
      order.push('CreateSnapshots:sent');
      await gate;
      return { Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] };
    });
    elb.on(DescribeTargetHealthCommand).callsFake(async () => {
      order.push('DescribeTargetHealth');
      return { TargetHealthDescriptions: [{ Target: { Id: INSTANCE_ID, Port: 443, AvailabilityZone: 'eu-west-1a' } }] };
    });
    elb.on(DeregisterTargetsCommand).callsFake(async () => {
      order.push('DeregisterTargets');
      return {};
    });
    const described = { ...describeResult({ autoScalingGroup: { name: 'web-asg', lifecycleState: 'InService' } }), targetGroupCandidates: [TG] };

    // Act: both ELB calls happen while CreateSnapshots is still in flight.
    const running = preserveAndSnapshot(deps(), { caseRef: CASE, describe: described });
    await new Promise((r) => setTimeout(r, 20));
    const beforeSnapshotReturned = [...order];
    release();
    const result = await running;

    // Assess
    expect(beforeSnapshotReturned).toEqual(['CreateSnapshots:sent', 'DescribeTargetHealth', 'DeregisterTargets']);
    expect(elb.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({ TargetGroupArn: TG });
    expect(elb.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TG,
      Targets: [{ Id: INSTANCE_ID, Port: 443, AvailabilityZone: 'eu-west-1a' }],
    });
    expect(result.targetGroups).toEqual([{ targetGroupArn: TG, port: 443, availabilityZone: 'eu-west-1a' }]);
    expect(result.actions.find((a) => a.action === 'describe-target-registrations')?.status).toBe('succeeded');
    // The pre-incident state as recorded (and restored by release) carries the registration.
    expect(preIncidentOf({ describe: described, acquisition: result })?.targetGroups).toEqual([{ targetGroupArn: TG, port: 443, availabilityZone: 'eu-west-1a' }]);
  });

  it('records a failed preservation call with the previous value and still takes the snapshot', async () => {
    // Prepare
    mockAllSucceed();
    ec2
      .on(ModifyInstanceAttributeCommand, { DisableApiTermination: { Value: true } })
      .rejects(awsError('UnauthorizedOperation', 'You are not authorized'));
    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    // Assess
    expect(result.snapshots).toHaveLength(2);
    expect(result.preservation.find((p) => p.action === 'enable-termination-protection')).toEqual({
      action: 'enable-termination-protection',
      status: 'failed',
      detail: 'UnauthorizedOperation: You are not authorized',
      previous: false,
    });
    expect(result.actions.find((a) => a.action === 'enable-termination-protection')?.status).toBe('failed');
    expect(result.preservation.filter((p) => p.status === 'applied')).toHaveLength(5);
  });

  it('detaches without decrementing when standby is refused', async () => {
    // Prepare
    mockAllSucceed();
    asg.on(EnterStandbyCommand).rejects(awsError('ValidationError', 'AutoScalingGroup web-asg has min-size=1 ... update the AutoScalingGroup sizes'));
    asg.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{ InstanceId: INSTANCE_ID, AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never],
    });
    asg.on(DetachInstancesCommand).resolves({});
    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    // Assess
    expect(asg.commandCalls(DetachInstancesCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'web-asg',
      InstanceIds: [INSTANCE_ID],
      ShouldDecrementDesiredCapacity: false,
    });
    const outcome = result.preservation.find((p) => p.action === 'leave-auto-scaling-group');
    expect(outcome?.status).toBe('applied');
    expect(outcome?.detail).toMatch(/^DetachInstances .*ValidationError/);
  });

  it('recognises a standby already applied by an earlier attempt of the step', async () => {
    mockAllSucceed();
    asg.on(EnterStandbyCommand).rejects(awsError('ValidationError', 'The instance is not in InService'));
    asg.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{ InstanceId: INSTANCE_ID, AutoScalingGroupName: 'web-asg', LifecycleState: 'Standby' } as never],
    });
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    expect(asg.commandCalls(DetachInstancesCommand)).toHaveLength(0);
    expect(result.preservation.find((p) => p.action === 'leave-auto-scaling-group')).toMatchObject({ status: 'applied', detail: 'already Standby' });
  });

  it('skips what already holds and says so', async () => {
    mockAllSucceed();
    const described = describeResult({ terminationProtection: true, shutdownBehavior: 'stop', volumes: [
      { volumeId: 'vol-root', deviceName: '/dev/xvda', sizeGiB: 8, encrypted: false, deleteOnTermination: false },
    ] });
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: described });
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
    expect(asg.commandCalls(EnterStandbyCommand)).toHaveLength(0);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(result.preservation.map((p) => [p.action, p.status])).toEqual([
      ['tag-instance', 'applied'],
      ['enable-termination-protection', 'skipped'],
      ['shutdown-behavior-stop', 'skipped'],
      ['keep-volumes-on-termination', 'skipped'],
      ['leave-auto-scaling-group', 'skipped'],
      ['deregister-targets', 'skipped'],
    ]);
  });

  it('lets a throttled CreateSnapshots surface by its AWS error name', async () => {
    mockAllSucceed();
    ec2.on(CreateSnapshotsCommand).rejects(awsError('SnapshotCreationPerVolumeRateExceeded', 'slow down'));
    await expect(preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() })).rejects.toMatchObject({
      name: 'SnapshotCreationPerVolumeRateExceeded',
    });
  });

  it('turns any other CreateSnapshots failure into SnapshotFailed, carrying the preservation already done', async () => {
    mockAllSucceed();
    ec2.on(CreateSnapshotsCommand).rejects(awsError('UnauthorizedOperation', 'no ec2:CreateSnapshots'));
    const error = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SnapshotFailed' });
    expect((error as Error).message).toMatch(/UnauthorizedOperation/);
    expect((error as Error).message).toMatch(/enable-termination-protection/);
  });

  it('records volumes CreateSnapshots left out, and fails only when none was taken', async () => {
    // Prepare
    mockAllSucceed();
    ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] });
    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    // Assess
    expect(result.snapshots.map((s) => s.volumeId)).toEqual(['vol-root']);
    expect(result.actions[0]?.result.missingVolumeIds).toEqual(['vol-data']);

    ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [] });
    await expect(preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() })).rejects.toMatchObject({
      name: 'SnapshotFailed',
    });
  });

  it('asks the instance type for its instance store beside CreateSnapshots, and records a failed lookup without failing', async () => {
    // Prepare: the mappings showed no instance store; the type has one. CreateSnapshots held until checked.
    mockAllSucceed();
    ec2.on(DescribeInstanceTypesCommand).resolves({
      InstanceTypes: [{ InstanceType: 'm5d.large', InstanceStorageSupported: true, InstanceStorageInfo: { TotalSizeInGB: 75, Disks: [{ Count: 1, SizeInGB: 75, Type: 'ssd' }] } }],
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ec2.on(CreateSnapshotsCommand).callsFake(async () => {
      await gate;
      return { Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] };
    });
    const described = describeResult({ instanceType: 'm5d.large', instanceStoreDevices: [] });

    // Act
    const running = preserveAndSnapshot(deps(), { caseRef: CASE, describe: described });
    await new Promise((r) => setTimeout(r, 10));
    const lookupsWhileSnapshotPending = ec2.commandCalls(DescribeInstanceTypesCommand).length;
    release();
    const result = await running;

    // Assess: in flight with CreateSnapshots (no round trip of its own); recorded for the pre-incident state.
    expect(lookupsWhileSnapshotPending).toBe(1);
    expect(ec2.commandCalls(DescribeInstanceTypesCommand)[0]?.args[0].input).toEqual({ InstanceTypes: ['m5d.large'] });
    expect(result.instanceStoreDevices).toEqual([
      { deviceName: 'instance-store', note: 'instance type provides instance store (1 x 75 GB ssd): not acquirable by EBS snapshot; lost when the instance stops' },
    ]);
    expect(result.actions.find((a) => a.action === 'describe-instance-store')?.status).toBe('succeeded');

    // Prepare / Act again: the lookup is refused.
    ec2.on(DescribeInstanceTypesCommand).rejects(awsError('UnauthorizedOperation', 'no ec2:DescribeInstanceTypes'));
    release = () => {};
    ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] });
    const refused = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: described });
    // Assess: the snapshot stands; the gap is a failed custody action.
    expect(refused.snapshots).toHaveLength(1);
    expect(refused.instanceStoreDevices).toEqual([]);
    expect(refused.actions.find((a) => a.action === 'describe-instance-store')).toMatchObject({
      status: 'failed',
      result: { error: 'UnauthorizedOperation', message: 'no ec2:DescribeInstanceTypes' },
    });
  });

  it('looks up the flow logs of the ENIs, subnets and VPCs while CreateSnapshots is in flight (no round trip of its own)', async () => {
    // Prepare: two ENIs in one subnet of the VPC; CreateSnapshots answers only when released.
    mockAllSucceed();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ec2.on(CreateSnapshotsCommand).callsFake(async () => {
      order.push('CreateSnapshots:sent');
      await gate;
      order.push('CreateSnapshots:answered');
      return { Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] };
    });
    ec2.on(DescribeFlowLogsCommand).callsFake(async () => {
      order.push('DescribeFlowLogs');
      return { FlowLogs: [VPC_FLOW_LOG] };
    });
    const eni = (id: string, deviceIndex: number) => ({ networkInterfaceId: id, deviceIndex, subnetId: 'subnet-0aaa', vpcId: VPC_ID, groups: [{ groupId: 'sg-0web' }] });
    const described = describeResult({ networkInterfaces: [eni('eni-0000000000000000a', 0), eni('eni-0000000000000000b', 1)] });

    // Act
    const running = preserveAndSnapshot(deps(), { caseRef: CASE, describe: described });
    await new Promise((r) => setTimeout(r, 10));
    const beforeSnapshotReturned = [...order];
    release();
    const result = await running;

    // Assess: one call, sent and answered before CreateSnapshots returned; each subnet and VPC named once.
    expect(beforeSnapshotReturned).toEqual(['CreateSnapshots:sent', 'DescribeFlowLogs']);
    expect(ec2.commandCalls(DescribeFlowLogsCommand).map((c) => c.args[0].input)).toEqual([
      { Filter: [{ Name: 'resource-id', Values: ['eni-0000000000000000a', 'subnet-0aaa', VPC_ID, 'eni-0000000000000000b'] }], MaxResults: 100 },
    ]);
    expect(result.flowLogSources).toEqual({ status: 'read', sources: [VPC_FLOW_LOG_SOURCE] });
    expect(result.actions.find((a) => a.action === 'describe-flow-logs')).toMatchObject({
      status: 'succeeded',
      request: { instanceId: INSTANCE_ID, resourceIds: ['eni-0000000000000000a', 'subnet-0aaa', VPC_ID, 'eni-0000000000000000b'] },
      result: { flowLogIds: ['fl-0123456789abcdef0'], truncated: false },
    });
  });

  it('records a refused DescribeFlowLogs with its error and still takes the snapshot', async () => {
    // Prepare
    mockAllSucceed();
    ec2.on(DescribeFlowLogsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));

    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });

    // Assess: the step succeeds; the scope finds the error in the state, the custody record has the failure.
    expect(result.snapshots.map((s) => s.snapshotId)).toEqual(['snap-root', 'snap-data']);
    expect(result.flowLogSources).toEqual({ status: 'failed', error: 'UnauthorizedOperation: You are not authorized to perform this operation.' });
    expect(result.actions.find((a) => a.action === 'describe-flow-logs')).toMatchObject({
      status: 'failed',
      result: { error: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' },
    });
  });

  it('makes no flow log lookup for an instance without a recorded network interface', async () => {
    // Prepare
    mockAllSucceed();

    // Act
    const result = await preserveAndSnapshot(deps(), { caseRef: CASE, describe: describeResult({ networkInterfaces: [] }) });

    // Assess
    expect(ec2.commandCalls(DescribeFlowLogsCommand)).toHaveLength(0);
    expect(result.flowLogSources).toBeUndefined();
    expect(result.actions.some((a) => a.action === 'describe-flow-logs')).toBe(false);
  });

  it('makes the isolation groups of a VPC without them ready while CreateSnapshots is in flight (first case in a VPC)', async () => {
    // Prepare: the describe step found no group in the VPC; CreateSnapshots held until checked.
    mockAllSucceed();
    ec2.on(CreateSecurityGroupCommand, { GroupName: 'forensics-transition' }).resolves({ GroupId: 'sg-newtrans' });
    ec2.on(CreateSecurityGroupCommand, { GroupName: 'forensics-isolation' }).resolves({ GroupId: 'sg-newiso' });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ec2.on(CreateSnapshotsCommand).callsFake(async () => {
      await gate;
      return { Snapshots: [{ SnapshotId: 'snap-root', VolumeId: 'vol-root' }] };
    });

    // Act
    const running = preserveAndSnapshot(deps(), { caseRef: CASE, describe: victim() });
    await new Promise((r) => setTimeout(r, 10));
    const groupCallsWhileSnapshotPending = ec2.commandCalls(CreateSecurityGroupCommand).length + ec2.commandCalls(RevokeSecurityGroupEgressCommand).length;
    release();
    const result = await running;

    // Assess: created and configured beside the snapshot; handed to "Isolate network" with their custody records.
    expect(groupCallsWhileSnapshotPending).toBe(3);
    expect(ec2.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input.TagSpecifications?.[0]?.Tags)).toEqual(
      expect.arrayContaining([expect.arrayContaining([{ Key: 'forensics:role', Value: 'transition' }])]),
    );
    expect(result.isolationGroups).toEqual([
      {
        vpcId: victim().isolationGroups[0]?.vpcId,
        transition: expect.objectContaining({ groupId: 'sg-newtrans', created: true, action: expect.objectContaining({ action: 'create-transition-group', status: 'succeeded' }) }),
        isolation: expect.objectContaining({ groupId: 'sg-newiso', created: true, action: expect.objectContaining({ action: 'create-isolation-group', status: 'succeeded' }) }),
      },
    ]);
    // Not in this step's own custody actions: "Isolate network" records them with the containment.
    expect(result.actions.some((a) => a.action.startsWith('create-') && a.action.endsWith('-group'))).toBe(false);
  });
});
