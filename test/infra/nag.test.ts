import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synth } from '../support/synthesis';

/**
 * cdk-nag (AwsSolutions) runs as a policy-validation plugin of the app: synthesis itself fails on an
 * unacknowledged error. These tests also fail on warnings, and keep the acknowledgements honest: each one has a
 * real reason, sits on the construct it concerns (never the whole stack), and answers a finding that exists.
 */

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  const walk = (c: IConstruct) => {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        // Only cdk-nag's rules: CDK itself acknowledges some of its CloudFormation-Validate checks (W3010 on the
        // stack when ec2.Vpc reads stack.availabilityZones, F3002 on flow logs), which this project did not write.
        if (rule.startsWith('CloudFormation-Validate::')) continue;
        found.push({ path: c.node.path, id: rule, reason });
      }
    }
    c.node.children.forEach(walk);
  };
  walk(root);
  return found;
}

/** What cdk-nag would report if nothing were acknowledged: rule id → construct paths. */
function unacknowledgedFindings(root: IConstruct): Map<string, string[]> {
  const pack = new AwsSolutionsChecks();
  // Test-only: make every finding visible, to check each acknowledgement against a real one.
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const report = pack.validateScope(root);
  return new Map(report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath ?? '')]));
}

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

describe('cdk-nag AwsSolutions', () => {
  it('synthesis reports no unacknowledged AwsSolutions error or warning', () => {
    const nag = s.report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    const violations = nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`));
    expect(violations).toEqual([]);
    // And directly, independent of how CDK reports plugin results:
    expect(new AwsSolutionsChecks().validateScope(s.app).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('the checks are really running (a finding appears once the acknowledgements are ignored)', () => {
    expect(unacknowledgedFindings(s.app).size).toBeGreaterThan(0);
  });

  it('every acknowledgement has a reason of reasonable length', () => {
    const acks = acknowledgements(s.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('no acknowledgement covers the whole app or stack', () => {
    for (const ack of acknowledgements(s.app)) {
      expect([s.app.node.path, s.stack.node.path], ack.id).not.toContain(ack.path);
    }
  });

  it('every acknowledgement answers a finding on that construct (none is stale or speculative)', () => {
    const raw = unacknowledgedFindings(s.app);
    for (const ack of acknowledgements(s.app)) {
      const paths = raw.get(ack.id) ?? [];
      expect(
        paths.some((p) => p === ack.path || p.startsWith(`${ack.path}/`)),
        `${ack.path}: ${ack.id} has no matching finding`,
      ).toBe(true);
    }
  });
});
