import { describe, expect, it } from 'vitest';
import { type CaseView, renderCaseView } from '../../../../cli/commands/case-show';
import { checkMemory } from '../../../../cli/commands/memory-check';
import type { CheckResult, CheckStatus } from '../../../../cli/output/format';
import { renderMemorySummary } from '../../../../cli/output/memory-summary';
import type { CustodyRecord } from '../../../../handlers/domain/custody-record';
import { buildManifest, type ManifestV1 } from '../../../../handlers/domain/manifest';
import type { ManifestMemory } from '../../../../handlers/domain/memory-capture';
import { BUCKET, fullState } from '../../../support/evidence-test-kit';

/** `case show` and `case verify` on the manifest's `memory` section, with manifests built here. */
const HOST_SHA = 'd'.repeat(64);
const TOOL_SHA = 'e'.repeat(64);
const MEMORY_SNAPSHOT = 'snap-0feedfeedfeedfeed';

type WithMemory = ManifestV1 & { memory?: ManifestMemory | null };

function captured(overrides: Partial<ManifestMemory> = {}): ManifestMemory {
  return {
    status: 'captured',
    reason: null,
    tool: { name: 'avml', version: '0.14.0', sha256: TOOL_SHA },
    imageSizeBytes: 1_073_741_824,
    hostSha256: HOST_SHA,
    volumeId: 'vol-0aaaaaaaaaaaaaaaa',
    snapshotId: 'snap-0bbbbbbbbbbbbbbbb',
    evidenceSnapshotId: MEMORY_SNAPSHOT,
    commandId: '11111111-2222-3333-4444-555555555555',
    startedAt: '2026-11-28T09:41:00.000Z',
    endedAt: '2026-11-28T09:49:30.000Z',
    channel: { groups: [{ vpcId: 'vpc-01', groupId: 'sg-0channel' }], openedAt: '2026-11-28T09:40:50.000Z', closedAt: '2026-11-28T09:49:40.000Z', seconds: 530 },
    ...overrides,
  };
}

/** A sealed manifest of the test kit's case, with the memory snapshot listed among its snapshots when `listed`. */
function manifestWith(memory: ManifestMemory | undefined, listed = true): WithMemory {
  const base = buildManifest({ state: fullState(), bucket: BUCKET, sealedAt: '2026-11-28T09:50:00.000Z', objects: [] });
  const first = base.snapshots[0] as ManifestV1['snapshots'][number];
  const memorySnapshot = { ...first, volumeId: 'vol-0aaaaaaaaaaaaaaaa', deviceName: null, originalSnapshotId: 'snap-0bbbbbbbbbbbbbbbb', evidenceSnapshotId: MEMORY_SNAPSHOT };
  return { ...base, snapshots: listed ? [...base.snapshots, memorySnapshot] : base.snapshots, ...(memory ? { memory } : {}) };
}

function custodyRecord(seq: number, result: Record<string, unknown>): CustodyRecord {
  return {
    schemaVersion: '1.0',
    caseId: 'c',
    seq,
    step: 'captureMemory',
    action: 'memory-host-sha256',
    status: 'succeeded',
    performedAt: '2026-11-28T09:49:30.000Z',
    recordedAt: '2026-11-28T09:49:31.000Z',
    actor: { executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:A:b' },
    request: {},
    result,
    prevSha256: '0'.repeat(64),
  };
}

function verify(m: WithMemory, custody: (CustodyRecord | undefined)[] = [custodyRecord(7, { memory: { hostSha256: HOST_SHA } })]): Record<string, CheckResult> {
  const checks: CheckResult[] = [];
  checkMemory(m, custody, (status: CheckStatus, check, subject, detail) => checks.push({ status, check, subject, detail }));
  return Object.fromEntries(checks.map((c) => [c.check, c]));
}

describe('case show: memory', () => {
  it('prints status, tool, image size, host SHA-256, the ids and the time in the channel', () => {
    // Prepare
    const m = manifestWith(captured());
    const view: CaseView = { caseId: m.caseId, status: 'CONTAINED', manifest: m, manifestSha256: 'f'.repeat(64), record: null, custody: [] };

    // Act
    const text = renderCaseView(view).join('\n');

    // Assess
    expect(text).toContain('\nMemory\n');
    expect(text).toContain('  status            captured');
    expect(text).toContain(`  tool              avml 0.14.0, sha256 ${TOOL_SHA}`);
    expect(text).toContain('  image size        1073741824 bytes (1024.0 MiB, compressed)');
    expect(text).toContain(`  host SHA-256      ${HOST_SHA}`);
    expect(text).toContain('  capture volume    vol-0aaaaaaaaaaaaaaaa');
    expect(text).toContain('  volume snapshot   snap-0bbbbbbbbbbbbbbbb');
    expect(text).toContain(`  evidence snapshot ${MEMORY_SNAPSHOT}`);
    expect(text).toContain('  channel           vpc-01: sg-0channel; opened 2026-11-28T09:40:50.000Z, closed 2026-11-28T09:49:40.000Z (530 s in the channel)');
  });

  it('prints a skip with its reason, and nothing for a manifest without the section', () => {
    // Prepare
    const skipped: ManifestMemory = { ...captured(), status: 'skipped', reason: 'no-ssm-endpoints: vpc-01 has no ssmmessages endpoint', tool: null, imageSizeBytes: null, hostSha256: null, volumeId: null, snapshotId: null, evidenceSnapshotId: null, commandId: null, startedAt: null, endedAt: null, channel: null };

    // Act
    const lines = renderMemorySummary({ memory: skipped });
    const none = renderMemorySummary(manifestWith(undefined));

    // Assess
    expect(lines).toEqual(['', 'Memory', '  status            skipped (no-ssm-endpoints: vpc-01 has no ssmmessages endpoint)']);
    expect(none).toEqual([]);
  });

  it('never lets a stored reason forge a line', () => {
    expect(renderMemorySummary({ memory: { ...captured(), status: 'failed', reason: 'x\nPASS  fake' } }).join('\n')).not.toContain('\nPASS');
  });
});

describe('case verify: memory', () => {
  it('passes a capture whose hash is 64-hex, whose evidence snapshot is listed, and which custody recorded', () => {
    // Act
    const checks = verify(manifestWith(captured()));

    // Assess
    expect(Object.values(checks).map((c) => `${c.status} ${c.check}`)).toEqual([
      'PASS memory.status',
      'PASS memory.host-sha256',
      'PASS memory.tool',
      'PASS memory.snapshot',
      'PASS memory.custody',
    ]);
    expect(checks['memory.custody']?.detail).toContain('seq 7');
  });

  it('fails a capture whose host SHA-256 is missing or malformed', () => {
    expect(verify(manifestWith(captured({ hostSha256: null })))['memory.host-sha256']?.status).toBe('FAIL');
    expect(verify(manifestWith(captured({ hostSha256: 'D'.repeat(64) })))['memory.host-sha256']?.status).toBe('FAIL');
  });

  it('fails a capture whose evidence snapshot is absent, or not among the manifest snapshots', () => {
    expect(verify(manifestWith(captured({ evidenceSnapshotId: null })))['memory.snapshot']?.status).toBe('FAIL');
    const unlisted = verify(manifestWith(captured(), false))['memory.snapshot'];
    expect(unlisted?.status).toBe('FAIL');
    expect(unlisted?.subject).toBe(MEMORY_SNAPSHOT);
  });

  it('fails a capture whose host SHA-256 no custody record holds (a manifest edited after the fact)', () => {
    // Prepare: custody holds another hash.
    const custody = [custodyRecord(7, { memory: { hostSha256: 'c'.repeat(64) } }), undefined];

    // Act
    const checks = verify(manifestWith(captured()), custody);

    // Assess
    expect(checks['memory.custody']?.status).toBe('FAIL');
  });

  it('fails a capture without the tool that ran', () => {
    expect(verify(manifestWith(captured({ tool: null })))['memory.tool']?.status).toBe('FAIL');
  });

  it('passes skipped or failed with a reason; fails them without one', () => {
    const skipped = captured({ status: 'skipped', reason: 'windows', hostSha256: null, evidenceSnapshotId: null });
    expect(verify(manifestWith(skipped))['memory.status']).toMatchObject({ status: 'PASS', detail: 'skipped: windows' });
    expect(verify(manifestWith({ ...skipped, reason: null }))['memory.status']?.status).toBe('FAIL');
    expect(verify(manifestWith({ ...skipped, status: 'failed', reason: '  ' }))['memory.status']?.status).toBe('FAIL');
  });

  it('checks the evidence snapshot a failed capture still produced', () => {
    const failed = captured({ status: 'failed', reason: 'timed out after 1800 s', hostSha256: null });
    expect(verify(manifestWith(failed))['memory.snapshot']?.status).toBe('PASS');
    expect(verify(manifestWith(failed, false))['memory.snapshot']?.status).toBe('FAIL');
  });

  it('adds nothing for a manifest without a memory section', () => {
    expect(verify(manifestWith(undefined))).toEqual({});
  });
});
