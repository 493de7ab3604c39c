import { describe, expect, it } from 'vitest';
import { MEMORY_RESULT_PREFIX } from '../../../../handlers/domain/memory-capture';
import {
  MAX_DETACH_ATTEMPTS,
  MEMORY_CAP_MARGIN_SECONDS,
  type MemoryState,
  captureCommands,
  freeDeviceName,
  manifestMemoryOf,
  nextMemoryAction,
} from '../../../../handlers/domain/memory-state';

const START = '2026-01-10T10:00:00.000Z';
const SHA = 'b'.repeat(64);
const at = (seconds: number) => new Date(Date.parse(START) + seconds * 1000);
const state = (over: Partial<MemoryState> = {}): MemoryState => ({
  status: 'capturing',
  stage: 'creating-volume',
  timeoutSeconds: 600,
  startedAt: START,
  volume: { volumeId: 'vol-0123456789abcdef0', sizeGiB: 10, availabilityZone: 'eu-west-1a', createdAt: START },
  ...over,
});
const result = (body: object) => `noise\n${MEMORY_RESULT_PREFIX}${JSON.stringify(body)}\n`;
const poll = { lastPoll: false };

describe('nextMemoryAction', () => {
  it('creating-volume: waits while creating, attaches once available, fails on error or loss', () => {
    expect(nextMemoryAction(state(), { ...poll, volume: { state: 'creating' } }, at(10))).toEqual({ kind: 'wait' });
    expect(nextMemoryAction(state(), { ...poll, volume: { state: 'available' } }, at(10))).toEqual({ kind: 'attach' });
    expect(nextMemoryAction(state(), { ...poll, volume: { state: 'error' } }, at(10))).toMatchObject({ kind: 'end', status: 'failed', cancel: false });
    expect(nextMemoryAction(state(), { ...poll, volume: null }, at(10))).toMatchObject({ kind: 'end', status: 'failed' });
  });

  it('attaching: sends the command once attached, fails if the volume came back unattached', () => {
    const s = state({ stage: 'attaching', attachment: { device: '/dev/sdf', requestedAt: START } });
    expect(nextMemoryAction(s, { ...poll, volume: { state: 'in-use', attachmentState: 'attaching' } }, at(10))).toEqual({ kind: 'wait' });
    expect(nextMemoryAction(s, { ...poll, volume: { state: 'in-use', attachmentState: 'attached' } }, at(10))).toEqual({ kind: 'send-command' });
    expect(nextMemoryAction(s, { ...poll, volume: { state: 'available' } }, at(10))).toMatchObject({ kind: 'end', status: 'failed' });
  });

  it('capturing: captured only with Success and a captured result line carrying the hash', () => {
    const s = state({ stage: 'capturing', command: { commandId: 'c-1', sentAt: START } });
    const good = result({ status: 'captured', sha256: SHA, sizeBytes: 1234, image: 'memory/memory.lime.snappy' });
    expect(nextMemoryAction(s, { ...poll, command: { status: 'InProgress', stdout: '' } }, at(60))).toEqual({ kind: 'wait' });
    expect(nextMemoryAction(s, { ...poll, command: { status: 'Success', stdout: good } }, at(60))).toMatchObject({
      kind: 'end',
      status: 'captured',
      cancel: false,
      result: { status: 'captured', sha256: SHA, sizeBytes: 1234 },
    });
    // The script refused (tool hash mismatch): failed, with the script's reason.
    const refused = result({ status: 'refused', reason: 'tool sha256 mismatch' });
    expect(nextMemoryAction(s, { ...poll, command: { status: 'Failed', stdout: refused } }, at(60))).toMatchObject({
      kind: 'end',
      status: 'failed',
      reason: 'Run Command Failed: tool sha256 mismatch',
    });
    // Success without a result line is never "captured".
    expect(nextMemoryAction(s, { ...poll, command: { status: 'Success', stdout: 'nothing' } }, at(60))).toMatchObject({ kind: 'end', status: 'failed' });
    expect(nextMemoryAction(s, { ...poll, command: { status: 'TimedOut', stdout: '' } }, at(60))).toMatchObject({ kind: 'end', status: 'failed' });
  });

  it('the hard cap: past timeout + margin the command is cancelled and the capture ends as a timeout', () => {
    const s = state({ stage: 'capturing', command: { commandId: 'c-1', sentAt: START } });
    const justBefore = at(600 + MEMORY_CAP_MARGIN_SECONDS - 1);
    const after = at(600 + MEMORY_CAP_MARGIN_SECONDS + 1);
    expect(nextMemoryAction(s, { ...poll, command: { status: 'InProgress', stdout: '' } }, justBefore)).toEqual({ kind: 'wait' });
    expect(nextMemoryAction(s, { ...poll, command: { status: 'InProgress', stdout: '' } }, after)).toMatchObject({
      kind: 'end',
      status: 'failed',
      cancel: true,
      reason: expect.stringMatching(/^timeout/),
    });
    // The loop's last poll ends it too.
    expect(nextMemoryAction(s, { lastPoll: true, command: { status: 'InProgress', stdout: '' } }, at(60))).toMatchObject({ kind: 'end', cancel: true });
  });

  it('detaching: snapshots once detached, retries a failed detach, then snapshots where it is after the bound', () => {
    const s = state({ stage: 'detaching', detach: { attempts: 1, requestedAt: START } });
    expect(nextMemoryAction(s, { ...poll, volume: { state: 'in-use', attachmentState: 'detaching' } }, at(10))).toEqual({ kind: 'wait' });
    expect(nextMemoryAction(s, { ...poll, volume: { state: 'available' } }, at(10))).toEqual({ kind: 'snapshot', volumeAttached: false });
    const refused = state({ stage: 'detaching', detach: { attempts: 2, lastError: 'IncorrectState' } });
    expect(nextMemoryAction(refused, { ...poll, volume: { state: 'in-use', attachmentState: 'attached' } }, at(10))).toEqual({ kind: 'detach' });
    const exhausted = state({ stage: 'detaching', detach: { attempts: MAX_DETACH_ATTEMPTS, lastError: 'x' } });
    expect(nextMemoryAction(exhausted, { ...poll, volume: { state: 'in-use', attachmentState: 'attached' } }, at(10))).toEqual({ kind: 'snapshot', volumeAttached: true });
  });

  it('done: nothing more', () => {
    expect(nextMemoryAction(state({ stage: 'done' }), poll, at(10))).toEqual({ kind: 'none' });
  });
});

describe('freeDeviceName', () => {
  it('takes the first of /dev/sdf…/dev/sdp the instance does not use, in either spelling', () => {
    expect(freeDeviceName(['/dev/xvda', '/dev/sdb'])).toBe('/dev/sdf');
    expect(freeDeviceName(['/dev/sda1', '/dev/sdf', '/dev/xvdg'])).toBe('/dev/sdh');
    expect(freeDeviceName('fghijklmnop'.split('').map((c) => `/dev/sd${c}`))).toBeUndefined();
  });
});

describe('captureCommands', () => {
  it('finds the device by volume id, mounts, runs the script with its two arguments, syncs and unmounts; no credential', () => {
    const lines = captureCommands({ volumeId: 'vol-0123456789abcdef0', device: '/dev/sdf', toolSha256: SHA });
    const text = lines.join('\n');
    expect(text).toContain('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
    expect(text).toContain('/dev/sdf /dev/xvdf');
    expect(text).toContain(`/bin/sh /mnt/forensics-memory/bin/capture-memory.sh /mnt/forensics-memory ${SHA}`);
    expect(lines.indexOf('sync')).toBeGreaterThan(lines.findIndex((l) => l.includes('capture-memory.sh')));
    expect(text).toMatch(/umount \/mnt\/forensics-memory/);
    expect(text).not.toMatch(/AWS_|aws_access|SecretAccessKey|SessionToken/i);
  });

  it('refuses values that could inject into the command line', () => {
    expect(() => captureCommands({ volumeId: 'vol-1; rm -rf /', device: '/dev/sdf', toolSha256: SHA })).toThrow(TypeError);
    expect(() => captureCommands({ volumeId: 'vol-0123456789abcdef0', device: '/dev/sda', toolSha256: SHA })).toThrow(TypeError);
    expect(() => captureCommands({ volumeId: 'vol-0123456789abcdef0', device: '/dev/sdf', toolSha256: 'x' })).toThrow(TypeError);
  });
});

describe('manifestMemoryOf', () => {
  it('a captured image: host hash, sizes, ids and the time in the channel', () => {
    const s = state({
      status: 'captured',
      stage: 'done',
      tool: { name: 'avml', version: '0.14.0', sha256: 'c'.repeat(64) },
      command: { commandId: 'c-1', sentAt: START },
      result: { status: 'captured', sha256: SHA, sizeBytes: 99 },
      snapshot: { snapshotId: 'snap-0aaa', requestedAt: START, volumeAttached: false },
      endedAt: at(300).toISOString(),
      channel: { groups: [{ vpcId: 'vpc-1', groupId: 'sg-ch', isolationGroupId: 'sg-iso' }], interfaces: [], openedAt: START, closedAt: at(300).toISOString() },
    });
    expect(manifestMemoryOf(s, { evidenceSnapshotId: 'snap-0bbb' })).toEqual({
      status: 'captured',
      reason: null,
      tool: { name: 'avml', version: '0.14.0', sha256: 'c'.repeat(64) },
      imageSizeBytes: 99,
      hostSha256: SHA,
      volumeId: 'vol-0123456789abcdef0',
      snapshotId: 'snap-0aaa',
      evidenceSnapshotId: 'snap-0bbb',
      commandId: 'c-1',
      startedAt: START,
      endedAt: at(300).toISOString(),
      channel: { groups: [{ vpcId: 'vpc-1', groupId: 'sg-ch' }], openedAt: START, closedAt: at(300).toISOString(), seconds: 300 },
    });
  });

  it('a capture still running at seal time is recorded as failed with its stage', () => {
    expect(manifestMemoryOf(state({ stage: 'capturing' }))).toMatchObject({ status: 'failed', reason: 'not finished (stage capturing)' });
  });
});
