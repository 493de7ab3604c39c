import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeRuleCommand, type DescribeRuleCommandOutput, EventBridgeClient, ListTargetsByRuleCommand, type Target } from '@aws-sdk/client-eventbridge';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import { type DoctorContext, recoveryResourceNames } from '../context';

/**
 * What keeps a failed acquisition from being lost (infra/acquisition-recovery.ts):
 * - `recovery.rule`: the rule on the acquisition state machine's FAILED/TIMED_OUT executions is enabled, matches that
 *   state machine, and invokes the redrive function with a dead-letter queue. Without it a transient failure is
 *   neither redriven nor recorded.
 * - `recovery.alarms`: both alarms exist (failed or timed-out acquisitions; errors of the redrive function), their
 *   actions are enabled and notify the case topic. Without them a failed acquisition tells nobody.
 */

export interface RecoveryFacts {
  names: ReturnType<typeof recoveryResourceNames>;
  stateMachineArn?: string;
  topicArn?: string;
  rule: Outcome<DescribeRuleCommandOutput>;
  targets: Outcome<Target[]>;
  alarms: Outcome<MetricAlarm[]>;
}

export async function gatherRecovery(ctx: DoctorContext): Promise<RecoveryFacts> {
  const names = recoveryResourceNames(ctx.stackName);
  const events = new EventBridgeClient(ctx.client());
  const cloudwatch = new CloudWatchClient(ctx.client());
  try {
    const [rule, targets, alarms] = await Promise.all([
      attempt('events:DescribeRule', () => events.send(new DescribeRuleCommand({ Name: names.rule }))),
      attempt('events:ListTargetsByRule', async () => (await events.send(new ListTargetsByRuleCommand({ Rule: names.rule }))).Targets ?? []),
      attempt('cloudwatch:DescribeAlarms', async () => (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [names.failedAlarm, names.redriveErrorsAlarm] }))).MetricAlarms ?? []),
    ]);
    return {
      names,
      ...(ctx.resources.stateMachineArn ? { stateMachineArn: ctx.resources.stateMachineArn } : {}),
      ...(ctx.resources.topicArn ? { topicArn: ctx.resources.topicArn } : {}),
      rule,
      targets,
      alarms,
    };
  } finally {
    events.destroy();
    cloudwatch.destroy();
  }
}

export function evaluateRecovery(facts: RecoveryFacts, emulator: boolean): DoctorCheck[] {
  return [ruleCheck(facts, emulator), alarmsCheck(facts, emulator)];
}

function ruleCheck(facts: RecoveryFacts, emulator: boolean): DoctorCheck {
  const name = 'recovery.rule';
  const r = facts.names.rule;
  if (!facts.rule.ok) {
    return facts.rule.error.notFound
      ? fail(name, `rule ${r} does not exist: a failed acquisition is neither redriven nor recorded — deploy the stack`)
      : cannotRun(name, facts.rule.error, `rule ${r}`, emulator);
  }
  if (facts.rule.value.State !== 'ENABLED') {
    return fail(name, `rule ${r} is ${facts.rule.value.State ?? 'in an unknown state'}: failed acquisitions are not redriven — aws events enable-rule --name ${r}`);
  }
  let pattern: { detail?: { stateMachineArn?: unknown; status?: unknown } } | undefined;
  try {
    pattern = JSON.parse(facts.rule.value.EventPattern ?? '{}') as typeof pattern;
  } catch {
    pattern = undefined;
  }
  const machines = pattern?.detail?.stateMachineArn;
  if (facts.stateMachineArn && !(Array.isArray(machines) && machines.includes(facts.stateMachineArn))) {
    return fail(name, `rule ${r} does not watch the acquisition state machine ${facts.stateMachineArn} — deploy the stack`);
  }
  if (!facts.targets.ok) return cannotRun(name, facts.targets.error, `the targets of ${r}`, emulator);
  const fn = facts.targets.value.find((t) => /^arn:[^:]+:lambda:/.test(t.Arn ?? ''));
  if (!fn) return fail(name, `rule ${r} invokes no redrive function (targets: ${facts.targets.value.map((t) => t.Arn).join(', ') || 'none'}) — deploy the stack`);
  if (!fn.DeadLetterConfig?.Arn) return fail(name, `rule ${r}'s target has no dead-letter queue: a stop event EventBridge cannot deliver is lost — deploy the stack`);
  return pass(name, `failed and timed-out acquisitions invoke ${(fn.Arn ?? "").split(':').at(-1)} (redrive or record), undeliverable events to ${fn.DeadLetterConfig.Arn}`);
}

function alarmsCheck(facts: RecoveryFacts, emulator: boolean): DoctorCheck {
  const name = 'recovery.alarms';
  if (!facts.alarms.ok) return cannotRun(name, facts.alarms.error, 'the recovery alarms', emulator);
  const wanted = [facts.names.failedAlarm, facts.names.redriveErrorsAlarm];
  const found = new Map(facts.alarms.value.map((a) => [a.AlarmName, a]));
  const missing = wanted.filter((n) => !found.has(n));
  if (missing.length > 0) return fail(name, `alarm ${missing.join(', ')} does not exist: a failed acquisition would tell nobody — deploy the stack`);
  const silent = wanted.filter((n) => {
    const a = found.get(n) as MetricAlarm;
    return a.ActionsEnabled === false || !(a.AlarmActions ?? []).some((arn) => (facts.topicArn ? arn === facts.topicArn : /^arn:[^:]+:sns:/.test(arn)));
  });
  if (silent.length > 0) {
    return fail(
      name,
      `alarm ${silent.join(', ')} does not notify the case topic ${facts.topicArn ?? ''} (actions disabled or another target) — aws cloudwatch enable-alarm-actions --alarm-names ${silent.join(' ')}, or deploy the stack`,
    );
  }
  return pass(name, `${wanted.join(' and ')} notify ${facts.topicArn ?? 'the case topic'}`);
}
