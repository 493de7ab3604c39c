import { DescribeRuleCommand, type DescribeRuleCommandOutput, EventBridgeClient, ListTargetsByRuleCommand, type Target } from '@aws-sdk/client-eventbridge';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import { type DoctorContext, findingRuleName } from '../context';

/**
 * The EventBridge rule that starts acquisitions (`rule.enabled`, `rule.pattern`, `rule.target`, `rule.dlq`): enabled,
 * matching GuardDuty findings from the configured severity (forensics:minSeverity), targeting the acquisition state
 * machine, with a dead-letter queue so that an undeliverable finding is kept rather than lost.
 */

export interface RuleFacts {
  ruleName: string;
  stateMachineArn?: string;
  rule: Outcome<DescribeRuleCommandOutput>;
  targets: Outcome<Target[]>;
}

export async function gatherRule(ctx: DoctorContext): Promise<RuleFacts> {
  const ruleName = findingRuleName(ctx.stackName);
  const events = new EventBridgeClient(ctx.client());
  try {
    const [rule, targets] = await Promise.all([
      attempt('events:DescribeRule', () => events.send(new DescribeRuleCommand({ Name: ruleName }))),
      attempt('events:ListTargetsByRule', async () => (await events.send(new ListTargetsByRuleCommand({ Rule: ruleName }))).Targets ?? []),
    ]);
    return { ruleName, ...(ctx.resources.stateMachineArn ? { stateMachineArn: ctx.resources.stateMachineArn } : {}), rule, targets };
  } finally {
    events.destroy();
  }
}

/** The severity the pattern acquires from: `detail.severity: [{numeric: [">=", N]}]`. */
export function patternThreshold(pattern: unknown): number | undefined {
  const severity = (pattern as { detail?: { severity?: unknown } } | undefined)?.detail?.severity;
  if (!Array.isArray(severity)) return undefined;
  for (const m of severity) {
    const numeric = (m as { numeric?: unknown[] } | undefined)?.numeric;
    if (Array.isArray(numeric) && (numeric[0] === '>=' || numeric[0] === '>') && typeof numeric[1] === 'number') return numeric[1];
  }
  return undefined;
}

export function evaluateRule(facts: RuleFacts, minSeverity: number, emulator: boolean): DoctorCheck[] {
  const r = facts.ruleName;
  if (!facts.rule.ok) {
    const first = facts.rule.error.notFound
      ? fail('rule.enabled', `rule ${r} does not exist: no GuardDuty finding starts an acquisition — deploy the stack`)
      : cannotRun('rule.enabled', facts.rule.error, `rule ${r}`, emulator);
    return [first, ...['rule.pattern', 'rule.target', 'rule.dlq'].map((n) => fail(n, `not checked: ${first.detail}`))];
  }
  const rule = facts.rule.value;
  const enabled = rule.State === 'ENABLED'
    ? pass('rule.enabled', `rule ${r} is ENABLED`)
    : fail('rule.enabled', `rule ${r} is ${rule.State ?? 'in an unknown state'}: no finding starts an acquisition — aws events enable-rule --name ${r}`);

  let pattern: unknown;
  try {
    pattern = rule.EventPattern ? (JSON.parse(rule.EventPattern) as unknown) : undefined;
  } catch {
    pattern = undefined;
  }
  const p = pattern as { source?: unknown; 'detail-type'?: unknown } | undefined;
  const threshold = patternThreshold(pattern);
  const fromGuardDuty = Array.isArray(p?.source) && p.source.includes('aws.guardduty') && Array.isArray(p?.['detail-type']) && p['detail-type'].includes('GuardDuty Finding');
  let patternCheck: DoctorCheck;
  if (!fromGuardDuty) patternCheck = fail('rule.pattern', `rule ${r} does not match GuardDuty findings (source aws.guardduty, detail-type "GuardDuty Finding") — deploy the stack`);
  else if (threshold === undefined) patternCheck = fail('rule.pattern', `rule ${r} has no numeric severity threshold — deploy the stack`);
  else if (threshold > minSeverity) {
    patternCheck = fail('rule.pattern', `rule ${r} acquires from severity ${threshold}, cdk.json forensics:minSeverity says ${minSeverity}: findings from ${minSeverity} to ${threshold} are never acquired — redeploy the stack`);
  } else if (threshold < minSeverity) {
    patternCheck = fail('rule.pattern', `rule ${r} matches from severity ${threshold}, cdk.json forensics:minSeverity says ${minSeverity}: the deployment differs from its configuration — redeploy the stack`);
  } else patternCheck = pass('rule.pattern', `GuardDuty findings with severity >= ${threshold} (forensics:minSeverity)`);

  if (!facts.targets.ok) {
    const t = cannotRun('rule.target', facts.targets.error, `the targets of ${r}`, emulator);
    return [enabled, patternCheck, t, fail('rule.dlq', `not checked: ${t.detail}`)];
  }
  const target = facts.targets.value.find((t) => facts.stateMachineArn !== undefined && t.Arn === facts.stateMachineArn);
  const targetCheck = target
    ? pass('rule.target', `targets the acquisition state machine ${target.Arn}`)
    : fail('rule.target', `rule ${r} does not target the acquisition state machine ${facts.stateMachineArn ?? '(unknown)'} (targets: ${facts.targets.value.map((t) => t.Arn).join(', ') || 'none'}) — deploy the stack`);
  const dlq = target?.DeadLetterConfig?.Arn
    ? pass('rule.dlq', `undeliverable findings go to ${target.DeadLetterConfig.Arn}`)
    : fail('rule.dlq', `the rule's target has no dead-letter queue: a finding EventBridge cannot deliver is lost — deploy the stack`);
  return [enabled, patternCheck, targetCheck, dlq];
}
