import { describe, expect, it } from 'vitest';
import { mapSettledWithConcurrency, retryWithBackoff } from '../../../../handlers/domain/concurrency';
import { awsError } from '../../../support/ec2-test-fixtures';

describe('mapSettledWithConcurrency', () => {
  it('never has more than `limit` calls in flight, keeps order, and settles every item', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const items = Array.from({ length: 12 }, (_, i) => i);
    // Act
    const results = await mapSettledWithConcurrency(items, 3, async (i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2 + (i % 3)));
      inFlight--;
      if (i === 5) throw new Error('boom');
      return i * 2;
    });
    // Assess
    expect(maxInFlight).toBe(3);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'x'))).toEqual([0, 2, 4, 6, 8, 'x', 12, 14, 16, 18, 20, 22]);
  });
});

describe('retryWithBackoff', () => {
  it('retries throttling with growing jittered delays, then rethrows the error unchanged', async () => {
    const delays: number[] = [];
    const err = awsError('RequestLimitExceeded');
    await expect(
      retryWithBackoff(
        async () => {
          throw err;
        },
        { attempts: 4, baseDelayMs: 100, maxDelayMs: 250, sleep: async (ms) => void delays.push(ms), random: () => 0.999 },
      ),
    ).rejects.toBe(err);
    expect(delays).toEqual([99, 199, 249]);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw awsError('UnauthorizedOperation');
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined },
      ),
    ).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect(calls).toBe(1);
  });
});
