import { BootstraplessSynthesizer, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type ForensicsConfig, multiAccountOf } from './config';
import { findingEventPattern } from './ir-stack';

/**
 * The finding forwarder, for the GuardDuty delegated-administrator account (one per region where GuardDuty runs,
 * each targeting the IR account's bus in the home region: parameter HomeRegion):
 * the IR rule's own pattern (`findingEventPattern`, so both accounts always agree on what starts an acquisition),
 * targeting the IR account's default event bus. The IR stack's bus policy (forensics:findingSourceAccounts) accepts
 * GuardDuty findings from this account only. Not needed when the IR account is itself the administrator.
 *
 * No assets and no bootstrap dependency: `cdk deploy` or a plain CloudFormation/StackSets deployment.
 */
export interface ForwarderStackProps extends StackProps {
  readonly config: ForensicsConfig;
}

export const FORWARDER_STACK_NAME = 'ForensicsFindingForwarder';

export class ForwarderStack extends Stack {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ForwarderStackProps) {
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), ...props });
    const m = multiAccountOf(props.config);
    const irAccountId = new CfnParameter(this, 'IrAccountId', {
      type: 'String',
      allowedPattern: '^\\d{12}$',
      description: 'The incident-response account whose default event bus receives the findings',
      ...(m.irAccountId ? { default: m.irAccountId } : {}),
    });
    // The IR stack runs in one home region. EventBridge delivers an event across accounts OR regions to a bus
    // once, but does not forward an event it received from another account on again, so every region's forwarder
    // targets the IR account's bus in the home region directly (cross-account and cross-region in one hop; the target
    // role CDK creates for an event bus target is what such a rule needs).
    const homeRegion = new CfnParameter(this, 'HomeRegion', {
      type: 'String',
      default: '',
      allowedPattern: '^([a-z]{2,4}(-[a-z]+){1,3}-[0-9]{1,2})?$',
      description: 'The IR stack\'s home region (empty: this region, the IR stack\'s own)',
    });
    const sameRegion = new CfnCondition(this, 'ForwardInThisRegion', { expression: Fn.conditionEquals(homeRegion.valueAsString, '') });
    const irBus = events.EventBus.fromEventBusArn(
      this,
      'IrBus',
      Fn.join('', [
        'arn:', this.partition, ':events:',
        Fn.conditionIf(sameRegion.logicalId, this.region, homeRegion.valueAsString).toString(),
        ':', irAccountId.valueAsString, ':event-bus/default',
      ]),
    );
    const deadLetterQueue = new sqs.Queue(this, 'ForwardingDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the forwarding rule target (findings EventBridge could not ' +
        'deliver to the IR bus); cdk-nag only recognises queues used in an SQS redrive policy.',
    });
    this.rule = new events.Rule(this, 'ForwardGuardDutyFindings', {
      description: `Forward GuardDuty EC2 findings with severity >= ${props.config.minSeverity} to the IR account`,
      eventPattern: findingEventPattern(props.config.minSeverity),
    });
    this.rule.addTarget(
      new targets.EventBus(irBus, {
        // A finding must not be lost to a transient delivery failure.
        deadLetterQueue,
      }),
    );
    new CfnOutput(this, 'ForwardingRuleArn', { value: this.rule.ruleArn });
  }
}
