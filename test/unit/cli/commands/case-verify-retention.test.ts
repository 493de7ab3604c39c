import { describe, expect, it } from 'vitest';
import { retentionCheck } from '../../../../cli/commands/case-verify';

/**
 * `case verify`'s `object.retention` verdict: every evidence object carries its own retention (mode and date), of the
 * deployment's mode and at least the deployment's days from its write — on AWS and on an emulator alike.
 */
const WRITTEN = new Date('2025-03-01T10:00:00.000Z');
const NOW = new Date('2025-06-01T00:00:00.000Z');
const DEPLOYMENT = { mode: 'COMPLIANCE', days: 365 };
const days = (n: number) => new Date(WRITTEN.getTime() + n * 24 * 60 * 60 * 1000);

describe('object.retention', () => {
  it('PASS: the deployment\'s mode, the configured days from the write', () => {
    const verdict = retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: days(365), LastModified: WRITTEN }, DEPLOYMENT, NOW);
    expect(verdict.status).toBe('PASS');
  });

  it('FAIL when the object has no retention of its own (whatever the endpoint: there is no emulator exception)', () => {
    expect(retentionCheck({ LastModified: WRITTEN }, DEPLOYMENT, NOW)).toEqual({ status: 'FAIL', detail: expect.stringMatching(/no Object Lock retention/) });
    expect(retentionCheck({ ObjectLockMode: 'COMPLIANCE', LastModified: WRITTEN }, DEPLOYMENT, NOW).status).toBe('FAIL');
    expect(retentionCheck({ ObjectLockRetainUntilDate: days(365) }, undefined, NOW).status).toBe('FAIL');
  });

  it('FAIL on another mode than the deployment\'s (GOVERNANCE can be bypassed)', () => {
    const verdict = retentionCheck({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: days(365), LastModified: WRITTEN }, DEPLOYMENT, NOW);
    expect(verdict).toEqual({ status: 'FAIL', detail: expect.stringMatching(/retention mode is COMPLIANCE/) });
  });

  it('FAIL when shorter than the configured days from the write; the writer\'s clock may lag S3 by up to 15 minutes', () => {
    const short = retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: days(30), LastModified: WRITTEN }, DEPLOYMENT, NOW);
    expect(short).toEqual({ status: 'FAIL', detail: expect.stringMatching(/shorter than the deployment's 365 days/) });
    const skewed = new Date(days(365).getTime() - 14 * 60 * 1000);
    expect(retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: skewed, LastModified: WRITTEN }, DEPLOYMENT, NOW).status).toBe('PASS');
    const tooSkewed = new Date(days(365).getTime() - 16 * 60 * 1000);
    expect(retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: tooSkewed, LastModified: WRITTEN }, DEPLOYMENT, NOW).status).toBe('FAIL');
  });

  it('WARN once the date has passed: only the legal hold (checked on its own) keeps the object', () => {
    const later = new Date(days(400).getTime());
    const verdict = retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: days(365), LastModified: WRITTEN }, DEPLOYMENT, later);
    expect(verdict).toEqual({ status: 'WARN', detail: expect.stringMatching(/expired/) });
  });

  it('without a readable bucket default, presence and date are still checked', () => {
    expect(retentionCheck({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: days(1), LastModified: WRITTEN }, undefined, WRITTEN).status).toBe('PASS');
  });

  it('a drill case: the drill\'s days in the deployment\'s mode PASS; GOVERNANCE still FAILs; less than the drill\'s days FAILs', () => {
    // Prepare: what verifyCase passes for a case whose sealed manifest says drill (1 day).
    const drill = { ...DEPLOYMENT, days: 1, drill: true };
    // Act / Assess
    const ok = retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: days(1), LastModified: WRITTEN }, drill, WRITTEN);
    expect(ok).toEqual({ status: 'PASS', detail: expect.stringMatching(/1 days from the write, as the drill asked/) });
    expect(retentionCheck({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: days(1), LastModified: WRITTEN }, drill, WRITTEN).status).toBe('FAIL');
    const hours = new Date(WRITTEN.getTime() + 3 * 60 * 60 * 1000);
    expect(retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: hours, LastModified: WRITTEN }, drill, WRITTEN)).toEqual({
      status: 'FAIL',
      detail: expect.stringMatching(/shorter than the drill's 1 days/),
    });
    // The same 1-day object of a real case is a FAIL: only the drill mark (from the sealed manifest) allows it.
    expect(retentionCheck({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: days(1), LastModified: WRITTEN }, DEPLOYMENT, WRITTEN).status).toBe('FAIL');
  });
});
