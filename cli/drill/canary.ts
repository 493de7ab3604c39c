import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Instance,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/**
 * The drill's canary and everything around it, in the workload account and region, each tagged `<prefix>:drill=<id>`:
 * a VPC with one subnet (so the isolation groups the containment creates live in the drill's own VPC and go with it),
 * an instance role and profile (so credential containment has a role to deny), and a tiny instance with a 1 GiB data
 * volume besides its root volume. Removal deletes only what carries this drill's tag, or what lives inside the drill's
 * VPC (the isolation groups, left-over interfaces): nothing else in the account is touched.
 */

export interface Canary {
  drillId: string;
  region: string;
  instanceId: string;
  vpcId: string;
  subnetId: string;
  roleName: string;
  profileName: string;
  launchedAt: string;
}

export interface CanaryClients {
  ec2: EC2Client;
  iam: IAMClient;
  ssm: SSMClient;
}

export interface CanarySettings {
  tagPrefix: string;
  instanceType: string;
  /** Public SSM parameter of the canary's AMI (Amazon Linux 2023 minimal). */
  amiParameter: string;
  /** Milliseconds between polls while waiting for EC2 (short on an emulator). */
  pollMs: number;
  /** Upper bound of each wait. */
  waitMs: number;
}

export const CANARY_AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64';
/** A /28 of the 10.254.255.0 block: small, and unlikely to be peered with anything (it is never peered anyway). */
const CANARY_CIDR = '10.254.255.0/28';

export function drillTags(tagPrefix: string, drillId: string): { Key: string; Value: string }[] {
  return [
    { Key: `${tagPrefix}:drill`, Value: drillId },
    { Key: 'Name', Value: `forensics-drill-${drillId}` },
  ];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The call's answer, or undefined when it failed (a resource already gone). */
async function orUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch {
    return undefined;
  }
}

/** Launches the canary; on any failure, removes what it had created and rethrows. */
export async function launchCanary(clients: CanaryClients, drillId: string, region: string, s: CanarySettings, log: (line: string) => void): Promise<Canary> {
  const tags = drillTags(s.tagPrefix, drillId);
  const partial: Partial<Canary> & { drillId: string; region: string } = { drillId, region };
  try {
    const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: CANARY_CIDR, TagSpecifications: [{ ResourceType: 'vpc', Tags: tags }] }));
    partial.vpcId = vpc.Vpc?.VpcId as string;
    const subnet = await clients.ec2.send(
      new CreateSubnetCommand({ VpcId: partial.vpcId, CidrBlock: CANARY_CIDR, TagSpecifications: [{ ResourceType: 'subnet', Tags: tags }] }),
    );
    partial.subnetId = subnet.Subnet?.SubnetId as string;
    log(`drill: created ${partial.vpcId} and ${partial.subnetId}`);

    const name = `forensics-drill-${drillId}`.slice(0, 64);
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Description: 'forensics drill canary role (no permissions); removed by the drill',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
        Tags: tags,
      }),
    );
    partial.roleName = name;
    await clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name, Tags: tags }));
    partial.profileName = name;
    await clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
    log(`drill: created role and instance profile ${name}`);

    const imageId = (await clients.ssm.send(new GetParameterCommand({ Name: s.amiParameter }))).Parameter?.Value;
    if (!imageId) throw new Error(`SSM parameter ${s.amiParameter} holds no AMI id`);
    const instance = await runWithFreshProfile(clients.ec2, s, {
      ImageId: imageId,
      InstanceType: s.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: partial.subnetId,
      IamInstanceProfile: { Name: name },
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      // A data volume besides the root: the acquisition snapshots every volume at once.
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    });
    partial.instanceId = instance.InstanceId as string;
    partial.launchedAt = (instance.LaunchTime ?? new Date()).toISOString();
    log(`drill: launched canary ${partial.instanceId} (${s.instanceType}, ${imageId}) in ${region}`);
    await waitForState(clients.ec2, partial.instanceId, ['running'], s);
    return partial as Canary;
  } catch (err) {
    log(`drill: launching the canary failed (${(err as Error).name}: ${(err as Error).message}); removing what was created`);
    await orUndefined(() => removeCanary(clients, partial, s, log));
    throw err;
  }
}

/** RunInstances, retried while IAM has not yet propagated the new instance profile to EC2 (bounded). */
async function runWithFreshProfile(ec2: EC2Client, s: CanarySettings, input: ConstructorParameters<typeof RunInstancesCommand>[0]): Promise<Instance> {
  const deadline = Date.now() + Math.max(s.waitMs, 1);
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await ec2.send(new RunInstancesCommand(input));
      const instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new Error('RunInstances returned no instance');
      return instance;
    } catch (err) {
      const profileNotReady = (err as Error).name === 'InvalidParameterValue' && /iamInstanceProfile/i.test((err as Error).message);
      if (!profileNotReady || Date.now() > deadline) throw err;
      await sleep(Math.min(2_000 * attempt, 10_000));
    }
  }
}

async function waitForState(ec2: EC2Client, instanceId: string, states: string[], s: CanarySettings): Promise<string> {
  const deadline = Date.now() + s.waitMs;
  for (;;) {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? 'unknown';
    if (states.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`instance ${instanceId} still ${state} after ${Math.round(s.waitMs / 1000)} s (waiting for ${states.join('/')})`);
    await sleep(s.pollMs);
  }
}

function tagged(tags: Tag[] | undefined, tagPrefix: string, drillId: string): boolean {
  return (tags ?? []).some((t) => t.Key === `${tagPrefix}:drill` && t.Value === drillId);
}

/**
 * Terminates the canary and removes everything the drill created (in dependency order), each only after checking it
 * carries this drill's tag or sits in the drill's VPC. Returns what was removed; errors are collected, not thrown, so
 * one stuck resource does not leave the others behind.
 */
export async function removeCanary(
  clients: CanaryClients,
  canary: Partial<Canary> & { drillId: string },
  s: CanarySettings,
  log: (line: string) => void,
): Promise<{ removed: string[]; errors: string[]; terminated: boolean }> {
  const removed: string[] = [];
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      if ((await fn()) !== false) {
        removed.push(what);
        log(`drill: removed ${what}`);
      }
    } catch (err) {
      errors.push(`${what}: ${(err as Error).name}: ${(err as Error).message}`);
      log(`drill: could not remove ${what} (${(err as Error).name})`);
    }
  };
  const { ec2, iam } = clients;
  let terminated = false;

  if (canary.instanceId) {
    await step(`instance ${canary.instanceId}`, async () => {
      const found = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [canary.instanceId as string] }))).Reservations?.[0]?.Instances?.[0];
      if (!found || !tagged(found.Tags, s.tagPrefix, canary.drillId)) throw new Error('not this drill\'s canary (tag missing): left alone');
      if (found.State?.Name !== 'terminated') {
        // The acquisition turned termination protection on (preservation): the drill turns it off on its own canary.
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: found.InstanceId, DisableApiTermination: { Value: false } }));
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: [found.InstanceId as string] }));
        await waitForState(ec2, found.InstanceId as string, ['terminated'], s);
      }
      terminated = true;
    });
  }
  // The acquisition set DeleteOnTermination=false on every volume: the canary's volumes outlive it.
  await step(`volumes of drill ${canary.drillId}`, async () => {
    const vols = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${s.tagPrefix}:drill`, Values: [canary.drillId] }] }))).Volumes ?? [];
    if (vols.length === 0) return false;
    for (const v of vols) {
      const deadline = Date.now() + s.waitMs;
      let state = v.State;
      while (state === 'in-use' && Date.now() < deadline) {
        await sleep(s.pollMs);
        state = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v.VolumeId as string] }))).Volumes?.[0]?.State;
      }
      await ec2.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId }));
    }
  });
  if (canary.vpcId) {
    const vpc = (await orUndefined(() => ec2.send(new DescribeVpcsCommand({ VpcIds: [canary.vpcId as string] }))))?.Vpcs?.[0];
    if (vpc && tagged(vpc.Tags, s.tagPrefix, canary.drillId)) {
      const inVpc = [{ Name: 'vpc-id', Values: [canary.vpcId] }];
      await step(`network interfaces left in ${canary.vpcId}`, async () => {
        const enis = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: inVpc }))).NetworkInterfaces ?? [];
        const detached = enis.filter((e) => e.Status === 'available');
        if (detached.length === 0) return false;
        for (const e of detached) await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: e.NetworkInterfaceId }));
      });
      // The transition and isolation groups the containment created in the drill's VPC.
      await step(`security groups in ${canary.vpcId}`, async () => {
        const groups = ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: inVpc }))).SecurityGroups ?? []).filter((g) => g.GroupName !== 'default');
        if (groups.length === 0) return false;
        for (const g of groups) await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }));
      });
      const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }))).Subnets ?? [];
      for (const sn of subnets.filter((x) => tagged(x.Tags, s.tagPrefix, canary.drillId))) {
        await step(`subnet ${sn.SubnetId}`, async () => {
          await ec2.send(new DeleteSubnetCommand({ SubnetId: sn.SubnetId }));
        });
      }
      await step(`vpc ${canary.vpcId}`, async () => {
        await ec2.send(new DeleteVpcCommand({ VpcId: canary.vpcId }));
      });
    }
  }
  if (canary.roleName) {
    const roleName = canary.roleName;
    const role = (await orUndefined(() => iam.send(new GetRoleCommand({ RoleName: roleName }))))?.Role;
    if (role && tagged(role.Tags, s.tagPrefix, canary.drillId)) {
      if (canary.profileName) {
        await step(`instance profile ${canary.profileName}`, async () => {
          // Absent when the launch failed before the role joined the profile.
          await orUndefined(() => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: canary.profileName, RoleName: roleName })));
          await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: canary.profileName }));
        });
      }
      await step(`role ${roleName}`, async () => {
        // A deny policy the containment left (release removes it; a failed release may not have).
        for (const p of (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? []) {
          await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: p }));
        }
        await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
      });
    }
  }
  return { removed, errors, terminated };
}
