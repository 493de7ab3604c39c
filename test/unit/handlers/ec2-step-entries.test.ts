import { AutoScalingClient, } from '@aws-sdk/client-auto-scaling';
import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClientScope } from '../../../handlers/adapters/aws-clients';
import { workloadSnapshotsFor } from '../../../handlers/composition/workload';
import { ec2AdaptersFor } from '../../../handlers/adapters/ec2-side-adapters';
import { createCheckSnapshotsHandler } from '../../../handlers/check-snapshots';
import type { HandlerEnvironment } from '../../../handlers/config/env';
import type { AcquisitionState } from '../../../handlers/domain/types';
import { createPreserveAndSnapshotHandler } from '../../../handlers/preserve-and-snapshot';
import { CASE, INSTANCE_ID, describeResult, fixedClock } from '../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const env = () => ({ TAG_PREFIX: 'ir', MAX_WAIT_MINUTES: 60, COPY_CONCURRENCY: 2, EVIDENCE_KEY_ARN: 'arn:k' }) as HandlerEnvironment;

/** A client scope whose clients are made for the region asked, recording which clients were asked for. */
function recordingClients(asked: string[]): ClientScope {
  return { options: {}, client: (key, make) => {
    asked.push(key);
    return make();
  } };
}

const state = (extra: Partial<AcquisitionState> = {}): AcquisitionState => ({ outcome: 'ACQUIRE', case: CASE, ...extra });

describe('EC2-side step entries', () => {
  beforeEach(() => {
    ec2.reset();
    asg.reset();
    elb.reset();
  });

  it('preserve: reads $.describe from the whole state and rejects a state without it', async () => {
    ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-1', VolumeId: 'vol-root' }] });
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(ModifyInstanceAttributeCommand).resolves({});
    // The read-backs find what was set (the use case's tests cover the rest).
    ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: true }, InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }] }] }],
    });
    const handler = createPreserveAndSnapshotHandler({ adaptersFor: (t) => ec2AdaptersFor(t, recordingClients([])), env });
    await expect(handler(state())).rejects.toMatchObject({ name: 'InvalidInput', field: 'describe' });
    const result = await handler(state({ describe: describeResult() }));
    expect(result.snapshots.map((s) => s.snapshotId)).toEqual(['snap-1']);
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Tags).toEqual([{ Key: 'ir:case-id', Value: CASE.caseId }]);
  });

  it('check snapshots: continues from the previous progress in the state', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-1', State: 'completed' }] });
    const handler = createCheckSnapshotsHandler({
      snapshotsFor: (t) => workloadSnapshotsFor(t, recordingClients([])),
      env,
      clock: fixedClock('2026-01-10T10:05:00.000Z'),
    });
    const result = await handler({
      state: state({
        acquisition: { snapshotRequestedAt: '2026-01-10T10:00:00.000Z', snapshots: [{ volumeId: 'vol-root', snapshotId: 'snap-1' }], preservation: [], actions: [] },
        snapshotProgress: {
          attempt: 2,
          firstCheckAt: '2026-01-10T10:01:00.000Z',
          checkedAt: '2026-01-10T10:03:00.000Z',
          allSettled: false,
          nextCheckSeconds: 60,
          volumes: [{ volumeId: 'vol-root', snapshotId: 'snap-1', state: 'pending' }],
        },
      }),
      maxPolls: 100,
    });
    expect(result).toMatchObject({ attempt: 3, firstCheckAt: '2026-01-10T10:01:00.000Z', allSettled: true });
  });
});
