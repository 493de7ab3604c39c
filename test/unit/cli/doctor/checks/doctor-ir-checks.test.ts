import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeContinuousBackupsCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { classifyError, doctorExitCode, renderDoctorLines } from '../../../../../cli/doctor/check';
import { evaluateTable, gatherTable } from '../../../../../cli/doctor/checks/case-table';
import { evaluateBucket, gatherBucket } from '../../../../../cli/doctor/checks/evidence-bucket';
import { evaluateKey, gatherKey } from '../../../../../cli/doctor/checks/evidence-key';
import { evaluateRule, gatherRule } from '../../../../../cli/doctor/checks/finding-rule';
import { evaluateStack, gatherStack } from '../../../../../cli/doctor/checks/stack';
import { evaluateMachines, gatherMachines } from '../../../../../cli/doctor/checks/state-machines';
import { evaluateTopic, gatherTopic } from '../../../../../cli/doctor/checks/topic';
import { evaluateWorkstation, gatherWorkstation } from '../../../../../cli/doctor/checks/workstation';
import { IR_STACK_OUTPUTS } from '../../../../../cli/deployment/stack-outputs';
import { accessDenied, awsError, BUCKET, doctorContext, HOME, IR, KEY_ARN, MACHINE_ARN, named, TOPIC_ARN, WORKLOAD } from '../../../../support/doctor-test-kit';

/**
 * The IR-side checks of `forensics doctor`, each driven through its real gather (SDK calls answered by
 * aws-sdk-client-mock with AWS-shaped responses) and evaluation: a pass, a warning where the check has one, the
 * failures it exists for, and a denied call — which must FAIL naming the action, never PASS.
 */

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const ddb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);

beforeEach(() => {
  for (const m of [cfn, s3, kms, ddb, sfn, events, sns, ec2, ssm]) m.reset();
});

const allOutputs = Object.values(IR_STACK_OUTPUTS).map((k) => ({ OutputKey: k, OutputValue: `value-of-${k}` }));

describe('doctor: stack', () => {
  const check = async () => evaluateStack(await gatherStack({ region: HOME }, 'ForensicAcquisition', HOME), false);

  it('PASS when the stack is complete with every output the CLI reads', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'ForensicAcquisition', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: allOutputs }] });
    const c = await check();
    expect(c).toMatchObject({ name: 'stack', status: 'PASS' });
    expect(cfn.commandCalls(DescribeStacksCommand)[0]!.args[0].input).toEqual({ StackName: 'ForensicAcquisition' });
  });

  it('WARN while an operation is in progress or after a rolled-back update', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 's', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date(), Outputs: allOutputs }] });
    expect((await check()).status).toBe('WARN');
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 's', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date(), Outputs: allOutputs }] });
    expect((await check()).detail).toMatch(/UPDATE_IN_PROGRESS — wait/);
  });

  it('FAIL when the stack does not exist, failed, or lacks an output', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id ForensicAcquisition does not exist'));
    expect(await check()).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/does not exist — deploy it/) });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 's', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date() }] });
    expect(await check()).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/ROLLBACK_COMPLETE/) });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 's', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: allOutputs.slice(1) }] });
    expect(await check()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('StateMachineArn') });
  });

  it('FAIL naming cloudformation:DescribeStacks when it is denied', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('AccessDenied', 'not authorized to perform: cloudformation:DescribeStacks', 403));
    expect(await check()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant cloudformation:DescribeStacks') });
  });
});

describe('doctor: evidence bucket', () => {
  const goodPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
  function healthy() {
    s3.on(GetObjectLockConfigurationCommand).resolves({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } } });
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN }, BucketKeyEnabled: true }] },
    });
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } });
    s3.on(GetBucketPolicyCommand).resolves({ Policy: goodPolicy });
  }
  const run = async (emulator = false) =>
    evaluateBucket(await gatherBucket(doctorContext({ emulator }), BUCKET), { keyArn: KEY_ARN, objectLockMode: 'COMPLIANCE', retentionDays: 365 }, emulator);

  it('PASS on a bucket as the stack deploys it', async () => {
    healthy();
    const checks = await run();
    expect(checks.map((c) => `${c.status} ${c.name}`)).toEqual([
      'PASS bucket.object-lock',
      'PASS bucket.versioning',
      'PASS bucket.encryption',
      'PASS bucket.public-access',
      'PASS bucket.tls-only',
    ]);
  });

  it('WARN when the default retention differs from forensics:evidenceRetentionDays', async () => {
    healthy();
    s3.on(GetObjectLockConfigurationCommand).resolves({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 2 } } } });
    expect(named(await run(), 'bucket.object-lock')).toMatchObject({ status: 'WARN', detail: expect.stringContaining('730 day(s)') });
  });

  it('FAIL for each broken protection', async () => {
    healthy();
    s3.on(GetObjectLockConfigurationCommand).resolves({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } } } });
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Suspended' });
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:eu-west-1:111122223333:key/other' } }] } });
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } });
    s3.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/*` }] }) });
    const checks = await run();
    expect(checks.every((c) => c.status === 'FAIL')).toBe(true);
    expect(named(checks, 'bucket.object-lock').detail).toContain('GOVERNANCE');
    expect(named(checks, 'bucket.encryption').detail).toContain('not the evidence key');
    expect(named(checks, 'bucket.public-access').detail).toContain('BlockPublicPolicy');
  });

  it('FAIL when there is no Object Lock, no encryption, no public access block, no policy', async () => {
    s3.on(GetObjectLockConfigurationCommand).rejects(awsError('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404));
    s3.on(GetBucketVersioningCommand).resolves({});
    s3.on(GetBucketEncryptionCommand).rejects(awsError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', 404));
    s3.on(GetPublicAccessBlockCommand).rejects(awsError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404));
    s3.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404));
    const checks = await run();
    expect(checks.map((c) => c.status)).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
    expect(named(checks, 'bucket.tls-only').detail).toContain('no bucket policy');
    // An emulator speaks plain HTTP: a TLS-only policy cannot exist there, which is a WARN, not a PASS.
    expect(named(await run(true), 'bucket.tls-only')).toMatchObject({ status: 'WARN', detail: expect.stringContaining('plain HTTP') });
  });

  it('FAIL naming the S3 action that was denied, WARN only for an API an emulator lacks', async () => {
    healthy();
    s3.on(GetBucketPolicyCommand).rejects(accessDenied('s3:GetBucketPolicy'));
    s3.on(GetPublicAccessBlockCommand).rejects(Object.assign(new Error('Deserialization error: to see the raw response…'), { name: 'SyntaxError', $metadata: { httpStatusCode: 500 } }));
    const onAws = await run(false);
    expect(named(onAws, 'bucket.tls-only')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant s3:GetBucketPolicy') });
    expect(named(onAws, 'bucket.public-access').status).toBe('FAIL');
    expect(named(await run(true), 'bucket.public-access').status).toBe('WARN');
  });
});

describe('doctor: evidence key', () => {
  const rootStatement = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${IR}:root` }, Action: 'kms:*', Resource: '*' };
  function healthy(policy: unknown[] = [rootStatement]) {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: KEY_ARN, KeyState: 'Enabled' } });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: policy }) });
  }
  const run = async (multiAccount = false, workloadAccounts = [IR]) =>
    evaluateKey(await gatherKey(doctorContext(), KEY_ARN), { irAccountId: IR, partition: 'aws', workloadAccounts, multiAccount }, false);

  it('PASS: enabled, rotating, root in control; multi-account: each workload account through EC2', async () => {
    healthy([
      rootStatement,
      {
        Sid: 'WorkloadAccountsCopySnapshotsViaEc2',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Decrypt'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `ec2.${HOME}.amazonaws.com`, 'kms:CallerAccount': [WORKLOAD] } },
      },
    ]);
    expect((await run()).map((c) => c.status)).toEqual(['PASS', 'PASS', 'PASS']);
    expect(named(await run(true, [WORKLOAD]), 'key.policy')).toMatchObject({ status: 'PASS', detail: expect.stringContaining(WORKLOAD) });
    expect(kms.commandCalls(GetKeyPolicyCommand)[0]!.args[0].input).toEqual({ KeyId: KEY_ARN, PolicyName: 'default' });
  });

  it('FAIL: disabled, scheduled for deletion, rotation off', async () => {
    healthy();
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'Disabled' } });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    const checks = await run();
    expect(named(checks, 'key.enabled')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('enable-key') });
    expect(named(checks, 'key.rotation')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('enable-key-rotation') });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'PendingDeletion', DeletionDate: new Date('2030-01-01T00:00:00Z') } });
    expect(named(await run(), 'key.enabled').detail).toContain('cancel-key-deletion');
  });

  it('FAIL: the key policy leaves the root out, opens the key to anyone, or forgets a workload account', async () => {
    healthy([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${IR}:role/admin` }, Action: 'kms:*', Resource: '*' }]);
    expect(named(await run(), 'key.policy').detail).toContain(':root kms:*');
    healthy([rootStatement, { Sid: 'Oops', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }]);
    expect(named(await run(), 'key.policy')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('Oops') });
    healthy([rootStatement]);
    expect(named(await run(true, [WORKLOAD]), 'key.policy')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining(WORKLOAD) });
  });

  it('FAIL naming the KMS action that was denied', async () => {
    healthy();
    kms.on(GetKeyRotationStatusCommand).rejects(accessDenied('kms:GetKeyRotationStatus'));
    kms.on(GetKeyPolicyCommand).rejects(accessDenied('kms:GetKeyPolicy'));
    const checks = await run();
    expect(named(checks, 'key.rotation')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('kms:GetKeyRotationStatus was denied') });
    expect(named(checks, 'key.policy')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('kms:GetKeyPolicy') });
  });
});

describe('doctor: case table', () => {
  const run = async () => evaluateTable(await gatherTable(doctorContext(), 'cases'), false);

  it('PASS with point-in-time recovery and deletion protection', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { TableName: 'cases', TableStatus: 'ACTIVE', DeletionProtectionEnabled: true } });
    ddb.on(DescribeContinuousBackupsCommand).resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } });
    expect((await run()).map((c) => `${c.status} ${c.name}`)).toEqual(['PASS table.pitr', 'PASS table.deletion-protection']);
  });

  it('FAIL when either protection is off, or the table is gone', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { TableName: 'cases', DeletionProtectionEnabled: false } });
    ddb.on(DescribeContinuousBackupsCommand).resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } } });
    expect((await run()).map((c) => c.status)).toEqual(['FAIL', 'FAIL']);
    ddb.on(DescribeTableCommand).rejects(awsError('ResourceNotFoundException', 'Requested resource not found'));
    ddb.on(DescribeContinuousBackupsCommand).rejects(awsError('TableNotFoundException', 'Table not found: cases'));
    expect((await run()).every((c) => /does not exist/.test(c.detail))).toBe(true);
  });

  it('FAIL naming the DynamoDB action that was denied', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { DeletionProtectionEnabled: true } });
    ddb.on(DescribeContinuousBackupsCommand).rejects(accessDenied('dynamodb:DescribeContinuousBackups'));
    expect(named(await run(), 'table.pitr')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant dynamodb:DescribeContinuousBackups') });
  });
});

describe('doctor: state machines', () => {
  const logging = { level: 'ALL' as const, includeExecutionData: true, destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:x:*' } }] };
  const described = (name: string, extra = {}) => ({ stateMachineArn: name, name, definition: '{}', roleArn: 'r', type: 'STANDARD' as const, creationDate: new Date(), status: 'ACTIVE' as const, loggingConfiguration: logging, ...extra });
  const run = async (ctx = doctorContext()) => evaluateMachines(await gatherMachines(ctx), false);

  it('PASS for both machines, ACTIVE and logging at level ALL', async () => {
    sfn.on(DescribeStateMachineCommand).callsFake((input: { stateMachineArn: string }) => described(input.stateMachineArn));
    expect((await run()).map((c) => `${c.status} ${c.name}`)).toEqual([
      'PASS state-machine.acquisition',
      'PASS state-machine.acquisition.logging',
      'PASS state-machine.release',
      'PASS state-machine.release.logging',
    ]);
  });

  it('WARN when a machine does not log its executions', async () => {
    sfn.on(DescribeStateMachineCommand).callsFake((input: { stateMachineArn: string }) => described(input.stateMachineArn, { loggingConfiguration: { level: 'OFF' } }));
    expect(named(await run(), 'state-machine.release.logging')).toMatchObject({ status: 'WARN', detail: expect.stringContaining('OFF') });
  });

  it('FAIL when a machine is missing or unknown', async () => {
    sfn.on(DescribeStateMachineCommand).rejects(awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${MACHINE_ARN}'`));
    expect(named(await run(), 'state-machine.acquisition').status).toBe('FAIL');
    const checks = await run(doctorContext({ resources: {} }));
    expect(named(checks, 'state-machine.release').detail).toContain('ReleaseStateMachineArn');
  });

  it('FAIL naming states:DescribeStateMachine when it is denied', async () => {
    sfn.on(DescribeStateMachineCommand).rejects(accessDenied('states:DescribeStateMachine'));
    const checks = await run();
    expect(checks.every((c) => c.status === 'FAIL')).toBe(true);
    expect(named(checks, 'state-machine.acquisition').detail).toContain('grant states:DescribeStateMachine');
  });
});

describe('doctor: GuardDuty rule', () => {
  const pattern = (n: number) =>
    JSON.stringify({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', n] }], $or: [{ resource: { resourceType: ['Instance'] } }] } });
  function healthy(threshold = 7) {
    events.on(DescribeRuleCommand).resolves({ Name: 'ForensicAcquisition-guardduty-findings', State: 'ENABLED', EventPattern: pattern(threshold) });
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: MACHINE_ARN, DeadLetterConfig: { Arn: `arn:aws:sqs:${HOME}:${IR}:dlq` } }] });
  }
  const run = async (minSeverity = 7) => evaluateRule(await gatherRule(doctorContext()), minSeverity, false);

  it('PASS: enabled, threshold = forensics:minSeverity, targets the state machine with a DLQ', async () => {
    healthy();
    expect((await run()).map((c) => `${c.status} ${c.name}`)).toEqual(['PASS rule.enabled', 'PASS rule.pattern', 'PASS rule.target', 'PASS rule.dlq']);
    expect(events.commandCalls(DescribeRuleCommand)[0]!.args[0].input).toEqual({ Name: 'ForensicAcquisition-guardduty-findings' });
  });

  it('FAIL: disabled, another threshold, another target, no DLQ', async () => {
    healthy(8);
    events.on(DescribeRuleCommand).resolves({ Name: 'r', State: 'DISABLED', EventPattern: pattern(8) });
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 't', Arn: 'arn:aws:lambda:eu-west-1:111122223333:function:other' }] });
    const checks = await run(7);
    expect(checks.map((c) => c.status)).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL']);
    expect(named(checks, 'rule.pattern').detail).toContain('from 7 to 8 are never acquired');
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 't', Arn: MACHINE_ARN }] });
    expect(named(await run(8), 'rule.dlq').detail).toContain('lost');
  });

  it('FAIL for every rule check when the rule is missing', async () => {
    events.on(DescribeRuleCommand).rejects(awsError('ResourceNotFoundException', 'Rule ForensicAcquisition-guardduty-findings does not exist.'));
    events.on(ListTargetsByRuleCommand).rejects(awsError('ResourceNotFoundException', 'Rule does not exist.'));
    const checks = await run();
    expect(checks.every((c) => c.status === 'FAIL')).toBe(true);
    expect(named(checks, 'rule.enabled').detail).toContain('no GuardDuty finding starts an acquisition');
  });

  it('FAIL naming the EventBridge action that was denied', async () => {
    healthy();
    events.on(ListTargetsByRuleCommand).rejects(accessDenied('events:ListTargetsByRule'));
    const checks = await run();
    expect(named(checks, 'rule.target')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant events:ListTargetsByRule') });
    expect(named(checks, 'rule.dlq').status).toBe('FAIL');
  });
});

describe('doctor: notification topic', () => {
  const run = async () => evaluateTopic(await gatherTopic(doctorContext()), false);

  it('PASS with a confirmed subscription', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ SubscriptionArn: `${TOPIC_ARN}:0f0e`, Protocol: 'email', TopicArn: TOPIC_ARN }, { SubscriptionArn: 'PendingConfirmation', Protocol: 'email' }] });
    expect(await run()).toMatchObject({ status: 'PASS', detail: expect.stringMatching(/1 confirmed subscription\(s\) \(email\), 1 pending/) });
  });

  it('WARN when nobody is (yet) subscribed', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ SubscriptionArn: 'PendingConfirmation', Protocol: 'email' }] });
    expect(await run()).toMatchObject({ status: 'WARN', detail: expect.stringContaining('pending confirmation') });
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    expect(await run()).toMatchObject({ status: 'WARN', detail: expect.stringContaining('no subscription') });
  });

  it('FAIL when the topic is gone, or the listing is denied', async () => {
    sns.on(ListSubscriptionsByTopicCommand).rejects(awsError('NotFoundException', 'Topic does not exist', 404));
    expect((await run()).status).toBe('FAIL');
    sns.on(ListSubscriptionsByTopicCommand).rejects(awsError('AuthorizationErrorException', 'not authorized to perform: SNS:ListSubscriptionsByTopic', 403));
    expect(await run()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant sns:ListSubscriptionsByTopic') });
  });
});

describe('doctor: forensic workstation', () => {
  const run = async () => evaluateWorkstation(await gatherWorkstation(doctorContext()), false);
  function healthy() {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: 'p', Value: 'ami-0abcdef1234567890' } });
    ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { ImageId: 'ami-0abcdef1234567890' } }] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0abcdef1234567890', State: 'available', Name: 'al2023' }] });
  }

  it('PASS when the launch template launches an available AMI and the parameter resolves', async () => {
    healthy();
    expect((await run()).map((c) => `${c.status} ${c.name}`)).toEqual(['PASS workstation.launch-template', 'PASS workstation.ami-parameter']);
  });

  it('FAIL when the template is gone, its AMI deregistered, or the parameter missing', async () => {
    healthy();
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 'Parameter not found'));
    const checks = await run();
    expect(checks.map((c) => c.status)).toEqual(['FAIL', 'FAIL']);
    ec2.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('InvalidLaunchTemplateId.NotFound', 'The specified launch template does not exist'));
    expect(named(await run(), 'workstation.launch-template').detail).toContain('does not exist');
  });

  it('FAIL naming the action that was denied', async () => {
    healthy();
    ec2.on(DescribeLaunchTemplateVersionsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    ssm.on(GetParameterCommand).rejects(accessDenied('ssm:GetParameter'));
    const checks = await run();
    expect(named(checks, 'workstation.launch-template').detail).toContain('grant ec2:DescribeLaunchTemplateVersions');
    expect(named(checks, 'workstation.ami-parameter').detail).toContain('grant ssm:GetParameter');
  });
});

describe('doctor: report shape', () => {
  it('classifies denied, missing and unimplemented calls', () => {
    expect(classifyError('x:Y', awsError('AccessDenied', 'no', 403))).toMatchObject({ denied: true, notFound: false });
    expect(classifyError('x:Y', awsError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404))).toMatchObject({ denied: false, notFound: true });
    expect(classifyError('x:Y', awsError('InvalidAction', 'not valid for this web service'))).toMatchObject({ unsupported: true });
  });

  it('renders one line per check and exits 1 only when a check fails', () => {
    const checks = [
      { name: 'a', status: 'PASS' as const, detail: 'ok' },
      { name: 'b', status: 'WARN' as const, detail: 'hm\nFAIL forged' },
    ];
    expect(renderDoctorLines(checks)).toEqual(['PASS a: ok', 'WARN b: hm FAIL forged']);
    expect(doctorExitCode(checks)).toBe(0);
    expect(doctorExitCode([...checks, { name: 'c', status: 'FAIL', detail: 'no' }])).toBe(1);
  });
});
