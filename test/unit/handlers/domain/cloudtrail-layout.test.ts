import { describe, expect, it } from 'vitest';
import { trailDayPrefixes, trailFileInWindow, trailFileTime, trailRegionPrefix } from '../../../../handlers/domain/cloudtrail-layout';

const window = { from: '2025-03-16T22:30:00.000Z', to: '2025-03-17T23:50:00.000Z', lookBackHours: 24 };
const org = { prefix: 'trails/', organizationId: 'o-abcdefghij', accountId: '111122223333', region: 'eu-west-1' };
const base = 'trails/AWSLogs/o-abcdefghij/111122223333';

describe('CloudTrail S3 layout', () => {
  it('lists the day folders of an organization trail, including the day the delivery margin reaches into', () => {
    // Act
    const logs = trailDayPrefixes(org, window, 'log');
    const digests = trailDayPrefixes(org, window, 'digest');

    // Assess: 23:50 + 15 min and + 75 min both cross midnight into the 18th.
    expect(logs).toEqual([
      `${base}/CloudTrail/eu-west-1/2025/03/16/`,
      `${base}/CloudTrail/eu-west-1/2025/03/17/`,
      `${base}/CloudTrail/eu-west-1/2025/03/18/`,
    ]);
    expect(digests[0]).toBe(`${base}/CloudTrail-Digest/eu-west-1/2025/03/16/`);
    expect(digests).toHaveLength(3);
  });

  it('omits the prefix and the organization for an account trail', () => {
    // Act / Assess
    expect(trailRegionPrefix({ accountId: '111122223333', region: 'us-east-1' }, 'log')).toBe('AWSLogs/111122223333/CloudTrail/us-east-1/');
  });

  it('reads the delivery time of a log file and the end time of a digest (backfill too)', () => {
    // Act / Assess
    expect(trailFileTime(`${base}/CloudTrail/eu-west-1/2025/03/17/111122223333_CloudTrail_eu-west-1_20250317T2005Z_a1b2c3d4e5f6g7h8.json.gz`)).toEqual({
      kind: 'log',
      time: new Date('2025-03-17T20:05:00.000Z'),
    });
    expect(trailFileTime('x/111122223333_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20250317T200131Z.json.gz')).toEqual({
      kind: 'digest',
      time: new Date('2025-03-17T20:01:31.000Z'),
    });
    expect(trailFileTime('x/111122223333_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20250317T200131Z_backfill.json.gz')?.kind).toBe('digest');
    expect(trailFileTime('x/notes.txt')).toBeUndefined();
  });

  it('keeps files delivered in the window and within the margin after it, and nothing else', () => {
    // Prepare
    const log = (stamp: string) => `d/111122223333_CloudTrail_eu-west-1_${stamp}_abc.json.gz`;
    const digest = (stamp: string) => `d/111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_${stamp}.json.gz`;

    // Act / Assess
    expect(trailFileInWindow(log('20250316T2229Z'), window)).toBeUndefined();
    expect(trailFileInWindow(log('20250316T2230Z'), window)).toBe('log');
    expect(trailFileInWindow(log('20250318T0005Z'), window)).toBe('log');
    expect(trailFileInWindow(log('20250318T0006Z'), window)).toBeUndefined();
    expect(trailFileInWindow(digest('20250318T0104Z00'), window)).toBeUndefined();
    expect(trailFileInWindow(digest('20250318T010400Z'), window)).toBe('digest');
    expect(trailFileInWindow(digest('20250318T010600Z'), window)).toBeUndefined();
  });
});
