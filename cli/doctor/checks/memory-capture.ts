import {
  type CreateVolumePermission,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Instance,
  type Snapshot,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { SSM_ENDPOINT_SERVICES, TOOLS_SNAPSHOT_TAGS } from '../../../handlers/domain/memory-capture';
import { toolsSnapshotTagKeys } from '../../tools/tools-snapshot';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { Credentials, DoctorContext } from '../context';

/**
 * What memory capture needs where the instances are:
 * - `ssm.endpoints[<account>/<region>]`: the acquisition channel reaches an instance only through its VPC's SSM
 *   interface endpoints (ssm, ssmmessages, ec2messages) — never through the internet once the instance is isolated.
 *   Instances in a VPC without all three cannot have their memory captured: a WARN with their count.
 * - `memory.tools-snapshot[<region>]`: the EBS snapshot holding the pinned capture tools (AVML and the capture script,
 *   made by `forensics tools build`), configured per region in `forensics:memoryToolsSnapshots`: it exists, is
 *   completed, and carries the tool tags (TOOLS_SNAPSHOT_TAGS under the tag prefix) whose SHA-256 (and version) are
 *   the configured `forensics:memoryToolSha256` (`forensics:memoryToolVersion`): the workflow pins that hash, so a
 *   snapshot holding another binary would only ever be refused by the capture script. WARN when not configured.
 * - `memory.tools-share[<region>]`: every workload account other than the snapshot's owner can create a volume from
 *   it (createVolumePermission), and it is not encrypted under an AWS managed key (which cannot be shared).
 */

/** Bound on pages read (1,000 instances per page): an account with more is reported on what was read. */
const MAX_PAGES = 20;

export interface EndpointFacts {
  accountId: string;
  region: string;
  instances: Outcome<{ instances: Pick<Instance, 'InstanceId' | 'VpcId'>[]; truncated: boolean }>;
  endpoints?: Outcome<VpcEndpoint[]>;
}

export async function gatherEndpoints(ctx: DoctorContext, accountId: string, region: string, credentials?: Credentials): Promise<EndpointFacts> {
  const ec2 = new EC2Client(ctx.client(region, credentials));
  try {
    const instances = await attempt('ec2:DescribeInstances', async () => {
      const found: Pick<Instance, 'InstanceId' | 'VpcId'>[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const out = await ec2.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
            MaxResults: 1000,
            NextToken,
          }),
        );
        for (const r of out.Reservations ?? []) for (const i of r.Instances ?? []) found.push({ InstanceId: i.InstanceId, VpcId: i.VpcId });
        NextToken = out.NextToken;
      } while (NextToken && ++pages < MAX_PAGES);
      return { instances: found, truncated: Boolean(NextToken) };
    });
    const vpcs = instances.ok ? [...new Set(instances.value.instances.map((i) => i.VpcId).filter((v): v is string => Boolean(v)))] : [];
    const endpoints =
      vpcs.length > 0
        ? await attempt('ec2:DescribeVpcEndpoints', async () => {
            const found: VpcEndpoint[] = [];
            // The vpc-id filter takes up to 200 values per call.
            for (let i = 0; i < vpcs.length; i += 200) {
              let NextToken: string | undefined;
              let pages = 0;
              do {
                const out = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: vpcs.slice(i, i + 200) }], NextToken }));
                found.push(...(out.VpcEndpoints ?? []));
                NextToken = out.NextToken;
              } while (NextToken && ++pages < MAX_PAGES);
            }
            return found;
          })
        : undefined;
    return { accountId, region, instances, ...(endpoints ? { endpoints } : {}) };
  } finally {
    ec2.destroy();
  }
}

export function endpointsCheckName(accountId: string, region: string): string {
  return `ssm.endpoints[${accountId}/${region}]`;
}

/** The SSM services a VPC has usable interface endpoints for (`com.amazonaws.<region>.ssm` → `ssm`). */
function servicesIn(endpoints: readonly VpcEndpoint[], vpcId: string): Set<string> {
  const usable = endpoints.filter((e) => e.VpcId === vpcId && (e.State === undefined || /^available$/i.test(e.State)));
  return new Set(usable.map((e) => e.ServiceName?.split('.').pop() ?? ''));
}

export function evaluateEndpoints(facts: EndpointFacts, emulator: boolean): DoctorCheck {
  const name = endpointsCheckName(facts.accountId, facts.region);
  const where = `account ${facts.accountId} in ${facts.region}`;
  if (!facts.instances.ok) return cannotRun(name, facts.instances.error, `the instances of ${where}`, emulator);
  const { instances, truncated } = facts.instances.value;
  const inVpc = instances.filter((i) => i.VpcId);
  const more = truncated ? ' (first pages only)' : '';
  if (inVpc.length === 0) return pass(name, `no instance in a VPC in ${where}${more}: nothing to capture`);
  if (!facts.endpoints?.ok) {
    return facts.endpoints ? cannotRun(name, facts.endpoints.error, `the VPC endpoints of ${where}`, emulator) : fail(name, 'VPC endpoints not read');
  }
  const endpoints = facts.endpoints.value;
  const lacking = new Map<string, { count: number; missing: string[] }>();
  for (const i of inVpc) {
    const vpc = i.VpcId as string;
    const have = servicesIn(endpoints, vpc);
    const missing = SSM_ENDPOINT_SERVICES.filter((s) => !have.has(s));
    if (missing.length === 0) continue;
    const entry = lacking.get(vpc) ?? { count: 0, missing };
    entry.count += 1;
    lacking.set(vpc, entry);
  }
  if (lacking.size === 0) return pass(name, `all ${inVpc.length} instance(s) in ${where}${more} are in VPCs with ssm, ssmmessages and ec2messages endpoints`);
  const count = [...lacking.values()].reduce((n, e) => n + e.count, 0);
  const vpcs = [...lacking.entries()].slice(0, 5).map(([vpc, e]) => `${vpc} (${e.count}, no ${e.missing.join('/')})`).join(', ');
  return warn(
    name,
    `${count} of ${inVpc.length} instance(s) in ${where}${more} are in VPCs without SSM endpoints, so their memory could not be captured: ${vpcs}${lacking.size > 5 ? ', …' : ''} — create interface endpoints com.amazonaws.${facts.region}.{ssm,ssmmessages,ec2messages} there`,
  );
}

// ── Tools snapshot ──────────────────────────────────────────────────────────────────────────────────────────────

/** The memory settings doctor reads (infra/config.ts: forensics:memoryCapture, memoryToolsSnapshots, memoryTool*). */
export interface MemoryToolSettings {
  enabled: boolean;
  /** Region → tools snapshot id. */
  snapshots: Readonly<Record<string, string>>;
  toolSha256?: string;
  toolVersion?: string;
}

/**
 * The memory settings from the deployment's configuration, read defensively: a configuration without them (a
 * deployment from before memory capture) has no tools snapshot, and memory capture is then not configured.
 */
export function memoryToolSettings(config: object): MemoryToolSettings {
  const c = config as { memoryCapture?: unknown; memoryToolsSnapshots?: unknown; memoryToolSha256?: unknown; memoryToolVersion?: unknown };
  const raw = c.memoryToolsSnapshots;
  const snapshots =
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''))
      : {};
  return {
    enabled: c.memoryCapture !== false,
    snapshots,
    ...(typeof c.memoryToolSha256 === 'string' && c.memoryToolSha256 ? { toolSha256: c.memoryToolSha256 } : {}),
    ...(typeof c.memoryToolVersion === 'string' && c.memoryToolVersion ? { toolVersion: c.memoryToolVersion } : {}),
  };
}

export interface ToolsSnapshotFacts {
  region: string;
  settings: MemoryToolSettings;
  tagPrefix: string;
  /** The accounts whose instances may be acquired: each needs to create a volume from the snapshot. */
  workloadAccounts: readonly string[];
  snapshotId?: string;
  snapshot?: Outcome<Snapshot | undefined>;
  permissions?: Outcome<CreateVolumePermission[]>;
  /** The snapshot's KMS key, when it is encrypted and shared with another account. */
  key?: Outcome<KeyMetadata | undefined>;
}

export async function gatherToolsSnapshot(ctx: DoctorContext, region: string): Promise<ToolsSnapshotFacts> {
  const settings = memoryToolSettings(ctx.config);
  const base = { region, settings, tagPrefix: ctx.config.tagPrefix, workloadAccounts: ctx.workloadAccounts };
  const snapshotId = settings.snapshots[region];
  if (!snapshotId || !settings.enabled) return base;
  const ec2 = new EC2Client(ctx.client(region));
  try {
    const snapshot = await attempt('ec2:DescribeSnapshots', async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0]);
    if (!snapshot.ok || !snapshot.value) return { ...base, snapshotId, snapshot };
    const permissions = await attempt(
      'ec2:DescribeSnapshotAttribute',
      async () => (await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }))).CreateVolumePermissions ?? [],
    );
    const owner = snapshot.value.OwnerId;
    const shared = ctx.workloadAccounts.some((a) => a !== owner);
    const keyId = snapshot.value.KmsKeyId;
    let key: Outcome<KeyMetadata | undefined> | undefined;
    if (snapshot.value.Encrypted && keyId && shared) {
      const kms = new KMSClient(ctx.client(region));
      try {
        key = await attempt('kms:DescribeKey', async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata);
      } finally {
        kms.destroy();
      }
    }
    return { ...base, snapshotId, snapshot, permissions, ...(key ? { key } : {}) };
  } finally {
    ec2.destroy();
  }
}

export function toolsSnapshotCheckName(region: string): string {
  return `memory.tools-snapshot[${region}]`;
}

export function evaluateToolsSnapshot(facts: ToolsSnapshotFacts, emulator: boolean): DoctorCheck {
  const name = toolsSnapshotCheckName(facts.region);
  const fix = `run forensics tools build --region ${facts.region} and set forensics:memoryToolsSnapshots`;
  if (!facts.settings.enabled) return warn(name, 'memory capture is disabled (forensics:memoryCapture false): no instance\'s memory is captured');
  if (!facts.snapshotId || !facts.snapshot) {
    return warn(name, `not configured: forensics:memoryToolsSnapshots has no tools snapshot for ${facts.region}, so memory is skipped there (not-configured-for-region) — ${fix}`);
  }
  const id = facts.snapshotId;
  if (!facts.snapshot.ok) {
    return facts.snapshot.error.notFound ? fail(name, `tools snapshot ${id} does not exist in ${facts.region} — ${fix}`) : cannotRun(name, facts.snapshot.error, `tools snapshot ${id}`, emulator);
  }
  const snap = facts.snapshot.value;
  if (!snap) return fail(name, `tools snapshot ${id} does not exist in ${facts.region} — ${fix}`);
  if (snap.State !== 'completed') return fail(name, `tools snapshot ${id} is ${snap.State ?? 'in an unknown state'}, not completed`);
  const tags = new Map((snap.Tags ?? []).map((t) => [t.Key, t.Value]));
  const keys = toolsSnapshotTagKeys(facts.tagPrefix);
  const role = tags.get(keys.role);
  if (role !== TOOLS_SNAPSHOT_TAGS.role) {
    return fail(name, `snapshot ${id} is not a tools snapshot: tag ${keys.role} is ${role ?? 'absent'}, not ${TOOLS_SNAPSHOT_TAGS.role} — ${fix}`);
  }
  const sha = tags.get(keys.toolSha256);
  const version = tags.get(keys.toolVersion);
  const want = facts.settings.toolSha256;
  if (!want) return fail(name, `forensics:memoryToolSha256 is not set: the workflow cannot pin the tool (tools snapshot ${id} holds ${sha ?? 'an untagged tool'}) — set it to ${sha ?? 'the hash forensics tools build printed'}`);
  if (sha !== want) return fail(name, `tools snapshot ${id} holds AVML ${sha ?? '(no tag)'}, not the configured forensics:memoryToolSha256 ${want}: the capture script would refuse it — rebuild, or set the setting to the snapshot's tool`);
  if (facts.settings.toolVersion && version !== facts.settings.toolVersion) {
    return fail(name, `tools snapshot ${id} holds AVML version ${version ?? '(no tag)'}, the configured forensics:memoryToolVersion is ${facts.settings.toolVersion}`);
  }
  return pass(name, `tools snapshot ${id} is completed (${snap.VolumeSize ?? '?'} GiB): AVML ${version ?? '?'} sha256 ${sha}, as configured`);
}

export function evaluateToolsShare(facts: ToolsSnapshotFacts, emulator: boolean): DoctorCheck | undefined {
  if (!facts.snapshotId || !facts.snapshot?.ok || !facts.snapshot.value || !facts.permissions) return undefined;
  const name = `memory.tools-share[${facts.region}]`;
  const snap = facts.snapshot.value;
  const id = facts.snapshotId;
  const others = facts.workloadAccounts.filter((a) => a !== snap.OwnerId);
  if (facts.workloadAccounts.length === 0) return warn(name, `no workload account list (organisation mode): cannot tell which accounts must create volumes from ${id} — pass --account`);
  if (others.length === 0) return pass(name, `tools snapshot ${id} is owned by the only workload account ${snap.OwnerId ?? '?'}: nothing to share`);
  if (!facts.permissions.ok) return cannotRun(name, facts.permissions.error, `the createVolumePermission of ${id}`, emulator);
  const perms = facts.permissions.value;
  if (facts.key && !facts.key.ok) return cannotRun(name, facts.key.error, `the KMS key of ${id}`, emulator);
  const key = facts.key?.ok ? facts.key.value : undefined;
  if (key?.KeyManager === 'AWS') {
    return fail(name, `tools snapshot ${id} is encrypted under the AWS managed key ${key.Arn ?? snap.KmsKeyId ?? ''}, which cannot be shared with other accounts — rebuild it (forensics tools build encrypts with the evidence key)`);
  }
  const granted = new Set(perms.map((p) => p.UserId).filter(Boolean));
  const missing = others.filter((a) => !granted.has(a));
  if (missing.length > 0) {
    return fail(
      name,
      `tools snapshot ${id} is not shared with ${missing.join(', ')}: their capture volumes cannot be created — aws ec2 modify-snapshot-attribute --snapshot-id ${id} --attribute createVolumePermission --operation-type add --user-ids ${missing.join(' ')} --region ${facts.region}`,
    );
  }
  if (perms.some((p) => p.Group === 'all')) return warn(name, `tools snapshot ${id} is public (createVolumePermission group all): share it with the workload accounts only`);
  return pass(name, `tools snapshot ${id} can be used by ${others.join(', ')}${snap.Encrypted ? ` (encrypted under ${snap.KmsKeyId ?? '?'}: that key's policy must let them use it)` : ''}`);
}
