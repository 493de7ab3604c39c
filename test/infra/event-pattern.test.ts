import { describe, expect, it } from 'vitest';
import { synth } from '../support/synthesis';

/**
 * The rule's pattern, tested with EventBridge matching semantics (the subset the pattern uses): every key of the
 * pattern must match; a list matches if any entry matches (exact value, `numeric`, `prefix`); an array in the
 * event matches if any element does; a missing field never matches; `$or` matches if any alternative matches.
 */
type Pattern = Record<string, unknown>;

function matchValue(rule: unknown, value: unknown): boolean {
  if (rule !== null && typeof rule === 'object') {
    const r = rule as Record<string, unknown>;
    if (Array.isArray(r.numeric)) {
      if (typeof value !== 'number') return false;
      const ops = r.numeric as (string | number)[];
      for (let i = 0; i < ops.length; i += 2) {
        const op = ops[i] as string;
        const n = ops[i + 1] as number;
        const ok = { '>': value > n, '>=': value >= n, '<': value < n, '<=': value <= n, '=': value === n }[op];
        if (!ok) return false;
      }
      return true;
    }
    if (typeof r.prefix === 'string') return typeof value === 'string' && value.startsWith(r.prefix);
    throw new Error(`matcher not supported by this test: ${JSON.stringify(rule)}`);
  }
  return rule === value;
}

function matches(pattern: Pattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or') return (rule as Pattern[]).some((alt) => matches(alt, event));
    const value = event[key];
    if (Array.isArray(rule)) {
      if (value === undefined) return false;
      const values = Array.isArray(value) ? value : [value];
      return rule.some((r) => values.some((v) => matchValue(r, v)));
    }
    if (value === null || typeof value !== 'object') return false;
    return matches(rule as Pattern, value as Record<string, unknown>);
  });
}

/** The pattern as CloudFormation receives it (CDK renames detailType to detail-type). */
const deployed = synth().template.findResources('AWS::Events::Rule');
const pattern = (Object.values(deployed)[0]!.Properties as { EventPattern: Pattern }).EventPattern;

const event = (detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'c8c4daa7-a20c-2f03-0070-b7393dd542ad',
  'detail-type': 'GuardDuty Finding',
  source: 'aws.guardduty',
  account: '111122223333',
  region: 'eu-west-1',
  resources: [],
  detail: { schemaVersion: '2.0', accountId: '444455556666', region: 'eu-west-1', ...detail },
  ...overrides,
});
const instanceFinding = (severity: unknown, type = 'Backdoor:EC2/C&CActivity.B') =>
  event({ type, severity, resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0123456789abcdef0' } } });
const accessKeyFinding = (type: string, severity: unknown = 8) =>
  event({ type, severity, resource: { resourceType: 'AccessKey', instanceDetails: { instanceId: 'i-0123456789abcdef0' } } });

describe('GuardDuty finding rule pattern', () => {
  it('is the documented pattern', () => {
    expect(pattern).toEqual({
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        severity: [{ numeric: ['>=', 7] }],
        $or: [
          { resource: { resourceType: ['Instance'] } },
          { type: [{ prefix: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration' }] },
        ],
      },
    });
  });

  it.each([
    [7, true],
    [7.0, true],
    [8.9, true],
    [9, true], // CRITICAL (9.0–10.0) is included: the match is numeric, not on the HIGH label
    [10, true],
    [6.9, false],
    [5, false],
    ['8', false], // numeric matching requires a JSON number
  ])('instance finding of severity %j → %s', (severity, expected) => {
    expect(matches(pattern, instanceFinding(severity))).toBe(expected);
  });

  it('matches the credential-exfiltration findings (resource type AccessKey), both variants', () => {
    expect(matches(pattern, accessKeyFinding('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'))).toBe(true);
    expect(matches(pattern, accessKeyFinding('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS'))).toBe(true);
    expect(matches(pattern, accessKeyFinding('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 5))).toBe(false);
  });

  it('ignores other resource types and other AccessKey findings', () => {
    expect(matches(pattern, accessKeyFinding('UnauthorizedAccess:IAMUser/MaliciousIPCaller'))).toBe(false);
    expect(matches(pattern, event({ type: 'Policy:S3/BucketBlockPublicAccessDisabled', severity: 8, resource: { resourceType: 'S3Bucket' } }))).toBe(false);
    expect(matches(pattern, event({ type: 'Execution:Runtime/NewBinaryExecuted', severity: 8, resource: { resourceType: 'EKSCluster' } }))).toBe(false);
  });

  it('ignores other sources and detail types', () => {
    expect(matches(pattern, { ...instanceFinding(8), source: 'aws.securityhub' })).toBe(false);
    expect(matches(pattern, { ...instanceFinding(8), 'detail-type': 'Security Hub Findings - Imported' })).toBe(false);
  });

  it('follows forensics:minSeverity', () => {
    const other = synth({ 'forensics:minSeverity': 8.5 }).template.findResources('AWS::Events::Rule');
    const p = (Object.values(other)[0]!.Properties as { EventPattern: Pattern }).EventPattern;
    expect(matches(p, instanceFinding(8.4))).toBe(false);
    expect(matches(p, instanceFinding(8.5))).toBe(true);
  });
});
