import { describe, expect, it } from 'vitest';
import { MEMORY_AGENT_ACTIONS, MEMORY_RESULT_PREFIX } from '../../../../handlers/domain/memory-capture';
import type { MemoryState } from '../../../../handlers/domain/memory-state';
import type { AcquisitionState, CustodyAction } from '../../../../handlers/domain/types';
import { type AdvanceMemoryDeps, advanceMemoryCapture } from '../../../../handlers/use-cases/advance-memory-capture';
import { CASE, VPC_ID, awsError, describeResult, tickingClock } from '../../../support/ec2-test-fixtures';

const SHA = 'e'.repeat(64);
const VOL = 'vol-0aaaabbbbccccdddd';

/** A fake instance side: the volume and the command as the test sets them, every call recorded in order. */
function fakes(over: { detachFails?: number } = {}) {
  const calls: string[] = [];
  const custody: CustodyAction[][] = [];
  const world = {
    volume: { state: 'creating' } as { state: string; attachmentState?: string } | null,
    command: undefined as { status: string; stdout: string; stderr: string } | undefined,
  };
  let detachFailures = over.detachFails ?? 0;
  const deps: AdvanceMemoryDeps = {
    securityGroups: { setInterfaceGroups: async (eni: string, groups: string[]) => void calls.push(`move ${eni} ${groups.join(',')}`) } as never,
    volumes: {
      describeVolume: async () => world.volume,
      attachVolume: async (v, i, d) => void calls.push(`attach ${v} ${i} ${d}`),
      detachVolume: async () => {
        calls.push('detach');
        if (detachFailures-- > 0) throw awsError('IncorrectState');
      },
      createSnapshot: async (v) => {
        calls.push(`snapshot ${v}`);
        return 'snap-0memory';
      },
    },
    ssm: {
      runShellScript: async (input) => {
        calls.push(`send ${input.executionTimeoutSeconds}`);
        return 'cmd-1';
      },
      invocation: async () => world.command,
      cancel: async () => void calls.push('cancel'),
    },
    iam: () => ({ putRolePolicy: async (_r, _n, doc) => void calls.push(`put-policy ${JSON.parse(doc).Statement[0].Action}`) }),
    custody: () => ({
      append: async (_c, actions) => {
        custody.push(actions);
        calls.push(`custody ${actions.map((a) => a.action).join(',')}`);
        return [];
      },
    }),
    clock: tickingClock('2026-01-10T10:01:00.000Z'),
    tagPrefix: 'forensics',
    retry: { sleep: async () => undefined },
  };
  return { deps, calls, custody, world };
}

const state: AcquisitionState = {
  outcome: 'ACQUIRE',
  case: CASE,
  describe: describeResult(),
  containment: {
    startedAt: 'x',
    containedAt: 'x',
    groups: [],
    networkInterfaces: [],
    actions: [],
    credentials: {
      mode: 'instance',
      status: 'applied',
      policies: [{ roleName: 'app', roleArn: 'arn:aws:iam::111122223333:role/app', policyName: 'forensics-deny-c', instanceArn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-1', previouslyExisted: false, previousDocument: null, appliedAt: 'x', exempt: [...MEMORY_AGENT_ACTIONS] }],
    },
  },
};

const start: MemoryState = {
  status: 'capturing',
  stage: 'creating-volume',
  tool: { name: 'avml', version: '0.14.0', sha256: 'f'.repeat(64) },
  timeoutSeconds: 1800,
  startedAt: '2026-01-10T10:00:00.000Z',
  volume: { volumeId: VOL, sizeGiB: 10, availabilityZone: 'eu-west-1a', createdAt: 'x' },
  channel: { groups: [{ vpcId: VPC_ID, groupId: 'sg-ch', isolationGroupId: 'sg-iso' }], interfaces: [{ networkInterfaceId: 'eni-a', vpcId: VPC_ID }], openedAt: '2026-01-10T10:00:30.000Z' },
};

describe('advanceMemoryCapture, one stage per poll', () => {
  it('captured: attach, send, read the hash into custody in that poll, close the channel and deny, detach, snapshot', async () => {
    // Prepare
    const { deps, calls, custody, world } = fakes();
    const poll = (m: MemoryState) => advanceMemoryCapture(deps, { state, memory: m, lastPoll: false });
    // Act
    world.volume = { state: 'available' };
    let m = await poll(start);
    world.volume = { state: 'in-use', attachmentState: 'attached' };
    m = await poll(m);
    world.command = { status: 'InProgress', stdout: '', stderr: '' };
    m = await poll(m);
    expect(m.stage).toBe('capturing');
    world.command = { status: 'Success', stdout: `${MEMORY_RESULT_PREFIX}${JSON.stringify({ status: 'captured', sha256: SHA, sizeBytes: 4096 })}\n`, stderr: '' };
    m = await poll(m);
    world.volume = { state: 'available' };
    m = await poll(m);
    // Assess
    expect(calls).toEqual([
      // /dev/sdf is a data volume of the fixture instance: the next free name.
      `attach ${VOL} ${CASE.target.instanceId} /dev/sdg`,
      'custody attach-memory-volume',
      'send 1800',
      'custody send-memory-command',
      'custody memory-host-sha256',
      'move eni-a sg-iso',
      'put-policy *',
      'detach',
      'custody close-acquisition-channel,put-full-deny-role-policy,detach-memory-volume',
      `snapshot ${VOL}`,
      'custody snapshot-memory-volume',
    ]);
    expect(custody.flat().find((a) => a.action === 'memory-host-sha256')?.result).toMatchObject({ sha256: SHA, sizeBytes: 4096 });
    expect(m).toMatchObject({
      status: 'captured',
      stage: 'done',
      result: { sha256: SHA },
      hashRecordedAt: expect.any(String),
      fullDeny: { status: 'applied' },
      channel: { closedAt: expect.any(String) },
      snapshot: { snapshotId: 'snap-0memory', volumeAttached: false },
    });
  });

  it('a refused detach is recorded and retried at the next poll; never a forced detach, never a delete', async () => {
    // Prepare
    const { deps, calls, world } = fakes({ detachFails: 1 });
    const capturing: MemoryState = { ...start, stage: 'capturing', attachment: { device: '/dev/sdf', requestedAt: 'x' }, command: { commandId: 'cmd-1', sentAt: 'x' } };
    world.command = { status: 'Failed', stdout: '', stderr: 'boom' };
    // Act
    let m = await advanceMemoryCapture(deps, { state, memory: capturing, lastPoll: false });
    expect(m).toMatchObject({ status: 'failed', stage: 'detaching', detach: { attempts: 1, lastError: expect.stringContaining('IncorrectState') } });
    world.volume = { state: 'in-use', attachmentState: 'attached' };
    m = await advanceMemoryCapture(deps, { state, memory: m, lastPoll: false });
    // Assess
    expect(m.detach).toMatchObject({ attempts: 2 });
    expect(m.detach?.lastError).toBeUndefined();
    expect(calls.filter((c) => c === 'detach')).toHaveLength(2);
    expect(calls.some((c) => /delete/i.test(c))).toBe(false);
  });

  it('past the hard cap: cancel, close, full deny, detach; recorded as a timeout', async () => {
    // Prepare
    const { deps, calls, world } = fakes();
    const old: MemoryState = { ...start, startedAt: '2026-01-10T08:00:00.000Z', stage: 'capturing', attachment: { device: '/dev/sdf', requestedAt: 'x' }, command: { commandId: 'cmd-1', sentAt: 'x' } };
    world.command = { status: 'InProgress', stdout: '', stderr: '' };
    // Act
    const m = await advanceMemoryCapture(deps, { state, memory: old, lastPoll: false });
    // Assess
    expect(calls.slice(0, 4)).toEqual(['cancel', 'move eni-a sg-iso', 'put-policy *', 'detach']);
    expect(m).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^timeout/), stage: 'detaching' });
  });
});
