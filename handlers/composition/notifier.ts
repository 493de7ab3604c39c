import { ownClients } from '../adapters/aws-clients';
import { snsClient } from '../adapters/clients/sns';
import { SnsNotifier } from '../adapters/sns-notifier';
import { environment } from '../config/env';

/** Composition root of the responders' notifications: the topic from the environment, the Lambda's own SNS client. */
export function notifier(): SnsNotifier {
  return new SnsNotifier(snsClient(ownClients()), environment().TOPIC_ARN);
}
