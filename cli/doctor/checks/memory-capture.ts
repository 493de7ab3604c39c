import { DescribeInstancesCommand, DescribeSnapshotsCommand, DescribeVpcEndpointsCommand, EC2Client, type Instance, type Snapshot, type VpcEndpoint } from '@aws-sdk/client-ec2';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { Credentials, DoctorContext } from '../context';

/**
 * What memory capture needs where the instances are:
 * - `ssm.endpoints[<account>/<region>]`: the acquisition channel reaches an instance only through its VPC's SSM
 *   interface endpoints (ssm, ssmmessages, ec2messages) — never through the internet once the instance is isolated.
 *   Instances in a VPC without all three cannot have their memory captured: a WARN with their count.
 * - `memory.tools-snapshot[<region>]`: the EBS snapshot holding the pinned capture tools (AVML). Memory capture is not
 *   part of the deployment yet and cdk.json has no setting for that snapshot, so this is "not configured" (WARN) until
 *   it has; the evaluation of the snapshot itself is implemented for when it does.
 */

/** The three interface endpoints Session Manager and Run Command need in a VPC without internet access. */
export const SSM_ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;

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

/**
 * The tools snapshot id for a region, when the deployment has such a setting. None exists yet (memory capture is a
 * later capability); a config carrying `memoryToolsSnapshotIds` (region → snapshot id) is read as it will be.
 */
export function toolsSnapshotIdFor(config: object, region: string): string | undefined {
  const ids = (config as { memoryToolsSnapshotIds?: Record<string, string> }).memoryToolsSnapshotIds;
  return ids?.[region];
}

export interface ToolsSnapshotFacts {
  region: string;
  snapshotId?: string;
  snapshot?: Outcome<Snapshot | undefined>;
}

export async function gatherToolsSnapshot(ctx: DoctorContext, region: string): Promise<ToolsSnapshotFacts> {
  const snapshotId = toolsSnapshotIdFor(ctx.config, region);
  if (!snapshotId) return { region };
  const ec2 = new EC2Client(ctx.client(region));
  try {
    const snapshot = await attempt('ec2:DescribeSnapshots', async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0]);
    return { region, snapshotId, snapshot };
  } finally {
    ec2.destroy();
  }
}

export function evaluateToolsSnapshot(facts: ToolsSnapshotFacts, emulator: boolean): DoctorCheck {
  const name = `memory.tools-snapshot[${facts.region}]`;
  if (!facts.snapshotId || !facts.snapshot) {
    return warn(name, 'not configured: memory capture is not part of this deployment yet (no tools snapshot setting in cdk.json), so no instance\'s memory is captured');
  }
  if (!facts.snapshot.ok) {
    return facts.snapshot.error.notFound
      ? fail(name, `tools snapshot ${facts.snapshotId} does not exist in ${facts.region} — build it and set its id`)
      : cannotRun(name, facts.snapshot.error, `tools snapshot ${facts.snapshotId}`, emulator);
  }
  const snap = facts.snapshot.value;
  if (!snap) return fail(name, `tools snapshot ${facts.snapshotId} does not exist in ${facts.region} — build it and set its id`);
  return snap.State === 'completed'
    ? pass(name, `tools snapshot ${facts.snapshotId} is completed (${snap.VolumeSize ?? '?'} GiB)`)
    : fail(name, `tools snapshot ${facts.snapshotId} is ${snap.State ?? 'in an unknown state'}, not completed`);
}
