import { describe, expect, it } from 'vitest';
import type { CaseRecord, CustodyLog } from '../../../../handlers/domain/ports';
import type { CustodyAction } from '../../../../handlers/domain/types';
import { recordReleaseFailure, releaseNotification, type ReleaseState, validateRelease } from '../../../../handlers/use-cases/release-workflow';

/** The release state machine's own steps: validation refusals, failure recording, the notification. */
const CASE = '20260101T120000Z-i-0123456789abcdef0';
const target = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const record = (status: CaseRecord['status'], details: Record<string, unknown> = {}): CaseRecord => ({
  caseId: CASE,
  status,
  target,
  source: 'manual',
  openedAt: '2026-01-01T12:00:00Z',
  updatedAt: '2026-01-01T12:00:00Z',
  executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:acq:x',
  findings: [],
  custodySeq: 1,
  custodyHeadSha256: 'x',
  custody: [],
  details,
});
const request = { caseId: CASE, reason: 'cleared', requestedBy: 'alice' };
const input = { request, executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:rel:1' };

describe('validate release request', () => {
  it('accepts CONTAINED and FAILED cases and returns the release state', async () => {
    for (const status of ['CONTAINED', 'FAILED'] as const) {
      const state = await validateRelease({ cases: { getCase: async () => record(status) } }, input);
      expect(state).toEqual({ request, executionArn: input.executionArn, case: { caseId: CASE, status, target } });
    }
  });

  it('refuses by name: unknown, still acquiring, already released, invalid input', async () => {
    await expect(validateRelease({ cases: { getCase: async () => undefined } }, input)).rejects.toMatchObject({ name: 'CaseNotFound' });
    await expect(validateRelease({ cases: { getCase: async () => record('ACQUIRING') } }, input)).rejects.toMatchObject({ name: 'CaseStillAcquiring' });
    await expect(
      validateRelease({ cases: { getCase: async () => record('RELEASED', { release: { releasedAt: '2026-01-02T00:00:00Z' } }) } }, input),
    ).rejects.toMatchObject({ name: 'CaseAlreadyReleased', message: expect.stringContaining('2026-01-02T00:00:00Z') });
    await expect(validateRelease({ cases: { getCase: async () => record('CONTAINED') } }, { ...input, request: { ...request, caseId: '../x' } })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringMatching(/^caseId: /),
    });
  });
});

describe('record release failure', () => {
  it('records the failure in the case and the custody log, keeps the status, notifies', async () => {
    const updates: unknown[] = [];
    const appended: CustodyAction[][] = [];
    const published: string[] = [];
    const custody: CustodyLog = {
      append: async (_ref, actions) => {
        appended.push(actions);
        return [];
      },
    };
    const state: ReleaseState = {
      ...input,
      case: { caseId: CASE, status: 'CONTAINED', target },
      failure: { Error: 'ReleaseIncomplete', Cause: JSON.stringify({ errorType: 'ReleaseIncomplete', errorMessage: 'eni-1: AccessDenied' }) },
    };
    const out = await recordReleaseFailure(
      {
        cases: { getCase: async () => record('CONTAINED'), updateCase: async (_id, patch) => void updates.push(patch) },
        custody,
        notifier: {
          publish: async (subject) => {
            published.push(subject);
            return {};
          },
        },
        clock: () => new Date('2026-01-03T00:00:00Z'),
      },
      state,
    );
    expect(out).toEqual({ recorded: true, caseId: CASE, status: 'CONTAINED', error: 'ReleaseIncomplete', notified: true });
    expect(updates).toEqual([
      {
        details: {
          releaseFailure: {
            at: '2026-01-03T00:00:00.000Z',
            executionArn: input.executionArn,
            error: 'ReleaseIncomplete',
            message: 'eni-1: AccessDenied',
            reason: 'cleared',
            requestedBy: 'alice',
          },
        },
      },
    ]);
    expect(updates[0]).not.toHaveProperty('status');
    expect(appended[0]?.[0]).toMatchObject({ step: 'release', action: 'release-failed', status: 'failed' });
    expect(published[0]).toContain('FAILED release');
  });

  it('a notification failure does not fail the recording', async () => {
    const out = await recordReleaseFailure(
      {
        cases: { getCase: async () => record('FAILED'), updateCase: async () => undefined },
        custody: { append: async () => [] },
        notifier: { publish: async () => Promise.reject(new Error('sns down')) },
        clock: () => new Date(0),
      },
      { ...input, case: { caseId: CASE, status: 'FAILED', target }, failure: { Error: 'States.Timeout' } },
    );
    expect(out.notified).toBe(false);
  });
});

describe('release notification', () => {
  it('names the case, instance, requester and states that evidence is unchanged', () => {
    const n = releaseNotification({
      ...input,
      case: { caseId: CASE, status: 'CONTAINED', target },
      release: {
        caseId: CASE,
        status: 'RELEASED',
        releasedAt: '2026-01-03T00:00:00Z',
        lockReleased: true,
        actions: [{ step: 'release', action: 'restore-network-interface-groups', status: 'succeeded', performedAt: 'x', request: { networkInterfaceId: 'eni-1' }, result: {} }],
      },
    });
    expect(n.subject).toBe(`[IR] Released i-0123456789abcdef0 - case ${CASE}`);
    expect(n.message).toContain('by alice — cleared');
    expect(n.message).toContain('restore-network-interface-groups: succeeded');
    expect(n.message).toContain('evidence (snapshots, objects, legal holds, manifest) is unchanged');
    expect(n.attributes).toEqual({ caseId: CASE, status: 'RELEASED', instanceId: 'i-0123456789abcdef0' });
  });
});
