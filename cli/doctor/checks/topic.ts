import { ListSubscriptionsByTopicCommand, SNSClient, type Subscription } from '@aws-sdk/client-sns';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { DoctorContext } from '../context';

/**
 * `topic.subscriptions`: someone is told. A topic with no confirmed subscription is a WARN, not a FAIL: the workflow
 * still acquires and seals, but nobody learns that it did (e-mail subscriptions stay "PendingConfirmation" until the
 * recipient clicks the link).
 */

export interface TopicFacts {
  topicArn: string | undefined;
  subscriptions: Outcome<Subscription[]> | undefined;
}

export async function gatherTopic(ctx: DoctorContext): Promise<TopicFacts> {
  const topicArn = ctx.resources.topicArn;
  if (!topicArn) return { topicArn, subscriptions: undefined };
  const sns = new SNSClient(ctx.client());
  try {
    const subscriptions = await attempt('sns:ListSubscriptionsByTopic', async () => {
      const all: Subscription[] = [];
      let NextToken: string | undefined;
      // Bounded: 20 pages of 100 is far beyond any IR notification list.
      for (let page = 0; page < 20; page++) {
        const out = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
        all.push(...(out.Subscriptions ?? []));
        NextToken = out.NextToken;
        if (!NextToken) break;
      }
      return all;
    });
    return { topicArn, subscriptions };
  } finally {
    sns.destroy();
  }
}

export function evaluateTopic(facts: TopicFacts, emulator: boolean): DoctorCheck {
  const name = 'topic.subscriptions';
  if (!facts.topicArn || !facts.subscriptions) return fail(name, 'the notification topic is unknown: no TopicArn stack output — deploy the stack');
  if (!facts.subscriptions.ok) {
    if (facts.subscriptions.error.notFound) return fail(name, `topic ${facts.topicArn} does not exist — deploy the stack`);
    return cannotRun(name, facts.subscriptions.error, `the subscriptions of ${facts.topicArn}`, emulator);
  }
  const subs = facts.subscriptions.value;
  const confirmed = subs.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
  const pending = subs.length - confirmed.length;
  if (confirmed.length > 0) {
    const protocols = [...new Set(confirmed.map((s) => s.Protocol ?? '?'))].join(', ');
    return pass(name, `${confirmed.length} confirmed subscription(s) (${protocols})${pending ? `, ${pending} pending confirmation` : ''}`);
  }
  return warn(
    name,
    pending > 0
      ? `${pending} subscription(s) pending confirmation and none confirmed: nobody is notified of a case — confirm the e-mail sent by SNS`
      : `no subscription: nobody is notified of a case — add forensics:notificationEmails in cdk.json and redeploy, or subscribe to ${facts.topicArn}`,
  );
}
