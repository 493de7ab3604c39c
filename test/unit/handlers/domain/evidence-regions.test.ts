import { describe, expect, it } from 'vitest';
import type { HandlerEnvironment } from '../../../../handlers/config/env';
import { handlerEnvironmentSchema } from '../../../../handlers/config/env';
import {
  EvidenceKeyNotInRegion,
  evidenceKeyInRegion,
  evidenceRoute,
  homeRegionOf,
  isEvidenceKeyOrReplica,
  isMultiRegionKeyArn,
  unreachableReason,
} from '../../../../handlers/domain/evidence-regions';
import { DEFAULT_DECISION_CONFIG, type DecisionConfig, decide } from '../../../../handlers/domain/finding-decision';
import { normalize, type NormalizedFinding } from '../../../../handlers/domain/finding-normalizer';
import { triageConfigFrom } from '../../../../handlers/composition/triage-config';

/**
 * The home region: which key may be named where, which copies bring evidence home, and which targets a
 * deployment acquires (organisation mode, exclusions, workload regions) — all decided before any AWS call.
 */
const IR = '999988887777';
const MEMBER = '444455556666';
const HOME = 'us-east-1';
const MRK = `arn:aws:kms:${HOME}:${IR}:key/mrk-0123456789abcdef0123456789abcdef`;
const SINGLE = `arn:aws:kms:${HOME}:${IR}:key/11111111-2222-3333-4444-555555555555`;

describe('evidence key per region', () => {
  it('names the key itself in its own region, and the replica ARN (same id, account, partition) elsewhere', () => {
    expect(evidenceKeyInRegion(MRK, HOME)).toBe(MRK);
    expect(evidenceKeyInRegion(MRK, 'eu-west-1')).toBe(`arn:aws:kms:eu-west-1:${IR}:key/mrk-0123456789abcdef0123456789abcdef`);
    expect(evidenceKeyInRegion(`arn:aws-cn:kms:cn-north-1:${IR}:key/mrk-ab`, 'cn-northwest-1')).toBe(`arn:aws-cn:kms:cn-northwest-1:${IR}:key/mrk-ab`);
  });

  it('refuses to name a single-Region key (or an alias) in any other region', () => {
    expect(evidenceKeyInRegion(SINGLE, HOME)).toBe(SINGLE);
    expect(() => evidenceKeyInRegion(SINGLE, 'eu-west-1')).toThrow(EvidenceKeyNotInRegion);
    expect(() => evidenceKeyInRegion('alias/forensics-evidence', HOME)).toThrow(/not given as a key ARN/);
  });

  it('recognises the evidence key and its replicas, and nothing else', () => {
    expect(isMultiRegionKeyArn(MRK)).toBe(true);
    expect(isMultiRegionKeyArn(SINGLE)).toBe(false);
    expect(isEvidenceKeyOrReplica(evidenceKeyInRegion(MRK, 'ap-southeast-2'), MRK)).toBe(true);
    expect(isEvidenceKeyOrReplica(`arn:aws:kms:eu-west-1:${MEMBER}:key/mrk-0123456789abcdef0123456789abcdef`, MRK)).toBe(false);
    expect(isEvidenceKeyOrReplica(`arn:aws:kms:eu-west-1:${IR}:key/aaaaaaaa-2222-3333-4444-555555555555`, MRK)).toBe(false);
    expect(isEvidenceKeyOrReplica(undefined, MRK)).toBe(false);
  });

  it('takes the home region from the evidence key, else from the fallback', () => {
    expect(homeRegionOf(MRK, 'eu-central-1')).toBe(HOME);
    expect(homeRegionOf('alias/x', 'eu-central-1')).toBe('eu-central-1');
  });
});

describe('evidence route', () => {
  it('same account, other region: one copy issued in the home region from the source region, home key', () => {
    const route = evidenceRoute({ accountId: IR, region: 'eu-west-1' }, { irAccountId: IR, evidenceKeyArn: SINGLE, homeRegion: HOME });
    expect(route).toEqual({
      crossAccount: false,
      crossRegion: true,
      homeRegion: HOME,
      hops: [{ kind: 'ir-copy', accountId: IR, region: HOME, sourceRegion: 'eu-west-1', kmsKeyId: SINGLE }],
    });
  });

  it('other account, other region: the workload copy under the replica in the source region, then the IR copy home', () => {
    const route = evidenceRoute({ accountId: MEMBER, region: 'eu-west-1' }, { irAccountId: IR, evidenceKeyArn: MRK, homeRegion: HOME });
    expect(route.hops).toEqual([
      { kind: 'workload-copy', accountId: MEMBER, region: 'eu-west-1', sourceRegion: 'eu-west-1', kmsKeyId: evidenceKeyInRegion(MRK, 'eu-west-1') },
      { kind: 'ir-copy', accountId: IR, region: HOME, sourceRegion: 'eu-west-1', kmsKeyId: MRK },
    ]);
    // Every copy names a key of the region it is made in.
    for (const hop of route.hops) expect(hop.kmsKeyId.split(':')[3]).toBe(hop.region);
  });

  it('another account outside the home region with a single-Region key is unreachable, with the reason', () => {
    const evidence = { irAccountId: IR, evidenceKeyArn: SINGLE, homeRegion: HOME };
    expect(unreachableReason({ accountId: MEMBER, region: HOME }, evidence)).toBeUndefined();
    expect(unreachableReason({ accountId: IR, region: 'eu-west-1' }, evidence)).toBeUndefined();
    expect(unreachableReason({ accountId: MEMBER, region: 'eu-west-1' }, evidence)).toMatch(
      /account 444455556666 in eu-west-1 cannot be acquired .*single-Region key.*forensics:evidenceKeyMultiRegion/,
    );
  });
});

/** An EventBridge GuardDuty finding about an instance of `accountId` in `region`. */
function finding(accountId: string, region: string): NormalizedFinding {
  const [item] = normalize({
    version: '0',
    id: 'e1',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: IR, // the bus that delivered it: the delegated administrator (here the IR account)
    region: HOME,
    time: '2026-11-28T09:00:00Z',
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId,
      region,
      id: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
      type: 'Backdoor:EC2/C&CActivity.B',
      severity: 8,
      resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0123456789abcdef0' } },
      service: { archived: false, count: 1 },
    },
  });
  return item as NormalizedFinding;
}

const manual = (accountId: string, region: string): NormalizedFinding =>
  normalize({ instanceId: 'i-0123456789abcdef0', accountId, region, reason: 'EDR alert', requestedBy: 'alice' })[0] as NormalizedFinding;

describe('which targets a deployment acquires', () => {
  const orgMode: DecisionConfig = {
    ...DEFAULT_DECISION_CONFIG,
    workloadAccounts: [IR],
    organizationId: 'o-abcdef1234',
    excludedAccounts: ['777777777777'],
    workloadRegions: [HOME, 'eu-west-1'],
    evidence: { irAccountId: IR, evidenceKeyArn: MRK, homeRegion: HOME },
  };

  it('organisation mode: a member account\'s finding is acquired, in its own account and region', () => {
    expect(decide(finding(MEMBER, 'eu-west-1'), orgMode)).toMatchObject({
      decision: 'acquire',
      target: { accountId: MEMBER, region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' },
    });
    expect(decide(manual(MEMBER, HOME), orgMode)).toMatchObject({ decision: 'acquire' });
  });

  it('an account list without organisation still ignores other accounts', () => {
    const { organizationId: _org, ...listed } = orgMode;
    expect(decide(finding(MEMBER, HOME), listed)).toMatchObject({ decision: 'ignore', reason: 'account 444455556666 is not a workload account of this deployment' });
  });

  it('an excluded account is ignored with the reason, in organisation mode too', () => {
    expect(decide(finding('777777777777', HOME), orgMode)).toEqual({
      decision: 'ignore',
      reason: 'account 777777777777 is excluded from acquisition in this deployment (forensics:excludedAccounts)',
      finding: expect.objectContaining({ id: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4' }),
    });
  });

  it('a region outside forensics:workloadRegions is ignored with the reason (findings and manual requests)', () => {
    const reason = 'region ap-south-1 is not a workload region of this deployment (forensics:workloadRegions: us-east-1, eu-west-1)';
    expect(decide(finding(MEMBER, 'ap-south-1'), orgMode)).toMatchObject({ decision: 'ignore', reason });
    expect(decide(manual(IR, 'ap-south-1'), orgMode)).toMatchObject({ decision: 'ignore', reason });
  });

  it('a target the evidence key cannot serve is ignored at triage, not failed midway', () => {
    const single = { ...orgMode, evidence: { irAccountId: IR, evidenceKeyArn: SINGLE, homeRegion: HOME } };
    expect(decide(finding(MEMBER, 'eu-west-1'), single)).toMatchObject({ decision: 'ignore', reason: expect.stringMatching(/single-Region key/) });
    // Same account: one hop with the home key, no replica needed.
    expect(decide(finding(IR, 'eu-west-1'), single)).toMatchObject({ decision: 'acquire' });
  });

  it('the offline plan default (no configuration) decides on the finding alone', () => {
    expect(decide(finding(MEMBER, 'ap-south-1'), DEFAULT_DECISION_CONFIG)).toMatchObject({ decision: 'acquire' });
  });
});

describe('triage configuration from the Lambda environment', () => {
  const base: HandlerEnvironment = handlerEnvironmentSchema.parse({
    EVIDENCE_RETENTION_DAYS: '365',
    OBJECT_LOCK_MODE: 'COMPLIANCE',
    CASE_TABLE_NAME: 'cases',
    EVIDENCE_BUCKET: 'evidence',
    EVIDENCE_KEY_ARN: MRK,
    TOPIC_ARN: `arn:aws:sns:${HOME}:${IR}:t`,
    MIN_SEVERITY: '7',
    ACQUIRE_CONTAINER_HOSTS: 'false',
    MAX_WAIT_MINUTES: '60',
    COPY_CONCURRENCY: '2',
    TAG_PREFIX: 'forensics',
    DEFAULT_WORKSTATION: 'false',
    DEFAULT_REVOKE_MODE: 'instance',
    WORKLOAD_ACCOUNTS: IR,
  });

  it('without WORKLOAD_REGIONS acquires the home region only', () => {
    const config = triageConfigFrom(base, 'ap-northeast-1');
    expect(config.workloadRegions).toEqual([HOME]);
    expect(decide(finding(IR, 'eu-west-1'), config)).toMatchObject({ decision: 'ignore', reason: expect.stringMatching(/region eu-west-1 is not a workload region/) });
    expect(decide(finding(IR, HOME), config)).toMatchObject({ decision: 'acquire' });
  });

  it('organisation mode with an exclude list and regions, from ORGANIZATION_ID, EXCLUDED_ACCOUNTS, WORKLOAD_REGIONS', () => {
    const env = handlerEnvironmentSchema.parse({ ...base, ORGANIZATION_ID: 'o-abcdef1234', EXCLUDED_ACCOUNTS: '777777777777', WORKLOAD_REGIONS: `${HOME},eu-west-1` });
    const config = triageConfigFrom(env);
    expect(config).toMatchObject({ organizationId: 'o-abcdef1234', excludedAccounts: ['777777777777'], workloadRegions: [HOME, 'eu-west-1'] });
    expect(decide(finding(MEMBER, 'eu-west-1'), config)).toMatchObject({ decision: 'acquire' });
    expect(decide(finding('777777777777', 'eu-west-1'), config)).toMatchObject({ decision: 'ignore' });
  });

  it('rejects malformed settings naming the variable', () => {
    expect(handlerEnvironmentSchema.safeParse({ ...base, ORGANIZATION_ID: 'org-1' }).error?.issues[0]?.path).toEqual(['ORGANIZATION_ID']);
    expect(handlerEnvironmentSchema.safeParse({ ...base, WORKLOAD_REGIONS: 'us-east-1a' }).error?.issues[0]?.path).toEqual(['WORKLOAD_REGIONS']);
    expect(handlerEnvironmentSchema.safeParse({ ...base, EXCLUDED_ACCOUNTS: '1234' }).error?.issues[0]?.path).toEqual(['EXCLUDED_ACCOUNTS']);
  });
});
