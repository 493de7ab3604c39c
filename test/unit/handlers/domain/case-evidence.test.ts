import { describe, expect, it } from 'vitest';
import {
  evidenceCustodyActions,
  inferFailedStep,
  instanceKey,
  instanceUntouched,
  parseFailureCause,
  pendingCustodyActions,
  rawFindingKey,
  securedSummary,
} from '../../../../handlers/domain/case-evidence';
import { caseSummary } from '../../../../handlers/domain/case-summary';
import type { AcquisitionState } from '../../../../handlers/domain/types';
import { acquiredState, containedState, describedState, fullState } from '../../../support/evidence-test-kit';

describe('evidence keys', () => {
  it('places raw findings and the pre-incident state under the case', () => {
    expect(instanceKey('c1')).toBe('cases/c1/instance.json');
    expect(rawFindingKey('c1', 'abc123')).toBe('cases/c1/finding-abc123.json');
    expect(rawFindingKey('c1', 'manual/2025 01')).toBe('cases/c1/finding-manual_2025_01.json');
  });
});

describe('pendingCustodyActions', () => {
  it('lists case opened, finding received, describe, acquisition and containment actions in that order', () => {
    // Act
    const actions = pendingCustodyActions(containedState());

    // Assess
    expect(actions.map((a) => `${a.step}/${a.action}`)).toEqual([
      'triage/open-case',
      'triage/receive-finding',
      'describe-instance/describe',
      'preserve-and-snapshot/create-snapshots',
      'isolate-network/isolate-eni',
    ]);
    expect(actions[1]?.result).toEqual({ rawFindingKey: 'cases/case-20250301-0001/finding-a1b2c3d4e5f60718293a4b5c6d7e8f90.json' });
  });

  it('includes only what exists in a partial state', () => {
    const base = { ...describedState() };
    delete base.describe;
    expect(pendingCustodyActions(base)).toHaveLength(2);
    expect(pendingCustodyActions(acquiredState())).toHaveLength(4);
  });
});

describe('evidenceCustodyActions', () => {
  it('records every snapshot result and evidence copy with its outcome', () => {
    // Act
    const actions = evidenceCustodyActions(fullState());

    // Assess
    expect(actions.map((a) => [a.step, a.action, a.status])).toEqual([
      ['check-snapshots', 'snapshot-result', 'succeeded'],
      ['check-snapshots', 'snapshot-result', 'failed'],
      ['copy-evidence', 'evidence-copy', 'succeeded'],
      ['copy-evidence', 'evidence-copy', 'skipped'],
    ]);
    expect(actions[2]).toMatchObject({ performedAt: '2025-03-01T10:01:50.000Z', result: { evidenceSnapshotId: 'snap-0ccc' } });
  });
});

describe('parseFailureCause', () => {
  it('parses the JSON cause a Lambda error carries in AWS', () => {
    const cause = JSON.stringify({ errorType: 'InstanceNotFound', errorMessage: 'instance i-1 was not found', trace: ['at x'] });
    expect(parseFailureCause({ Error: 'InstanceNotFound', Cause: cause })).toEqual({
      error: 'InstanceNotFound',
      message: 'instance i-1 was not found',
      errorType: 'InstanceNotFound',
      trace: ['at x'],
    });
  });

  it('keeps a plain message (local runner) and tolerates a missing or brace-led non-JSON cause', () => {
    expect(parseFailureCause({ Error: 'SnapshotFailed', Cause: 'no snapshot for vol-1' })).toEqual({ error: 'SnapshotFailed', message: 'no snapshot for vol-1' });
    expect(parseFailureCause({ Error: 'States.Timeout' })).toEqual({ error: 'States.Timeout', message: 'States.Timeout' });
    expect(parseFailureCause({ Error: 'E', Cause: '{not json' }).message).toBe('{not json');
    expect(parseFailureCause(undefined).error).toBe('UnknownError');
  });
});

describe('inferFailedStep', () => {
  const without = (state: AcquisitionState, ...keys: (keyof AcquisitionState)[]) => {
    const copy = { ...state };
    for (const k of keys) delete copy[k];
    return copy;
  };

  it.each([
    ['describe-instance', without(describedState(), 'describe')],
    ['preserve-and-snapshot', describedState()],
    ['isolate-network', acquiredState()],
    ['check-snapshots', containedState()],
    ['check-snapshots', without({ ...fullState(), snapshotProgress: { ...fullState().snapshotProgress!, allSettled: false } }, 'evidence')],
    ['copy-evidence', without(fullState(), 'evidence')],
    ['check-evidence-copies', { ...fullState(), evidence: { ...fullState().evidence!, allSettled: false } }],
    ['seal-evidence', fullState()],
  ])('infers %s', (step, state) => {
    expect(inferFailedStep(state)).toBe(step);
  });

  it('infers close-case once sealed', () => {
    const sealed = { ...fullState(), seal: { manifest: { bucket: 'b', key: 'k', sha256: 's' }, objects: [] } };
    expect(inferFailedStep(sealed)).toBe('close-case');
  });
});

describe('instanceUntouched', () => {
  it('is true only when nothing can have been changed on the instance', () => {
    const noDescribe = { ...describedState() };
    delete noDescribe.describe;
    expect(instanceUntouched(noDescribe, { error: 'States.TaskFailed' })).toBe(true);
    expect(instanceUntouched(describedState(), { error: 'InstanceNotFound' })).toBe(true);
    expect(instanceUntouched(describedState(), { error: 'Lambda.Unknown', errorType: 'InstanceNotFound' })).toBe(true);
    expect(instanceUntouched(describedState(), { error: 'SnapshotFailed' })).toBe(false);
    expect(instanceUntouched(acquiredState(), { error: 'InstanceNotFound' })).toBe(false);
  });
});

describe('securedSummary and caseSummary', () => {
  it('list what was secured and the run-local contract shape', () => {
    // Act
    const secured = securedSummary(fullState());
    const summary = caseSummary(fullState(), 'SUCCEEDED');

    // Assess
    expect(secured).toEqual({
      snapshots: [
        { volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', state: 'completed' },
        { volumeId: 'vol-0bbb', snapshotId: 'snap-0bbb', state: 'error' },
      ],
      evidenceSnapshots: [{ volumeId: 'vol-0aaa', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', state: 'completed' }],
      isolatedNetworkInterfaces: ['eni-0aaa'],
      isolationGroupIds: ['sg-0iso'],
      preservationApplied: ['tag-case-id', 'termination-protection'],
      manifest: null,
    });
    expect(summary).toEqual({
      caseId: 'case-20250301-0001',
      status: 'SUCCEEDED',
      manifest: null,
      snapshots: [
        { volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', region: 'eu-west-1' },
        { volumeId: 'vol-0bbb', snapshotId: 'snap-0bbb', evidenceSnapshotId: null, kmsKeyId: null },
      ],
      isolation: { securityGroupId: 'sg-0iso', networkInterfaceIds: ['eni-0aaa'] },
      forensicInstanceId: null,
    });
  });
});
