import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsClients } from '../../handlers/adapters/aws-client-set';
import type { Ec2SideAdapters } from '../../handlers/adapters/ec2-side-adapters';
import { errorMessage, errorName, InvalidInput } from '../../handlers/domain/errors';
import { instanceStoreOfType } from '../../handlers/domain/instance-store';
import { requireAccountId, requireInstanceId, requireRegion } from '../../handlers/domain/identifier-formats';
import { isolationGroupName } from '../../handlers/domain/isolation-groups';
import {
  BLAST_RADIUS,
  instanceArn,
  instanceProfileNameFromArn,
  isServiceLinkedRole,
  partitionOf,
  POLICY_NAME_PREFIX,
  type PolicyDocument,
  revocationPolicyDocument,
} from '../../handlers/domain/revocation-policy';
import type { DescribeResult, RevokeMode, Target } from '../../handlers/domain/types';
import { describeInstance } from '../../handlers/use-cases/describe-instance';
import { assertLoopbackEndpoint } from '../local/moto-server';
import { EXIT_OK, type Io, parseOutputFormat, runCommand, UsageError } from './common';

/**
 * `forensics plan --live --instance ID --account ID --region R [--revoke MODE] [--endpoint URL] [--output json]`:
 * the dry run of an acquisition. Describes the real instance with the describe step's own read-only calls
 * (handlers/use-cases/describe-instance.ts on the EC2-side adapters) plus `iam:GetInstanceProfile`, and prints
 * exactly what an acquisition would change: the volumes it would snapshot, the preservation changes, every ENI's
 * current groups and the isolation group it would get (existing, or created per VPC), the role and the deny policy
 * (name and document) per revoke mode, the Auto Scaling standby and the target groups it would deregister from, and
 * the instance-store devices it cannot acquire.
 *
 * Nothing is changed: only Describe*, Get* and List* calls are made (tested by recording every call). The caller's
 * credentials must be for the target account (checked with sts:GetCallerIdentity).
 */
export interface PlanLiveOptions {
  instance?: string;
  account?: string;
  region?: string;
  /** Revoke mode to plan for (default: cdk.json forensics:revokeMode, else instance). */
  revoke?: string;
  endpoint?: string;
  profile?: string;
  output?: string;
}

/** What `--revoke` mode means for the role, or why nothing would be done. */
export type CredentialPlan =
  | { action: 'skip'; mode: RevokeMode; reason: string; instanceProfileArn?: string; roleName?: string; roleArn?: string }
  | {
      action: 'put-deny-role-policy';
      mode: Exclude<RevokeMode, 'none'>;
      instanceProfileArn: string;
      roleName: string;
      roleArn: string;
      policyName: string;
      document: PolicyDocument;
      blastRadius: string;
    };

export interface LivePlan {
  target: Target;
  instance: { state: string; instanceType?: string; imageId?: string; launchTime?: string };
  snapshots: { volumeId: string; deviceName: string; sizeGiB: number; volumeType?: string; encrypted: boolean; kmsKeyId?: string }[];
  notAcquirable: { deviceName: string; note: string }[];
  preservation: { action: string; current?: unknown; planned: unknown }[];
  networkInterfaces: {
    networkInterfaceId: string;
    vpcId: string;
    currentGroups: { groupId: string; groupName?: string }[];
    transitionGroup: { groupId?: string; create?: string };
    isolationGroup: { groupId?: string; create?: string };
  }[];
  credentials: CredentialPlan;
  autoScaling: { action: 'enter-standby' | 'skip' | 'blocked'; groupName?: string; lifecycleState?: string; detail: string };
  targetGroups: { targetGroupArn: string; port?: number; action: 'deregister-targets' }[];
  /** Describe calls that failed (e.g. a missing read permission): the plan is incomplete where they matter. */
  gaps: { call: string; error: string; message: string }[];
  readOnly: true;
}

/** The read-only calls the plan needs, from the describe step's adapters and IAM. */
export interface PlanLiveDeps {
  adapters: Pick<Ec2SideAdapters, 'instances' | 'securityGroups' | 'autoScaling' | 'targetGroups'>;
  iam: { rolesOfInstanceProfile(name: string): Promise<{ roleName: string; arn: string; path: string }[] | undefined> };
  tagPrefix: string;
  clock?: () => Date;
}

/** Same states as the preserve step's: already out of service, nothing to do. */
const ALREADY_OUT_OF_SERVICE = new Set(['Standby', 'EnteringStandby', 'Detaching', 'Detached']);
/** The deny policy's name carries the case id, which exists only once an acquisition opens the case. */
export const PLANNED_POLICY_NAME = `${POLICY_NAME_PREFIX}<caseId>`;
export const PLANNED_ISSUED_BEFORE = '<time of containment>';

export async function buildLivePlan(deps: PlanLiveDeps, target: Target, mode: RevokeMode): Promise<LivePlan> {
  const described = await describeInstance(
    { ...deps.adapters, clock: deps.clock ?? (() => new Date()), tagPrefix: deps.tagPrefix } as Parameters<typeof describeInstance>[0],
    target,
  );
  const pre = described.preIncident;
  const gaps = ((described.actions[0]?.result.gaps ?? []) as LivePlan['gaps']).slice();
  // The workflow asks the instance type for its instance store beside CreateSnapshots (off the path to containment);
  // the plan asks it here, with the same read-only call.
  let instanceStore = pre.instanceStoreDevices;
  if (pre.instanceType && instanceStore.length === 0) {
    try {
      instanceStore = instanceStoreOfType(await deps.adapters.instances.describeInstanceStorage(pre.instanceType));
    } catch (err) {
      gaps.push({ call: 'DescribeInstanceTypes', error: errorName(err), message: errorMessage(err) });
    }
  }
  const groupsByVpc = new Map(described.isolationGroups.map((g) => [g.vpcId, g]));
  const planned = (vpcId: string, role: 'transition' | 'isolation') => {
    const existing = groupsByVpc.get(vpcId)?.[role === 'transition' ? 'transitionGroupId' : 'isolationGroupId'];
    return existing ? { groupId: existing } : { create: `${isolationGroupName(deps.tagPrefix, role)} in ${vpcId}` };
  };

  return {
    target,
    instance: {
      state: pre.instanceState,
      ...(pre.instanceType ? { instanceType: pre.instanceType } : {}),
      ...(pre.imageId ? { imageId: pre.imageId } : {}),
      ...(pre.launchTime ? { launchTime: pre.launchTime } : {}),
    },
    snapshots: pre.volumes.map((v) => ({
      volumeId: v.volumeId,
      deviceName: v.deviceName,
      sizeGiB: v.sizeGiB,
      ...(v.volumeType ? { volumeType: v.volumeType } : {}),
      encrypted: v.encrypted,
      ...(v.kmsKeyId ? { kmsKeyId: v.kmsKeyId } : {}),
    })),
    notAcquirable: instanceStore.map((d) => ({ deviceName: d.deviceName, note: d.note })),
    preservation: [
      { action: 'tag-instance', planned: `${deps.tagPrefix}:case-id=<caseId>` },
      { action: 'termination-protection', current: pre.terminationProtection ?? 'unknown', planned: true },
      { action: 'shutdown-behavior', current: pre.shutdownBehavior ?? 'unknown', planned: 'stop' },
      ...pre.volumes
        .filter((v) => v.deleteOnTermination)
        .map((v) => ({ action: `delete-on-termination ${v.deviceName} (${v.volumeId})`, current: true, planned: false })),
    ],
    networkInterfaces: pre.networkInterfaces.map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      currentGroups: eni.groups,
      transitionGroup: planned(eni.vpcId, 'transition'),
      isolationGroup: planned(eni.vpcId, 'isolation'),
    })),
    credentials: await planCredentials(deps, described, target, mode, gaps),
    autoScaling: planAutoScaling(pre.autoScalingGroup),
    targetGroups: pre.targetGroups.map((t) => ({
      targetGroupArn: t.targetGroupArn,
      ...(t.port !== undefined ? { port: t.port } : {}),
      action: 'deregister-targets' as const,
    })),
    gaps,
    readOnly: true,
  };
}

/** The same decisions as revokeCredentials, without the PutRolePolicy. */
async function planCredentials(
  deps: PlanLiveDeps,
  described: DescribeResult,
  target: Target,
  mode: RevokeMode,
  gaps: LivePlan['gaps'],
): Promise<CredentialPlan> {
  const profileArn = described.preIncident.iamInstanceProfile?.arn;
  if (mode === 'none') return { action: 'skip', mode, reason: 'revoke mode is none' };
  if (!profileArn) return { action: 'skip', mode, reason: 'the instance has no IAM instance profile' };
  const profileName = instanceProfileNameFromArn(profileArn);
  if (!profileName) return { action: 'skip', mode, reason: `not an instance profile ARN: ${profileArn}`, instanceProfileArn: profileArn };
  let roles: Awaited<ReturnType<PlanLiveDeps['iam']['rolesOfInstanceProfile']>>;
  try {
    roles = await deps.iam.rolesOfInstanceProfile(profileName);
  } catch (err) {
    const e = err as Error;
    gaps.push({ call: 'iam:GetInstanceProfile', error: e.name, message: e.message });
    return { action: 'skip', mode, reason: `cannot read the instance profile (${e.name}): the role is unknown`, instanceProfileArn: profileArn };
  }
  if (!roles) return { action: 'skip', mode, reason: 'the instance profile no longer exists', instanceProfileArn: profileArn };
  const role = roles[0];
  if (!role) return { action: 'skip', mode, reason: 'the instance profile has no role', instanceProfileArn: profileArn };
  const ref = { instanceProfileArn: profileArn, roleName: role.roleName, roleArn: role.arn };
  if (isServiceLinkedRole(role)) return { action: 'skip', mode, reason: 'the role is service-linked: AWS allows no inline policy on it', ...ref };
  const arn = instanceArn(partitionOf(role.arn), target);
  return {
    action: 'put-deny-role-policy',
    mode,
    ...ref,
    policyName: PLANNED_POLICY_NAME,
    document: revocationPolicyDocument({ mode, instanceArn: arn, ...(mode === 'role' ? { issuedBefore: PLANNED_ISSUED_BEFORE } : {}) }),
    blastRadius: BLAST_RADIUS[mode],
  };
}

function planAutoScaling(asg: { name: string; lifecycleState: string } | undefined): LivePlan['autoScaling'] {
  if (!asg) return { action: 'skip', detail: 'not in an Auto Scaling group' };
  const base = { groupName: asg.name, lifecycleState: asg.lifecycleState };
  if (ALREADY_OUT_OF_SERVICE.has(asg.lifecycleState)) return { action: 'skip', ...base, detail: `already ${asg.lifecycleState}` };
  if (asg.lifecycleState !== 'InService') {
    return { action: 'blocked', ...base, detail: `lifecycle state ${asg.lifecycleState}: acquisition cannot enter standby or detach now` };
  }
  return {
    action: 'enter-standby',
    ...base,
    detail: 'EnterStandby (ShouldDecrementDesiredCapacity=true); DetachInstances if standby is refused',
  };
}

/** The plan as text, one fact per line, in the order acquisition acts. */
export function planText(plan: LivePlan): string[] {
  const t = plan.target;
  const lines = [
    `Dry run: acquisition of ${t.instanceId} (account ${t.accountId}, ${t.region}) — nothing was changed`,
    `Instance: ${plan.instance.state}${plan.instance.instanceType ? `, ${plan.instance.instanceType}` : ''}`,
    '',
    'Snapshots (one crash-consistent CreateSnapshots, then copies re-encrypted with the evidence key):',
    ...(plan.snapshots.length > 0
      ? plan.snapshots.map(
          (v) =>
            `  ${v.deviceName}  ${v.volumeId}  ${v.sizeGiB} GiB${v.volumeType ? ` ${v.volumeType}` : ''}  ${
              v.encrypted ? `encrypted (${v.kmsKeyId ?? 'key unknown'})` : 'not encrypted'
            }`,
        )
      : ['  none: no EBS volume attached']),
    ...(plan.notAcquirable.length > 0 ? ['Not acquirable:', ...plan.notAcquirable.map((d) => `  ${d.deviceName}: ${d.note}`)] : []),
    '',
    'Preservation:',
    ...plan.preservation.map((p) => `  ${p.action}: ${p.current !== undefined ? `${JSON.stringify(p.current)} -> ` : ''}${JSON.stringify(p.planned)}`),
    '',
    'Network isolation (transition group, then the rule-less isolation group):',
    ...plan.networkInterfaces.map(
      (n) =>
        `  ${n.networkInterfaceId} (${n.vpcId}): ${n.currentGroups.map((g) => g.groupId).join(', ') || 'no groups'} -> ${
          n.isolationGroup.groupId ?? `new group ${n.isolationGroup.create}`
        } (via ${n.transitionGroup.groupId ?? `new group ${n.transitionGroup.create}`})`,
    ),
    '',
    `Credentials (revoke mode ${plan.credentials.mode}):`,
    ...(plan.credentials.action === 'skip'
      ? [`  skipped: ${plan.credentials.reason}`]
      : [
          `  role ${plan.credentials.roleName} (${plan.credentials.roleArn})`,
          `  inline policy ${plan.credentials.policyName}: ${JSON.stringify(plan.credentials.document)}`,
          `  blast radius: ${plan.credentials.blastRadius}`,
        ]),
    '',
    `Auto Scaling: ${plan.autoScaling.groupName ? `${plan.autoScaling.groupName} (${plan.autoScaling.lifecycleState}): ` : ''}${plan.autoScaling.action} — ${plan.autoScaling.detail}`,
    'Target groups:',
    ...(plan.targetGroups.length > 0
      ? plan.targetGroups.map((g) => `  deregister from ${g.targetGroupArn}${g.port !== undefined ? ` (port ${g.port})` : ''}`)
      : ['  none: not registered in any target group']),
  ];
  if (plan.gaps.length > 0) {
    lines.push('', 'Incomplete (read calls that failed):', ...plan.gaps.map((g) => `  ${g.call}: ${g.error}: ${g.message}`));
  }
  return lines;
}

/** cdk.json defaults the plan follows when no flag says otherwise. */
function cdkDefaults(): { revokeMode: RevokeMode; tagPrefix: string } {
  try {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const ctx = (JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
    const mode = ctx['forensics:revokeMode'];
    const prefix = ctx['forensics:tagPrefix'];
    return {
      revokeMode: mode === 'role' || mode === 'none' || mode === 'instance' ? mode : 'instance',
      tagPrefix: typeof prefix === 'string' && prefix ? prefix : 'forensics',
    };
  } catch {
    return { revokeMode: 'instance', tagPrefix: 'forensics' };
  }
}

function targetFrom(options: PlanLiveOptions): Target {
  const flags: Record<string, string> = { instanceId: '--instance', accountId: '--account', region: '--region' };
  try {
    return {
      instanceId: requireInstanceId(options.instance, 'instanceId'),
      accountId: requireAccountId(options.account, 'accountId'),
      region: requireRegion(options.region, 'region'),
    };
  } catch (err) {
    if (!(err instanceof InvalidInput)) throw err;
    throw new UsageError(`${flags[err.field] ?? err.field}: ${err.message.replace(/^[^:]+: /, '')}`);
  }
}

/** The command. `clients` is for tests; by default the caller's credentials (`--profile`), `--endpoint` for an emulator. */
export async function runPlanLive(options: PlanLiveOptions, io: Io, clients?: AwsClients): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    const target = targetFrom(options);
    const defaults = cdkDefaults();
    const mode = options.revoke ?? defaults.revokeMode;
    if (mode !== 'instance' && mode !== 'role' && mode !== 'none') throw new UsageError('--revoke: expected instance, role or none');
    if (options.endpoint) {
      try {
        assertLoopbackEndpoint(options.endpoint);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      process.env.AWS_ENDPOINT_URL = options.endpoint;
      if (!process.env.AWS_ACCESS_KEY_ID && !options.profile) {
        process.env.AWS_ACCESS_KEY_ID = 'testing';
        process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      }
    }
    if (options.profile) process.env.AWS_PROFILE = options.profile;
    process.env.AWS_REGION ??= target.region;
    const [{ createAwsClients }, { ec2AdaptersFor }, { IamRoleAdapter }, { STSClient, GetCallerIdentityCommand }] = await Promise.all([
      import('../../handlers/adapters/aws-client-set'),
      import('../../handlers/adapters/ec2-side-adapters'),
      import('../../handlers/adapters/iam-role-adapter'),
      import('@aws-sdk/client-sts'),
    ]);
    const set = clients ?? createAwsClients();
    // The describe calls are made with the caller's credentials: they must be for the target's account.
    const sts = new STSClient({ region: target.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    try {
      const who = await sts.send(new GetCallerIdentityCommand({}));
      if (who.Account && who.Account !== target.accountId) {
        throw new UsageError(`--account ${target.accountId}: the credentials are for account ${who.Account}; use --profile for the target account`);
      }
    } finally {
      sts.destroy();
    }
    const plan = await buildLivePlan(
      { adapters: ec2AdaptersFor(target, set.scope), iam: new IamRoleAdapter(set.iam()), tagPrefix: defaults.tagPrefix },
      target,
      mode,
    );
    if (format === 'json') io.out(JSON.stringify(plan));
    else for (const line of planText(plan)) io.out(line);
    return EXIT_OK;
  });
}
