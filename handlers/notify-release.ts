import { notifier } from './composition/notifier';
import type { Notifier } from './domain/ports';
import { notifyRelease, type ReleaseState } from './use-cases/release-workflow';

/**
 * "Notify responders" (release state machine). Payload: the whole release state. Returns `{notified, messageId}`
 * (at `$.notification`); a publish error is thrown for the Catch, which ends the release as succeeded.
 */
export function createNotifyReleaseHandler(deps: { notifier?: () => Notifier } = {}) {
  return (state: ReleaseState) => notifyRelease({ notifier: (deps.notifier ?? notifier)() }, state);
}

export const handler = createNotifyReleaseHandler();
