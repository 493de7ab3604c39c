import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { handlerEnvironmentSchema } from '../../handlers/config/env';
import { redriveEnvironmentSchema } from '../../handlers/config/redrive-env';
import { workstationEnvironmentSchema } from '../../handlers/config/workstation-env';
import { FORENSIC_RUNTIME } from '../../infra/constructs/forensic-function';
import { EVIDENCE_KEY_ALIAS, IR_STACK_OUTPUTS } from '../../infra/ir-stack';
import { ACQUISITION_STEP_NAMES, ACQUISITION_SUPPORT_FUNCTIONS } from '../../workflows/acquisition-steps';
import { RELEASE_STEP_NAMES } from '../../workflows/release-steps';
import { type CfnResource, type CfnTemplate, renderAsl, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const ref = (logicalId: string) => ({ Ref: logicalId });
const single = (json: CfnTemplate, type: string): [string, CfnResource] => {
  const found = resourcesOfType(json, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const bucketByLock = (json: CfnTemplate, locked: boolean): [string, CfnResource] => {
  const found = resourcesOfType(json, 'AWS::S3::Bucket').filter(
    ([, r]) => Boolean(r.Properties?.ObjectLockEnabled) === locked,
  );
  expect(found).toHaveLength(1);
  return found[0]!;
};
const keyId = (json: CfnTemplate) => single(json, 'AWS::KMS::Key')[0];
/** The acquisition state machine (the template also holds the release state machine). */
const acquisitionMachine = (json: CfnTemplate): [string, CfnResource] => {
  const found = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').filter(([id]) => id.startsWith('AcquisitionStateMachine'));
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('evidence key', () => {
  it('rotates, is retained and carries the alias', () => {
    const [id, key] = single(s.json, 'AWS::KMS::Key');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    s.template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: EVIDENCE_KEY_ALIAS,
      TargetKeyId: { 'Fn::GetAtt': [id, 'Arn'] },
    });
  });

  it('key policy: account root administers; services only with conditions naming this account', () => {
    const policy = single(s.json, 'AWS::KMS::Key')[1].Properties?.KeyPolicy as { Statement: Record<string, unknown>[] };
    const root = policy.Statement.filter((st) => JSON.stringify(st.Principal).includes(':root'));
    expect(root).toHaveLength(1);
    expect(root[0]!.Action).toBe('kms:*');
    const services = policy.Statement.filter((st) => st !== root[0]);
    expect(services.map((st) => st.Sid).sort()).toEqual([
      'CloudWatchAlarmsPublishToTheEncryptedTopic',
      'CloudWatchLogsEncryptsThisAccountsLogGroups',
      'EventBridgeWritesUndeliveredFindingsToTheDeadLetterQueue',
      'EventBridgeWritesUndeliveredStopEventsToTheDeadLetterQueue',
    ]);
    for (const st of services) {
      expect(st.Effect).toBe('Allow');
      expect(st.Condition, String(st.Sid)).toBeDefined();
      expect(JSON.stringify(st.Condition)).toContain('AWS::AccountId');
      expect(JSON.stringify(st.Action)).not.toContain('*');
    }
  });
});

describe('evidence bucket', () => {
  it('Object Lock in COMPLIANCE mode with the configured default retention, versioned', () => {
    const [, bucket] = bucketByLock(s.json, true);
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('follows the configured mode and retention', () => {
    const other = synth({ 'forensics:objectLockMode': 'GOVERNANCE', 'forensics:evidenceRetentionDays': 30 });
    expect(bucketByLock(other.json, true)[1].Properties?.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
    });
  });

  it('SSE-KMS with the evidence key and a bucket key, no public access, access logs to the log bucket', () => {
    const [, bucket] = bucketByLock(s.json, true);
    const [logId] = bucketByLock(s.json, false);
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId(s.json), 'Arn'] } },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: ref(logId) },
    });
  });

  it.each([true, false])('bucket (object lock %s) policy denies every request without TLS (and TLS < 1.2)', (locked) => {
    const [id] = bucketByLock(s.json, locked);
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(id),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('access-log bucket: SSE-S3 (required by server access logging), versioned, private, retained', () => {
    const [, logs] = bucketByLock(s.json, false);
    expect(logs.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(logs.DeletionPolicy).toBe('Retain');
  });
});

describe('case table, topic, dead-letter queue', () => {
  it('case table: pk/sk strings, on demand, PITR, evidence-key encryption, deletion protection, retained', () => {
    const [, table] = single(s.json, 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId(s.json), 'Arn'] } },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('topic encrypted with the evidence key and TLS-only; e-mail subscriptions from config', () => {
    const [topicId, topic] = single(s.json, 'AWS::SNS::Topic');
    expect(topic.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId(s.json), 'Arn'] });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(topicId)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmails = synth({ 'forensics:notificationEmails': ['ir@example.com', 'soc@example.com'] });
    withEmails.template.resourceCountIs('AWS::SNS::Subscription', 2);
    withEmails.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ir@example.com' });
  });

  it('dead-letter queue encrypted with the evidence key, TLS-only', () => {
    const [queueId, queue] = single(s.json, 'AWS::SQS::Queue');
    expect(queue.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId(s.json), 'Arn'] });
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(queueId)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('functions', () => {
  const FUNCTIONS = ACQUISITION_STEP_NAMES.length + RELEASE_STEP_NAMES.length + Object.keys(ACQUISITION_SUPPORT_FUNCTIONS).length;

  it('one function per acquisition and release step, the redrive function, and no other (no CDK helper functions)', () => {
    expect(resourcesOfType(s.json, 'AWS::Lambda::Function')).toHaveLength(FUNCTIONS);
  });

  it('every function: ARM64, current runtime, JSON logs to an explicit encrypted retained log group, X-Ray', () => {
    for (const [id, fn] of resourcesOfType(s.json, 'AWS::Lambda::Function')) {
      const p = fn.Properties!;
      expect(p.Architectures, id).toEqual(['arm64']);
      expect(p.Runtime, id).toBe(FORENSIC_RUNTIME.name);
      expect(p.TracingConfig, id).toEqual({ Mode: 'Active' });
      const logging = p.LoggingConfig as { LogFormat: string; LogGroup: { Ref: string } };
      expect(logging.LogFormat, id).toBe('JSON');
      const logGroup = s.json.Resources[logging.LogGroup.Ref]!;
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties?.KmsKeyId, id).toEqual({ 'Fn::GetAtt': [keyId(s.json), 'Arn'] });
      expect(logGroup.Properties?.RetentionInDays, id).toBeGreaterThanOrEqual(365);
      expect(logGroup.DeletionPolicy, id).toBe('Retain');
    }
  });

  it('every function has its own role', () => {
    const roles = resourcesOfType(s.json, 'AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
    );
    expect(new Set(roles).size).toBe(FUNCTIONS);
  });

  it('every function gets exactly the handler environment (handlers/config/env.ts), with valid values', () => {
    // The responder role settings exist only in multi-account mode (test/infra/multi-account.test.ts checks them).
    // The quarantine profile's (isolate step, forensics:quarantineProfile on) in test/infra/quarantine-profile.test.ts.
    // Organisation mode, exclusions and workload regions only when configured (test/infra/home-region.test.ts).
    const multiAccountOnly = new Set([
      'RESPONDER_ROLE_NAME', 'RESPONDER_EXTERNAL_ID', 'QUARANTINE_PROFILE_ARN', 'DEFAULT_QUARANTINE_PROFILE',
      'ORGANIZATION_ID', 'EXCLUDED_ACCOUNTS', 'WORKLOAD_REGIONS',
      // The trail's bucket and prefix, and the flow log buckets, only when configured.
      'CLOUDTRAIL_BUCKET', 'CLOUDTRAIL_PREFIX', 'FLOW_LOG_BUCKETS',
      // The memory capture's tools snapshots and pinned tool only when configured (test/infra/memory-capture.test.ts).
      'MEMORY_TOOLS_SNAPSHOTS', 'MEMORY_TOOL_VERSION', 'MEMORY_TOOL_SHA256',
    ]);
    const expected = [...Object.keys(handlerEnvironmentSchema.shape).filter((k) => !multiAccountOnly.has(k)), 'NODE_OPTIONS'].sort();
    for (const [id, fn] of resourcesOfType(s.json, 'AWS::Lambda::Function')) {
      const vars = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      // The workstation step alone also gets the forensic VPC's ids (handlers/config/workstation-env.ts), the redrive
      // function its own settings (handlers/config/redrive-env.ts).
      const workstation = String(fn.Properties!.Description).includes('Launch forensic workstation');
      const redrive = String(fn.Properties!.Description).includes(ACQUISITION_SUPPORT_FUNCTIONS.redriveFailedAcquisition.state);
      const extra = workstation ? Object.keys(workstationEnvironmentSchema.shape) : redrive ? Object.keys(redriveEnvironmentSchema.shape) : [];
      expect(Object.keys(vars).sort(), id).toEqual([...new Set([...expected, ...extra])].sort());
      // Values that are references resolve at deploy time; everything literal must satisfy the handlers' schema.
      const literal = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : k === 'WORKLOAD_ACCOUNTS' ? '123456789012' : 'x-resolved']),
      );
      expect(handlerEnvironmentSchema.safeParse(literal).success, id).toBe(true);
    }
  });

  it('single-account mode: the workload account is the IR account; explicit accounts are passed through', () => {
    const [, fn] = resourcesOfType(s.json, 'AWS::Lambda::Function')[0]!;
    const vars = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.WORKLOAD_ACCOUNTS).toEqual({ Ref: 'AWS::AccountId' });
    const multi = synth({ 'forensics:workloadAccounts': ['111111111111', '222222222222'] });
    const [, other] = resourcesOfType(multi.json, 'AWS::Lambda::Function')[0]!;
    expect((other.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.WORKLOAD_ACCOUNTS).toBe(
      '111111111111,222222222222',
    );
  });
});

describe('state machine', () => {
  it('Standard, logging ALL with execution data to an encrypted log group, X-Ray tracing', () => {
    const [, sm] = acquisitionMachine(s.json);
    expect(sm.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const destination = JSON.stringify((sm.Properties!.LoggingConfiguration as { Destinations: unknown }).Destinations);
    const logGroupId = /"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/.exec(destination)?.[1];
    const logGroup = s.json.Resources[logGroupId!]!;
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId(s.json), 'Arn'] });
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });

  it('execution timeout covers both capped waits plus an hour of work', () => {
    expect(renderAsl(s.json).TimeoutSeconds).toBe((1440 * 2 + 60) * 60);
  });

  it('the GuardDuty rule targets the state machine with retries and an encrypted dead-letter queue', () => {
    const [smId] = acquisitionMachine(s.json);
    const [queueId] = single(s.json, 'AWS::SQS::Queue');
    s.template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'ForensicAcquisition-guardduty-findings',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: ref(smId),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });
});

describe('outputs', () => {
  it('exposes exactly the keys the CLI looks up', () => {
    expect(Object.keys(s.json.Outputs ?? {}).sort()).toEqual(Object.values(IR_STACK_OUTPUTS).sort());
    const [smId] = acquisitionMachine(s.json);
    expect(s.json.Outputs?.StateMachineArn?.Value).toEqual(ref(smId));
    expect(s.json.Outputs?.EvidenceBucketName?.Value).toEqual(ref(bucketByLock(s.json, true)[0]));
    expect(s.json.Outputs?.CaseTableName?.Value).toEqual(ref(single(s.json, 'AWS::DynamoDB::Table')[0]));
    expect(s.json.Outputs?.EvidenceKeyArn?.Value).toEqual({ 'Fn::GetAtt': [keyId(s.json), 'Arn'] });
    expect(s.json.Outputs?.TopicArn?.Value).toEqual(ref(single(s.json, 'AWS::SNS::Topic')[0]));
  });

  it('the stack is named from config', () => {
    expect(s.stack.stackName).toBe('ForensicAcquisition');
    expect(synth({ 'forensics:stackName': 'IrTest' }).stack.stackName).toBe('IrTest');
  });
});
