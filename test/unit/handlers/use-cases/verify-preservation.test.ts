import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { READ_BACK_PENDING } from '../../../../handlers/domain/preservation';
import type { AcquisitionResult } from '../../../../handlers/domain/types';
import { READ_BACK_DELAYS_MS, verifyPreservation } from '../../../../handlers/use-cases/verify-preservation';
import { CASE, INSTANCE_ID, adapters, awsError, describeResult, tickingClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const sleeps: number[] = [];
const deps = () => ({ instances: adapters().instances, clock: tickingClock(), sleep: async (ms: number) => void sleeps.push(ms) });
const pending = { status: 'applied' as const, detail: READ_BACK_PENDING, verified: false };

/** What "Preserve and snapshot" returns: three changes, none read back yet. */
function acquisition(): AcquisitionResult {
  return {
    snapshotRequestedAt: '2026-01-10T10:00:00.000Z',
    snapshots: [],
    actions: [],
    preservation: [
      { action: 'tag-instance', status: 'applied', previous: {} },
      { action: 'enable-termination-protection', previous: false, ...pending },
      { action: 'shutdown-behavior-stop', previous: 'terminate', ...pending },
      { action: 'keep-volumes-on-termination', previous: [], ...pending },
      // A change that failed is not read back.
      { action: 'leave-auto-scaling-group', status: 'failed', detail: 'x' },
    ],
  };
}

const described = () => describeResult({});

function instance(rootDeleteOnTermination: boolean) {
  return {
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE_ID,
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', DeleteOnTermination: rootDeleteOnTermination } },
              { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-data', DeleteOnTermination: false } },
            ],
          },
        ],
      },
    ],
  };
}

describe('verifyPreservation (read-back after containment)', () => {
  beforeEach(() => {
    ec2.reset();
    sleeps.length = 0;
  });

  it('reads each changed attribute once and marks it verified when it holds', async () => {
    // Prepare
    ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
    ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    ec2.on(DescribeInstancesCommand).resolves(instance(false));
    // Act
    const out = await verifyPreservation(deps(), { caseRef: CASE, describe: described(), acquisition: acquisition() });
    // Assess
    expect(ec2.commandCalls(DescribeInstanceAttributeCommand).map((c) => c.args[0].input)).toEqual(
      expect.arrayContaining([
        { InstanceId: INSTANCE_ID, Attribute: 'disableApiTermination' },
        { InstanceId: INSTANCE_ID, Attribute: 'instanceInitiatedShutdownBehavior' },
      ]),
    );
    expect(ec2.commandCalls(DescribeInstanceAttributeCommand)).toHaveLength(2);
    expect(ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input)).toEqual([{ InstanceIds: [INSTANCE_ID] }]);
    expect(sleeps).toEqual([]);
    expect(out.preservation.map((p) => [p.action, p.status, p.verified])).toEqual([
      ['enable-termination-protection', 'applied', true],
      ['shutdown-behavior-stop', 'applied', true],
      ['keep-volumes-on-termination', 'applied', true],
    ]);
    expect(out.actions.map((a) => [a.step, a.action, a.status])).toEqual([
      ['isolateNetwork', 'enable-termination-protection', 'succeeded'],
      ['isolateNetwork', 'shutdown-behavior-stop', 'succeeded'],
      ['isolateNetwork', 'keep-volumes-on-termination', 'succeeded'],
    ]);
  });

  it('records a value that does not read back as set as a failed preservation, after bounded re-reads', async () => {
    // Prepare: EC2 accepted the change, but the instance keeps terminating on shutdown; the root volume keeps
    // DeleteOnTermination=true.
    ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
    ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
    ec2.on(DescribeInstancesCommand).resolves(instance(true));
    // Act
    const out = await verifyPreservation(deps(), { caseRef: CASE, describe: described(), acquisition: acquisition() });
    // Assess
    expect(out.preservation.find((p) => p.action === 'shutdown-behavior-stop')).toEqual({
      action: 'shutdown-behavior-stop',
      status: 'failed',
      detail: 'read back 3 times after the change: still not instanceInitiatedShutdownBehavior=stop',
      previous: 'terminate',
      verified: false,
      readBack: { instanceInitiatedShutdownBehavior: 'terminate' },
    });
    expect(out.preservation.find((p) => p.action === 'keep-volumes-on-termination')).toMatchObject({
      status: 'failed',
      verified: false,
      readBack: [{ deviceName: '/dev/xvda', volumeId: 'vol-root', deleteOnTermination: true }],
    });
    expect(out.actions.find((a) => a.action === 'shutdown-behavior-stop')).toMatchObject({
      status: 'failed',
      result: { status: 'failed', readBack: { instanceInitiatedShutdownBehavior: 'terminate' } },
    });
    const shutdownReads = ec2.commandCalls(DescribeInstanceAttributeCommand).filter((c) => c.args[0].input.Attribute === 'instanceInitiatedShutdownBehavior');
    expect(shutdownReads).toHaveLength(READ_BACK_DELAYS_MS.length);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(READ_BACK_DELAYS_MS.length);
    expect(sleeps.sort((a, b) => a - b)).toEqual([500, 500, 2000, 2000]);
  });

  it('accepts a read-back that lags the change (eventual consistency), and marks an unreadable one unverified', async () => {
    // Prepare: the first read still shows the old value; DescribeInstances is not allowed at all.
    ec2
      .on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' })
      .resolvesOnce({ DisableApiTermination: { Value: false } })
      .resolves({ DisableApiTermination: { Value: true } });
    ec2.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    ec2.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'no ec2:DescribeInstances'));
    // Act
    const out = await verifyPreservation(deps(), { caseRef: CASE, describe: described(), acquisition: acquisition() });
    // Assess
    expect(out.preservation.find((p) => p.action === 'enable-termination-protection')).toMatchObject({
      status: 'applied',
      verified: true,
      readBack: { disableApiTermination: true },
    });
    expect(out.preservation.find((p) => p.action === 'keep-volumes-on-termination')).toMatchObject({
      status: 'applied',
      verified: false,
      detail: 'not verified: the read-back failed (UnauthorizedOperation: no ec2:DescribeInstances)',
    });
  });
});
