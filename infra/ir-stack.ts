import { flattenReference } from './constructs/nag-acknowledgements';
import { Annotations, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { handlerEnvironmentSchema } from '../handlers/config/env';
import type { AcquisitionStateMachine } from '../workflows/acquisition-state-machine';
import type { AcquisitionStep } from '../workflows/acquisition-steps';
import { RELEASE_STEP_NAMES } from '../workflows/release-steps';
import { type ForensicsConfig, isMultiAccount } from './config';
import type { ForensicFunction, LambdaEnvironment } from './constructs/forensic-function';
import { configureIrMultiAccount, configureReleaseMultiAccount, multiAccountEnvironment, stepRoleName } from './multi-account';
import { ForensicWorkstation } from './constructs/forensic-workstation';
import { configureHomeRegion, homeRegionEnvironment } from './home-region';
import { scopeEnvironment } from './scope-permissions';
import { memoryEnvironment } from './memory-permissions';
import { configureQuarantineProfile } from './quarantine-profile';
import { ReleaseWorkflow } from './release-workflow';
import { AcquisitionWorkflow } from './acquisition-workflow';
import { AcquisitionRecovery } from './acquisition-recovery';

/**
 * CloudFormation output keys of the IR stack. The CLI finds a deployment by these exact keys
 * (`aws cloudformation describe-stacks --stack-name <forensics:stackName>`); renaming one breaks it.
 */
export const IR_STACK_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  evidenceBucketName: 'EvidenceBucketName',
  caseTableName: 'CaseTableName',
  evidenceKeyArn: 'EvidenceKeyArn',
  topicArn: 'TopicArn',
  releaseStateMachineArn: 'ReleaseStateMachineArn',
  workstationLaunchTemplateId: 'WorkstationLaunchTemplateId',
  workstationSubnetIds: 'WorkstationSubnetIds',
  workstationSecurityGroupId: 'WorkstationSecurityGroupId',
} as const;

/** Alias of the evidence key, so responders and the workstation find it without reading the stack. */
export const EVIDENCE_KEY_ALIAS = 'alias/forensics-evidence';

/** The alias's logical id since the first release (construct IrStack/EvidenceKey/Alias): kept for every key. */
export const EVIDENCE_KEY_ALIAS_LOGICAL_ID = 'EvidenceKeyAliasE40C74E1';

/** The GuardDuty finding type whose instance is the one whose role credentials were stolen. */
export const CREDENTIAL_EXFILTRATION_TYPE_PREFIX = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration';

/**
 * The EventBridge pattern that starts an acquisition: GuardDuty findings of at least `minSeverity` (a numeric
 * match, so CRITICAL 9.0–10.0 is included, unlike matching the HIGH label) that are either about an EC2
 * instance or the credential-exfiltration findings (resource type `AccessKey`) that name the instance whose
 * credentials leaked. Sample, archived and container-host findings pass this coarse filter on purpose: triage
 * decides and records why it ignored them, which a rule that never fires cannot do.
 */
export function findingEventPattern(minSeverity: number): events.EventPattern {
  return {
    source: ['aws.guardduty'],
    detailType: ['GuardDuty Finding'],
    detail: {
      severity: events.Match.greaterThanOrEqual(minSeverity),
      $or: [
        { resource: { resourceType: ['Instance'] } },
        { type: events.Match.prefix(CREDENTIAL_EXFILTRATION_TYPE_PREFIX) },
      ],
    },
  };
}

export interface IrStackProps extends StackProps {
  readonly config: ForensicsConfig;
}

/**
 * The incident-response account's stack (single-account mode: the IR account is also the workload account).
 *
 * Everything that holds case data — evidence bucket, case table, notification topic, dead-letter queue, logs,
 * and the re-encrypted evidence snapshots — is encrypted with one customer-managed evidence key, so access to
 * a case is governed in one key policy and revoking a principal's use of that key closes every store at once.
 * Evidence is written once under S3 Object Lock (COMPLIANCE by default): not even the account root can delete or
 * shorten it before the retention ends. Every acquisition step is its own function with its own role holding
 * only the calls that step makes (docs/permissions.md), scoped to this account and region, to this product's
 * tags and to the key's use through the one service that needs it.
 *
 * Scope: this stack is deployed once, in the IR account's home region. The steps act on the instance in its
 * own account and region (any of `forensics:workloadRegions`, whose ARNs the step permissions repeat), and the evidence
 * lands here, in the home region, under this key; `forensics:evidenceKeyMultiRegion` makes it a multi-Region primary
 * key that infra/regional-stack.ts replicates into the other workload regions.
 */
export class IrStack extends Stack {
  readonly config: ForensicsConfig;
  readonly evidenceKey: kms.Key;
  readonly accessLogBucket: s3.Bucket;
  readonly evidenceBucket: s3.Bucket;
  readonly caseTable: dynamodb.Table;
  readonly topic: sns.Topic;
  readonly functions: Record<AcquisitionStep, ForensicFunction>;
  readonly acquisition: AcquisitionStateMachine;
  /** The acquisition's functions, grants and state machine (infra/acquisition-workflow.ts). */
  readonly acquisitionWorkflow: AcquisitionWorkflow;
  /** Forensic VPC, launch template and instance role of the workstation (infra/constructs/forensic-workstation.ts). */
  readonly workstation: ForensicWorkstation;
  /** The release state machine and its functions (infra/release-workflow.ts). */
  readonly release: ReleaseWorkflow;
  readonly findingRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  /** Redrive of transient failures, recording of unrecorded ones, alarms (infra/acquisition-recovery.ts). */
  readonly recovery: AcquisitionRecovery;

  constructor(scope: Construct, id: string, props: IrStackProps) {
    super(scope, id, props);
    const config = props.config;
    this.config = config;

    // Rule name fixed from the stack name so the key policy can name the rule without a dependency cycle.
    const ruleName = `${this.stackName}-guardduty-findings`;

    // ── Evidence key ──────────────────────────────────────────────────────────────────────────────────────
    // With forensics:evidenceKeyMultiRegion the key is a multi-Region primary key, replicable into the
    // workload regions (infra/regional-stack.ts). That property is immutable and CloudFormation refuses to change it
    // on an existing key, so the multi-Region key is ANOTHER resource (another construct id): turning the setting on
    // in an existing deployment creates a new key and re-points the alias and every store at it, while the old key
    // is retained (RETAIN) and keeps decrypting the evidence made under it (docs/organisation-deployment.md,
    // "Existing deployments"). Off (the default), the template is exactly what it was.
    const multiRegionKey = config.evidenceKeyMultiRegion === true;
    this.evidenceKey = new kms.Key(this, multiRegionKey ? 'EvidenceKeyMultiRegion' : 'EvidenceKey', {
      ...(multiRegionKey ? { multiRegion: true } : { alias: EVIDENCE_KEY_ALIAS }),
      description: 'Forensic evidence: snapshots, evidence bucket, case table, notifications, workflow logs',
      enableKeyRotation: true,
      // Deleting this key would make every evidence snapshot and object unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      // The default policy gives the account root full control, so IAM policies (below, per step) decide who
      // uses the key; the services that act on their own behalf are added explicitly.
    });
    if (multiRegionKey) {
      // The alias keeps the logical id it has always had (the single-Region key's child), so switching keys is an
      // in-place update of its target, not a second alias of the same name (which CloudFormation would refuse).
      const alias = new kms.Alias(this, 'EvidenceKeyMultiRegionAlias', { aliasName: EVIDENCE_KEY_ALIAS, targetKey: this.evidenceKey });
      (alias.node.defaultChild as kms.CfnAlias).overrideLogicalId(EVIDENCE_KEY_ALIAS_LOGICAL_ID);
    }
    this.evidenceKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.evidenceKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeWritesUndeliveredFindingsToTheDeadLetterQueue',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'aws:SourceArn': this.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }),
          },
        },
      }),
    );

    // ── Evidence bucket and its access log ────────────────────────────────────────────────────────────────
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // S3 server access logging can only deliver to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      // No access log of its own: it is the log destination (cdk-nag S1 recognises that), and logging into
      // itself would loop. Who read or wrote evidence is kept for as long as the evidence itself.
      lifecycleRules: [
        { id: 'expire-with-evidence', expiration: Duration.days(config.evidenceRetentionDays + 1) },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });

    this.evidenceBucket = new s3.Bucket(this, 'EvidenceBucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention:
        config.objectLockMode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(config.evidenceRetentionDays))
          : s3.ObjectLockRetention.governance(Duration.days(config.evidenceRetentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.evidenceKey,
      // One KMS call per bucket key instead of per object: cheaper and below KMS request quotas in a burst.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'evidence-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.protectEvidenceWrites(config.objectLockMode);

    // ── Case table ────────────────────────────────────────────────────────────────────────────────────────
    // Customer-managed evidence key rather than an AWS-managed one: case items hold the pre-incident state and
    // the findings, i.e. case data; one key policy then governs every store of a case, and key use is logged
    // in CloudTrail under a key the IR team controls. DynamoDB caches the table key, so the KMS cost is small.
    this.caseTable = new dynamodb.Table(this, 'CaseTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.evidenceKey,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ── Notifications ─────────────────────────────────────────────────────────────────────────────────────
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Forensic acquisition',
      masterKey: this.evidenceKey,
      enforceSSL: true,
    });
    for (const email of config.notificationEmails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    // ── One function and one role per step ───────────────────────────────────────────────────────────────
    const environment: LambdaEnvironment = {
      CASE_TABLE_NAME: this.caseTable.tableName,
      EVIDENCE_BUCKET: this.evidenceBucket.bucketName,
      EVIDENCE_KEY_ARN: this.evidenceKey.keyArn,
      TOPIC_ARN: this.topic.topicArn,
      EVIDENCE_RETENTION_DAYS: String(config.evidenceRetentionDays),
      OBJECT_LOCK_MODE: config.objectLockMode,
      MIN_SEVERITY: String(config.minSeverity),
      ACQUIRE_CONTAINER_HOSTS: String(config.acquireContainerHosts),
      MAX_WAIT_MINUTES: String(config.maxWaitMinutes),
      COPY_CONCURRENCY: String(config.copyConcurrency),
      TAG_PREFIX: config.tagPrefix,
      DEFAULT_WORKSTATION: String(config.workstation),
      DEFAULT_REVOKE_MODE: config.revokeMode,
      // Single-account mode: the IR account itself is the only workload account.
      WORKLOAD_ACCOUNTS: config.workloadAccounts.length > 0 ? config.workloadAccounts.join(',') : this.account,
      // Responder role (multi-account mode only) and the snapshot lock: infra/multi-account.ts.
      ...multiAccountEnvironment(config),
      // Organisation mode, exclusions and workload regions: infra/home-region.ts.
      ...homeRegionEnvironment(config),
      ...scopeEnvironment(config),
      ...memoryEnvironment(config),
    };
    checkEnvironment(this, environment);
    if (config.workloadAccounts.length > 0 || config.organizationId) {
      Annotations.of(this).addInfo(
        'Multi-account mode: the steps acting on instances assume the responder role in the finding\'s account; ' +
          'deploy infra/responder-stack.ts in every workload account (docs/multi-account.md, "Two-account deployment").',
      );
    }

    this.workstation = new ForensicWorkstation(this, 'Workstation', {
      evidenceKey: this.evidenceKey,
      evidenceBucket: this.evidenceBucket,
      tagPrefix: config.tagPrefix,
      amiParameterName: config.workstationAmiParameter,
      instanceType: config.workstationInstanceType,
      retention: { mode: config.objectLockMode, days: config.evidenceRetentionDays },
    });

    // ── The acquisition: one function and one role per step, their grants, the state machine ───────────────
    // Construct id "Default": CDK leaves it out of logical ids, so the functions, roles and state machine keep the
    // logical ids they had when they were built in the stack itself, and an update replaces nothing (a replaced role
    // with a fixed name, as multi-account mode uses, would fail the update).
    this.acquisitionWorkflow = new AcquisitionWorkflow(this, 'Default', {
      config,
      environment,
      evidenceKey: this.evidenceKey,
      evidenceBucket: this.evidenceBucket,
      caseTable: this.caseTable,
      topic: this.topic,
      workstation: this.workstation,
    });
    this.functions = this.acquisitionWorkflow.functions;
    this.acquisition = this.acquisitionWorkflow.machine;
    configureIrMultiAccount(this, { config, functions: this.functions, evidenceKey: this.evidenceKey, flatten: flattenReference });
    configureHomeRegion(this, { config, functions: this.functions, evidenceKey: this.evidenceKey, flatten: flattenReference });

    // ── Release state machine: undoes a case's containment with its own least-privilege roles ──────────────
    this.release = new ReleaseWorkflow(this, 'Release', {
      environment,
      evidenceKey: this.evidenceKey,
      evidenceBucket: this.evidenceBucket,
      caseTable: this.caseTable,
      topic: this.topic,
      // Multi-account: release acts through the responder role, under a role name its trust policy names.
      throughResponderRole: isMultiAccount(config),
      // Release acts in the target's region, any workload region.
      workloadRegions: config.workloadRegions ?? [],
      roleNames: Object.fromEntries(
        RELEASE_STEP_NAMES.flatMap((step) => {
          const name = stepRoleName(config, step);
          return name ? [[step, name]] : [];
        }),
      ),
    });
    configureReleaseMultiAccount(this, { config, functions: this.release.functions, flatten: flattenReference });
    // Optional quarantine instance profile (forensics:quarantineProfile): isolate swaps it in, release swaps it out.
    configureQuarantineProfile(this, {
      config,
      isolate: this.functions.isolateNetwork,
      release: this.release.functions.releaseContainment,
      flatten: flattenReference,
    });

    // ── GuardDuty findings start the workflow ────────────────────────────────────────────────────────────
    this.deadLetterQueue = new sqs.Queue(this, 'FindingDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.evidenceKey,
      enforceSSL: true,
      // The longest SQS allows: an undelivered finding is an incident nobody responded to yet.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the EventBridge rule target (findings EventBridge could ' +
        'not deliver to the state machine); cdk-nag only recognises queues used in an SQS redrive policy.',
    });

    this.findingRule = new events.Rule(this, 'GuardDutyFindingRule', {
      ruleName,
      description: `GuardDuty EC2 findings with severity >= ${config.minSeverity} start a forensic acquisition`,
      eventPattern: findingEventPattern(config.minSeverity),
    });
    this.findingRule.addTarget(
      new targets.SfnStateMachine(this.acquisition.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        // A finding must not be lost to a throttled StartExecution: retry for as long as EventBridge allows.
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );

    // ── Recovery: redrive transient failures, record what no Catch recorded, alarm on failed executions ─────────
    this.recovery = new AcquisitionRecovery(this, 'Recovery', {
      stateMachine: this.acquisition.stateMachine,
      recordFailure: this.functions.recordFailure.function,
      environment,
      evidenceKey: this.evidenceKey,
      evidenceBucket: this.evidenceBucket,
      caseTable: this.caseTable,
      topic: this.topic,
      deadLetterQueue: this.deadLetterQueue,
    });

    // ── Outputs the CLI reads ─────────────────────────────────────────────────────────────────────────────
    new CfnOutput(this, IR_STACK_OUTPUTS.stateMachineArn, {
      value: this.acquisition.stateMachine.stateMachineArn,
      description: 'Forensic acquisition state machine (start an execution to acquire an instance manually)',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.evidenceBucketName, {
      value: this.evidenceBucket.bucketName,
      description: 'Evidence bucket (Object Lock); custody records and manifests under cases/<caseId>/',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.caseTableName, {
      value: this.caseTable.tableName,
      description: 'Case table',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.evidenceKeyArn, {
      value: this.evidenceKey.keyArn,
      description: `Evidence KMS key (${EVIDENCE_KEY_ALIAS})`,
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.topicArn, {
      value: this.topic.topicArn,
      description: 'Case notification topic',
    });
    const ws = this.workstation.environment();
    new CfnOutput(this, IR_STACK_OUTPUTS.workstationLaunchTemplateId, {
      value: ws.WORKSTATION_LAUNCH_TEMPLATE_ID,
      description: 'Forensic workstation launch template (forensics workstation launch <caseId>)',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.workstationSubnetIds, {
      value: ws.WORKSTATION_SUBNET_IDS,
      description: 'Isolated subnets of the forensic VPC, comma-separated',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.workstationSecurityGroupId, {
      value: ws.WORKSTATION_SECURITY_GROUP_ID,
      description: 'Forensic workstation security group (no ingress)',
    });
    new CfnOutput(this, IR_STACK_OUTPUTS.releaseStateMachineArn, {
      value: this.release.machine.stateMachine.stateMachineArn,
      description: 'Release state machine (forensics release <caseId> starts it): undoes a case\'s containment',
    });
  }

  /**
   * The evidence bucket's own rules for every writer, this product's roles included (a Deny in the bucket policy
   * cannot be granted away by any identity policy):
   * - write once: PutObject (and CompleteMultipartUpload, the same action) only with `If-None-Match: *`, so nobody
   *   can create a second version at an existing key (the old version would stay locked, but readers of the current
   *   version would be fooled). Multipart uploads cannot send the header, so none is possible; evidence objects
   *   are small single PUTs;
   * - every object is written under a legal hold (`x-amz-object-lock-legal-hold: ON`);
   * - every object carries an explicit retention (mode and retain-until date), and the mode is the configured one:
   *   nobody writes a GOVERNANCE object into a COMPLIANCE bucket, and nothing relies on the bucket default alone. The period itself is not floored here: shortening COMPLIANCE retention is refused by S3,
   *   GOVERNANCE needs s3:BypassGovernanceRetention (granted to no role), and the mandatory legal hold keeps an
   *   object regardless of its retention date.
   * Condition keys: s3:if-none-match, s3:object-lock-legal-hold, s3:object-lock-mode (S3 User Guide, "Enforce
   * conditional writes on Amazon S3 buckets"; Service Authorization Reference, Amazon S3 condition keys).
   */
  private protectEvidenceWrites(mode: 'COMPLIANCE' | 'GOVERNANCE'): void {
    const objects = this.evidenceBucket.arnForObjects('*');
    const deny = (sid: string, actions: string[], conditions: Record<string, Record<string, unknown>>) =>
      this.evidenceBucket.addToResourcePolicy(
        new iam.PolicyStatement({ sid, effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions, resources: [objects], conditions }),
      );
    deny('EvidenceWriteOnceOnly', ['s3:PutObject'], { Null: { 's3:if-none-match': 'true' } });
    deny('EvidenceWriteOnceIfNoneMatchStar', ['s3:PutObject'], { StringNotEquals: { 's3:if-none-match': '*' } });
    deny('EvidenceLegalHoldOnEveryWrite', ['s3:PutObject'], { Null: { 's3:object-lock-legal-hold': 'true' } });
    deny('EvidenceLegalHoldOnlyOnWhenWriting', ['s3:PutObject'], { StringNotEquals: { 's3:object-lock-legal-hold': 'ON' } });
    // Every object carries its own retention (explicit mode and retain-until date): the bucket's default retention
    // alone could be shortened for later writes by anyone allowed s3:PutBucketObjectLockConfiguration.
    deny('EvidenceExplicitRetentionOnEveryWrite', ['s3:PutObject'], { Null: { 's3:object-lock-mode': 'true' } });
    deny('EvidenceRetentionModeIsTheConfiguredOne', ['s3:PutObject', 's3:PutObjectRetention'], {
      Null: { 's3:object-lock-mode': 'false' },
      StringNotEquals: { 's3:object-lock-mode': mode },
    });
  }

}

/** Check the environment values known at synth time against the handlers' own schema. */
function checkEnvironment(scope: IConstruct, environment: LambdaEnvironment): void {
  for (const [key, value] of Object.entries(environment) as [keyof LambdaEnvironment, string][]) {
    if (Token.isUnresolved(value)) continue;
    const parsed = handlerEnvironmentSchema.shape[key].safeParse(value);
    if (!parsed.success) {
      throw new Error(
        `${scope.node.path}: Lambda environment ${key}=${JSON.stringify(value)} is rejected by the handlers: ` +
          (parsed.error.issues[0]?.message ?? 'invalid'),
      );
    }
  }
}
