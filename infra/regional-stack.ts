import {
  BootstraplessSynthesizer,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  CfnResource,
  CfnRule,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ForensicsConfig } from './config';
import { workloadKeyStatements } from './evidence-key-policy';
import { EVIDENCE_KEY_ALIAS, findingEventPattern } from './ir-stack';

/**
 * The regional stack ("one IR home region"): deployed in the IR account in every workload region OTHER than
 * the home region (a CloudFormation rule refuses the home region), with `cdk deploy` per region or as a self-managed
 * StackSet over the regions (no assets, no bootstrap dependency, everything region-specific a parameter).
 *
 * - **The evidence key's replica** (with `forensics:evidenceKeyMultiRegion`): a workload account's re-encryption copy
 *   is made in the instance's region, and a copy's key must be a key of its region. The replica has the primary's key
 *   material and key id; its key policy is its own (KMS does not replicate key policies) and states the same rules as
 *   the primary's: the IR account (IAM) administers and uses it; workload accounts only through EC2 in THIS region,
 *   grants only for AWS resources, only from their responder role (infra/evidence-key-policy.ts). Retained on delete:
 *   intermediate copies are encrypted with it.
 * - **Finding forwarding** (parameter ForwardFindings, default true: when the IR account is the GuardDuty delegated
 *   administrator it receives every member's findings of this region here): the IR rule's own pattern, targeting the
 *   default bus of this account in the home region (an EventBridge cross-region target, through the role CDK creates
 *   for it), with a dead-letter queue. When another account is the administrator, its forwarder stacks target the home
 *   bus directly (infra/forwarder-stack.ts, parameter HomeRegion) and ForwardFindings is false here.
 */
export interface RegionalStackProps extends StackProps {
  readonly config: ForensicsConfig;
}

export const REGIONAL_STACK_NAME = 'ForensicsRegional';

const REGION_PATTERN = '^[a-z]{2,4}(-[a-z]+){1,3}-[0-9]{1,2}$';

export class RegionalStack extends Stack {
  readonly rule: events.Rule;
  readonly replicaKey?: kms.CfnReplicaKey;
  readonly homeRegion: CfnParameter;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), ...props });
    const config = props.config;

    this.homeRegion = new CfnParameter(this, 'HomeRegion', {
      type: 'String',
      allowedPattern: REGION_PATTERN,
      description: 'The region of the IR stack (its evidence key, bus and state machine); this stack goes everywhere else',
    });
    new CfnRule(this, 'NotTheHomeRegion', {
      assertions: [
        {
          assert: Fn.conditionNot(Fn.conditionEquals(this.region, this.homeRegion.valueAsString)),
          assertDescription:
            'Deploy this stack in the workload regions other than the home region: the IR stack covers the home region, ' +
            'and a multi-Region key cannot be replicated into its own region.',
        },
      ],
    });

    // ── Forwarding GuardDuty findings of this region to the home region's bus (same account) ──────────────────
    const forward = new CfnParameter(this, 'ForwardFindings', {
      type: 'String',
      allowedValues: ['true', 'false'],
      default: 'true',
      description: 'true when this account receives this region\'s GuardDuty findings (it is the delegated administrator)',
    });
    const forwarding = new CfnCondition(this, 'ForwardFindingsToHomeRegion', {
      expression: Fn.conditionEquals(forward.valueAsString, 'true'),
    });
    const homeBus = events.EventBus.fromEventBusArn(
      this,
      'HomeBus',
      Fn.join('', ['arn:', this.partition, ':events:', this.homeRegion.valueAsString, ':', this.account, ':event-bus/default']),
    );
    const deadLetterQueue = new sqs.Queue(this, 'ForwardingDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the forwarding rule target (findings EventBridge could not ' +
        'deliver to the home region\'s bus); cdk-nag only recognises queues used in an SQS redrive policy.',
    });
    this.rule = new events.Rule(this, 'ForwardGuardDutyFindings', {
      description: `Forward GuardDuty EC2 findings with severity >= ${config.minSeverity} to the IR home region`,
      eventPattern: findingEventPattern(config.minSeverity),
    });
    // A finding must not be lost to a transient delivery failure: retried by EventBridge, then kept in the queue.
    this.rule.addTarget(new targets.EventBus(homeBus, { deadLetterQueue }));
    const forwardingResources = this.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource);
    for (const resource of forwardingResources) resource.cfnOptions.condition = forwarding;
    new CfnOutput(this, 'ForwardingRuleArn', { value: this.rule.ruleArn, condition: forwarding });

    // ── The evidence key's replica in this region ─────────────────────────────────────────────────────────────
    if (config.evidenceKeyMultiRegion) {
      const primaryKeyArn = new CfnParameter(this, 'PrimaryKeyArn', {
        type: 'String',
        allowedPattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/mrk-[0-9a-f]{32}$',
        description: 'The IR stack\'s EvidenceKeyArn output (a multi-Region primary key, mrk-…)',
      });
      const keyPolicy = new iam.PolicyDocument({
        statements: [
          // As the primary's CDK default: this account (its IAM policies) administers and uses the key.
          new iam.PolicyStatement({
            sid: 'IrAccountAdministersAndUsesTheKey',
            principals: [new iam.AccountRootPrincipal()],
            actions: ['kms:*'],
            resources: ['*'],
          }),
          // Workload accounts: through EC2 in THIS region only, grants only for AWS resources, responder role only.
          ...workloadKeyStatements(config, this.partition, `ec2.${this.region}.amazonaws.com`),
        ],
      });
      this.replicaKey = new kms.CfnReplicaKey(this, 'EvidenceKeyReplica', {
        primaryKeyArn: primaryKeyArn.valueAsString,
        description: 'Forensic evidence key (replica): workload-account re-encryption copies in this region',
        enabled: true,
        pendingWindowInDays: 30,
        keyPolicy,
      });
      // Deleting the replica would strand the intermediate copies encrypted with it (the primary still decrypts).
      this.replicaKey.applyRemovalPolicy(RemovalPolicy.RETAIN);
      new kms.CfnAlias(this, 'EvidenceKeyReplicaAlias', { aliasName: EVIDENCE_KEY_ALIAS, targetKeyId: this.replicaKey.attrKeyId });
      new CfnOutput(this, 'EvidenceKeyReplicaArn', { value: this.replicaKey.attrArn, description: 'The evidence key\'s replica in this region' });
    }
  }
}
