import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_CONFIG, decide } from '../../../../handlers/domain/finding-decision';
import { type NormalizedFinding, normalize } from '../../../../handlers/domain/finding-normalizer';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely, deep inside
type Json = Record<string, any>;

const fixture = (): Json =>
  JSON.parse(readFileSync(new URL('../../../fixtures/findings/eventbridge-instance-high.json', import.meta.url), 'utf8')) as Json;

function summaryOf(input: Json) {
  const decision = decide(normalize(input)[0] as NormalizedFinding, DEFAULT_DECISION_CONFIG);
  if (decision.decision !== 'acquire') throw new Error(`expected acquire, got ${decision.reason}`);
  return decision.finding;
}

describe('finding summary: what the incident scope reads', () => {
  it('keeps the first-seen time and a real access key id the finding names', () => {
    // Prepare
    const input = fixture();
    input.detail.service = { ...input.detail.service, eventFirstSeen: '2025-03-17T20:17:41.000Z' };
    input.detail.resource.accessKeyDetails = { accessKeyId: 'ASIAQWERTYUIOPASDFGH', principalId: 'AROAEXAMPLE:i-0abc', userType: 'AssumedRole' };

    // Act
    const summary = summaryOf(input);

    // Assess
    expect(summary.firstSeenAt).toBe('2025-03-17T20:17:41.000Z');
    expect(summary.accessKeyIds).toEqual(['ASIAQWERTYUIOPASDFGH']);
  });

  it('ignores GuardDuty sample placeholders and unreadable times', () => {
    // Prepare
    const input = fixture();
    input.detail.service = { ...input.detail.service, eventFirstSeen: 'yesterday' };
    input.detail.resource.accessKeyDetails = { accessKeyId: 'GeneratedFindingAccessKeyId' };

    // Act
    const summary = summaryOf(input);

    // Assess
    expect(summary.firstSeenAt).toBeUndefined();
    expect(summary.accessKeyIds).toBeUndefined();
  });
});
