import type { AcquisitionState } from './domain/types';
import { notifier } from './composition/notifier';
import { environment } from './config/env';
import { type NotifyDeps, notifyResponders } from './use-cases/notify-responders';

/**
 * "Notify responders". Payload: the whole execution state. Returns `{notified, messageId}` (at `$.notification`);
 * a publish error is thrown for the Catch into "Close case".
 */
export function createNotifyHandler(deps: NotifyDeps) {
  return (event: AcquisitionState) => notifyResponders(deps, event);
}

export const handler = (event: AcquisitionState) => createNotifyHandler({ notifier: notifier(), bucket: environment().EVIDENCE_BUCKET })(event);
