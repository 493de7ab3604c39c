import { successNotification } from '../domain/notification-message';
import type { Notifier } from '../domain/ports';
import type { AcquisitionState } from '../domain/types';

export interface NotifyDeps {
  notifier: Notifier;
  bucket: string;
}

/**
 * "Notify responders" after sealing. A publish error is thrown: the state machine catches it into "Close case"
 * (at `$.notificationFailure`), which records it — the evidence is sealed by then, so it does not fail the case.
 */
export async function notifyResponders(
  deps: NotifyDeps,
  state: AcquisitionState,
): Promise<{ notified: boolean; messageId?: string }> {
  const n = successNotification(state, deps.bucket);
  const out = await deps.notifier.publish(n.subject, n.message, n.attributes);
  return { notified: true, ...(out.messageId ? { messageId: out.messageId } : {}) };
}
