import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetInstanceProfileCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ec2SecurityGroupAdapter } from '../../../../handlers/adapters/ec2-security-group-adapter';
import { IamRoleAdapter } from '../../../../handlers/adapters/iam-role-adapter';
import { Ec2InstanceProfileAdapter } from '../../../../handlers/adapters/instance-profile-adapter';
import { ReleaseAutoScalingAdapter, ReleaseTargetGroupAdapter } from '../../../../handlers/adapters/release-adapters';
import type { HandlerEnvironment } from '../../../../handlers/config/env';
import { mergeOptions, parseManualRequest } from '../../../../handlers/domain/manual-request';
import type { CaseRecord } from '../../../../handlers/domain/ports';
import type { AcquisitionState, CaseRef, CustodyAction, ProfileQuarantine } from '../../../../handlers/domain/types';
import { createIsolateNetworkHandler } from '../../../../handlers/isolate-network';
import { quarantineInstanceProfile } from '../../../../handlers/use-cases/quarantine-profile';
import { releaseContainment, type ReleasePorts } from '../../../../handlers/use-cases/release-containment';
import { adapters, awsError, CASE, describeResult, fixedClock, INSTANCE_ID, preIncident, REGION, TARGET } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const NOW = '2026-01-10T10:05:00.000Z';
const ORIGINAL = 'arn:aws:iam::111122223333:instance-profile/app/web-profile';
const QUARANTINE = 'arn:aws:iam::111122223333:instance-profile/forensics-quarantine';

const profiles = () => new Ec2InstanceProfileAdapter(new EC2Client({ region: REGION }));
const associations = (...list: { id: string; arn: string; state?: string }[]) =>
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations: list.map((a) => ({
      AssociationId: a.id,
      InstanceId: INSTANCE_ID,
      IamInstanceProfile: { Arn: a.arn, Id: 'AIPA' },
      State: (a.state ?? 'associated') as never,
    })),
  });

const run = (opts: { requested?: boolean; arn?: string | undefined; pre?: ReturnType<typeof preIncident>; caseRef?: CaseRef } = {}) =>
  quarantineInstanceProfile(
    { profiles: profiles(), clock: fixedClock(NOW) },
    {
      caseRef: opts.caseRef ?? CASE,
      preIncident: opts.pre ?? preIncident({ iamInstanceProfile: { arn: ORIGINAL, associationId: 'iip-assoc-1' } }),
      requested: opts.requested ?? true,
      ...('arn' in opts ? (opts.arn ? { quarantineProfileArn: opts.arn } : {}) : { quarantineProfileArn: QUARANTINE }),
    },
  );

beforeEach(() => {
  ec2.reset();
  iam.reset();
  ec2.on(ReplaceIamInstanceProfileAssociationCommand).resolves({ IamInstanceProfileAssociation: { AssociationId: 'iip-assoc-q' } });
  ec2.on(AssociateIamInstanceProfileCommand).resolves({ IamInstanceProfileAssociation: { AssociationId: 'iip-assoc-q' } });
  ec2.on(DisassociateIamInstanceProfileCommand).resolves({});
});

describe('quarantineInstanceProfile', () => {
  it('on: replaces the current association with the quarantine profile and records the previous one', async () => {
    associations({ id: 'iip-assoc-1', arn: ORIGINAL });
    const { quarantine, actions } = await run();
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).map((c) => c.args[0].input)).toEqual([
      { AssociationId: 'iip-assoc-1', IamInstanceProfile: { Arn: QUARANTINE } },
    ]);
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(0);
    expect(quarantine).toEqual({
      status: 'applied',
      quarantineProfileArn: QUARANTINE,
      previous: { associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL },
      method: 'replace',
      associationId: 'iip-assoc-q',
      appliedAt: NOW,
    });
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      step: 'isolateNetwork',
      action: 'quarantine-instance-profile',
      status: 'succeeded',
      request: { instanceId: INSTANCE_ID, quarantineProfileArn: QUARANTINE, method: 'replace', associationId: 'iip-assoc-1' },
      result: { previous: { associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL }, associationId: 'iip-assoc-q' },
    });
  });

  it('off: no call, nothing recorded', async () => {
    const out = await run({ requested: false });
    expect(out).toEqual({ actions: [] });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('no profile before: associates the quarantine profile; previous is null', async () => {
    associations();
    const { quarantine } = await run({ pre: preIncident({ iamInstanceProfile: undefined }) });
    expect(ec2.commandCalls(AssociateIamInstanceProfileCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: INSTANCE_ID, IamInstanceProfile: { Arn: QUARANTINE } },
    ]);
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(quarantine).toMatchObject({ status: 'applied', method: 'associate', previous: null, associationId: 'iip-assoc-q' });
  });

  it('a retried step finds the quarantine profile already there: applied, no change, previous from the pre-incident state', async () => {
    associations({ id: 'iip-assoc-q', arn: QUARANTINE });
    const { quarantine, actions } = await run();
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(quarantine).toMatchObject({ status: 'applied', associationId: 'iip-assoc-q', previous: { associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL } });
    expect(actions[0]?.result).toMatchObject({ alreadyQuarantined: true });
  });

  it('skips, recorded, when no quarantine profile is deployed, or it is in another account', async () => {
    const none = await run({ arn: undefined });
    expect(none.quarantine).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/no quarantine instance profile is deployed/) });
    expect(none.actions[0]).toMatchObject({ action: 'quarantine-instance-profile', status: 'skipped' });
    const other = await run({ arn: 'arn:aws:iam::999988887777:instance-profile/forensics-quarantine' });
    expect(other.quarantine).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/account 999988887777.*single-account/) });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('failure is recorded with the association it tried to replace (never thrown)', async () => {
    associations({ id: 'iip-assoc-1', arn: ORIGINAL });
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).rejects(awsError('UnauthorizedOperation', 'not authorized'));
    const { quarantine, actions } = await run();
    expect(quarantine).toMatchObject({
      status: 'failed',
      reason: 'UnauthorizedOperation: not authorized',
      previous: { associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL },
    });
    expect(actions[0]).toMatchObject({ status: 'failed', request: { method: 'replace', associationId: 'iip-assoc-1' } });
  });

  it('a failed describe is recorded too', async () => {
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(awsError('RequestLimitExceeded'));
    const { quarantine } = await run();
    expect(quarantine?.status).toBe('failed');
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
  });
});

describe('manual request option', () => {
  it('accepts options.quarantineProfile and keeps it absent (deployment default) when unset', () => {
    const base = { instanceId: INSTANCE_ID, accountId: TARGET.accountId, region: REGION, reason: 'r', requestedBy: 'alice' };
    expect(parseManualRequest({ ...base, options: { quarantineProfile: true } }).options).toEqual({ quarantineProfile: true });
    expect(() => parseManualRequest({ ...base, options: { quarantineProfile: 'yes' } })).toThrow(/options\.quarantineProfile/);
    expect(mergeOptions({ workstation: false, revoke: 'instance' }, { quarantineProfile: false })).toEqual({ workstation: false, revoke: 'instance', quarantineProfile: false });
    expect(mergeOptions({ workstation: false, revoke: 'instance' }, {})).toEqual({ workstation: false, revoke: 'instance' });
  });
});

describe('isolate-network entry: quarantine after the deny policy', () => {
  const PROFILE_ROLE = { RoleName: 'web-role', Arn: 'arn:aws:iam::111122223333:role/web-role', Path: '/', RoleId: 'AROA1', CreateDate: new Date() };
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    iam.on(GetInstanceProfileCommand).resolves({
      InstanceProfile: { InstanceProfileName: 'web-profile', InstanceProfileId: 'AIPA1', Arn: ORIGINAL, Path: '/app/', CreateDate: new Date(), Roles: [PROFILE_ROLE] },
    });
    iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity'));
    iam.on(PutRolePolicyCommand).resolves({});
    associations({ id: 'iip-assoc-1', arn: ORIGINAL });
  });
  afterEach(() => vi.restoreAllMocks());

  const env = (extra: Partial<HandlerEnvironment> = {}) => () =>
    ({ TAG_PREFIX: 'forensics', DEFAULT_REVOKE_MODE: 'instance', QUARANTINE_PROFILE_ARN: QUARANTINE, ...extra }) as HandlerEnvironment;
  const handler = (e: () => HandlerEnvironment) =>
    createIsolateNetworkHandler({
      env: e,
      clock: fixedClock(NOW),
      adaptersFor: () => adapters() as never,
      iam: () => new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })),
      profiles,
    });
  function state(options: Partial<CaseRef['options']> = {}): AcquisitionState {
    const d = describeResult({ iamInstanceProfile: { arn: ORIGINAL, associationId: 'iip-assoc-1' } });
    d.isolationGroups = d.preIncident.networkInterfaces.map((n) => ({ vpcId: n.vpcId, transitionGroupId: 'sg-t', isolationGroupId: 'sg-i' }));
    return { outcome: 'ACQUIRE', case: { ...CASE, options: { ...CASE.options, ...options } }, describe: d };
  }

  it('deployment default on: deny policy, then quarantine; both in containment.credentials and the actions, in order', async () => {
    const out = await handler(env({ DEFAULT_QUARANTINE_PROFILE: 'true' }))(state());
    expect(out.credentials).toMatchObject({ status: 'applied', roleName: 'web-role', quarantine: { status: 'applied', associationId: 'iip-assoc-q' } });
    expect(out.actions.slice(-3).map((a) => a.action)).toEqual(['put-deny-role-policy', 'tag-contained-role', 'quarantine-instance-profile']);
  });

  it('the case option wins over the deployment default, both ways', async () => {
    const off = await handler(env({ DEFAULT_QUARANTINE_PROFILE: 'true' }))(state({ quarantineProfile: false }));
    expect(off.credentials?.quarantine).toBeUndefined();
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    const on = await handler(env())(state({ quarantineProfile: true }));
    expect(on.credentials?.quarantine?.status).toBe('applied');
  });

  it('a failed quarantine is recorded and does not undo the network containment', async () => {
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).rejects(awsError('UnauthorizedOperation'));
    const out = await handler(env())(state({ quarantineProfile: true }));
    expect(out.networkInterfaces.length).toBeGreaterThan(0);
    expect(out.credentials).toMatchObject({ status: 'applied', quarantine: { status: 'failed' } });
    expect(out.actions.at(-1)).toMatchObject({ action: 'quarantine-instance-profile', status: 'failed' });
  });
});

describe('release restores the instance profile', () => {
  const CASE_ID = CASE.caseId;
  function record(quarantine: ProfileQuarantine): CaseRecord {
    return {
      caseId: CASE_ID,
      status: 'CONTAINED',
      target: TARGET,
      source: 'manual',
      openedAt: NOW,
      updatedAt: NOW,
      executionArn: 'arn:exec',
      findings: [],
      custodySeq: 3,
      custodyHeadSha256: 'a'.repeat(64),
      custody: [],
      details: { containment: { networkInterfaces: [], credentials: { mode: 'none', status: 'skipped', policies: [], quarantine } } },
    };
  }
  function ports(r: CaseRecord, custody: CustodyAction[][], withProfiles = true): ReleasePorts {
    return {
      cases: { getCase: async () => r, updateCase: async () => undefined, releaseLock: async () => true },
      custody: {
        append: async (_ref, actions) => {
          custody.push(actions);
          return [];
        },
      },
      adaptersFor: () => ({
        network: new Ec2SecurityGroupAdapter(new EC2Client({ region: REGION })),
        iam: new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })),
        ...(withProfiles ? { instanceProfiles: profiles() } : {}),
        autoScaling: new ReleaseAutoScalingAdapter(new AutoScalingClient({ region: REGION })),
        targetGroups: new ReleaseTargetGroupAdapter(new ElasticLoadBalancingV2Client({ region: REGION })),
      }),
      clock: fixedClock(NOW),
    };
  }
  const request = { caseId: CASE_ID, reason: 'cleared', actor: 'test' };
  const applied = (previous: ProfileQuarantine['previous']): ProfileQuarantine => ({
    status: 'applied',
    quarantineProfileArn: QUARANTINE,
    previous,
    method: previous ? 'replace' : 'associate',
    associationId: 'iip-assoc-q',
    appliedAt: NOW,
  });

  it('replaces the quarantine association with the original profile, recorded', async () => {
    associations({ id: 'iip-assoc-q', arn: QUARANTINE });
    const custody: CustodyAction[][] = [];
    await releaseContainment(ports(record(applied({ associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL })), custody), request);
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).map((c) => c.args[0].input)).toEqual([
      { AssociationId: 'iip-assoc-q', IamInstanceProfile: { Arn: ORIGINAL } },
    ]);
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(0);
    const action = custody.flat().find((a) => a.action === 'restore-instance-profile');
    expect(action).toMatchObject({
      status: 'succeeded',
      request: { instanceId: INSTANCE_ID, instanceProfileArn: ORIGINAL, method: 'replace' },
      result: { previous: { instanceProfileArn: QUARANTINE, associationId: 'iip-assoc-q' }, replaced: 'iip-assoc-q' },
    });
  });

  it('no profile before: disassociates the quarantine profile', async () => {
    associations({ id: 'iip-assoc-q', arn: QUARANTINE });
    const custody: CustodyAction[][] = [];
    await releaseContainment(ports(record(applied(null)), custody), request);
    expect(ec2.commandCalls(DisassociateIamInstanceProfileCommand).map((c) => c.args[0].input)).toEqual([{ AssociationId: 'iip-assoc-q' }]);
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(custody.flat().find((a) => a.action === 'restore-instance-profile')).toMatchObject({
      status: 'succeeded',
      request: { instanceProfileArn: null, method: 'disassociate' },
      result: { disassociated: 'iip-assoc-q' },
    });
  });

  it('leaves a profile set since containment alone (said so), and does nothing for a skipped or failed quarantine', async () => {
    associations({ id: 'iip-assoc-x', arn: 'arn:aws:iam::111122223333:instance-profile/someone-else' });
    const custody: CustodyAction[][] = [];
    await releaseContainment(ports(record(applied({ associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL })), custody), request);
    expect(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)).toHaveLength(0);
    expect(custody.flat().find((a) => a.action === 'restore-instance-profile')?.result).toMatchObject({ changed: false, note: expect.stringMatching(/left as it is/) });

    ec2.resetHistory();
    const none: CustodyAction[][] = [];
    await releaseContainment(ports(record({ status: 'failed', reason: 'x', quarantineProfileArn: QUARANTINE }), none), request);
    expect(none.flat().map((a) => a.action)).toEqual(['release-case']);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('a failed restore (or no adapter) makes the release incomplete and recorded', async () => {
    associations({ id: 'iip-assoc-q', arn: QUARANTINE });
    ec2.on(ReplaceIamInstanceProfileAssociationCommand).rejects(awsError('UnauthorizedOperation'));
    const custody: CustodyAction[][] = [];
    const r = record(applied({ associationId: 'iip-assoc-1', instanceProfileArn: ORIGINAL }));
    await expect(releaseContainment(ports(r, custody), request)).rejects.toMatchObject({ name: 'ReleaseIncomplete' });
    expect(custody.flat().find((a) => a.action === 'restore-instance-profile')?.status).toBe('failed');
    await expect(releaseContainment(ports(r, [], false), request)).rejects.toMatchObject({ name: 'ReleaseIncomplete' });
  });
});
