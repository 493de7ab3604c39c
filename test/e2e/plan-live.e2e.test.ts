import {
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LivePlan, runPlanLive } from '../../cli/commands/plan-live';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { seedVictim, type Victim } from '../../cli/local/seed-victim';
import { addClientMiddleware } from '../support/aws-call-hooks';

/**
 * `forensics plan --live` on moto: the plan names what acquisition would change, and nothing changes — every call
 * it makes is recorded and read-only, and the emulator's state is the same before and after.
 */
let env: LocalEnvironment;
let victim: Victim;
let ec2: EC2Client;

async function state(): Promise<unknown> {
  const config = emulatorClientConfig(env);
  const iam = new IAMClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: victim.networkInterfaceIds }));
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({}));
  const snaps = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
  const volumes = await ec2.send(new DescribeVolumesCommand({ VolumeIds: victim.volumeIds }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }));
  const shutdown = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }),
  );
  const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: victim.roleName }));
  const health = victim.targetGroupArn ? await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: victim.targetGroupArn })) : undefined;
  return {
    enis: (enis.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId, (n.Groups ?? []).map((g) => g.GroupId).sort(), n.TagSet]),
    groups: (groups.SecurityGroups ?? []).map((g) => `${g.GroupId}:${g.GroupName}`).sort(),
    snapshots: (snaps.Snapshots ?? []).map((s) => s.SnapshotId).sort(),
    volumes: (volumes.Volumes ?? []).map((v) => [v.VolumeId, v.Attachments?.map((a) => a.DeleteOnTermination), v.Tags]),
    termination: termination.DisableApiTermination?.Value,
    shutdown: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    policies: policies.PolicyNames,
    targets: (health?.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id),
  };
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  ec2 = new EC2Client(emulatorClientConfig(env));
  victim = await seedVictim(env);
});

afterAll(async () => {
  await env?.stop();
});

describe('forensics plan --live (emulator)', () => {
  it('prints what acquisition would change, with read-only calls only, and changes nothing', async () => {
    const before = await state();
    const calls: string[] = [];
    const remove = addClientMiddleware((call, next) => {
      calls.push(`${call.service}:${call.command}`);
      return next();
    });
    const out: string[] = [];
    const err: string[] = [];
    let code: number;
    try {
      code = await runPlanLive(
        { instance: victim.instanceId, account: env.accountId, region: env.region, endpoint: env.endpoint, output: 'json', revoke: 'role' },
        { out: (l) => out.push(l), err: (l) => err.push(l) },
      );
    } finally {
      remove();
    }
    expect(code, err.join('\n')).toBe(0);
    const plan = JSON.parse(out[0] ?? '{}') as LivePlan;

    expect(plan.snapshots.map((s) => s.volumeId).sort()).toEqual([...victim.volumeIds].sort());
    for (const s of plan.snapshots) expect(s.deviceName).toMatch(/^\/dev\//);
    expect(plan.networkInterfaces.map((n) => n.networkInterfaceId).sort()).toEqual([...victim.networkInterfaceIds].sort());
    for (const n of plan.networkInterfaces) {
      expect(n.currentGroups.map((g) => g.groupId).sort()).toEqual([...(victim.originalGroups[n.networkInterfaceId] ?? [])].sort());
      // A fresh VPC has no isolation group yet: it would be created.
      expect(n.isolationGroup.create ?? n.isolationGroup.groupId).toBeTruthy();
    }
    expect(plan.credentials).toMatchObject({ action: 'put-deny-role-policy', mode: 'role', roleName: victim.roleName, policyName: 'forensics-deny-<caseId>' });
    if (plan.credentials.action === 'put-deny-role-policy') {
      expect(plan.credentials.document.Statement[0]?.Condition).toEqual({
        StringEquals: { 'ec2:SourceInstanceARN': `arn:aws:ec2:${env.region}:${env.accountId}:instance/${victim.instanceId}` },
      });
      expect(plan.credentials.document.Statement[1]?.Condition).toEqual({ DateLessThan: { 'aws:TokenIssueTime': '<time of containment>' } });
    }
    expect(plan.targetGroups.map((t) => t.targetGroupArn)).toEqual(victim.targetGroupArn ? [victim.targetGroupArn] : []);
    expect(plan.readOnly).toBe(true);

    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) expect(call).toMatch(/^[A-Za-z0-9]+:(Describe|Get|List)[A-Za-z]*$/);
    expect(await state()).toEqual(before);
  });

  it('text output names every part; credentials of another account are refused', async () => {
    const out: string[] = [];
    const code = await runPlanLive(
      { instance: victim.instanceId, account: env.accountId, region: env.region, endpoint: env.endpoint },
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('nothing was changed');
    for (const id of [...victim.volumeIds, ...victim.networkInterfaceIds, victim.roleName]) expect(text).toContain(id);
    expect(text).toContain('inline policy forensics-deny-<caseId>');

    const err: string[] = [];
    const wrong = await runPlanLive(
      { instance: victim.instanceId, account: '999999999999', region: env.region, endpoint: env.endpoint },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(wrong).toBe(2);
    expect(err[0]).toContain('the credentials are for account');
  });
});
