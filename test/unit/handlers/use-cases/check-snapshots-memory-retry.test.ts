import { describe, expect, it } from 'vitest';
import type { Ec2SnapshotAdapter } from '../../../../handlers/adapters/ec2-snapshot-adapter';
import type { MemoryState } from '../../../../handlers/domain/memory-state';
import type { AcquisitionResult, AcquisitionState } from '../../../../handlers/domain/types';
import type { AdvanceMemoryDeps } from '../../../../handlers/use-cases/advance-memory-capture';
import { checkSnapshots } from '../../../../handlers/use-cases/check-snapshots';
import { CASE, awsError, describeResult } from '../../../support/ec2-test-fixtures';

/**
 * "Check snapshot progress" is retried by the state machine when it throws (a DescribeSnapshots throttled past the
 * SDK's retries). The retry runs with the same input, so a memory stage acted on before the throw would be acted on
 * twice: a second Run Command on the suspect host, a second attach, a second snapshot. The memory capture therefore
 * moves only after the disks' calls; its own advance never throws.
 */
const NOW = Date.parse('2026-01-10T10:05:00.000Z');
const acquisition: AcquisitionResult = {
  snapshotRequestedAt: new Date(NOW - 60_000).toISOString(),
  snapshots: [{ volumeId: 'vol-0', snapshotId: 'snap-0', deviceName: '/dev/xvda', sizeGiB: 8 }],
  preservation: [],
  actions: [],
};
const state: AcquisitionState = { outcome: 'ACQUIRE', case: CASE, describe: describeResult(), acquisition };
const attached: MemoryState = {
  status: 'capturing',
  stage: 'attaching',
  timeoutSeconds: 1800,
  startedAt: new Date(NOW - 120_000).toISOString(),
  tool: { name: 'avml', version: '0.14.0', sha256: 'a'.repeat(64) },
  volume: { volumeId: 'vol-0aaaabbbbccccdddd', sizeGiB: 3, availabilityZone: 'eu-west-1a', createdAt: 'x' },
  attachment: { device: '/dev/sdg', requestedAt: new Date(NOW - 60_000).toISOString() },
};

function fakes(describeFails: boolean, volume: { state: string; attachmentState?: string } = { state: 'in-use', attachmentState: 'attached' }) {
  const sent: string[] = [];
  const snapshots = {
    describeSnapshots: async (ids: string[]) => {
      if (describeFails) throw awsError('RequestLimitExceeded');
      return ids.map((id) => ({ snapshotId: id, state: 'completed', progress: '100%', tags: { 'forensics:source-volume': 'x' } }));
    },
    tag: async () => undefined,
  } as unknown as Ec2SnapshotAdapter;
  const memory: AdvanceMemoryDeps = {
    securityGroups: { setInterfaceGroups: async () => undefined } as never,
    volumes: {
      describeVolume: async () => volume,
      attachVolume: async () => void sent.push('attach'),
      detachVolume: async () => undefined,
      createSnapshot: async () => {
        sent.push('create-snapshot');
        return 'snap-memory';
      },
    },
    ssm: {
      runShellScript: async () => {
        sent.push('send-command');
        return 'cmd-1';
      },
      invocation: async () => ({ status: 'InProgress', stdout: '', stderr: '' }),
      cancel: async () => undefined,
    },
    iam: () => ({ putRolePolicy: async () => undefined }),
    custody: () => ({ append: async () => [] }),
    clock: () => new Date(NOW),
    tagPrefix: 'forensics',
  };
  const deps = { snapshots, clock: () => new Date(NOW), tagPrefix: 'forensics', maxWaitMinutes: 1440, maxPolls: 200, memory: () => memory };
  return { deps, sent };
}

describe('check snapshot progress with a memory capture in flight', () => {
  it('a poll that throws on the disks has not acted on the memory stage: its retry sends the Run Command once', async () => {
    // Prepare
    const failing = fakes(true);
    const retried = fakes(false);

    // Act
    await expect(checkSnapshots(failing.deps, { acquisition, state, memory: attached })).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    const progress = await checkSnapshots(retried.deps, { acquisition, state, memory: attached });

    // Assess
    expect(failing.sent).toEqual([]);
    expect(retried.sent).toEqual(['send-command']);
    expect(progress.memory).toMatchObject({ stage: 'capturing', command: { commandId: 'cmd-1' } });
    expect(progress.allSettled).toBe(false);
  });

  it('a memory snapshot requested in this poll is listed among the volumes at once (pending, described at the next check), so the copies carry it', async () => {
    // Prepare: the capture ended and the detach was asked; the volume is available now: this poll snapshots it.
    const { deps, sent } = fakes(false, { state: 'available' });
    const detached: MemoryState = {
      ...attached,
      status: 'captured',
      stage: 'detaching',
      endedAt: new Date(NOW - 30_000).toISOString(),
      detach: { attempts: 1, requestedAt: new Date(NOW - 30_000).toISOString() },
    } as MemoryState;
    const previous = { attempt: 3, firstCheckAt: new Date(NOW - 300_000).toISOString(), checkedAt: 'x', allSettled: false, nextCheckSeconds: 30, volumes: [{ volumeId: 'vol-0', snapshotId: 'snap-0', state: 'completed' as const }], memory: detached };

    // Act
    const progress = await checkSnapshots({ ...deps }, { acquisition, previous, state });

    // Assess
    expect(sent).toEqual(['create-snapshot']);
    expect(progress.memory).toMatchObject({ stage: 'done', snapshot: { snapshotId: 'snap-memory' } });
    // Described from the next check on (DescribeSnapshots ran before the snapshot existed): pending until then.
    expect(progress.volumes).toContainEqual(expect.objectContaining({ snapshotId: 'snap-memory', state: 'pending' }));
    expect(progress.allSettled).toBe(false);
  });
});
