import { describe, expect, it } from 'vitest';
import { instanceRoleArnOf, scopePrincipal, scopeWindow } from '../../../../handlers/domain/scope-principal';
import type { AcquisitionState } from '../../../../handlers/domain/types';

const state = (extra: Partial<AcquisitionState> = {}): AcquisitionState => ({
  outcome: 'ACQUIRE',
  case: {
    caseId: 'case-1',
    target: { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0abc' },
    finding: { id: 'f1', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', severity: 8, accessKeyIds: ['ASIAEXAMPLEKEY000001'] },
    source: 'guardduty',
    options: { workstation: false, revoke: 'instance' },
    openedAt: '2025-03-17T21:00:00.000Z',
    executionArn: 'arn:aws:states:eu-west-1:999999999999:execution:sm:case-1',
  },
  ...extra,
});

describe('scopePrincipal', () => {
  it('names the instance, its role and every access key of the case findings, once each', () => {
    // Prepare
    const findings = [{ id: 'f2', type: 't', severity: 8, accessKeyIds: ['AKIAEXAMPLEKEY000002', 'ASIAEXAMPLEKEY000001'] }];

    // Act
    const principal = scopePrincipal(state(), findings, 'arn:aws:iam::111122223333:role/app');

    // Assess
    expect(principal).toEqual({
      accountId: '111122223333',
      instanceId: 'i-0abc',
      roleArn: 'arn:aws:iam::111122223333:role/app',
      accessKeyIds: ['AKIAEXAMPLEKEY000002', 'ASIAEXAMPLEKEY000001'],
    });
  });

  it('takes the role credential containment resolved before the scope step’s own lookup', () => {
    // Prepare
    const contained = state({
      containment: {
        startedAt: 'a', containedAt: 'b', groups: [], networkInterfaces: [], actions: [],
        credentials: { mode: 'instance', status: 'applied', roleArn: 'arn:aws:iam::111122223333:role/from-containment', policies: [] },
      },
    });

    // Act / Assess
    expect(instanceRoleArnOf(contained, 'arn:aws:iam::111122223333:role/looked-up')).toBe('arn:aws:iam::111122223333:role/from-containment');
    expect(instanceRoleArnOf(state(), 'arn:aws:iam::111122223333:role/looked-up')).toBe('arn:aws:iam::111122223333:role/looked-up');
    expect(instanceRoleArnOf(state())).toBeNull();
  });
});

describe('scopeWindow', () => {
  it('starts the look-back before the earliest first sighting and ends now', () => {
    // Prepare
    const findings = [
      { id: 'a', type: 't', severity: 8, firstSeenAt: '2025-03-17T20:17:41.000Z' },
      { id: 'b', type: 't', severity: 8, firstSeenAt: '2025-03-16T10:00:00.000Z' },
    ];

    // Act
    const window = scopeWindow({ findings, openedAt: '2025-03-17T21:00:00.000Z', lookBackHours: 24, now: new Date('2025-03-17T21:05:00.000Z') });

    // Assess
    expect(window).toEqual({ from: '2025-03-15T10:00:00.000Z', to: '2025-03-17T21:05:00.000Z', lookBackHours: 24 });
  });

  it('falls back to the case opening when no finding says when it was first seen (a manual case)', () => {
    // Act
    const window = scopeWindow({ findings: [{ id: 'm', type: 'Manual', severity: 0 }], openedAt: '2025-03-17T21:00:00.000Z', lookBackHours: 6, now: new Date('2025-03-17T21:05:00.000Z') });

    // Assess
    expect(window.from).toBe('2025-03-17T15:00:00.000Z');
  });

  it('refuses a negative look-back, naming the field', () => {
    // Act / Assess
    expect(() => scopeWindow({ findings: [], openedAt: '2025-03-17T21:00:00.000Z', lookBackHours: -1, now: new Date() })).toThrow(/lookBackHours/);
  });
});
