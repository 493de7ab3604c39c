import { CreateTagsCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcquisitionResult } from '../../../../handlers/domain/types';
import { checkSnapshots } from '../../../../handlers/use-cases/check-snapshots';
import { MAX_POLL_SECONDS, MIN_POLL_SECONDS } from '../../../../workflows/acquisition-steps';
import { adapters, awsError, fixedClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const ACQ: AcquisitionResult = {
  snapshotRequestedAt: '2026-01-10T10:00:00.000Z',
  snapshots: [
    { volumeId: 'vol-root', snapshotId: 'snap-root', deviceName: '/dev/xvda', sizeGiB: 8 },
    { volumeId: 'vol-data', snapshotId: 'snap-data', deviceName: '/dev/sdf', sizeGiB: 500 },
    { volumeId: 'vol-logs', snapshotId: 'snap-logs', deviceName: '/dev/sdg', sizeGiB: 50 },
  ],
  preservation: [],
  actions: [],
};
const deps = (at: string, logs: Record<string, unknown>[] = []) => ({
  snapshots: adapters().snapshots,
  clock: fixedClock(at),
  tagPrefix: 'forensics',
  maxWaitMinutes: 60,
  log: (e: Record<string, unknown>) => void logs.push(e),
});

describe('checkSnapshots', () => {
  beforeEach(() => {
    ec2.reset();
    ec2.on(CreateTagsCommand).resolves({});
  });
  afterEach(() => expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0));

  it('first check: reports each volume, keeps an error without stopping the others, and tags source volume and device', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-root', State: 'completed', Progress: '100%' },
        { SnapshotId: 'snap-data', State: 'pending', Progress: '20%' },
        { SnapshotId: 'snap-logs', State: 'error', StateMessage: 'Internal error while copying blocks' },
      ],
    });
    // Act
    const progress = await checkSnapshots(deps('2026-01-10T10:01:00.000Z'), { acquisition: ACQ });
    // Assess
    expect(progress.attempt).toBe(1);
    expect(progress.firstCheckAt).toBe('2026-01-10T10:01:00.000Z');
    expect(progress.allSettled).toBe(false);
    expect(progress.volumes).toEqual([
      { volumeId: 'vol-root', snapshotId: 'snap-root', state: 'completed', progress: '100%' },
      { volumeId: 'vol-data', snapshotId: 'snap-data', state: 'pending', progress: '20%' },
      { volumeId: 'vol-logs', snapshotId: 'snap-logs', state: 'error', stateMessage: 'Internal error while copying blocks' },
    ]);
    // 20% after 60 s → about 240 s to go.
    expect(progress.nextCheckSeconds).toBe(240);
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input).toEqual({
      OwnerIds: ['self'],
      Filters: [{ Name: 'snapshot-id', Values: ['snap-root', 'snap-data', 'snap-logs'] }],
    });
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['snap-root'], Tags: [{ Key: 'forensics:source-volume', Value: 'vol-root' }, { Key: 'forensics:device', Value: '/dev/xvda' }] },
      { Resources: ['snap-data'], Tags: [{ Key: 'forensics:source-volume', Value: 'vol-data' }, { Key: 'forensics:device', Value: '/dev/sdf' }] },
      { Resources: ['snap-logs'], Tags: [{ Key: 'forensics:source-volume', Value: 'vol-logs' }, { Key: 'forensics:device', Value: '/dev/sdg' }] },
    ]);
  });

  it('later check: describes only what is still pending, and settles', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        {
          SnapshotId: 'snap-data',
          State: 'completed',
          Progress: '100%',
          Tags: [{ Key: 'forensics:source-volume', Value: 'vol-data' }],
        },
      ],
    });
    const previous = {
      attempt: 1,
      firstCheckAt: '2026-01-10T10:01:00.000Z',
      checkedAt: '2026-01-10T10:01:00.000Z',
      allSettled: false,
      nextCheckSeconds: 240,
      volumes: [
        { volumeId: 'vol-root', snapshotId: 'snap-root', state: 'completed' as const },
        { volumeId: 'vol-data', snapshotId: 'snap-data', state: 'pending' as const, progress: '20%' },
        { volumeId: 'vol-logs', snapshotId: 'snap-logs', state: 'error' as const, stateMessage: 'boom' },
      ],
    };
    // Act
    const progress = await checkSnapshots(deps('2026-01-10T10:05:00.000Z'), { acquisition: ACQ, previous });
    // Assess
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'snapshot-id', Values: ['snap-data'] },
    ]);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(progress).toMatchObject({ attempt: 2, firstCheckAt: '2026-01-10T10:01:00.000Z', allSettled: true, nextCheckSeconds: 0 });
    expect(progress.volumes.map((v) => v.state)).toEqual(['completed', 'completed', 'error']);
  });

  it('turns what is still pending into timeout once the cap has passed', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-root', State: 'completed', Progress: '100%' },
        { SnapshotId: 'snap-data', State: 'pending', Progress: '40%' },
        { SnapshotId: 'snap-logs', State: 'pending', Progress: '90%' },
      ],
    });
    const previous = {
      attempt: 30,
      firstCheckAt: '2026-01-10T10:01:00.000Z',
      checkedAt: '2026-01-10T10:58:00.000Z',
      allSettled: false,
      nextCheckSeconds: 180,
      volumes: ACQ.snapshots.map((s) => ({ volumeId: s.volumeId, snapshotId: s.snapshotId, state: 'pending' as const })),
    };
    const progress = await checkSnapshots(deps('2026-01-10T11:01:00.000Z'), { acquisition: ACQ, previous });
    expect(progress.allSettled).toBe(true);
    expect(progress.volumes.map((v) => v.state)).toEqual(['completed', 'timeout', 'timeout']);
    expect(progress.volumes[1]?.stateMessage).toMatch(/60 minutes/);
  });

  it('a snapshot stuck at 100% while pending is checked less and less often (not every 15 s)', async () => {
    // Prepare: EC2 keeps answering 100% / pending for the one volume.
    const one: AcquisitionResult = { ...ACQ, snapshots: [ACQ.snapshots[0]!] };
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-root', State: 'pending', Progress: '100%' }] });
    // Act: five checks, each at the time the previous one asked for.
    let at = Date.parse('2026-01-10T10:01:00.000Z');
    let previous: Awaited<ReturnType<typeof checkSnapshots>> | undefined;
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      previous = await checkSnapshots({ ...deps(new Date(at).toISOString()), maxPolls: 356 }, { acquisition: one, ...(previous ? { previous } : {}) });
      intervals.push(previous.nextCheckSeconds);
      at += previous.nextCheckSeconds * 1000;
    }
    // Assess
    expect(intervals).toEqual([15, 30, 60, 120, 240]);
    expect(previous).toMatchObject({ slowestProgress: 100, stalledChecks: 4, allSettled: false });
  });

  it('settles what is still pending as timeout at the last check the poll bound allows, before the time cap', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-root', State: 'completed', Progress: '100%' },
        { SnapshotId: 'snap-data', State: 'pending', Progress: '40%' },
        { SnapshotId: 'snap-logs', State: 'pending', Progress: '90%' },
      ],
    });
    const previous = {
      attempt: 9,
      firstCheckAt: '2026-01-10T10:01:00.000Z',
      checkedAt: '2026-01-10T10:10:00.000Z',
      allSettled: false,
      nextCheckSeconds: 60,
      volumes: ACQ.snapshots.map((s) => ({ volumeId: s.volumeId, snapshotId: s.snapshotId, state: 'pending' as const })),
    };
    // Act: the 10th check of a loop bounded at 10, 10 minutes into a 60-minute cap.
    const progress = await checkSnapshots({ ...deps('2026-01-10T10:11:00.000Z'), maxPolls: 10 }, { acquisition: ACQ, previous });
    // Assess
    expect(progress).toMatchObject({ attempt: 10, allSettled: true, nextCheckSeconds: 0 });
    expect(progress.volumes.map((v) => v.state)).toEqual(['completed', 'timeout', 'timeout']);
    expect(progress.volumes[1]?.stateMessage).toMatch(/after 10 checks/);
  });

  it('schedules the first check of big volumes from their size, within bounds, and not past the cap', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: ACQ.snapshots.map((s) => ({ SnapshotId: s.snapshotId, State: 'pending', Progress: '0%' })),
    });
    const progress = await checkSnapshots(deps('2026-01-10T10:00:05.000Z'), { acquisition: ACQ });
    expect(progress.nextCheckSeconds).toBe(MAX_POLL_SECONDS);
    const nearCap = await checkSnapshots(deps('2026-01-10T10:59:00.000Z'), {
      acquisition: ACQ,
      previous: { attempt: 5, firstCheckAt: '2026-01-10T10:00:05.000Z', checkedAt: '', allSettled: false, nextCheckSeconds: 300, volumes: [] },
    });
    expect(nearCap.nextCheckSeconds).toBeGreaterThanOrEqual(MIN_POLL_SECONDS);
    expect(nearCap.nextCheckSeconds).toBeLessThanOrEqual(65);
  });

  it('treats a snapshot not listed yet as pending (eventual consistency), and as lost after the grace period', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    const early = await checkSnapshots(deps('2026-01-10T10:00:03.000Z'), { acquisition: ACQ });
    expect(early.volumes.every((v) => v.state === 'pending')).toBe(true);
    const late = await checkSnapshots(deps('2026-01-10T10:10:00.000Z'), { acquisition: ACQ });
    expect(late.volumes.every((v) => v.state === 'error')).toBe(true);
  });

  it('logs a tagging failure and carries on', async () => {
    const logs: Record<string, unknown>[] = [];
    ec2.on(CreateTagsCommand).rejects(awsError('RequestLimitExceeded'));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-root', State: 'completed' }] });
    const progress = await checkSnapshots(deps('2026-01-10T10:01:00.000Z', logs), { acquisition: ACQ });
    expect(progress.volumes[0]?.state).toBe('completed');
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatchObject({ level: 'warn', error: 'RequestLimitExceeded' });
  });

  it('lets a throttled DescribeSnapshots surface by name', async () => {
    ec2.on(DescribeSnapshotsCommand).rejects(awsError('RequestLimitExceeded'));
    await expect(checkSnapshots(deps('2026-01-10T10:01:00.000Z'), { acquisition: ACQ })).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
    });
  });
});
