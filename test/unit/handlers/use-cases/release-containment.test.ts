import { AutoScalingClient, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteRolePolicyCommand, IAMClient, ListRolePoliciesCommand, UntagRoleCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2SecurityGroupAdapter } from '../../../../handlers/adapters/ec2-security-group-adapter';
import { IamRoleAdapter } from '../../../../handlers/adapters/iam-role-adapter';
import { ReleaseAutoScalingAdapter, ReleaseTargetGroupAdapter } from '../../../../handlers/adapters/release-adapters';
import type { CaseRecord } from '../../../../handlers/domain/ports';
import type { CaseStatus, CustodyAction } from '../../../../handlers/domain/types';
import { releaseContainment, type ReleasePorts } from '../../../../handlers/use-cases/release-containment';
import { awsError, fixedClock, INSTANCE_ID, REGION, TARGET } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const NOW = '2026-01-11T08:00:00.000Z';
const CASE_ID = '20260110T100000Z-i-0abc1234def567890';
const TG1 = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1';
const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/2';

const ENIS = [
  { networkInterfaceId: 'eni-1', vpcId: 'vpc-1', originalGroupIds: ['sg-web', 'sg-ssh'], transitionGroupId: 'sg-t', isolationGroupId: 'sg-iso1', isolatedAt: NOW },
  { networkInterfaceId: 'eni-2', vpcId: 'vpc-1', originalGroupIds: ['sg-app', 'sg-web', 'sg-db'], transitionGroupId: 'sg-t', isolationGroupId: 'sg-iso1', isolatedAt: NOW },
  { networkInterfaceId: 'eni-3', vpcId: 'vpc-2', originalGroupIds: ['sg-mgmt'], transitionGroupId: 'sg-t2', isolationGroupId: 'sg-iso2', isolatedAt: NOW },
];

function caseRecord(status: CaseStatus, details: Record<string, unknown> = {}): CaseRecord {
  return {
    caseId: CASE_ID,
    status,
    target: TARGET,
    source: 'guardduty',
    openedAt: NOW,
    updatedAt: NOW,
    executionArn: 'arn:exec',
    findings: [],
    custodySeq: 3,
    custodyHeadSha256: 'a'.repeat(64),
    custody: [],
    details: {
      containment: {
        networkInterfaces: ENIS,
        credentials: {
          mode: 'instance',
          status: 'applied',
          policies: [{ roleName: 'web-role', roleArn: 'arn:aws:iam::111122223333:role/web-role', policyName: `forensics-deny-${CASE_ID}`, instanceArn: 'arn:x', previouslyExisted: false, previousDocument: null, appliedAt: NOW }],
        },
      },
      preservation: [
        { action: 'leave-auto-scaling-group', status: 'applied', detail: 'EnterStandby', previous: { autoScalingGroupName: 'web-asg', lifecycleState: 'InService' } },
        { action: 'deregister-targets', status: 'applied', previous: [] },
      ],
      targetGroups: [
        { targetGroupArn: TG1, port: 443 },
        { targetGroupArn: TG1, port: 8443 },
        { targetGroupArn: TG2, port: 80, availabilityZone: 'all' },
      ],
      ...details,
    },
  };
}

interface Fakes {
  record: CaseRecord | undefined;
  updates: Parameters<ReleasePorts['cases']['updateCase']>[];
  custody: CustodyAction[][];
  locks: string[];
}

function ports(fakes: Fakes): ReleasePorts {
  return {
    cases: {
      getCase: async () => fakes.record,
      updateCase: async (...args) => {
        fakes.updates.push(args);
      },
      releaseLock: async (_t, caseId) => {
        fakes.locks.push(caseId);
        return true;
      },
    },
    custody: {
      append: async (_ref, actions) => {
        fakes.custody.push(actions);
        return [];
      },
    },
    adaptersFor: () => ({
      network: new Ec2SecurityGroupAdapter(new EC2Client({ region: REGION })),
      iam: new IamRoleAdapter(new IAMClient({ region: 'us-east-1' })),
      autoScaling: new ReleaseAutoScalingAdapter(new AutoScalingClient({ region: REGION })),
      targetGroups: new ReleaseTargetGroupAdapter(new ElasticLoadBalancingV2Client({ region: REGION })),
    }),
    clock: fixedClock(NOW),
  };
}

const fakes = (record: CaseRecord | undefined): Fakes => ({ record, updates: [], custody: [], locks: [] });
const request = { caseId: CASE_ID, reason: 'cleared by analysis', requestedBy: 'alice', actor: 'forensics-cli release (alice)' };

beforeEach(() => {
  for (const m of [ec2, iam, asg, elb]) m.reset();
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  iam.on(DeleteRolePolicyCommand).resolves({});
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['app-inline'], IsTruncated: false });
  iam.on(UntagRoleCommand).resolves({});
  asg.on(ExitStandbyCommand).resolves({});
  elb.on(RegisterTargetsCommand).resolves({});
});

describe('releaseContainment', () => {
  it('restores exactly the recorded groups on every ENI, deletes the deny policy, returns to ASG and target groups', async () => {
    const f = fakes(caseRecord('CONTAINED'));
    const result = await releaseContainment(ports(f), request);

    const swaps = ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => [c.args[0].input.NetworkInterfaceId, c.args[0].input.Groups]);
    expect(swaps).toEqual(ENIS.map((e) => [e.networkInterfaceId, e.originalGroupIds]));
    expect(iam.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'web-role', PolicyName: `forensics-deny-${CASE_ID}` },
    ]);
    expect(asg.commandCalls(ExitStandbyCommand)[0]?.args[0].input).toEqual({ AutoScalingGroupName: 'web-asg', InstanceIds: [INSTANCE_ID] });
    expect(elb.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG1, Targets: [{ Id: INSTANCE_ID, Port: 443 }, { Id: INSTANCE_ID, Port: 8443 }] },
      { TargetGroupArn: TG2, Targets: [{ Id: INSTANCE_ID, Port: 80, AvailabilityZone: 'all' }] },
    ]);

    expect(result).toMatchObject({ caseId: CASE_ID, status: 'RELEASED', releasedAt: NOW, lockReleased: true });
    expect(f.updates).toHaveLength(1);
    expect(f.updates[0]?.[1]).toMatchObject({ status: 'RELEASED', details: { release: { reason: 'cleared by analysis', requestedBy: 'alice', previousStatus: 'CONTAINED' } } });
    expect(f.locks).toEqual([CASE_ID]);
    const recorded = f.custody.flat();
    expect(recorded.map((a) => a.action)).toEqual([
      'restore-network-interface-groups',
      'restore-network-interface-groups',
      'restore-network-interface-groups',
      'delete-deny-role-policy',
      'return-to-auto-scaling-group',
      'register-targets',
      'register-targets',
      'release-case',
    ]);
    expect(recorded.every((a) => a.status === 'succeeded' && a.step === 'release')).toBe(true);
    expect(recorded[0]?.result.previous).toEqual({ groupIds: ['sg-iso1'] });
  });

  it('touches nothing but the containment: no snapshot, object or legal-hold call exists in its ports', async () => {
    const f = fakes(caseRecord('FAILED'));
    await releaseContainment(ports(f), request);
    const names = [...ec2.calls(), ...iam.calls(), ...asg.calls(), ...elb.calls()].map((c) => (c.args[0] as object).constructor.name);
    expect(new Set(names)).toEqual(new Set(['ModifyNetworkInterfaceAttributeCommand', 'DeleteRolePolicyCommand', 'ExitStandbyCommand', 'RegisterTargetsCommand']));
  });

  it('skips ASG and target groups when acquisition did not take the instance out; skips a detached instance', async () => {
    const f = fakes(
      caseRecord('CONTAINED', {
        preservation: [
          { action: 'leave-auto-scaling-group', status: 'applied', detail: 'DetachInstances (ShouldDecrementDesiredCapacity=false) after …', previous: { autoScalingGroupName: 'web-asg' } },
          { action: 'deregister-targets', status: 'skipped', previous: [] },
        ],
      }),
    );
    await releaseContainment(ports(f), request);
    expect(asg.commandCalls(ExitStandbyCommand)).toHaveLength(0);
    expect(elb.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
    expect(f.custody.flat().find((a) => a.action === 'return-to-auto-scaling-group')?.status).toBe('skipped');
  });

  it('a policy already gone is not an error (deleted: false)', async () => {
    iam.on(DeleteRolePolicyCommand).rejects(awsError('NoSuchEntity'));
    const f = fakes(caseRecord('CONTAINED'));
    await releaseContainment(ports(f), request);
    expect(f.custody.flat().find((a) => a.action === 'delete-deny-role-policy')?.result).toMatchObject({ deleted: false });
  });

  it('refuses an unknown case', async () => {
    await expect(releaseContainment(ports(fakes(undefined)), request)).rejects.toMatchObject({ name: 'CaseNotFound' });
  });

  it('refuses a case still acquiring, and an already released one, without any call', async () => {
    await expect(releaseContainment(ports(fakes(caseRecord('ACQUIRING'))), request)).rejects.toMatchObject({ name: 'CaseStillAcquiring' });
    const released = caseRecord('RELEASED');
    released.details.release = { releasedAt: NOW };
    await expect(releaseContainment(ports(fakes(released)), request)).rejects.toMatchObject({
      name: 'CaseAlreadyReleased',
      message: expect.stringContaining(NOW),
    });
    expect([...ec2.calls(), ...iam.calls(), ...asg.calls(), ...elb.calls()]).toHaveLength(0);
  });

  it('a failed action: the others still run, everything is recorded, the case stays open, and a rerun finishes', async () => {
    ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: 'eni-2' }).rejects(awsError('UnauthorizedOperation'));
    const f = fakes(caseRecord('CONTAINED'));
    await expect(releaseContainment(ports(f), request)).rejects.toMatchObject({ name: 'ReleaseIncomplete' });
    expect(f.locks).toEqual([]);
    expect(f.updates[0]?.[1].status).toBeUndefined();
    const release = f.updates[0]?.[1].details?.release as { succeeded: string[]; failures: string[] };
    expect(release.succeeded).toContain('eni:eni-1');
    expect(release.succeeded).not.toContain('eni:eni-2');
    expect(f.custody.flat().filter((a) => a.status === 'failed').map((a) => a.request.networkInterfaceId)).toEqual(['eni-2']);

    // Rerun with the recorded progress: only what failed is done again.
    ec2.reset();
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    asg.reset();
    const again = fakes(caseRecord('CONTAINED'));
    (again.record as CaseRecord).details.release = release;
    await releaseContainment(ports(again), request);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.NetworkInterfaceId)).toEqual(['eni-2']);
    expect(asg.commandCalls(ExitStandbyCommand)).toHaveLength(0);
    expect(again.locks).toEqual([CASE_ID]);
  });
});

describe('releaseContainment: the containment tag on the role', () => {
  const POLICY = `forensics-deny-${CASE_ID}`;
  const TAG = { key: 'forensics:contained', value: CASE_ID, previousValue: null, status: 'applied' as const };
  const tagged = (tag: object = TAG) =>
    caseRecord('CONTAINED', {
      containment: {
        networkInterfaces: [],
        credentials: {
          mode: 'instance',
          status: 'applied',
          policies: [{ roleName: 'web-role', roleArn: 'arn:aws:iam::111122223333:role/web-role', policyName: POLICY, instanceArn: 'arn:x', previouslyExisted: false, previousDocument: null, appliedAt: NOW, containmentTag: tag }],
        },
      },
      preservation: [],
    });

  it('deletes the deny policy, then removes the tag when no deny policy of this product is left', async () => {
    // Prepare
    const f = fakes(tagged());
    const order: string[] = [];
    iam.on(DeleteRolePolicyCommand).callsFake(() => {
      order.push('delete');
      return {};
    });
    iam.on(UntagRoleCommand).callsFake(() => {
      order.push('untag');
      return {};
    });
    // Act
    const result = await releaseContainment(ports(f), request);
    // Assess
    expect(order).toEqual(['delete', 'untag']);
    expect(iam.commandCalls(UntagRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'web-role', TagKeys: ['forensics:contained'] }]);
    expect(result.actions.find((a) => a.action === 'untag-contained-role')).toMatchObject({
      status: 'succeeded',
      request: { roleName: 'web-role', tagKey: 'forensics:contained' },
      result: { untagged: true, previous: { 'forensics:contained': CASE_ID, before: null } },
    });
  });

  it('keeps the tag while another case\'s deny policy is still on the role (its release needs the tag)', async () => {
    // Prepare
    const f = fakes(tagged());
    iam.on(ListRolePoliciesCommand).resolvesOnce({ PolicyNames: ['app-inline'], IsTruncated: true, Marker: 'p2' });
    iam.on(ListRolePoliciesCommand, { RoleName: 'web-role', Marker: 'p2' }).resolves({ PolicyNames: ['forensics-deny-20260109T000000Z-i-0fff'], IsTruncated: false });
    // Act
    const result = await releaseContainment(ports(f), request);
    // Assess
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0);
    expect(result.actions.find((a) => a.action === 'untag-contained-role')?.result).toMatchObject({
      untagged: false,
      note: expect.stringContaining('forensics-deny-20260109T000000Z-i-0fff'),
    });
  });

  it('keeps the tag when its own policy could not be deleted (the failure is recorded, a rerun finishes)', async () => {
    // Prepare
    const f = fakes(tagged());
    iam.on(DeleteRolePolicyCommand).rejects(awsError('AccessDenied', 'not authorized to perform iam:DeleteRolePolicy'));
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [POLICY], IsTruncated: false });
    // Act
    await expect(releaseContainment(ports(f), request)).rejects.toThrow('DeleteRolePolicy');
    // Assess
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0);
  });

  it('never touches a tag this case did not set (tagging failed at containment, or a case from before the tag)', async () => {
    // Prepare / Act
    await releaseContainment(ports(fakes(tagged({ ...TAG, status: 'failed', error: 'AccessDenied' }))), request);
    await releaseContainment(ports(fakes(caseRecord('CONTAINED'))), request);
    // Assess
    expect(iam.commandCalls(ListRolePoliciesCommand)).toHaveLength(0);
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0);
  });
});
