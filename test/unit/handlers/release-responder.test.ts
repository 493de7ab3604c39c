import { AutoScalingClient, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resetResponderCredentials } from '../../../handlers/adapters/responder-credentials';
import type { CaseRecord } from '../../../handlers/domain/ports';
import type { CustodyAction, Target } from '../../../handlers/domain/types';
import type { EvidenceDeps } from '../../../handlers/composition/evidence';
import { createReleaseContainmentHandler } from '../../../handlers/release-containment';
import type { ReleaseState } from '../../../handlers/use-cases/release-workflow';

/**
 * Release in a workload account (multi-account mode): the "Release containment" entry, with its default adapters,
 * makes every call on the instance (ENI groups, deny policy, standby, targets) with the responder role's session in
 * the case's target account (session name = case id, with the external id), exactly like the acquisition steps —
 * never with the Lambda's own credentials. Single-account mode without a responder role: own credentials, no STS.
 */
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);

const IR = '999988887777';
const WORKLOAD = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE_ID = 'i-0abc1234def567890';
const CASE_ID = `20260110T100000Z-${INSTANCE_ID}`;
const NOW = '2026-01-11T08:00:00.000Z';
const TG = `arn:aws:elasticloadbalancing:${REGION}:${WORKLOAD}:targetgroup/web/1`;
const SESSION_KEY = 'ASIARELEASESESSION';
const OWN_KEY = 'AKIAOWNLAMBDAKEY';

const ENV_KEYS = ['RESPONDER_ROLE_NAME', 'RESPONDER_EXTERNAL_ID', 'EVIDENCE_KEY_ARN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

function caseRecord(target: Target): CaseRecord {
  return {
    caseId: CASE_ID,
    status: 'CONTAINED',
    target,
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
        networkInterfaces: [
          { networkInterfaceId: 'eni-1', vpcId: 'vpc-1', originalGroupIds: ['sg-web'], transitionGroupId: 'sg-t', isolationGroupId: 'sg-iso', isolatedAt: NOW },
        ],
        credentials: {
          mode: 'instance',
          status: 'applied',
          policies: [
            {
              roleName: 'web-role',
              roleArn: `arn:aws:iam::${target.accountId}:role/web-role`,
              policyName: `forensics-deny-${CASE_ID}`,
              instanceArn: 'arn:x',
              previouslyExisted: false,
              previousDocument: null,
              appliedAt: NOW,
            },
          ],
        },
      },
      preservation: [
        { action: 'leave-auto-scaling-group', status: 'applied', detail: 'EnterStandby', previous: { autoScalingGroupName: 'web-asg', lifecycleState: 'InService' } },
        { action: 'deregister-targets', status: 'applied', previous: [] },
      ],
      targetGroups: [{ targetGroupArn: TG, port: 443 }],
    },
  };
}

function run(target: Target): Promise<unknown> {
  const custody: CustodyAction[][] = [];
  const evidence = {
    cases: {
      getCase: async () => caseRecord(target),
      updateCase: async () => undefined,
      releaseLock: async () => true,
    },
    custody: {
      append: async (_ref: unknown, actions: CustodyAction[]) => {
        custody.push(actions);
        return [];
      },
    },
    clock: () => new Date(NOW),
  } as unknown as EvidenceDeps;
  const handler = createReleaseContainmentHandler({ evidence: () => evidence });
  const state: ReleaseState = {
    request: { caseId: CASE_ID, reason: 'cleared (IR-4711)', requestedBy: 'alice' },
    executionArn: 'arn:aws:states:eu-west-1:999988887777:execution:Release:x',
    case: { caseId: CASE_ID, status: 'CONTAINED', target },
  };
  return handler(state);
}

/** The access key each release call was signed with (the client's credential provider, as the SDK resolves it). */
async function signingKeys(): Promise<Record<string, string[]>> {
  const keyOf = async (client: unknown) => {
    const creds = (client as EC2Client).config.credentials as () => Promise<{ accessKeyId: string }>;
    return (await creds()).accessKeyId;
  };
  type Stub = { commandCalls(command: unknown): { thisValue: unknown }[] };
  const of = async (stub: unknown, command: unknown) => Promise.all((stub as Stub).commandCalls(command).map((c) => keyOf(c.thisValue)));
  return {
    ModifyNetworkInterfaceAttribute: await of(ec2, ModifyNetworkInterfaceAttributeCommand),
    DeleteRolePolicy: await of(iam, DeleteRolePolicyCommand),
    ExitStandby: await of(asg, ExitStandbyCommand),
    RegisterTargets: await of(elb, RegisterTargetsCommand),
  };
}

beforeEach(() => {
  for (const m of [sts, ec2, iam, asg, elb]) m.reset();
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  iam.on(DeleteRolePolicyCommand).resolves({});
  asg.on(ExitStandbyCommand).resolves({});
  elb.on(RegisterTargetsCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: SESSION_KEY, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
  });
  // The Lambda's own credentials, distinguishable from the assumed session's.
  process.env.AWS_ACCESS_KEY_ID = OWN_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = 'own-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_ENDPOINT_URL;
  process.env.EVIDENCE_KEY_ARN = `arn:aws:kms:${REGION}:${IR}:key/0000-evidence`;
  resetResponderCredentials();
});

afterAll(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  resetResponderCredentials();
});

describe('release through the responder role (multi-account mode)', () => {
  it('assumes the responder role in the case\'s account (session = case id, external id) and makes every release call with it', async () => {
    process.env.RESPONDER_ROLE_NAME = 'ForensicsResponder';
    process.env.RESPONDER_EXTERNAL_ID = 'ext-1';
    await expect(run({ accountId: WORKLOAD, region: REGION, instanceId: INSTANCE_ID })).resolves.toMatchObject({ status: 'RELEASED' });

    expect(await signingKeys()).toEqual({
      ModifyNetworkInterfaceAttribute: [SESSION_KEY],
      DeleteRolePolicy: [SESSION_KEY],
      ExitStandby: [SESSION_KEY],
      RegisterTargets: [SESSION_KEY],
    });
    // One session for the case, shared by the four clients (cached per account and case).
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: `arn:aws:iam::${WORKLOAD}:role/ForensicsResponder`,
        RoleSessionName: CASE_ID,
        ExternalId: 'ext-1',
        DurationSeconds: 3600,
        Tags: [{ Key: 'forensics:workflow', Value: 'release' }],
      },
    ]);
    // The calls go to the target's region (IAM is global).
    const region = async (client: unknown) => (client as EC2Client).config.region();
    expect(await region(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)[0]?.thisValue)).toBe(REGION);
    expect(await region(asg.commandCalls(ExitStandbyCommand)[0]?.thisValue)).toBe(REGION);
    expect(await region(elb.commandCalls(RegisterTargetsCommand)[0]?.thisValue)).toBe(REGION);
  });

  it('uses the same assume-role path for a case in the IR account when a responder role is configured', async () => {
    process.env.RESPONDER_ROLE_NAME = 'ForensicsResponder';
    delete process.env.RESPONDER_EXTERNAL_ID; // organisation mode without an external id: none is presented
    await run({ accountId: IR, region: REGION, instanceId: INSTANCE_ID });
    expect(Object.values(await signingKeys()).flat()).toEqual(Array(4).fill(SESSION_KEY));
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: `arn:aws:iam::${IR}:role/ForensicsResponder`, RoleSessionName: CASE_ID, DurationSeconds: 3600, Tags: [{ Key: 'forensics:workflow', Value: 'release' }] },
    ]);
  });

  it('no fallback to the Lambda\'s own credentials: when AssumeRole is refused, the release clients have no credentials', async () => {
    process.env.RESPONDER_ROLE_NAME = 'ForensicsResponder';
    process.env.RESPONDER_EXTERNAL_ID = 'ext-1';
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    // (aws-sdk-client-mock answers `send` before the SDK resolves credentials: the clients' providers are checked.)
    await run({ accountId: WORKLOAD, region: REGION, instanceId: INSTANCE_ID });
    await expect(signingKeys()).rejects.toThrow('not authorized to perform sts:AssumeRole');
    const clients = [ec2.calls(), iam.calls(), asg.calls(), elb.calls()].map((calls) => calls[0]?.thisValue as EC2Client);
    for (const client of clients) {
      await expect((client.config.credentials as () => Promise<unknown>)()).rejects.toMatchObject({ name: 'AccessDenied' });
    }
  });
});

describe('release in single-account mode (no responder role)', () => {
  it('a case in the IR account is released with the Lambda\'s own credentials, without STS', async () => {
    delete process.env.RESPONDER_ROLE_NAME;
    delete process.env.RESPONDER_EXTERNAL_ID;
    await run({ accountId: IR, region: REGION, instanceId: INSTANCE_ID });
    expect(sts.calls()).toHaveLength(0);
    expect(Object.values(await signingKeys()).flat()).toEqual(Array(4).fill(OWN_KEY));
  });
});
