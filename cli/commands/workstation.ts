import { userInfo } from 'node:os';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { instanceKey } from '../../handlers/domain/case-evidence';
import { manifestKey, type ManifestV1 } from '../../handlers/domain/manifest';
import type { Clock } from '../../handlers/domain/ports';
import type { PreIncidentState } from '../../handlers/domain/types';
import { clientConfig, type Deployment, type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { EXIT_OK, type Io, OperationFailed, UsageError, parseOutputFormat, runCommand } from './common';
import { requireCaseId, sealedManifest } from './evidence-reader';

/**
 * `forensics workstation launch <caseId>` and `forensics workstation terminate <caseId> --reason TEXT`.
 *
 * Launch: for a case that opted out of the workstation, or whose workstation was terminated (or failed). Reads the
 * sealed manifest (the evidence snapshots and their original devices), then runs the same use case as the workflow
 * step (handlers/use-cases/launch-workstation.ts): volumes from the IR-owned evidence snapshots, the hardened
 * launch template, attachments in device order, custody records, `workstation-<instanceId>.json`. A workstation of
 * the case that still runs is reused (the command then completes what is missing).
 *
 * Terminate: terminates the case's workstation and deletes its volumes (copies made from the evidence snapshots;
 * `--keep-volumes` keeps them). The evidence snapshots and evidence objects are never touched. Recorded in custody.
 *
 * Both run with the CALLER's credentials (docs/permissions.md, "forensics workstation"). The forensic VPC's ids come
 * from `--launch-template/--subnets/--security-group`, `FORENSICS_WORKSTATION_*` variables, or the IR stack outputs.
 */
export interface WorkstationCommandOptions extends DeploymentOptions {
  output?: string;
  launchTemplate?: string;
  subnets?: string;
  securityGroup?: string;
  requestedBy?: string;
}

export interface TerminateCommandOptions extends WorkstationCommandOptions {
  reason?: string;
  keepVolumes?: boolean;
  /** Seconds to wait for the volumes to detach before deleting them (default 240). */
  waitSeconds?: string;
}

interface WorkstationIds {
  launchTemplateId: string;
  subnetIds: string[];
  securityGroupId: string;
}

/** The IR stack's workstation outputs (infra/ir-stack.ts IR_STACK_OUTPUTS; test/infra/ir-stack.test.ts checks them). */
export const WORKSTATION_OUTPUTS = {
  workstationLaunchTemplateId: 'WorkstationLaunchTemplateId',
  workstationSubnetIds: 'WorkstationSubnetIds',
  workstationSecurityGroupId: 'WorkstationSecurityGroupId',
} as const;

const ID_SOURCES = {
  launchTemplateId: { flag: 'launchTemplate', env: ['FORENSICS_WORKSTATION_LAUNCH_TEMPLATE_ID', 'WORKSTATION_LAUNCH_TEMPLATE_ID'], output: WORKSTATION_OUTPUTS.workstationLaunchTemplateId },
  subnetIds: { flag: 'subnets', env: ['FORENSICS_WORKSTATION_SUBNET_IDS', 'WORKSTATION_SUBNET_IDS'], output: WORKSTATION_OUTPUTS.workstationSubnetIds },
  securityGroupId: { flag: 'securityGroup', env: ['FORENSICS_WORKSTATION_SECURITY_GROUP_ID', 'WORKSTATION_SECURITY_GROUP_ID'], output: WORKSTATION_OUTPUTS.workstationSecurityGroupId },
} as const;

export async function workstationIds(deployment: Deployment, opts: Pick<WorkstationCommandOptions, 'launchTemplate' | 'subnets' | 'securityGroup'>, env = process.env): Promise<WorkstationIds> {
  const values: Partial<Record<keyof typeof ID_SOURCES, string>> = {};
  for (const [name, src] of Object.entries(ID_SOURCES) as [keyof typeof ID_SOURCES, (typeof ID_SOURCES)[keyof typeof ID_SOURCES]][]) {
    const value = opts[src.flag] ?? src.env.map((e) => env[e]).find(Boolean);
    if (value) values[name] = value;
  }
  const missing = (Object.keys(ID_SOURCES) as (keyof typeof ID_SOURCES)[]).filter((k) => !values[k]);
  if (missing.length > 0) {
    const cfn = new CloudFormationClient(clientConfig(deployment));
    try {
      const out = await cfn.send(new DescribeStacksCommand({ StackName: deployment.stackName }));
      const outputs = new Map((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
      for (const k of missing) {
        const v = outputs.get(ID_SOURCES[k].output);
        if (v) values[k] = v;
      }
    } catch (err) {
      throw new UsageError(
        `cannot find the forensic workstation resources in stack ${deployment.stackName} (${(err as Error).name}); ` +
          'pass --launch-template, --subnets and --security-group',
      );
    } finally {
      cfn.destroy();
    }
  }
  const still = (Object.keys(ID_SOURCES) as (keyof typeof ID_SOURCES)[]).filter((k) => !values[k]);
  if (still.length > 0) {
    throw new UsageError(`stack ${deployment.stackName} has no output ${still.map((k) => ID_SOURCES[k].output).join(', ')}: deploy the workstation, or pass the ids as flags`);
  }
  return {
    launchTemplateId: values.launchTemplateId as string,
    subnetIds: (values.subnetIds as string).split(',').map((s) => s.trim()).filter(Boolean),
    securityGroupId: values.securityGroupId as string,
  };
}

/** The SDK clients and evidence-side dependencies the use case needs, with the caller's credentials. */
async function dependencies(deployment: Deployment) {
  if (deployment.endpoint) process.env.AWS_ENDPOINT_URL = deployment.endpoint;
  if (deployment.region) process.env.AWS_REGION = deployment.region;
  if (deployment.profile) process.env.AWS_PROFILE = deployment.profile;
  const [{ createAwsClients }, { DynamoCaseTable }, { S3EvidenceStore, bucketRetention }, { ChainedCustodyLog }, { Ec2WorkstationAdapter }] = await Promise.all([
    import('../../handlers/adapters/aws-client-set'),
    import('../../handlers/adapters/case-table'),
    import('../../handlers/adapters/evidence-store'),
    import('../../handlers/use-cases/custody-log'),
    import('../../handlers/adapters/ec2-workstation-adapter'),
  ]);
  const clients = createAwsClients();
  const clock: Clock = () => new Date();
  const cases = new DynamoCaseTable(clients.dynamodb(), deployment.table as string, clock);
  // The retention the deployment configured, as the bucket's default holds it: written explicitly on every object.
  const bucket = deployment.bucket as string;
  const store = new S3EvidenceStore(clients.s3(), bucket, await bucketRetention(clients.s3(), bucket), clock);
  const region = deployment.region ?? process.env.AWS_REGION ?? 'us-east-1';
  return {
    region,
    clock,
    cases,
    store,
    custody: new ChainedCustodyLog({ cases, store, clock, actor: { functionName: 'forensics-cli workstation' } }),
    ec2: new Ec2WorkstationAdapter(clients.ec2(region)),
  };
}

async function readJson<T>(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<T> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return JSON.parse((await out.Body?.transformToString()) ?? 'null') as T;
}

function who(opts: WorkstationCommandOptions): string | undefined {
  if (opts.requestedBy) return opts.requestedBy;
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

export async function runWorkstationLaunch(caseId: string, opts: WorkstationCommandOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(opts.output);
    requireCaseId(caseId);
    const deployment = await resolveDeployment(opts, ['bucket', 'table', 'keyArn']);
    const ids = await workstationIds(deployment, opts);
    const deps = await dependencies(deployment);
    const record = await deps.cases.getCase(caseId);
    if (!record) throw new OperationFailed(`case ${caseId} not found in table ${deployment.table}`);
    const sealed = sealedManifest(record);
    if (!sealed) throw new OperationFailed(`case ${caseId} is not sealed yet: the workstation is built from the sealed evidence snapshots`);
    const s3 = new S3Client(s3Config(deployment));
    let manifest: ManifestV1;
    let rootDeviceName: string | null = null;
    try {
      manifest = await readJson<ManifestV1>(s3, deployment.bucket as string, manifestKey(caseId), sealed.versionId);
      rootDeviceName = (await readJson<PreIncidentState>(s3, deployment.bucket as string, instanceKey(caseId)).catch(() => undefined))?.rootDeviceName ?? null;
    } finally {
      s3.destroy();
    }
    const { launchWorkstation } = await import('../../handlers/use-cases/launch-workstation');
    const requestedBy = who(opts);
    io.err(`forensics: launching a workstation for case ${caseId} (${manifest.snapshots.length} evidence snapshots)…`);
    const result = await launchWorkstation(
      {
        ec2: deps.ec2,
        cases: deps.cases,
        store: deps.store,
        custody: deps.custody,
        clock: deps.clock,
        config: {
          region: deps.region,
          tagPrefix: process.env.FORENSICS_TAG_PREFIX ?? 'forensics',
          evidenceKeyArn: deployment.keyArn as string,
          subnetIds: ids.subnetIds,
          launchTemplateId: ids.launchTemplateId,
          securityGroupId: ids.securityGroupId,
        },
      },
      {
        caseRef: { caseId, executionArn: record.executionArn, target: record.target },
        snapshots: manifest.snapshots,
        rootDeviceName,
        ...(requestedBy ? { requestedBy: `forensics-cli (${requestedBy})` } : {}),
      },
    );
    if (format === 'json') io.out(JSON.stringify(result));
    else {
      io.out(`Workstation ${result.instanceId} (${result.availabilityZone}, ${result.subnetId}) for case ${caseId}`);
      for (const v of result.volumes) {
        io.out(`  ${v.attachDevice}  ${v.volumeId}  <- ${v.sourceVolumeId}${v.sourceDeviceName ? ` (${v.sourceDeviceName})` : ''} via ${v.evidenceSnapshotId}  ${v.attachmentState}`);
      }
      io.out(`Shell:        aws ssm start-session --target ${result.instanceId} --region ${deps.region}`);
      io.out(`Mount report: ${result.analysisPrefix}mount-report-${result.instanceId}.json`);
    }
    return EXIT_OK;
  });
}

export async function runWorkstationTerminate(caseId: string, opts: TerminateCommandOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(opts.output);
    requireCaseId(caseId);
    if (!opts.reason?.trim()) throw new UsageError('--reason: required (recorded in the custody log)');
    const waitSeconds = opts.waitSeconds === undefined ? 240 : Number(opts.waitSeconds);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new UsageError('--wait-seconds: expected a number ≥ 0');
    const deployment = await resolveDeployment(opts, ['bucket', 'table']);
    const deps = await dependencies(deployment);
    const { terminateWorkstation } = await import('../../handlers/use-cases/launch-workstation');
    const requestedBy = who(opts);
    const result = await terminateWorkstation(
      { ...deps, config: { tagPrefix: process.env.FORENSICS_TAG_PREFIX ?? 'forensics' }, wait: { polls: Math.max(1, Math.ceil(waitSeconds / 5)), intervalMs: 5000 } },
      { caseId, reason: opts.reason, deleteVolumes: !opts.keepVolumes, ...(requestedBy ? { requestedBy } : {}) },
    );
    if (format === 'json') io.out(JSON.stringify(result));
    else {
      io.out(`Case ${caseId}: terminated ${result.terminated.join(', ') || 'nothing'}; deleted volumes ${result.deletedVolumes.join(', ') || 'none'}`);
      for (const k of result.keptVolumes) io.out(`  kept ${k.volumeId}: ${k.reason}`);
      io.out('Evidence snapshots and evidence objects were not touched.');
    }
    return result.keptVolumes.length > 0 && !opts.keepVolumes ? 1 : EXIT_OK;
  });
}

export function registerWorkstationCommands(program: Command): void {
  const ws = program.command('workstation').description('Forensic workstation of a case: launch (again) or terminate.');
  const common = <Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) =>
    cmd
      .option('--stack <name>', 'IR CloudFormation stack (default: cdk.json forensics:stackName)')
      .option('--profile <name>', 'shared config profile')
      .option('--region <region>', 'region of the IR deployment')
      .option('--endpoint <url>', 'AWS-compatible emulator endpoint (loopback only)')
      .option('--bucket <name>', 'evidence bucket (or FORENSICS_BUCKET)')
      .option('--table <name>', 'case table (or FORENSICS_TABLE)')
      .option('--key-arn <arn>', 'evidence KMS key ARN (or FORENSICS_KEY_ARN)')
      .option('--requested-by <who>', 'responder recorded in custody (default: the OS user)')
      .option('--output <format>', 'json or text', 'text');
  common(
    ws
      .command('launch')
      .description('Launch the workstation of a sealed case: evidence volumes attached read-only, Session Manager only.')
      .argument('<caseId>')
      .option('--launch-template <id>', 'workstation launch template (default: stack output WorkstationLaunchTemplateId)')
      .option('--subnets <ids>', 'isolated subnets, comma-separated (default: stack output WorkstationSubnetIds)')
      .option('--security-group <id>', 'workstation group (default: stack output WorkstationSecurityGroupId)'),
  ).action(async (caseId, opts) => {
    process.exitCode = await runWorkstationLaunch(caseId, opts, stdio());
  });
  common(
    ws
      .command('terminate')
      .description("Terminate a case's workstation and delete its volumes; the evidence snapshots stay untouched.")
      .argument('<caseId>')
      .requiredOption('--reason <text>', 'why (recorded in the custody log)')
      .option('--keep-volumes', 'keep the workstation volumes (detached) instead of deleting them', false)
      .option('--wait-seconds <n>', 'wait this long for the volumes to detach before deleting them', '240'),
  ).action(async (caseId, opts) => {
    process.exitCode = await runWorkstationTerminate(caseId, opts, stdio());
  });
}

function stdio(): Io {
  return { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
}
