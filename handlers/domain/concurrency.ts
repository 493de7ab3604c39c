import { THROTTLING_ERRORS, errorName } from './errors';

/**
 * Bounded parallelism and bounded retries, shared by the acquisition use cases. No SDK imports: errors are
 * recognised by name, which is how the SDK surfaces AWS error codes and how Step Functions matches them.
 */

/** Sleeps `ms` milliseconds; injectable so tests do not wait. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const THROTTLING = new Set<string>(THROTTLING_ERRORS);

/** True for "slow down and try again" errors (throttling and account limits). */
export function isThrottlingError(err: unknown): boolean {
  return THROTTLING.has(errorName(err));
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping input order in the output. Every item is
 * attempted: a failure is returned as a rejected outcome and never stops the others (evidence from one volume
 * must not be lost because another failed).
 */
export async function mapSettledWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index] as T, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Which errors are worth another attempt; throttling and limits by default. */
  retryable?: (err: unknown) => boolean;
  sleep?: Sleep;
  /** [0, 1) source for the jitter; injectable for deterministic tests. */
  random?: () => number;
}

/**
 * Retries `fn` on retryable errors with exponential backoff and full jitter (so that several Lambdas hitting the
 * same account limit do not retry in lockstep). The last error is rethrown unchanged, name included.
 */
export async function retryWithBackoff<R>(fn: (attempt: number) => Promise<R>, policy: RetryPolicy): Promise<R> {
  const retryable = policy.retryable ?? isThrottlingError;
  const sleep = policy.sleep ?? realSleep;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.attempts || !retryable(err)) throw err;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * ceiling));
    }
  }
}
