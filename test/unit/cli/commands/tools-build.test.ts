import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
import { GetObjectLockConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRuntime, runToolsBuild, type ToolsBuildOptions, type ToolsBuildRuntime } from '../../../../cli/commands/tools-build';
import { BUILDER_RESULT_PREFIX, elfArchitecture, parseBuilderResult, stagingPrefix, versionFromOutput } from '../../../../cli/tools/tools-snapshot';

/**
 * `forensics tools build`: bad input changes nothing (no AWS call at all); the exact requests of a build (staged
 * files written as evidence objects, the blank encrypted volume, the builder from the workstation template with its
 * own user data and terminate-on-shutdown, the snapshot's tags, the share, the builder volume deleted); a builder that
 * reports a failure leaves nothing half-made; a build for another region copies under the key's replica there.
 * The builder's console answers from the values in its user data, as the real user data would print them.
 */
const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);

const HOME = 'eu-west-1';
const IR = '111122223333';
const WORKLOAD = '444455556666';
const KEY = `arn:aws:kms:${HOME}:${IR}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const MRK = `arn:aws:kms:${HOME}:${IR}:key/mrk-0123456789abcdef0123456789abcdef`;
const NOW = new Date('2026-11-29T10:00:00.000Z');
const dirs: string[] = [];

/** A minimal x86-64 ELF header: enough for the command's checks (it never runs the file: runVersion is stubbed). */
function elf(machine = 0x3e): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(machine, 18);
  return b;
}

function avmlFile(bytes: Buffer = elf()): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-build-'));
  dirs.push(dir);
  const file = path.join(dir, 'avml');
  fs.writeFileSync(file, bytes, { mode: 0o755 });
  return file;
}

function runtime(version: () => string = () => 'avml 0.14.0\n'): ToolsBuildRuntime {
  return { ...defaultRuntime, sleep: async () => undefined, now: () => NOW, runVersion: version };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const baseOptions = (over: Partial<ToolsBuildOptions> = {}): ToolsBuildOptions => ({
  avml: avmlFile(),
  region: HOME,
  deploymentRegion: HOME,
  bucket: 'evidence-bucket',
  keyArn: KEY,
  launchTemplate: 'lt-0123456789abcdef0',
  subnets: 'subnet-0aaa,subnet-0bbb',
  securityGroup: 'sg-0workstation',
  shareWith: WORKLOAD,
  ...over,
});

/** The values the builder's user data carries (`export NAME='value'`). */
function userDataValues(): Record<string, string> {
  const input = ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
  const text = Buffer.from(input?.UserData ?? '', 'base64').toString('utf8');
  return Object.fromEntries([...text.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

/**
 * A small EC2 world: the volume's and instance's states follow the calls; the builder's console prints the result
 * line from its user data values (`builder` says built or failed).
 */
function world(builder: 'built' | 'failed' = 'built') {
  let volumeState = 'creating';
  let attached = false;
  let instanceState = 'pending';
  const snapshots = new Map<string, { region: string; tags: unknown }>();
  const permissions: string[] = [];
  s3.on(GetObjectLockConfigurationCommand).resolves({ ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } } });
  s3.on(PutObjectCommand).resolves({ VersionId: 'v1' });
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-0aaa', AvailabilityZone: `${HOME}b` }] });
  ec2.on(CreateVolumeCommand).resolves({ VolumeId: 'vol-0tools' });
  ec2.on(DescribeVolumesCommand).callsFake(() => {
    // The first read sees it creating, later reads available (or in use while attached).
    const state = volumeState === 'creating' ? 'creating' : attached ? 'in-use' : volumeState;
    volumeState = 'available';
    return { Volumes: [{ VolumeId: 'vol-0tools', State: state, Attachments: attached ? [{ State: 'attached', InstanceId: 'i-0builder' }] : [] }] };
  });
  ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0builder' }] });
  ec2.on(DescribeInstancesCommand).callsFake(() => {
    // The first read sees it pending, later reads running (until it is terminated).
    const state = instanceState;
    if (instanceState === 'pending') instanceState = 'running';
    return { Reservations: [{ Instances: [{ InstanceId: 'i-0builder', State: { Name: state } }] }] };
  });
  ec2.on(AttachVolumeCommand).callsFake(() => {
    attached = true;
    return { State: 'attaching' };
  });
  ec2.on(GetConsoleOutputCommand).callsFake(() => {
    const v = userDataValues();
    const line =
      builder === 'built'
        ? `${BUILDER_RESULT_PREFIX}{"status":"built","volumeId":"${v.FORENSICS_TOOLS_VOLUME_ID}","avmlSha256":"${v.AVML_SHA256}","scriptSha256":"${v.SCRIPT_SHA256}","manifestSha256":"${v.MANIFEST_SHA256}"}`
        : `${BUILDER_RESULT_PREFIX}{"status":"failed","volumeId":"${v.FORENSICS_TOOLS_VOLUME_ID}","reason":"bin/avml SHA-256 x is not the expected y"}`;
    return { Output: Buffer.from(`[  OK  ] cloud-init\n${line}\n`).toString('base64') };
  });
  ec2.on(TerminateInstancesCommand).callsFake(() => {
    instanceState = 'terminated';
    attached = false;
    return {};
  });
  ec2.on(DetachVolumeCommand).callsFake(() => {
    attached = false;
    return {};
  });
  ec2.on(CreateSnapshotCommand).callsFake((input) => {
    snapshots.set('snap-0home', { region: HOME, tags: input.TagSpecifications?.[0]?.Tags });
    return { SnapshotId: 'snap-0home' };
  });
  ec2.on(CopySnapshotCommand).callsFake((input) => {
    snapshots.set('snap-0copy', { region: 'us-east-1', tags: input.TagSpecifications?.[0]?.Tags });
    return { SnapshotId: 'snap-0copy' };
  });
  ec2.on(DescribeSnapshotsCommand).callsFake((input) => {
    const id = input.SnapshotIds?.[0] ?? '';
    const s = snapshots.get(id);
    return { Snapshots: s ? [{ SnapshotId: id, State: 'completed', OwnerId: IR, Tags: s.tags as never }] : [] };
  });
  ec2.on(ModifySnapshotAttributeCommand).callsFake((input) => {
    permissions.push(...(input.UserIds ?? []));
    return {};
  });
  ec2.on(DescribeSnapshotAttributeCommand).callsFake(() => ({ CreateVolumePermissions: permissions.map((UserId) => ({ UserId })) }));
  ec2.on(DeleteVolumeCommand).resolves({});
  ec2.on(DeleteSnapshotCommand).resolves({});
}

beforeEach(() => {
  ec2.reset();
  s3.reset();
});
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('tools build: bad input changes nothing', () => {
  const cases: [string, () => Partial<ToolsBuildOptions>, ToolsBuildRuntime | undefined, RegExp][] = [
    ['no --avml', () => ({ avml: undefined }), undefined, /^forensics: --avml: required/],
    ['unreadable --avml', () => ({ avml: '/nonexistent/avml' }), undefined, /^forensics: --avml: cannot read/],
    ['not an ELF binary', () => ({ avml: avmlFile(Buffer.from('#!/bin/sh\necho hi\n')) }), undefined, /^forensics: --avml: .* is not an ELF executable/],
    ['an ELF for another machine', () => ({ avml: avmlFile(elf(0x28)) }), undefined, /neither x86_64 nor arm64/],
    ['a bad --region', () => ({ region: 'Europe' }), undefined, /^forensics: --region: expected/],
    ['a bad --share-with', () => ({ shareWith: `${WORKLOAD},12345` }), undefined, /^forensics: --share-with: .*12345/],
    ['a bad --timeout', () => ({ timeout: '0' }), undefined, /^forensics: --timeout:/],
    [
      'a binary that cannot run here and no --avml-version',
      () => ({}),
      runtime(() => {
        throw new Error('spawn Exec format error');
      }),
      /^forensics: --avml-version: required: cannot read the version .*Exec format error/,
    ],
    ['an --avml-version the binary contradicts', () => ({ avmlVersion: '0.13.0' }), undefined, /^forensics: --avml-version: 0\.13\.0, but .* reports 0\.14\.0/],
    ['another region with a single-Region key', () => ({ region: 'us-east-1' }), undefined, /^forensics: --region: us-east-1 is not the deployment region eu-west-1 and the evidence key is not multi-Region/],
  ];
  for (const [name, over, rt, message] of cases) {
    it(`${name}: exit 2, one line naming the flag, no AWS call`, async () => {
      // Prepare
      const { io: out, err } = io();

      // Act
      const code = await runToolsBuild(baseOptions(over()), out, rt ?? runtime(), {});

      // Assess
      expect(code).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(ec2.calls()).toHaveLength(0);
      expect(s3.calls()).toHaveLength(0);
    });
  }

  it('takes --avml-version when the binary cannot run here (built elsewhere, another architecture)', async () => {
    // Prepare
    world();
    const { io: out } = io();
    const cannotRun = runtime(() => {
      throw new Error('spawn Exec format error');
    });

    // Act
    const code = await runToolsBuild(baseOptions({ avml: avmlFile(elf(0xb7)), avmlVersion: '0.14.0' }), out, cannotRun, {});

    // Assess
    expect(code).toBe(0);
    const tags = ec2.commandCalls(CreateSnapshotCommand)[0]?.args[0].input.TagSpecifications?.[0]?.Tags;
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'forensics:tool-version', Value: '0.14.0' }, { Key: 'forensics:tool-architecture', Value: 'arm64' }]));
  });
});

describe('tools build: the requests', () => {
  it('stages, builds, snapshots, tags, shares, deletes the builder volume, and prints the settings', async () => {
    // Prepare
    world();
    const options = baseOptions();
    const avml = fs.readFileSync(options.avml as string);
    const avmlSha = createHash('sha256').update(avml).digest('hex');
    const script = fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'cli', 'tools', 'capture-memory.sh'));
    const scriptSha = createHash('sha256').update(script).digest('hex');
    const { io: out, out: lines } = io();

    // Act: the IR account itself in --share-with needs no permission (it owns the snapshot).
    const code = await runToolsBuild({ ...options, shareWith: `${IR},${WORKLOAD}` }, out, runtime(), {});

    // Assess: staged as evidence objects, under one prefix per build.
    expect(code).toBe(0);
    const prefix = stagingPrefix(NOW.toISOString(), avmlSha);
    expect(prefix).toBe(`tools/20261129T100000Z-${avmlSha.slice(0, 12)}/`);
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([`${prefix}avml`, `${prefix}capture-memory.sh`, `${prefix}TOOLS.json`]);
    for (const p of puts) {
      expect(p).toMatchObject({ Bucket: 'evidence-bucket', IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256', ObjectLockMode: 'COMPLIANCE', ObjectLockLegalHoldStatus: 'ON' });
      expect(p.ObjectLockRetainUntilDate).toEqual(new Date(NOW.getTime() + 365 * 86_400_000));
      expect(p.ChecksumSHA256).toBe(createHash('sha256').update(p.Body as Buffer | string).digest('base64'));
    }
    const manifest = JSON.parse(String(puts[2]?.Body)) as Record<string, unknown>;
    expect(manifest).toEqual({
      tool: { name: 'avml', version: '0.14.0', sha256: avmlSha, architecture: 'x86_64' },
      script: { path: 'bin/capture-memory.sh', sha256: scriptSha },
      builtAt: NOW.toISOString(),
    });

    // The blank volume: encrypted under the evidence key, in the workstation subnet's AZ, 1 GiB.
    expect(ec2.commandCalls(CreateVolumeCommand)[0]?.args[0].input).toEqual({
      AvailabilityZone: `${HOME}b`,
      Size: 1,
      VolumeType: 'gp3',
      Encrypted: true,
      KmsKeyId: KEY,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'forensics:role', Value: 'memory-tools-build' }, { Key: 'Name', Value: 'forensics-memory-tools-build' }] }],
    });

    // The builder: the workstation template, its subnet and group, no public address, IMDSv2, terminate on shutdown.
    const run = ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(run).toMatchObject({
      LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Default' },
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-0aaa', Groups: ['sg-0workstation'], AssociatePublicIpAddress: false, DeleteOnTermination: true }],
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    expect(userDataValues()).toEqual({
      FORENSICS_TOOLS_BUCKET: 'evidence-bucket',
      FORENSICS_TOOLS_PREFIX: prefix,
      FORENSICS_REGION: HOME,
      FORENSICS_TOOLS_VOLUME_ID: 'vol-0tools',
      FORENSICS_TOOLS_LABEL: 'FORENSICTOOLS',
      AVML_SHA256: avmlSha,
      SCRIPT_SHA256: scriptSha,
      MANIFEST_SHA256: createHash('sha256').update(String(puts[2]?.Body)).digest('hex'),
    });
    expect(ec2.commandCalls(AttachVolumeCommand)[0]?.args[0].input).toEqual({ VolumeId: 'vol-0tools', InstanceId: 'i-0builder', Device: '/dev/sdf' });

    // The snapshot: the contract's tags under the prefix, shared with the workload account; the volume deleted.
    expect(ec2.commandCalls(CreateSnapshotCommand)[0]?.args[0].input).toEqual({
      VolumeId: 'vol-0tools',
      Description: `Memory tools: AVML 0.14.0 sha256 ${avmlSha}`,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'forensics:role', Value: 'memory-tools' },
            { Key: 'forensics:tool-version', Value: '0.14.0' },
            { Key: 'forensics:tool-sha256', Value: avmlSha },
            { Key: 'forensics:script-sha256', Value: scriptSha },
            { Key: 'forensics:tool-architecture', Value: 'x86_64' },
            { Key: 'Name', Value: 'forensics-memory-tools-avml-0.14.0' },
          ],
        },
      ],
    });
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)[0]?.args[0].input).toEqual({ SnapshotId: 'snap-0home', Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [WORKLOAD] });
    expect(ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input)).toEqual([{ VolumeId: 'vol-0tools' }]);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CopySnapshotCommand)).toHaveLength(0);
    // The builder is gone before the snapshot is taken (the volume is consistent: it unmounted and powered off).
    const order = ec2.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('TerminateInstancesCommand')).toBeLessThan(order.indexOf('CreateSnapshotCommand'));

    // The settings to configure.
    expect(lines).toContain(`  -c 'forensics:memoryToolsSnapshots={"${HOME}":"snap-0home"}' -c forensics:memoryToolVersion=0.14.0 -c forensics:memoryToolSha256=${avmlSha}`);
    expect(lines[0]).toBe(`Tools snapshot snap-0home in ${HOME}: completed`);
  });

  it('a builder that reports a failure leaves nothing: builder terminated, volume deleted, no snapshot', async () => {
    // Prepare
    world('failed');
    const { io: out, err } = io();

    // Act
    const code = await runToolsBuild(baseOptions(), out, runtime(), {});

    // Assess
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(/^forensics: the builder failed: bin\/avml SHA-256 x is not the expected y$/);
    expect(ec2.commandCalls(TerminateInstancesCommand).length).toBeGreaterThanOrEqual(1);
    expect(ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input)).toEqual([{ VolumeId: 'vol-0tools' }]);
    expect(ec2.commandCalls(CreateSnapshotCommand)).toHaveLength(0);
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)).toHaveLength(0);
    expect(err.some((l) => l.includes('cleanup: deleted volume vol-0tools'))).toBe(true);
  });

  it('a share that fails deletes the snapshot this run made, and the volume', async () => {
    // Prepare
    world();
    ec2.on(ModifySnapshotAttributeCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    const { io: out } = io();

    // Act
    const code = await runToolsBuild(baseOptions(), out, runtime(), {});

    // Assess
    expect(code).toBe(1);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotId: 'snap-0home' }]);
    expect(ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input)).toEqual([{ VolumeId: 'vol-0tools' }]);
  });

  it('for another region: copies under the multi-Region key replica there, deletes the intermediate snapshot', async () => {
    // Prepare
    world();
    const { io: out } = io();

    // Act
    const code = await runToolsBuild(baseOptions({ region: 'us-east-1', keyArn: MRK }), out, runtime(), {});

    // Assess
    expect(code).toBe(0);
    expect(ec2.commandCalls(CopySnapshotCommand)[0]?.args[0].input).toMatchObject({
      SourceRegion: HOME,
      SourceSnapshotId: 'snap-0home',
      Encrypted: true,
      KmsKeyId: `arn:aws:kms:us-east-1:${IR}:key/mrk-0123456789abcdef0123456789abcdef`,
    });
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)[0]?.args[0].input.SnapshotId).toBe('snap-0copy');
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotId: 'snap-0home' }]);
  });
});

describe('tools build: pure parts', () => {
  it('reads ELF architectures and versions', () => {
    expect(elfArchitecture(elf())).toBe('x86_64');
    expect(elfArchitecture(elf(0xb7))).toBe('arm64');
    expect(elfArchitecture(Buffer.from('MZ'))).toBe('not-elf');
    expect(versionFromOutput('avml 0.14.0\n')).toBe('0.14.0');
    expect(versionFromOutput('usage: avml')).toBeUndefined();
  });

  it('takes only a result line naming this volume and these hashes', () => {
    const expected = { volumeId: 'vol-01', avmlSha256: 'a', scriptSha256: 'b', manifestSha256: 'c' };
    const line = (o: object) => `${BUILDER_RESULT_PREFIX}${JSON.stringify(o)}`;
    expect(parseBuilderResult('booting\n', expected)).toBeNull();
    expect(parseBuilderResult(`[ 12.3] ${line({ status: 'built', volumeId: 'vol-01', avmlSha256: 'a', scriptSha256: 'b', manifestSha256: 'c' })}`, expected)).toEqual({ status: 'built', volumeId: 'vol-01' });
    expect(parseBuilderResult(line({ status: 'built', volumeId: 'vol-02', avmlSha256: 'a', scriptSha256: 'b', manifestSha256: 'c' }), expected)?.status).toBe('failed');
    expect(parseBuilderResult(line({ status: 'built', volumeId: 'vol-01', avmlSha256: 'x', scriptSha256: 'b', manifestSha256: 'c' }), expected)?.status).toBe('failed');
  });
});
