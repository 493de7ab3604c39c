import { describe, expect, it } from 'vitest';
import {
  actorOf,
  assumedRoleOf,
  flagsOf,
  mergeTimeline,
  parseCloudTrailEvent,
  timelineEventOf,
} from '../../../../handlers/domain/cloudtrail-record';
import type { ScopePrincipal } from '../../../../handlers/domain/scope-documents';
import { ACCOUNT, INSTANCE_ID, ROLE_ARN, SECRET_ARN, SESSION_ARN, assumeRoleRecord, pivotRecord, record } from '../../../support/cloudtrail-records';

const principal: ScopePrincipal = { accountId: ACCOUNT, instanceId: INSTANCE_ID, roleArn: ROLE_ARN, accessKeyIds: ['AKIALEAKEDKEY0000001'] };
const CONTAINED_AT = '2025-03-17T21:00:00.000Z';

describe('CloudTrail record → timeline event', () => {
  it('parses LookupEvents’ CloudTrailEvent string and refuses what is not an event record', () => {
    // Act / Assess
    expect(parseCloudTrailEvent(JSON.stringify(record()))?.eventID).toBe('e0000000-0000-4000-8000-000000000001');
    expect(parseCloudTrailEvent('{not json')).toBeUndefined();
    expect(parseCloudTrailEvent(JSON.stringify({ eventName: 'x' }))).toBeUndefined();
    expect(parseCloudTrailEvent(undefined)).toBeUndefined();
  });

  it('keeps the fields a responder reads, with the resources from the record and its request parameters', () => {
    // Prepare
    const r = record();

    // Act
    const event = timelineEventOf(r, { actor: actorOf(r, principal)!, origin: 'lookup-events', containedAt: CONTAINED_AT });

    // Assess
    expect(event).toEqual({
      time: '2025-03-17T20:20:00.000Z',
      eventId: 'e0000000-0000-4000-8000-000000000001',
      region: 'eu-west-1',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      sourceIPAddress: '203.0.113.10',
      userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
      accessKeyId: 'ASIAINSTANCEROLE0001',
      actor: { kind: 'instance-role-session', sessionName: INSTANCE_ID, arn: SESSION_ARN },
      resources: [
        { type: 'AWS::SecretsManager::Secret', name: SECRET_ARN },
        { type: 'AWS::SecretsManager::Secret', name: 'prod/db' },
      ],
      errorCode: null,
      errorMessage: null,
      readOnly: true,
      flags: ['outside-aws', 'secret-or-decrypt'],
      origin: 'lookup-events',
    });
  });

  it('tells the principal’s identities from everyone else’s', () => {
    // Prepare
    const other = record({ userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/i-0other`, accessKeyId: 'ASIAOTHER00000000001' } });
    const sameSessionOtherRole = record({ userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/other-role/${INSTANCE_ID}` } });
    const leakedKey = record({ userIdentity: { type: 'AssumedRole', arn: SESSION_ARN, accessKeyId: 'AKIALEAKEDKEY0000001' } });
    const hop = { roleArn: `arn:aws:iam::${ACCOUNT}:role/admin`, sessionName: 'pivot', assumedAt: 'x', eventId: 'y' };

    // Act / Assess
    expect(actorOf(other, principal)).toBeUndefined();
    expect(actorOf(sameSessionOtherRole, principal)).toBeUndefined();
    expect(actorOf(record({ userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/u`, accessKeyId: 'AKIALEAKEDKEY0000001' } }), principal)).toEqual({
      kind: 'access-key',
      accessKeyId: 'AKIALEAKEDKEY0000001',
      arn: `arn:aws:iam::${ACCOUNT}:user/u`,
    });
    expect(actorOf(leakedKey, principal)?.kind).toBe('instance-role-session');
    expect(actorOf(pivotRecord(), principal)).toBeUndefined();
    expect(actorOf(pivotRecord(), principal, [hop])).toEqual({ kind: 'assumed-role-session', roleArn: hop.roleArn, sessionName: 'pivot', assumedBy: INSTANCE_ID });
  });
});

describe('flags', () => {
  it('marks calls from outside AWS, but not AWS services or AWS Internal', () => {
    // Act / Assess
    expect(flagsOf(record({ sourceIPAddress: '198.51.100.7' }), null)).toContain('outside-aws');
    expect(flagsOf(record({ sourceIPAddress: 'ec2.amazonaws.com' }), null)).not.toContain('outside-aws');
    expect(flagsOf(record({ sourceIPAddress: 'AWS Internal' }), null)).not.toContain('outside-aws');
  });

  it('marks IAM and STS writes and credential-issuing STS calls, not IAM reads', () => {
    // Act / Assess
    expect(flagsOf(pivotRecord(), null)).toContain('iam-sts-write');
    expect(flagsOf(assumeRoleRecord(), null)).toContain('iam-sts-write');
    expect(flagsOf(record({ eventSource: 'iam.amazonaws.com', eventName: 'ListRoles', readOnly: true }), null)).not.toContain('iam-sts-write');
    expect(flagsOf(record({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', readOnly: true }), null)).not.toContain('iam-sts-write');
  });

  it('marks data access by category or by S3/DynamoDB data call', () => {
    // Act / Assess
    expect(flagsOf(record({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventCategory: 'Data', managementEvent: false }), null)).toContain('data-access');
    expect(flagsOf(record({ eventSource: 'dynamodb.amazonaws.com', eventName: 'Scan', eventCategory: undefined }), null)).toContain('data-access');
    expect(flagsOf(record({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances' }), null)).not.toContain('data-access');
  });

  it('marks secret reads, decrypted parameter reads and Decrypt, not plain parameter reads', () => {
    // Act / Assess
    expect(flagsOf(record({ eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: '/db/pw', withDecryption: true } }), null)).toContain('secret-or-decrypt');
    expect(flagsOf(record({ eventSource: 'ssm.amazonaws.com', eventName: 'GetParameters', requestParameters: { names: ['/a'], withDecryption: false } }), null)).not.toContain('secret-or-decrypt');
    expect(flagsOf(record({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt' }), null)).toContain('secret-or-decrypt');
    expect(flagsOf(record({ eventSource: 'secretsmanager.amazonaws.com', eventName: 'ListSecrets' }), null)).not.toContain('secret-or-decrypt');
  });

  it('marks denied calls only after containment', () => {
    // Prepare
    const denied = (at: string, errorCode: string) => record({ eventTime: at, errorCode, errorMessage: 'denied' });

    // Act / Assess
    expect(flagsOf(denied('2025-03-17T21:00:01Z', 'AccessDenied'), CONTAINED_AT)).toContain('denied-after-containment');
    expect(flagsOf(denied('2025-03-17T21:00:01Z', 'AccessDeniedException'), CONTAINED_AT)).toContain('denied-after-containment');
    expect(flagsOf(denied('2025-03-17T21:00:01Z', 'Client.UnauthorizedOperation'), CONTAINED_AT)).toContain('denied-after-containment');
    expect(flagsOf(denied('2025-03-17T20:59:59Z', 'AccessDenied'), CONTAINED_AT)).not.toContain('denied-after-containment');
    expect(flagsOf(denied('2025-03-17T21:00:01Z', 'ThrottlingException'), CONTAINED_AT)).not.toContain('denied-after-containment');
    expect(flagsOf(denied('2025-03-17T21:00:01Z', 'AccessDenied'), null)).not.toContain('denied-after-containment');
  });
});

describe('mergeTimeline and one hop of AssumeRole', () => {
  it('keeps one event per id (the first seen) and sorts by time, then id', () => {
    // Prepare
    const ev = (id: string, time: string, origin: 'lookup-events' | 'trail-logs') =>
      timelineEventOf(record({ eventID: id, eventTime: time }), { actor: { kind: 'access-key', accessKeyId: 'k', arn: null }, origin, containedAt: null });

    // Act
    const merged = mergeTimeline([ev('b', '2025-03-17T20:00:00Z', 'lookup-events'), ev('a', '2025-03-17T20:00:00Z', 'lookup-events'), ev('c', '2025-03-17T19:00:00Z', 'lookup-events'), ev('b', '2025-03-17T20:00:00Z', 'trail-logs')]);

    // Assess
    expect(merged.map((e) => e.eventId)).toEqual(['c', 'a', 'b']);
    expect(merged.find((e) => e.eventId === 'b')?.origin).toBe('lookup-events');
  });

  it('reads the assumed role and the issued session of a successful AssumeRole, nothing else', () => {
    // Act / Assess
    expect(assumedRoleOf(assumeRoleRecord())).toEqual({
      roleArn: `arn:aws:iam::${ACCOUNT}:role/admin`,
      sessionName: 'pivot',
      assumedAt: '2025-03-17T20:25:00.000Z',
      eventId: 'e0000000-0000-4000-8000-000000000002',
    });
    expect(assumedRoleOf({ ...assumeRoleRecord(), errorCode: 'AccessDenied', responseElements: null })).toBeUndefined();
    expect(assumedRoleOf(record())).toBeUndefined();
    expect(assumedRoleOf({ ...assumeRoleRecord(), responseElements: null })?.sessionName).toBe('pivot');
  });
});
