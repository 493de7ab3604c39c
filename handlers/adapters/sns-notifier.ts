import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../domain/ports';

/** SNS accepts a subject of at most 100 printable ASCII characters, without line breaks. */
export const MAX_SUBJECT_LENGTH = 100;

/** Makes any text a valid SNS subject (an invalid one fails the whole Publish). */
export function snsSubject(text: string): string {
  const printable = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7E]/g, '?').trim();
  if (printable.length <= MAX_SUBJECT_LENGTH) return printable || 'Forensic acquisition';
  return `${printable.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

/** Notifies responders through the case topic; attributes become String message attributes (for filtering). */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(
    subject: string,
    message: string,
    attributes: Record<string, string> = {},
  ): Promise<{ messageId?: string }> {
    const messageAttributes = Object.fromEntries(
      Object.entries(attributes)
        // SNS rejects empty attribute values.
        .filter(([, v]) => v !== '')
        .map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
    );
    const out = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(subject),
        Message: message,
        ...(Object.keys(messageAttributes).length > 0 ? { MessageAttributes: messageAttributes } : {}),
      }),
    );
    return out.MessageId ? { messageId: out.MessageId } : {};
  }
}
