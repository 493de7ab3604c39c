import { describe, expect, it } from 'vitest';
import { actorOf, timelineEventOf } from '../../../../handlers/domain/cloudtrail-record';
import { type ReadableItem, rankRotateList, rotateCommand, shellQuote } from '../../../../handlers/domain/rotate-list';
import { ACCOUNT, INSTANCE_ID, ROLE_ARN, SECRET_ARN, record } from '../../../support/cloudtrail-records';

const principal = { accountId: ACCOUNT, instanceId: INSTANCE_ID, roleArn: ROLE_ARN, accessKeyIds: [] };
const eventOf = (overrides: Parameters<typeof record>[0]) => {
  const r = record(overrides);
  return timelineEventOf(r, { actor: actorOf(r, principal)!, origin: 'lookup-events', containedAt: null });
};
const item = (kind: ReadableItem['kind'], name: string, arn: string, region = 'eu-west-1'): ReadableItem => ({
  kind, name, arn, region, allowedActions: ['x:Read'], basis: 'identity-policy',
});

const secret = item('secret', 'prod/db', SECRET_ARN);
const otherSecret = item('secret', 'aaa', `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:aaa-ZyXwVu`);
const parameter = item('parameter', '/app/token', `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/app/token`);
const key = item('kms-key', 'alias/app', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
const bucket = item('s3-bucket', 'app-data', 'arn:aws:s3:::app-data');

describe('rankRotateList', () => {
  it('carries each item’s basis, and its possibly and notes only when set', () => {
    // Prepare
    const possible: ReadableItem = { ...otherSecret, basis: 'resource-policy', possibly: true, notes: ['readable only through an Allow with a Condition'] };
    const both: ReadableItem = { ...key, basis: 'both' };

    // Act
    const list = rankRotateList([possible, both], []);

    // Assess
    expect(list.map((i) => [i.name, i.basis, i.possibly, i.notes])).toEqual([
      ['aaa', 'resource-policy', true, ['readable only through an Allow with a Condition']],
      ['alias/app', 'both', undefined, undefined],
    ]);
    expect(Object.keys(list[1] ?? {})).not.toContain('possibly');
  });

  it('ranks observed reads first, then secrets, parameters, keys, buckets', () => {
    // Prepare: the timeline shows the parameter read (by name, decrypted) and the key used.
    const events = [
      eventOf({ eventID: 'p', eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: '/app/token', withDecryption: true }, resources: [] }),
      eventOf({ eventID: 'k', eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', requestParameters: {}, resources: [{ type: 'AWS::KMS::Key', ARN: key.arn }] }),
    ];

    // Act
    const list = rankRotateList([bucket, key, otherSecret, parameter], events);

    // Assess
    expect(list.map((i) => [i.rank, i.name, i.observed])).toEqual([
      [1, '/app/token', true],
      [2, 'alias/app', true],
      [3, 'aaa', false],
      [4, 'app-data', false],
    ]);
    expect(list[0]?.observedEventIds).toEqual(['p']);
  });

  it('marks a secret read by name, by full ARN or by ARN without its suffix; not a failed read, nor another region', () => {
    // Prepare
    const byName = eventOf({ eventID: '1', requestParameters: { secretId: 'prod/db' }, resources: [] });
    const byPartialArn = eventOf({ eventID: '2', requestParameters: { secretId: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db` }, resources: [] });
    const failed = eventOf({ eventID: '3', errorCode: 'AccessDeniedException' });
    const elsewhere = eventOf({ eventID: '4', awsRegion: 'us-east-1' });

    // Act
    const [ranked] = rankRotateList([secret], [byName, byPartialArn, failed, elsewhere]);

    // Assess
    expect(ranked?.observedEventIds).toEqual(['1', '2']);
  });

  it('marks a bucket read by a GetObject data event', () => {
    // Prepare
    const read = eventOf({ eventID: 'g', eventSource: 's3.amazonaws.com', eventName: 'GetObject', requestParameters: { bucketName: 'app-data', key: 'x.csv' }, resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::app-data/x.csv' }] });

    // Act / Assess
    expect(rankRotateList([bucket], [read])[0]?.observed).toBe(true);
  });
});

describe('rotateCommand', () => {
  it('gives the exact rotate or re-key command per kind', () => {
    // Act / Assess
    expect(rotateCommand(secret)).toBe(`aws secretsmanager rotate-secret --secret-id ${SECRET_ARN} --region eu-west-1`);
    expect(rotateCommand(parameter)).toBe("aws ssm put-parameter --name /app/token --type SecureString --overwrite --value '<new value>' --region eu-west-1");
    expect(rotateCommand(key)).toBe(`aws kms rotate-key-on-demand --key-id ${key.arn} --region eu-west-1`);
    expect(rotateCommand(bucket)).toMatch(/^aws s3 cp s3:\/\/app-data\/ s3:\/\/app-data\/ --recursive --sse aws:kms /);
  });

  it('quotes anything a shell would read', () => {
    // Act / Assess
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
    expect(shellQuote('plain/name-1')).toBe('plain/name-1');
  });
});
