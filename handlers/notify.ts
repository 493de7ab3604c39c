import type { AcquisitionState } from './domain/types';
import { notifyDeps } from './composition/notifier';
import { type NotifyDeps, notifyResponders } from './use-cases/notify-responders';

/**
 * "Notify responders". Payload: the whole execution state. Returns `{notified, messageId}` (at `$.notification`);
 * a publish error is thrown for the Catch into "Close case".
 */
export function createNotifyHandler(deps: { notify?: () => NotifyDeps } = {}) {
  return (event: AcquisitionState) => notifyResponders((deps.notify ?? notifyDeps)(), event);
}

export const handler = createNotifyHandler();
