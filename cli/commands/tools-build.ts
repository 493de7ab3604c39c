import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AttachVolumeCommand,
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  GetConsoleOutputCommand,
  ModifySnapshotAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MemoryTool } from '../../handlers/domain/memory-capture';
import { memoryToolSettings } from '../doctor/checks/memory-capture';
import { loadDeploymentConfig } from '../deployment/deployment-config';
import { clientConfig, type Deployment, type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import {
  type BuilderResult,
  type BuilderValues,
  builderUserData,
  configurationLines,
  elfArchitecture,
  parseBuilderResult,
  stagingPrefix,
  TOOL_VERSION,
  type ToolsManifest,
  toolsManifestBody,
  toolsSnapshotTags,
  versionFromOutput,
} from '../tools/tools-snapshot';
import { EXIT_OK, type Io, OperationFailed, parseOutputFormat, runCommand, UsageError } from './common';
import { workstationIds } from './workstation';

/**
 * `forensics tools build --avml PATH --region R [--avml-version V] [--share-with ACCOUNT,...]`: makes the memory tools
 * snapshot of a region once, before any incident (never at incident time), with the deployment's own resources:
 *
 * 1. Locally: the AVML binary must be a static ELF for x86_64 or arm64; its SHA-256 is computed here, its version read
 *    from `avml --version` (or `--avml-version` when it cannot run here). TOOLS.json names tool, script hash, time.
 * 2. The three files are staged in the evidence bucket under `tools/<time>-<sha>/`, written like every evidence
 *    object (once, SHA-256 checksum, retention, legal hold): the bucket's policy insists, and the tool a snapshot was
 *    built from stays on record. They cannot be deleted afterwards (Object Lock).
 * 3. A blank encrypted volume (the evidence key: the workload accounts may use it) in the AZ of the forensic
 *    workstation subnet; a builder from the workstation launch template in that subnet (no internet: S3 through the
 *    gateway endpoint), with its own user data (cli/tools/tools-builder-user-data.sh), told to terminate on shutdown;
 *    the volume attached. The builder formats it (ext4, FORENSICTOOLS), copies the files, checks each hash, prints one
 *    result line on its console and powers off. The command reads that line (ec2:GetConsoleOutput).
 * 4. The volume snapshotted and tagged (TOOLS_SNAPSHOT_TAGS under the tag prefix); copied to `--region` (under the
 *    evidence key's replica there) when that is not the workstation's region; shared (createVolumePermission) with the
 *    `--share-with` accounts; then the builder volume (and the intermediate snapshot of a copy) deleted: the tools
 *    volume is not evidence, and the snapshot holds it. Read back, then the configuration lines are printed.
 *
 * Nothing half-made is kept: on any failure after the volume exists, the builder is terminated and this run's
 * volume and snapshots are deleted (only what this run created). Bad input fails before any AWS call, naming the flag.
 * On an emulator (`--endpoint`) nothing runs in the builder: every call is made and read back, and the command says
 * that the volume's content was not verified there.
 */

export interface ToolsBuildOptions extends DeploymentOptions {
  avml?: string;
  avmlVersion?: string;
  /** The region the snapshot is for (where workload instances run). */
  region?: string;
  /** The IR deployment's region (the forensic workstation VPC's): default the SDK's region. */
  deploymentRegion?: string;
  shareWith?: string;
  timeout?: string;
  launchTemplate?: string;
  subnets?: string;
  securityGroup?: string;
  output?: string;
}

/** Bounded waits; tests replace `sleep`. */
export interface ToolsBuildRuntime {
  sleep(ms: number): Promise<void>;
  now(): Date;
  /** Runs `avml --version`; throws when it cannot run here. */
  runVersion(path: string): string;
  /** The templates shipped with the CLI. */
  captureScript(): Buffer;
  builderTemplate(): string;
}

/** The CLI's own files (cli/tools/), wherever the command runs from; no aws-cdk-lib import on the way. */
const TOOLS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools');

export const defaultRuntime: ToolsBuildRuntime = {
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => new Date(),
  runVersion: (path) => execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }),
  captureScript: () => readFileSync(join(TOOLS_DIR, 'capture-memory.sh')),
  builderTemplate: () => readFileSync(join(TOOLS_DIR, 'tools-builder-user-data.sh'), 'utf8'),
};

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT = /^\d{12}$/;
/** AVML is a few MiB; anything this large is not it. */
const MAX_TOOL_BYTES = 256 * 2 ** 20;
const POLL_MS = 5000;
/** The volume: the tools are a few MiB; 1 GiB is the smallest gp3 volume. */
const TOOLS_VOLUME_GIB = 1;
const DEVICE = '/dev/sdf';

export interface ToolsBuildInput {
  avml: { path: string; bytes: Buffer; sha256: string };
  tool: MemoryTool & { architecture: 'x86_64' | 'arm64' };
  region: string;
  shareWith: string[];
  timeoutMinutes: number;
}

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const sha256Base64 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('base64');

/** Every flag checked before any AWS call: a bad one is a UsageError naming it. */
export function validateToolsBuildInput(opts: ToolsBuildOptions, rt: Pick<ToolsBuildRuntime, 'runVersion'>): ToolsBuildInput {
  if (!opts.avml) throw new UsageError('--avml: required (path of the AVML binary to pin)');
  if (!opts.region || !REGION.test(opts.region)) throw new UsageError(`--region: expected the region the snapshot is for (e.g. eu-west-1), got ${opts.region ?? 'nothing'}`);
  if (opts.deploymentRegion !== undefined && !REGION.test(opts.deploymentRegion)) throw new UsageError(`--deployment-region: expected a region name, got ${opts.deploymentRegion}`);
  const shareWith = (opts.shareWith ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  const bad = shareWith.find((a) => !ACCOUNT.test(a));
  if (bad !== undefined) throw new UsageError(`--share-with: expected 12-digit account ids separated by commas, got ${bad}`);
  const timeoutMinutes = opts.timeout === undefined ? 20 : Number(opts.timeout);
  if (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 1 || timeoutMinutes > 120) throw new UsageError('--timeout: expected whole minutes between 1 and 120');
  let bytes: Buffer;
  try {
    const size = statSync(opts.avml).size;
    if (size > MAX_TOOL_BYTES) throw new UsageError(`--avml: ${opts.avml} is ${size} bytes: not an AVML binary`);
    bytes = readFileSync(opts.avml);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--avml: cannot read ${opts.avml}: ${(err as Error).message}`);
  }
  const architecture = elfArchitecture(bytes);
  if (architecture === 'not-elf') throw new UsageError(`--avml: ${opts.avml} is not an ELF executable (download AVML's static Linux binary)`);
  if (architecture === 'unsupported') throw new UsageError(`--avml: ${opts.avml} is an ELF binary for neither x86_64 nor arm64`);
  if (opts.avmlVersion !== undefined && !TOOL_VERSION.test(opts.avmlVersion)) throw new UsageError(`--avml-version: expected a version such as 0.14.0, got ${opts.avmlVersion}`);
  let reported: string | undefined;
  let why = '';
  try {
    reported = versionFromOutput(rt.runVersion(opts.avml));
    if (!reported) why = 'its --version output names no version';
  } catch (err) {
    why = `it cannot run here (${(err as Error).message.split('\n')[0]})`;
  }
  if (reported && opts.avmlVersion && reported !== opts.avmlVersion) {
    throw new UsageError(`--avml-version: ${opts.avmlVersion}, but ${opts.avml} --version reports ${reported}`);
  }
  const version = reported ?? opts.avmlVersion;
  if (!version) throw new UsageError(`--avml-version: required: cannot read the version of ${opts.avml}: ${why}`);
  return {
    avml: { path: opts.avml, bytes, sha256: sha256Hex(bytes) },
    tool: { name: 'avml', version, sha256: sha256Hex(bytes), architecture },
    region: opts.region,
    shareWith,
    timeoutMinutes,
  };
}

export interface ToolsBuildResult {
  snapshotId: string;
  region: string;
  tool: ToolsManifest['tool'];
  scriptSha256: string;
  stagedPrefix: string;
  sharedWith: string[];
  tags: Record<string, string>;
  state: string;
  /** False on an emulator: the builder's user data did not run there. */
  contentVerified: boolean;
  deleted: { volumeId: string; intermediateSnapshotId?: string };
  configuration: string[];
}

export async function runToolsBuild(opts: ToolsBuildOptions, io: Io, rt: ToolsBuildRuntime = defaultRuntime, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(opts.output);
    const input = validateToolsBuildInput(opts, rt);
    const { region: _target, deploymentRegion, ...rest } = opts;
    const deployment = await resolveDeployment({ ...rest, ...(deploymentRegion ? { region: deploymentRegion } : {}) }, ['bucket', 'keyArn'], env);
    const config = loadDeploymentConfig();
    const result = await buildToolsSnapshot(deployment, input, opts, rt, {
      tagPrefix: env.FORENSICS_TAG_PREFIX ?? config.tagPrefix,
      configured: memoryToolSettings(config).snapshots,
      log: (l) => io.err(`forensics: ${l}`),
      env,
    });
    if (format === 'json') io.out(JSON.stringify(result));
    else {
      io.out(`Tools snapshot ${result.snapshotId} in ${result.region}: ${result.state}`);
      io.out(`  AVML ${result.tool.version} (${result.tool.architecture}) sha256 ${result.tool.sha256}`);
      io.out(`  capture script sha256 ${result.scriptSha256}; files staged at ${result.stagedPrefix}`);
      io.out(`  shared with ${result.sharedWith.join(', ') || 'no other account'}`);
      io.out(`  deleted the builder volume ${result.deleted.volumeId}${result.deleted.intermediateSnapshotId ? ` and the intermediate snapshot ${result.deleted.intermediateSnapshotId}` : ''} (not evidence)`);
      if (!result.contentVerified) io.out('  EMULATOR: the builder ran nothing; the volume content was not written or verified');
      for (const l of result.configuration) io.out(l);
    }
    return EXIT_OK;
  });
}

interface BuildContext {
  tagPrefix: string;
  configured: Readonly<Record<string, string>>;
  log(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** What this run created, so that a failure deletes exactly that and nothing else. */
interface Created {
  instanceId?: string;
  volumeId?: string;
  snapshots: { region: string; snapshotId: string }[];
}

export async function buildToolsSnapshot(
  deployment: Deployment,
  input: ToolsBuildInput,
  opts: Pick<ToolsBuildOptions, 'launchTemplate' | 'subnets' | 'securityGroup'>,
  rt: ToolsBuildRuntime,
  ctx: BuildContext,
): Promise<ToolsBuildResult> {
  const keyArn = deployment.keyArn as string;
  const bucket = deployment.bucket as string;
  const homeRegion = deployment.region ?? keyArn.split(':')[3] ?? '';
  const emulator = Boolean(deployment.endpoint);
  // A copy into another region is encrypted under the evidence key's replica there: same id, that region.
  const keyId = keyArn.split('/').pop() ?? '';
  if (input.region !== homeRegion && !keyId.startsWith('mrk-')) {
    throw new UsageError(`--region: ${input.region} is not the deployment region ${homeRegion} and the evidence key is not multi-Region (forensics:evidenceKeyMultiRegion): build in ${homeRegion}, or enable it`);
  }
  const targetKeyArn = input.region === homeRegion ? keyArn : keyArn.replace(`:${homeRegion}:`, `:${input.region}:`);
  // The owner needs no permission to its own snapshot (and EC2 refuses to add one for it).
  const irAccount = keyArn.split(':')[4];
  const shareWith = input.shareWith.filter((a) => a !== irAccount);
  const ids = await workstationIds(deployment, opts, ctx.env);
  const subnetId = ids.subnetIds[0];
  if (!subnetId) throw new UsageError('--subnets: the forensic workstation has no subnet');

  const builtAt = rt.now().toISOString();
  const script = rt.captureScript();
  const manifest: ToolsManifest = { tool: input.tool, script: { path: 'bin/capture-memory.sh', sha256: sha256Hex(script) }, builtAt };
  const manifestBody = toolsManifestBody(manifest);
  const prefix = stagingPrefix(builtAt, input.tool.sha256);
  const tags = toolsSnapshotTags(ctx.tagPrefix, manifest);
  const role = (value: string) => ({ Key: `${ctx.tagPrefix}:role`, Value: value });

  const s3 = new S3Client(s3Config(deployment));
  const ec2 = new EC2Client(clientConfig(deployment, homeRegion));
  const ec2Target = input.region === homeRegion ? ec2 : new EC2Client(clientConfig(deployment, input.region));
  const created: Created = { snapshots: [] };
  try {
    // ── 1. Stage the files as evidence objects (once, checksum, retention, legal hold) ──
    const { bucketRetention } = await import('../../handlers/adapters/evidence-store');
    const retention = await bucketRetention(s3, bucket);
    const until = new Date(rt.now().getTime() + retention.days * 86_400_000);
    const files: [string, Uint8Array | string, string][] = [
      ['avml', input.avml.bytes, 'application/octet-stream'],
      ['capture-memory.sh', script, 'text/x-shellscript'],
      ['TOOLS.json', manifestBody, 'application/json'],
    ];
    for (const [name, body, contentType] of files) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${name}`,
          Body: body,
          ContentType: contentType,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: sha256Base64(body),
          IfNoneMatch: '*',
          ObjectLockMode: retention.mode as 'COMPLIANCE' | 'GOVERNANCE',
          ObjectLockRetainUntilDate: until,
          ObjectLockLegalHoldStatus: 'ON',
        }),
      );
    }
    ctx.log(`staged bin/avml, bin/capture-memory.sh and TOOLS.json at s3://${bucket}/${prefix}`);

    // ── 2. A blank encrypted volume in the workstation subnet's AZ ──
    const subnet = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets?.[0];
    const az = subnet?.AvailabilityZone;
    if (!az) throw new OperationFailed(`subnet ${subnetId} not found in ${homeRegion}`);
    const volume = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: az,
        Size: TOOLS_VOLUME_GIB,
        VolumeType: 'gp3',
        Encrypted: true,
        KmsKeyId: keyArn,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [role('memory-tools-build'), { Key: 'Name', Value: `${ctx.tagPrefix}-memory-tools-build` }] }],
      }),
    );
    if (!volume.VolumeId) throw new OperationFailed('CreateVolume returned no volume id');
    created.volumeId = volume.VolumeId;
    await waitFor(rt, input.timeoutMinutes, `volume ${volume.VolumeId} available`, async () => (await describeVolume(ec2, volume.VolumeId as string))?.State === 'available');

    // ── 3. The builder, its user data, the attachment ──
    const values: BuilderValues = {
      bucket,
      prefix,
      region: homeRegion,
      volumeId: volume.VolumeId,
      avmlSha256: input.tool.sha256,
      scriptSha256: manifest.script.sha256,
      manifestSha256: sha256Hex(manifestBody),
    };
    const { WORKSTATION_METADATA_OPTIONS } = await import('../../handlers/adapters/ec2-workstation-adapter');
    const run = await ec2.send(
      new RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateId: ids.launchTemplateId, Version: '$Default' },
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [ids.securityGroupId], AssociatePublicIpAddress: false, DeleteOnTermination: true }],
        MetadataOptions: { ...WORKSTATION_METADATA_OPTIONS },
        UserData: Buffer.from(builderUserData(rt.builderTemplate(), values)).toString('base64'),
        InstanceInitiatedShutdownBehavior: 'terminate',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [role('memory-tools-builder'), { Key: 'Name', Value: `${ctx.tagPrefix}-memory-tools-builder` }] }],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new OperationFailed('RunInstances returned no instance id');
    created.instanceId = instanceId;
    await waitFor(rt, input.timeoutMinutes, `builder ${instanceId} running`, async () => (await instanceState(ec2, instanceId)) === 'running');
    await ec2.send(new AttachVolumeCommand({ VolumeId: volume.VolumeId, InstanceId: instanceId, Device: DEVICE }));
    ctx.log(`builder ${instanceId} launched in ${subnetId} (${az}); volume ${volume.VolumeId} attached`);

    // ── 4. The builder's verdict, then it is gone and the volume free ──
    let verdict: BuilderResult | null = null;
    if (emulator) {
      ctx.log('emulator: the builder runs nothing there; its volume content is not written or verified');
    } else {
      await waitFor(rt, input.timeoutMinutes, `the builder's result line on ${instanceId}'s console`, async () => {
        verdict = await readVerdict(ec2, instanceId, values);
        return verdict !== null;
      });
      const v = verdict as BuilderResult | null;
      if (v?.status !== 'built') throw new OperationFailed(`the builder failed: ${v?.status === 'failed' ? v.reason : 'no result'}`);
    }
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await waitFor(rt, input.timeoutMinutes, `builder ${instanceId} terminated`, async () => (await instanceState(ec2, instanceId)) === 'terminated');
    created.instanceId = undefined;
    await freeVolume(ec2, rt, input.timeoutMinutes, volume.VolumeId);

    // ── 5. Snapshot, tags, copy to the region, share ──
    const snap = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volume.VolumeId,
        Description: `Memory tools: AVML ${input.tool.version} sha256 ${input.tool.sha256}`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
      }),
    );
    if (!snap.SnapshotId) throw new OperationFailed('CreateSnapshot returned no snapshot id');
    created.snapshots.push({ region: homeRegion, snapshotId: snap.SnapshotId });
    await waitFor(rt, input.timeoutMinutes, `snapshot ${snap.SnapshotId} completed`, async () => (await describeSnapshot(ec2, snap.SnapshotId as string))?.State === 'completed');
    let snapshotId = snap.SnapshotId;
    let intermediate: string | undefined;
    if (input.region !== homeRegion) {
      const copy = await ec2Target.send(
        new CopySnapshotCommand({
          SourceRegion: homeRegion,
          SourceSnapshotId: snap.SnapshotId,
          Encrypted: true,
          KmsKeyId: targetKeyArn,
          Description: `Memory tools: AVML ${input.tool.version} sha256 ${input.tool.sha256} (from ${homeRegion})`,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
        }),
      );
      if (!copy.SnapshotId) throw new OperationFailed('CopySnapshot returned no snapshot id');
      created.snapshots.push({ region: input.region, snapshotId: copy.SnapshotId });
      await waitFor(rt, input.timeoutMinutes, `copy ${copy.SnapshotId} completed in ${input.region}`, async () => (await describeSnapshot(ec2Target, copy.SnapshotId as string))?.State === 'completed');
      intermediate = snap.SnapshotId;
      snapshotId = copy.SnapshotId;
    }
    if (shareWith.length > 0) {
      await ec2Target.send(
        new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: shareWith }),
      );
    }

    // ── 6. Nothing left behind but the snapshot: the builder volume and a copy's source go ──
    if (intermediate) {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: intermediate }));
      created.snapshots = created.snapshots.filter((s) => s.snapshotId !== intermediate);
    }
    await ec2.send(new DeleteVolumeCommand({ VolumeId: volume.VolumeId }));
    created.volumeId = undefined;

    // ── 7. Read back what is configured from here on ──
    const stored = await describeSnapshot(ec2Target, snapshotId);
    if (!stored) throw new OperationFailed(`snapshot ${snapshotId} not found in ${input.region} after the build`);
    const perms = (await ec2Target.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }))).CreateVolumePermissions ?? [];
    const sharedWith = perms.map((p) => p.UserId).filter((u): u is string => Boolean(u));
    const missing = shareWith.filter((a) => !sharedWith.includes(a));
    if (missing.length > 0) throw new OperationFailed(`snapshot ${snapshotId} is not shared with ${missing.join(', ')} after ModifySnapshotAttribute`);
    created.snapshots = [];
    return {
      snapshotId,
      region: input.region,
      tool: input.tool,
      scriptSha256: manifest.script.sha256,
      stagedPrefix: `s3://${bucket}/${prefix}`,
      sharedWith,
      tags: Object.fromEntries((stored.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      state: stored.State ?? 'unknown',
      contentVerified: !emulator,
      deleted: { volumeId: volume.VolumeId, ...(intermediate ? { intermediateSnapshotId: intermediate } : {}) },
      configuration: configurationLines({ ...ctx.configured, [input.region]: snapshotId }, input.tool),
    };
  } catch (err) {
    await undo(created, { ec2, ec2Target, homeRegion, rt, timeoutMinutes: input.timeoutMinutes, log: ctx.log });
    throw err;
  } finally {
    s3.destroy();
    ec2.destroy();
    if (ec2Target !== ec2) ec2Target.destroy();
  }
}

/** Deletes what this run created (never anything else), best effort, each step logged. */
async function undo(
  created: Created,
  c: { ec2: EC2Client; ec2Target: EC2Client; homeRegion: string; rt: ToolsBuildRuntime; timeoutMinutes: number; log(l: string): void },
): Promise<void> {
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      c.log(`cleanup: ${what}`);
    } catch (err) {
      c.log(`cleanup: could not ${what.replace(/^(\w+)d /, '$1 ')}: ${(err as Error).name} — remove it by hand`);
    }
  };
  if (created.instanceId) {
    const id = created.instanceId;
    await attempt(`terminated builder ${id}`, () => c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
  }
  if (created.volumeId) {
    const id = created.volumeId;
    await attempt(`deleted volume ${id}`, async () => {
      await freeVolume(c.ec2, c.rt, c.timeoutMinutes, id);
      await c.ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    });
  }
  for (const s of created.snapshots) {
    const client = s.region === c.homeRegion ? c.ec2 : c.ec2Target;
    await attempt(`deleted snapshot ${s.snapshotId}`, () => client.send(new DeleteSnapshotCommand({ SnapshotId: s.snapshotId })));
  }
}

async function waitFor(rt: ToolsBuildRuntime, timeoutMinutes: number, what: string, done: () => Promise<boolean>): Promise<void> {
  const polls = Math.ceil((timeoutMinutes * 60_000) / POLL_MS);
  for (let i = 0; i < polls; i++) {
    if (await done()) return;
    await rt.sleep(POLL_MS);
  }
  throw new OperationFailed(`timed out after ${timeoutMinutes} min waiting for ${what}`);
}

/** Detached (the builder's termination detaches it on AWS; an explicit detach otherwise), then available. */
async function freeVolume(ec2: EC2Client, rt: ToolsBuildRuntime, timeoutMinutes: number, volumeId: string): Promise<void> {
  const v = await describeVolume(ec2, volumeId);
  if (v?.State === 'in-use' && (v.Attachments ?? []).some((a) => a.State === 'attached' || a.State === 'attaching')) {
    await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId }));
  }
  await waitFor(rt, timeoutMinutes, `volume ${volumeId} available`, async () => (await describeVolume(ec2, volumeId))?.State === 'available');
}

async function readVerdict(ec2: EC2Client, instanceId: string, values: BuilderValues): Promise<BuilderResult | null> {
  // Latest: the live serial output (Nitro); the buffered output (posted at boot and termination) otherwise.
  for (const latest of [true, false]) {
    try {
      const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: latest }));
      const text = out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '';
      const verdict = parseBuilderResult(text, values);
      if (verdict) return verdict;
    } catch (err) {
      if (!/UnsupportedOperation|InvalidParameter/i.test((err as Error).name)) throw err;
    }
  }
  const state = await instanceState(ec2, instanceId);
  return state === 'terminated' || state === 'stopped' ? { status: 'failed', reason: `the builder ${state} without a result line on its console` } : null;
}

async function describeVolume(ec2: EC2Client, volumeId: string) {
  return (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0];
}

async function describeSnapshot(ec2: EC2Client, snapshotId: string) {
  return (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0];
}

async function instanceState(ec2: EC2Client, instanceId: string): Promise<string | undefined> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
}
