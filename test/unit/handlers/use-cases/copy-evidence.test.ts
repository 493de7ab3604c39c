import { CopySnapshotCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcquisitionResult, EvidenceProgress, SnapshotProgress } from '../../../../handlers/domain/types';
import { checkEvidenceCopies } from '../../../../handlers/use-cases/check-evidence-copies';
import { copyEvidence } from '../../../../handlers/use-cases/copy-evidence';
import { CASE, EVIDENCE_KEY, REGION, adapters, awsError, fixedClock } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const NOW = '2026-01-10T10:30:00.000Z';
const ACQ: AcquisitionResult = {
  snapshotRequestedAt: '2026-01-10T10:00:00.000Z',
  snapshots: [],
  preservation: [],
  actions: [],
};
const progressOf = (n: number, extra: SnapshotProgress['volumes'] = []): SnapshotProgress => ({
  attempt: 3,
  firstCheckAt: '2026-01-10T10:01:00.000Z',
  checkedAt: NOW,
  allSettled: true,
  nextCheckSeconds: 0,
  volumes: [
    ...Array.from({ length: n }, (_, i) => ({ volumeId: `vol-${i}`, snapshotId: `snap-${i}`, state: 'completed' as const })),
    ...extra,
  ],
});
const deps = (concurrency = 2, at = NOW) => ({
  snapshots: adapters().snapshots,
  clock: fixedClock(at),
  tagPrefix: 'forensics',
  evidenceKeyArn: EVIDENCE_KEY,
  concurrency,
  maxWaitMinutes: 60,
  retry: { sleep: async () => undefined },
});

describe('copyEvidence', () => {
  beforeEach(() => {
    ec2.reset();
    // No copy from an earlier attempt of the step.
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  });
  afterEach(() => expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0));

  it('copies each completed snapshot with the evidence key, and skips errored or timed-out ones with the reason', async () => {
    // Prepare
    ec2.on(CopySnapshotCommand).callsFake(async (input: { SourceSnapshotId: string }) => ({ SnapshotId: `copy-of-${input.SourceSnapshotId}` }));
    const snapshotProgress = progressOf(1, [
      { volumeId: 'vol-bad', snapshotId: 'snap-bad', state: 'error', stateMessage: 'internal error' },
      { volumeId: 'vol-slow', snapshotId: 'snap-slow', state: 'timeout', stateMessage: 'still pending after 60 minutes' },
    ]);
    // Act
    const evidence = await copyEvidence(deps(), { caseRef: CASE, acquisition: ACQ, snapshotProgress });
    // Assess
    expect(ec2.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceSnapshotId: 'snap-0',
        SourceRegion: REGION,
        Encrypted: true,
        KmsKeyId: EVIDENCE_KEY,
        Description: `Forensic evidence case ${CASE.caseId}: copy of snap-0 (vol-0)`,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'forensics:case-id', Value: CASE.caseId },
              { Key: 'forensics:source-volume', Value: 'vol-0' },
              { Key: 'forensics:source-snapshot', Value: 'snap-0' },
              { Key: 'forensics:evidence', Value: 'true' },
            ],
          },
        ],
      },
    ]);
    expect(evidence.copies).toEqual([
      { volumeId: 'vol-0', sourceSnapshotId: 'snap-0', kmsKeyId: EVIDENCE_KEY, evidenceSnapshotId: 'copy-of-snap-0', sourceRegion: REGION, evidenceRegion: REGION, state: 'pending', requestedAt: NOW },
      { volumeId: 'vol-bad', sourceSnapshotId: 'snap-bad', kmsKeyId: EVIDENCE_KEY, state: 'skipped', stateMessage: 'source snapshot error: internal error' },
      { volumeId: 'vol-slow', sourceSnapshotId: 'snap-slow', kmsKeyId: EVIDENCE_KEY, state: 'skipped', stateMessage: 'source snapshot timeout: still pending after 60 minutes' },
    ]);
    expect(evidence).toMatchObject({ attempt: 0, firstCheckAt: NOW, allSettled: false });
    // Earlier copies are looked up by tag before anything is copied.
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input).toEqual({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:forensics:case-id', Values: [CASE.caseId] },
        { Name: 'tag:forensics:evidence', Values: ['true'] },
      ],
    });
  });

  it('never has more than COPY_CONCURRENCY copy requests in flight', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    ec2.on(CopySnapshotCommand).callsFake(async (input: { SourceSnapshotId: string }) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 3));
      inFlight--;
      return { SnapshotId: `copy-of-${input.SourceSnapshotId}` };
    });
    // Act
    const evidence = await copyEvidence(deps(3), { caseRef: CASE, acquisition: ACQ, snapshotProgress: progressOf(10) });
    // Assess
    expect(ec2.commandCalls(CopySnapshotCommand)).toHaveLength(10);
    expect(maxInFlight).toBe(3);
    expect(evidence.copies.every((c) => c.evidenceSnapshotId === `copy-of-${c.sourceSnapshotId}`)).toBe(true);
  });

  it('retries limit errors with backoff and then succeeds', async () => {
    ec2
      .on(CopySnapshotCommand)
      .rejectsOnce(awsError('ResourceLimitExceeded', 'too many concurrent copies'))
      .rejectsOnce(awsError('ConcurrentSnapshotLimitExceeded'))
      .resolves({ SnapshotId: 'copy-1' });
    const evidence = await copyEvidence(deps(1), { caseRef: CASE, acquisition: ACQ, snapshotProgress: progressOf(1) });
    expect(ec2.commandCalls(CopySnapshotCommand)).toHaveLength(3);
    expect(evidence.copies[0]).toMatchObject({ state: 'pending', evidenceSnapshotId: 'copy-1' });
    expect(evidence.copies[0]?.stateMessage).toBeUndefined();
  });

  it('defers a copy still refused for limits after the bounded retries; records other refusals as error', async () => {
    ec2
      .on(CopySnapshotCommand, { SourceSnapshotId: 'snap-0' })
      .rejects(awsError('ResourceLimitExceeded'))
      .on(CopySnapshotCommand, { SourceSnapshotId: 'snap-1' })
      .rejects(awsError('InvalidParameterValue', 'bad key'));
    const evidence = await copyEvidence(deps(2), { caseRef: CASE, acquisition: ACQ, snapshotProgress: progressOf(2) });
    expect(ec2.commandCalls(CopySnapshotCommand, { SourceSnapshotId: 'snap-0' })).toHaveLength(5);
    expect(ec2.commandCalls(CopySnapshotCommand, { SourceSnapshotId: 'snap-1' })).toHaveLength(1);
    expect(evidence.copies[0]).toMatchObject({ state: 'pending', stateMessage: expect.stringMatching(/^deferred: ResourceLimitExceeded/) });
    expect(evidence.copies[0]?.evidenceSnapshotId).toBeUndefined();
    expect(evidence.copies[1]).toMatchObject({ state: 'error', stateMessage: 'CopySnapshot: InvalidParameterValue: bad key' });
  });

  it('does not copy twice what an earlier attempt of the step already copied', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'copy-0', State: 'completed', Tags: [{ Key: 'forensics:source-snapshot', Value: 'snap-0' }] },
      ],
    });
    ec2.on(CopySnapshotCommand).resolves({ SnapshotId: 'copy-1' });
    const evidence = await copyEvidence(deps(), { caseRef: CASE, acquisition: ACQ, snapshotProgress: progressOf(2) });
    expect(ec2.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotId)).toEqual(['snap-1']);
    expect(evidence.copies.map((c) => [c.evidenceSnapshotId, c.state])).toEqual([
      ['copy-0', 'completed'],
      ['copy-1', 'pending'],
    ]);
  });
});

describe('checkEvidenceCopies', () => {
  const evidence = (copies: EvidenceProgress['copies']): EvidenceProgress => ({
    attempt: 0,
    firstCheckAt: NOW,
    checkedAt: NOW,
    allSettled: false,
    nextCheckSeconds: 60,
    copies,
  });
  const pending = (i: number) => ({
    volumeId: `vol-${i}`,
    sourceSnapshotId: `snap-${i}`,
    evidenceSnapshotId: `copy-${i}`,
    kmsKeyId: EVIDENCE_KEY,
    state: 'pending' as const,
    requestedAt: NOW,
  });

  beforeEach(() => ec2.reset());
  afterEach(() => expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0));

  it('judges each copy on State and StateMessage: a key the copy cannot use surfaces only in StateMessage', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'copy-0', State: 'completed', Progress: '100%', Encrypted: true, KmsKeyId: EVIDENCE_KEY },
        { SnapshotId: 'copy-1', State: 'error', StateMessage: 'Given key ID is not accessible', Encrypted: true },
        { SnapshotId: 'copy-2', State: 'pending', Progress: '50%' },
      ],
    });
    // Act
    const result = await checkEvidenceCopies(deps(2, '2026-01-10T10:32:00.000Z'), {
      caseRef: CASE,
      evidence: evidence([pending(0), pending(1), pending(2)]),
    });
    // Assess
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input).toEqual({
      OwnerIds: ['self'],
      Filters: [{ Name: 'snapshot-id', Values: ['copy-0', 'copy-1', 'copy-2'] }],
    });
    expect(result.copies.map((c) => [c.state, c.stateMessage])).toEqual([
      ['completed', undefined],
      ['error', 'Given key ID is not accessible'],
      ['pending', undefined],
    ]);
    expect(result.copies[0]?.completedAt).toBe('2026-01-10T10:32:00.000Z');
    expect(result).toMatchObject({ attempt: 1, firstCheckAt: NOW, allSettled: false });
    // 50% after 120 s → 120 s to go.
    expect(result.nextCheckSeconds).toBe(120);
  });

  it('marks a completed copy under another key as error', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'copy-0', State: 'completed', Encrypted: true, KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/other' },
      ],
    });
    const result = await checkEvidenceCopies(deps(), { caseRef: CASE, evidence: evidence([pending(0)]) });
    expect(result.copies[0]).toMatchObject({ state: 'error', stateMessage: expect.stringMatching(/not encrypted with the evidence key/) });
    expect(result.allSettled).toBe(true);
  });

  it('requests deferred copies again', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2.on(CopySnapshotCommand).resolves({ SnapshotId: 'copy-late' });
    const deferred = { volumeId: 'vol-9', sourceSnapshotId: 'snap-9', kmsKeyId: EVIDENCE_KEY, state: 'pending' as const, stateMessage: 'deferred: ResourceLimitExceeded' };
    const result = await checkEvidenceCopies(deps(), { caseRef: CASE, evidence: evidence([deferred]) });
    expect(ec2.commandCalls(CopySnapshotCommand)[0]?.args[0].input).toMatchObject({ SourceSnapshotId: 'snap-9', Encrypted: true, KmsKeyId: EVIDENCE_KEY });
    expect(result.copies[0]).toEqual({ volumeId: 'vol-9', sourceSnapshotId: 'snap-9', kmsKeyId: EVIDENCE_KEY, state: 'pending', evidenceSnapshotId: 'copy-late', sourceRegion: REGION, evidenceRegion: REGION, requestedAt: NOW });
  });

  it('times out what is still pending once the cap has passed, without requesting new copies', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'copy-0', State: 'pending', Progress: '10%' }] });
    const deferred = { volumeId: 'vol-9', sourceSnapshotId: 'snap-9', kmsKeyId: EVIDENCE_KEY, state: 'pending' as const, stateMessage: 'deferred: ResourceLimitExceeded' };
    const result = await checkEvidenceCopies(deps(2, '2026-01-10T11:30:00.000Z'), { caseRef: CASE, evidence: evidence([pending(0), deferred]) });
    expect(ec2.commandCalls(CopySnapshotCommand)).toHaveLength(0);
    expect(result.copies.map((c) => c.state)).toEqual(['timeout', 'timeout']);
    expect(result).toMatchObject({ allSettled: true, nextCheckSeconds: 0 });
  });

  it('times out what is still pending at the last check the poll bound allows, and backs off while a copy stands still', async () => {
    // Prepare: copy-0 reads 100% at this check and at the previous one.
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'copy-0', State: 'pending', Progress: '100%' }] });
    const before = { ...evidence([pending(0)]), attempt: 4, slowestProgress: 100, stalledChecks: 2 };
    // Act: the 5th check; a bound of 356 leaves plenty, a bound of 6 one more (landed on the cap), a bound of 5 none.
    const stalled = await checkEvidenceCopies({ ...deps(2, '2026-01-10T10:32:00.000Z'), maxPolls: 356 }, { caseRef: CASE, evidence: before });
    const oneLeft = await checkEvidenceCopies({ ...deps(2, '2026-01-10T10:32:00.000Z'), maxPolls: 6 }, { caseRef: CASE, evidence: before });
    const last = await checkEvidenceCopies({ ...deps(2, '2026-01-10T10:32:00.000Z'), maxPolls: 5 }, { caseRef: CASE, evidence: before });
    // Assess: 15 s doubled per unchanged check (3 so far); then settled as a timeout by count, before the 60-minute cap.
    expect(stalled).toMatchObject({ attempt: 5, allSettled: false, nextCheckSeconds: 120, stalledChecks: 3 });
    expect(oneLeft).toMatchObject({ allSettled: false, nextCheckSeconds: 60 * 60 - 2 * 60 });
    expect(last).toMatchObject({ attempt: 5, allSettled: true, nextCheckSeconds: 0 });
    expect(last.copies[0]).toMatchObject({ state: 'timeout', stateMessage: expect.stringMatching(/after 5 checks/) });
  });
});
