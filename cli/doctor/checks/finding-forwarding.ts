import { DescribeEventBusCommand, EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, type Rule, type Target } from '@aws-sdk/client-eventbridge';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import { type DoctorContext, homeBusArn } from '../context';
import { awsPrincipals, conditionValues, parsePolicy, statements } from './policy-document';

/**
 * `findings.forwarding[<region>]`: a finding raised in a workload region reaches the rule on the IR account's default
 * event bus in the home region.
 * - Home region: the IR rule is on that bus (checked by `rule.*`). When GuardDuty's delegated administrator is another
 *   account (forensics:findingSourceAccounts), the bus policy must accept its events (events:PutEvents).
 * - Another region: a rule there, in the IR account, must forward to the home bus (the regional stack,
 *   infra/regional-stack.ts, deployed in every workload region but the home region; without it findings of that
 *   region never start an acquisition). Read with the IR account's credentials: the forwarder of an administrator
 *   account that is not the IR account cannot be read from here, only its admission on the home bus.
 */

export interface ForwardingFacts {
  region: string;
  home: boolean;
  homeBus: string;
  sourceAccounts: readonly string[];
  /** Home region with source accounts: the bus policy. */
  busPolicy?: Outcome<string | undefined>;
  /** Other regions: enabled rules and their targets. */
  rules?: Outcome<{ rule: Rule; targets: Target[] }[]>;
}

/** Bound on the rules read per region (100 per page). */
const MAX_RULE_PAGES = 10;

export async function gatherForwarding(ctx: DoctorContext, region: string): Promise<ForwardingFacts> {
  const home = region === ctx.homeRegion;
  const base = { region, home, homeBus: homeBusArn(ctx), sourceAccounts: ctx.config.findingSourceAccounts ?? [] };
  const events = new EventBridgeClient(ctx.client(region));
  try {
    if (home) {
      if (base.sourceAccounts.length === 0) return base;
      const busPolicy = await attempt('events:DescribeEventBus', async () => (await events.send(new DescribeEventBusCommand({}))).Policy);
      return { ...base, busPolicy };
    }
    const rules = await attempt('events:ListRules', async () => {
      const found: Rule[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const out = await events.send(new ListRulesCommand({ NextToken }));
        found.push(...(out.Rules ?? []));
        NextToken = out.NextToken;
      } while (NextToken && ++pages < MAX_RULE_PAGES);
      const withTargets: { rule: Rule; targets: Target[] }[] = [];
      for (const rule of found) {
        if (!rule.Name || !rule.EventPattern?.includes('aws.guardduty')) continue;
        const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule.Name }))).Targets ?? [];
        withTargets.push({ rule, targets });
      }
      return withTargets;
    });
    return { ...base, rules };
  } finally {
    events.destroy();
  }
}

export function forwardingCheckName(region: string): string {
  return `findings.forwarding[${region}]`;
}

export function evaluateForwarding(facts: ForwardingFacts, emulator: boolean): DoctorCheck {
  const name = forwardingCheckName(facts.region);
  if (facts.home) {
    if (facts.sourceAccounts.length === 0) return pass(name, 'home region: findings arrive on the IR bus itself (the IR account is the GuardDuty administrator or the only account)');
    if (!facts.busPolicy?.ok) return facts.busPolicy ? cannotRun(name, facts.busPolicy.error, 'the policy of the IR default event bus', emulator) : fail(name, 'bus policy not read');
    const policy = parsePolicy(facts.busPolicy.value);
    const admitted = new Set(
      statements(policy)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => [...awsPrincipals(s), ...conditionValues(s, 'aws:SourceAccount')])
        .map((p) => /^arn:[^:]+:iam::(\d{12}):root$/.exec(p)?.[1] ?? p),
    );
    const missing = facts.sourceAccounts.filter((a) => !admitted.has(a));
    return missing.length === 0
      ? pass(name, `the IR bus accepts findings forwarded by ${facts.sourceAccounts.join(', ')}`)
      : fail(name, `the IR default event bus does not accept events from ${missing.join(', ')} (forensics:findingSourceAccounts): their findings never arrive — redeploy the IR stack`);
  }
  if (!facts.rules?.ok) return facts.rules ? cannotRun(name, facts.rules.error, `the EventBridge rules in ${facts.region}`, emulator) : fail(name, 'rules not read');
  const forwarding = facts.rules.value.filter(({ rule, targets }) => rule.State === 'ENABLED' && targets.some((t) => t.Arn === facts.homeBus));
  if (forwarding.length > 0) return pass(name, `rule ${forwarding[0]?.rule.Name} forwards GuardDuty findings from ${facts.region} to ${facts.homeBus}`);
  const disabled = facts.rules.value.find(({ targets }) => targets.some((t) => t.Arn === facts.homeBus));
  return fail(
    name,
    disabled
      ? `rule ${disabled.rule.Name} would forward findings from ${facts.region} to the home bus but is ${disabled.rule.State} — aws events enable-rule --name ${disabled.rule.Name} --region ${facts.region}`
      : `no enabled rule in ${facts.region} forwards GuardDuty findings to ${facts.homeBus}: findings raised there never start an acquisition — deploy the regional forwarder in ${facts.region}`,
  );
}
