import type { CloudTrailRecord } from '../../handlers/domain/cloudtrail-record';

/**
 * CloudTrail event records shaped as CloudTrail documents them (the record inside LookupEvents' `CloudTrailEvent`
 * string and in a trail log file's `Records`), for the instance role session of `i-0abc` in account 111122223333.
 */
export const ACCOUNT = '111122223333';
export const INSTANCE_ID = 'i-0abc';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app-role`;
export const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/${INSTANCE_ID}`;
export const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db-AbCdEf`;

const identity = (accessKeyId = 'ASIAINSTANCEROLE0001') => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLEROLEID:${INSTANCE_ID}`,
  arn: SESSION_ARN,
  accountId: ACCOUNT,
  accessKeyId,
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEROLEID', arn: ROLE_ARN, accountId: ACCOUNT, userName: 'app-role' },
    attributes: { creationDate: '2025-03-17T19:00:00Z', mfaAuthenticated: 'false' },
    ec2RoleDelivery: '2.0',
  },
});

export function record(overrides: Partial<CloudTrailRecord> & Record<string, unknown> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: identity(),
    eventTime: '2025-03-17T20:20:00Z',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
    requestParameters: { secretId: 'prod/db' },
    responseElements: null,
    requestID: '5c1e7b2f-0000-4000-8000-000000000001',
    eventID: 'e0000000-0000-4000-8000-000000000001',
    readOnly: true,
    resources: [{ accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: SECRET_ARN }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...overrides,
  } as CloudTrailRecord;
}

/** sts:AssumeRole by the instance role session, as CloudTrail records it (responseElements.assumedRoleUser). */
export function assumeRoleRecord(): CloudTrailRecord {
  return record({
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    eventTime: '2025-03-17T20:25:00Z',
    eventID: 'e0000000-0000-4000-8000-000000000002',
    requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/admin`, roleSessionName: 'pivot', durationSeconds: 3600 },
    responseElements: {
      credentials: { accessKeyId: 'ASIAPIVOTSESSION0001', sessionToken: '…', expiration: 'Mar 17, 2025, 9:25:00 PM' },
      assumedRoleUser: { assumedRoleId: 'AROAADMINROLEID:pivot', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/pivot` },
    },
    resources: [{ accountId: ACCOUNT, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${ACCOUNT}:role/admin` }],
  });
}

/** A call made with the session the AssumeRole above returned. */
export function pivotRecord(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return record({
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAADMINROLEID:pivot',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/pivot`,
      accessKeyId: 'ASIAPIVOTSESSION0001',
      sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/admin`, userName: 'admin' } },
    },
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    eventTime: '2025-03-17T20:26:00Z',
    eventID: 'e0000000-0000-4000-8000-000000000003',
    readOnly: false,
    requestParameters: { userName: 'backdoor' },
    resources: [],
    ...overrides,
  });
}
