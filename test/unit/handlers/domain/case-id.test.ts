import { describe, expect, it } from 'vitest';
import { isCaseId, newCaseId, targetLockKey } from '../../../../handlers/domain/case-id';
import { InvalidInput } from '../../../../handlers/domain/errors';

const target = { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' };

/** What IAM accepts as a role session name (sts:AssumeRole RoleSessionName). */
const STS_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

describe('newCaseId', () => {
  it('is the UTC time to the second and the instance id', () => {
    // Act
    const caseId = newCaseId(target, new Date('2026-11-28T09:15:00.987Z'));

    // Assess
    expect(caseId).toBe('20261128T091500Z-i-0123456789abcdef0');
    expect(isCaseId(caseId)).toBe(true);
  });

  it('is a valid STS session name and S3 key segment for both instance id lengths', () => {
    // Act
    const ids = [
      newCaseId(target, new Date('2026-01-01T00:00:00Z')),
      newCaseId({ instanceId: 'i-0a1b2c3d' }, new Date('2026-01-01T00:00:00Z')),
    ];

    // Assess
    for (const id of ids) {
      expect(id).toMatch(STS_SESSION_NAME);
      expect(id).toMatch(/^[0-9A-Za-z-]+$/);
    }
  });

  it('refuses a malformed instance id or an invalid date', () => {
    // Act
    const badInstance = () => newCaseId({ instanceId: 'i-../../x' }, new Date());
    const badDate = () => newCaseId(target, new Date('not a date'));
    const farFuture = () => newCaseId(target, new Date('+010000-01-01T00:00:00Z'));

    // Assess
    expect(badInstance).toThrow(InvalidInput);
    expect(badDate).toThrow(InvalidInput);
    expect(farFuture).toThrow(InvalidInput);
  });
});

describe('targetLockKey', () => {
  it('names account, region and instance', () => {
    // Act
    const key = targetLockKey(target);

    // Assess
    expect(key).toBe('TARGET#111122223333#eu-central-2#i-0123456789abcdef0');
  });

  it('refuses a target that could forge another key', () => {
    // Act
    const forged = () => targetLockKey({ ...target, region: 'eu-central-2#i-0fffffffffffffff0' });

    // Assess
    expect(forged).toThrow(InvalidInput);
  });
});
