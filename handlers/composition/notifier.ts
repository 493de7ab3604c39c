import { ownClients } from '../adapters/aws-clients';
import { snsClient } from '../adapters/clients/sns';
import { SnsNotifier } from '../adapters/sns-notifier';
import { type HandlerEnvironment, environment } from '../config/env';
import type { NotifyDeps } from '../use-cases/notify-responders';

let shared: { notifier: SnsNotifier; env: HandlerEnvironment } | undefined;

/**
 * Composition root of the responders' notifications: the topic from the environment, the Lambda's own SNS client.
 * Built once per container, rebuilt when the environment was re-read (as the local runner does between runs).
 */
export function notifier(): SnsNotifier {
  const env = environment();
  if (shared?.env !== env) shared = { notifier: new SnsNotifier(snsClient(ownClients()), env.TOPIC_ARN), env };
  return shared.notifier;
}

/** "Notify responders": the notifier and the evidence bucket its message points at. */
export function notifyDeps(): NotifyDeps {
  return { notifier: notifier(), bucket: environment().EVIDENCE_BUCKET };
}
