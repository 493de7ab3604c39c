import { InvalidInput } from './errors';
import type { AcquisitionState } from './types';

/**
 * What the state machine passes to its two poll steps: the whole execution state, and how many checks its Choice
 * rule allows in the loop (derived from the history budget, so the handler can spread its checks over the time cap
 * and settle what is still pending at the last one).
 */
export interface PollPayload {
  state: AcquisitionState;
  maxPolls: number;
}

export function pollPayload(payload: PollPayload): PollPayload {
  const maxPolls = payload?.maxPolls;
  if (typeof maxPolls !== 'number' || !Number.isInteger(maxPolls) || maxPolls < 2) {
    throw new InvalidInput('maxPolls', 'expected the loop\'s poll bound, a whole number of at least 2');
  }
  if (!payload.state || typeof payload.state !== 'object') throw new InvalidInput('state', 'missing: the execution state');
  return { state: payload.state, maxPolls };
}
