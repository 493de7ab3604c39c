import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier, snsSubject } from '../../../../handlers/adapters/sns-notifier';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:999988887777:ir';

describe('SnsNotifier', () => {
  beforeEach(() => sns.reset());

  it('publishes subject, message and string attributes to the topic', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    const out = await new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), TOPIC).publish('Subject', 'Body', { caseId: 'c1', empty: '' });

    // Assess
    expect(out).toEqual({ messageId: 'm-1' });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: 'Subject',
      Message: 'Body',
      MessageAttributes: { caseId: { DataType: 'String', StringValue: 'c1' } },
    });
  });

  it('keeps subjects within SNS rules: 100 printable ASCII characters, one line', () => {
    const long = snsSubject(`[IR] Contained ${'x'.repeat(200)}`);
    expect(long).toHaveLength(100);
    expect(long.endsWith('...')).toBe(true);
    expect(snsSubject('a\nb\tc — d')).toBe('a b c ? d');
    expect(snsSubject('  ')).toBe('Forensic acquisition');
  });

  it('propagates publish errors (the caller decides whether they matter)', async () => {
    sns.on(PublishCommand).rejects(new Error('topic down'));
    await expect(new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), TOPIC).publish('s', 'm')).rejects.toThrow('topic down');
  });
});
