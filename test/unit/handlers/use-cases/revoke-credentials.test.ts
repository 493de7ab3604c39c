import {
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IamRoleAdapter, decodePolicyDocument } from '../../../../handlers/adapters/iam-role-adapter';
import type { HandlerEnvironment } from '../../../../handlers/config/env';
import {
  denyPolicyName,
  instanceProfileNameFromArn,
  MAX_POLICY_NAME_LENGTH,
  partitionOf,
  revocationPolicyDocument,
} from '../../../../handlers/domain/revocation-policy';
import type { AcquisitionState, RevokeMode } from '../../../../handlers/domain/types';
import type { EvidenceDeps } from '../../../../handlers/composition/evidence';
import { createRecordContainmentHandler } from '../../../../handlers/record-containment';
import { createIsolateNetworkHandler } from '../../../../handlers/isolate-network';
import { revokeCredentials } from '../../../../handlers/use-cases/revoke-credentials';
import { adapters, awsError, CASE, describeResult, fixedClock, INSTANCE_ID, preIncident, REGION } from '../../../support/ec2-test-fixtures';
import { FakeCaseTable, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';
import { verifyChain } from '../../../../handlers/domain/custody-record';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';

const iam = mockClient(IAMClient);
const NOW = '2026-01-10T10:05:00.000Z';
const PROFILE_ARN = 'arn:aws:iam::111122223333:instance-profile/app/web-profile';
const ROLE = { RoleName: 'web-role', Arn: 'arn:aws:iam::111122223333:role/web-role', Path: '/', RoleId: 'AROA1', CreateDate: new Date() };
const EXPECTED_ARN = `arn:aws:ec2:${REGION}:111122223333:instance/${INSTANCE_ID}`;
const POLICY = `forensics-deny-${CASE.caseId}`;

const deps = () => ({ iam: new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })), clock: fixedClock(NOW), containedTagKey: 'forensics:contained' });
const run = (mode: RevokeMode, pre = preIncident({ iamInstanceProfile: { arn: PROFILE_ARN } })) =>
  revokeCredentials(deps(), { caseRef: CASE, preIncident: pre, mode });

function profileWith(...roles: (typeof ROLE)[]) {
  iam.on(GetInstanceProfileCommand, { InstanceProfileName: 'web-profile' }).resolves({
    InstanceProfile: { InstanceProfileName: 'web-profile', InstanceProfileId: 'AIPA1', Arn: PROFILE_ARN, Path: '/app/', CreateDate: new Date(), Roles: roles },
  });
}

beforeEach(() => {
  iam.reset();
  iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity'));
  iam.on(PutRolePolicyCommand).resolves({});
  iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'web' }], IsTruncated: false });
  iam.on(TagRoleCommand).resolves({});
});

describe('revocation policy (pure)', () => {
  it('mode instance: exactly one deny-all conditioned on this instance\'s ARN', () => {
    expect(revocationPolicyDocument({ mode: 'instance', instanceArn: EXPECTED_ARN })).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ForensicsDenyCompromisedInstance',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'ec2:SourceInstanceARN': EXPECTED_ARN } },
        },
      ],
    });
  });

  it('mode role: additionally denies sessions issued before now', () => {
    const doc = revocationPolicyDocument({ mode: 'role', instanceArn: EXPECTED_ARN, issuedBefore: NOW });
    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[1]).toEqual({
      Sid: 'ForensicsRevokeOlderSessions',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW } },
    });
    expect(() => revocationPolicyDocument({ mode: 'role', instanceArn: EXPECTED_ARN })).toThrow(/issuedBefore/);
  });

  it('policy name carries the case id and stays within 128 valid characters', () => {
    expect(denyPolicyName('20260110T100000Z-i-0abc1234def567890')).toBe('forensics-deny-20260110T100000Z-i-0abc1234def567890');
    const long = denyPolicyName(`${'x'.repeat(200)}/bad`);
    expect(long.length).toBe(MAX_POLICY_NAME_LENGTH);
    expect(denyPolicyName('a/b c')).toMatch(/^[\w+=,.@-]+$/);
  });

  it('parses profile names and partitions', () => {
    expect(instanceProfileNameFromArn(PROFILE_ARN)).toBe('web-profile');
    expect(instanceProfileNameFromArn('arn:aws:iam::111122223333:instance-profile/p')).toBe('p');
    expect(instanceProfileNameFromArn('not-an-arn')).toBeUndefined();
    expect(partitionOf('arn:aws-cn:iam::111122223333:role/r')).toBe('aws-cn');
    expect(partitionOf(undefined)).toBe('aws');
  });

  it('decodes URL-encoded documents as IAM returns them', () => {
    expect(decodePolicyDocument(encodeURIComponent('{"a":1}'))).toBe('{"a":1}');
    expect(decodePolicyDocument('{"a":1}')).toBe('{"a":1}');
  });
});

describe('revokeCredentials', () => {
  it('instance (default): puts the scoped deny on the profile\'s role and records the previous state', async () => {
    profileWith(ROLE);
    const { credentials, actions } = await run('instance');
    const put = iam.commandCalls(PutRolePolicyCommand);
    expect(put).toHaveLength(1);
    expect(put[0]?.args[0].input.RoleName).toBe('web-role');
    expect(put[0]?.args[0].input.PolicyName).toBe(POLICY);
    const doc = JSON.parse(put[0]?.args[0].input.PolicyDocument ?? '{}');
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Condition).toEqual({ StringEquals: { 'ec2:SourceInstanceARN': EXPECTED_ARN } });
    expect(credentials).toMatchObject({ mode: 'instance', status: 'applied', roleName: 'web-role', instanceProfileArn: PROFILE_ARN });
    expect(credentials.policies).toEqual([
      {
        roleName: 'web-role',
        roleArn: ROLE.Arn,
        policyName: POLICY,
        instanceArn: EXPECTED_ARN,
        previouslyExisted: false,
        previousDocument: null,
        appliedAt: NOW,
        containmentTag: { key: 'forensics:contained', value: CASE.caseId, previousValue: null, status: 'applied' },
      },
    ]);
    expect(actions).toHaveLength(2);
    expect(actions[0]).toMatchObject({ step: 'isolateNetwork', action: 'put-deny-role-policy', status: 'succeeded' });
    expect(actions[0]?.result.previous).toEqual({ policyExisted: false, document: null });
    expect(actions[1]).toMatchObject({ step: 'isolateNetwork', action: 'tag-contained-role', status: 'succeeded' });
  });

  it('tags the contained role with the case id (only the containment key), after the deny policy is in place', async () => {
    // Prepare
    profileWith(ROLE);
    const order: string[] = [];
    iam.on(PutRolePolicyCommand).callsFake(() => {
      order.push('put');
      return {};
    });
    iam.on(TagRoleCommand).callsFake(() => {
      order.push('tag');
      return {};
    });
    // Act
    await run('instance');
    // Assess
    expect(order).toEqual(['put', 'tag']);
    expect(iam.commandCalls(TagRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'web-role', Tags: [{ Key: 'forensics:contained', Value: CASE.caseId }] },
    ]);
  });

  it('records the tag value another case left on the role (release keeps the tag while that case\'s policy remains)', async () => {
    // Prepare
    profileWith(ROLE);
    iam.on(ListRoleTagsCommand).resolvesOnce({ Tags: [{ Key: 'a', Value: '1' }], IsTruncated: true, Marker: 'm1' });
    iam.on(ListRoleTagsCommand, { RoleName: 'web-role', Marker: 'm1' }).resolves({ Tags: [{ Key: 'forensics:contained', Value: 'other-case' }], IsTruncated: false });
    // Act
    const { credentials, actions } = await run('instance');
    // Assess
    expect(credentials.policies[0]?.containmentTag).toEqual({ key: 'forensics:contained', value: CASE.caseId, previousValue: 'other-case', status: 'applied' });
    expect(actions[1]?.result.previous).toEqual({ 'forensics:contained': 'other-case' });
  });

  it('a refused TagRole leaves the containment in place, recorded as a failed tagging (release then needs a person)', async () => {
    // Prepare
    profileWith(ROLE);
    iam.on(TagRoleCommand).rejects(awsError('AccessDenied', 'not authorized to perform iam:TagRole'));
    // Act
    const { credentials, actions } = await run('instance');
    // Assess
    expect(credentials.status).toBe('applied');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
    expect(credentials.policies[0]?.containmentTag).toMatchObject({ status: 'failed', error: expect.stringContaining('AccessDenied') });
    expect(actions.map((a) => [a.action, a.status])).toEqual([
      ['put-deny-role-policy', 'succeeded'],
      ['tag-contained-role', 'failed'],
    ]);
  });

  it('role: adds the TokenIssueTime deny with the time of the step', async () => {
    profileWith(ROLE);
    const { credentials } = await run('role');
    const doc = JSON.parse(iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? '{}');
    expect(doc.Statement.map((s: { Condition: unknown }) => s.Condition)).toEqual([
      { StringEquals: { 'ec2:SourceInstanceARN': EXPECTED_ARN } },
      { DateLessThan: { 'aws:TokenIssueTime': NOW } },
    ]);
    expect(credentials.policies[0]?.issuedBefore).toBe(NOW);
  });

  it('records an already existing policy of that name (a retried step) as the previous state', async () => {
    profileWith(ROLE);
    iam.on(GetRolePolicyCommand).resolves({ RoleName: 'web-role', PolicyName: POLICY, PolicyDocument: encodeURIComponent('{"old":true}') });
    const { credentials } = await run('instance');
    expect(credentials.policies[0]).toMatchObject({ previouslyExisted: true, previousDocument: '{"old":true}' });
  });

  it.each([
    ['none', preIncident({ iamInstanceProfile: { arn: PROFILE_ARN } }), 'revoke mode is none'],
    ['instance', preIncident({ iamInstanceProfile: undefined }), 'the instance has no IAM instance profile'],
  ] as const)('skips mode=%s cleanly without calling IAM', async (mode, pre, reason) => {
    const { credentials, actions } = await run(mode, pre);
    expect(credentials).toEqual({ mode, status: 'skipped', reason, policies: [] });
    expect(actions[0]).toMatchObject({ action: 'revoke-credentials', status: 'skipped', result: { reason } });
    expect(iam.calls()).toHaveLength(0);
  });

  it('skips a service-linked role', async () => {
    profileWith({ ...ROLE, RoleName: 'AWSServiceRoleForX', Path: '/aws-service-role/x.amazonaws.com/', Arn: 'arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX' });
    const { credentials } = await run('instance');
    expect(credentials.status).toBe('skipped');
    expect(credentials.reason).toMatch(/service-linked/);
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('skips a profile without role, and a profile that no longer exists', async () => {
    profileWith();
    expect((await run('instance')).credentials.reason).toBe('the instance profile has no role');
    iam.on(GetInstanceProfileCommand).rejects(awsError('NoSuchEntity'));
    expect((await run('instance')).credentials.reason).toBe('the instance profile no longer exists');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('reports a failure (never throws) and records it', async () => {
    profileWith(ROLE);
    iam.on(PutRolePolicyCommand).rejects(awsError('AccessDenied', 'not authorized'));
    const { credentials, actions } = await run('instance');
    expect(credentials).toMatchObject({ status: 'failed', roleName: 'web-role', policies: [] });
    expect(credentials.reason).toMatch(/AccessDenied/);
    expect(actions[0]).toMatchObject({ action: 'revoke-credentials', status: 'failed' });
    expect(actions[0]?.request.policyName).toBe(POLICY);
  });

  it('reports a failed GetInstanceProfile', async () => {
    iam.on(GetInstanceProfileCommand).rejects(awsError('ServiceFailure'));
    const { credentials } = await run('instance');
    expect(credentials.status).toBe('failed');
  });
});

describe('isolate-network entry: credentials after the network, failures do not abort', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    ec2.reset();
    vi.restoreAllMocks();
  });
  const env = () => ({ TAG_PREFIX: 'forensics', DEFAULT_REVOKE_MODE: 'instance' }) as HandlerEnvironment;

  function state(): AcquisitionState {
    const d = describeResult({ iamInstanceProfile: { arn: PROFILE_ARN } });
    d.isolationGroups = d.preIncident.networkInterfaces.map((n) => ({ vpcId: n.vpcId, transitionGroupId: 'sg-t', isolationGroupId: 'sg-i' }));
    return { outcome: 'ACQUIRE', case: CASE, describe: d };
  }

  it('returns the network containment with credentials failed when IAM fails; "Record containment" puts the failure in custody', async () => {
    // Prepare: working evidence deps (in-memory case table, mocked Object Lock bucket), IAM refusing the deny policy.
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    profileWith(ROLE);
    iam.on(PutRolePolicyCommand).rejects(awsError('AccessDenied', 'not authorized to perform iam:PutRolePolicy'));
    const bucket = mockEvidenceBucket();
    const cases = new FakeCaseTable();
    cases.seed(CASE);
    const clock = steppingClock();
    const custody = new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'isolate' }, sleep: async () => {} });
    const handler = createIsolateNetworkHandler({
      env,
      clock: fixedClock(NOW),
      adaptersFor: () => adapters() as never,
      iam: () => new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })),
    });
    const record = createRecordContainmentHandler({ evidence: () => ({ cases, store: bucket.store, custody, clock }) as unknown as EvidenceDeps });

    // Act: the containment, then the next state with the containment in the execution state.
    const out = await handler(state());
    const recording = await record({ ...state(), containment: out });
    bucket.s3.restore();

    // Assess: the network is contained, the credentials failure is in the result and in the written custody log.
    expect(out.networkInterfaces.length).toBeGreaterThan(0);
    expect(out.credentials?.status).toBe('failed');
    expect(recording).toMatchObject({ custody: 'written' });
    const records = cases.cases.get(CASE.caseId)!.custody.map((o) => JSON.parse(bucket.objects.get(o.key)!.body));
    expect(records.some((r) => r.action === 'isolate-network-interface' && r.status === 'succeeded')).toBe(true);
    const failed = records.filter((r) => r.status === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({ step: 'isolateNetwork', action: 'revoke-credentials', result: expect.objectContaining({ error: expect.stringContaining('AccessDenied') }) }),
    ]);
    expect(verifyChain(cases.cases.get(CASE.caseId)!.custody.map((o) => bucket.objects.get(o.key)!.body)).valid).toBe(true);
  });

  it('uses the case option over the deployment default', async () => {
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const handler = createIsolateNetworkHandler({
      env,
      clock: fixedClock(NOW),
      adaptersFor: () => adapters() as never,
      iam: () => new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })),
    });
    const s = state();
    s.case = { ...CASE, options: { workstation: false, revoke: 'none' } };
    const out = await handler(s);
    expect(out.credentials).toMatchObject({ mode: 'none', status: 'skipped' });
    expect(iam.calls()).toHaveLength(0);
  });
});
