import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeInstancesCommand, DescribeSnapshotAttributeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectLegalHoldCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuntime, runToolsBuild } from '../../cli/commands/tools-build';
import { evaluateToolsShare, evaluateToolsSnapshot, gatherToolsSnapshot } from '../../cli/doctor/checks/memory-capture';
import { parseConfig } from '../../infra/config';
import { doctorContext } from '../support/doctor-test-kit';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';

/**
 * End to end on moto: `forensics tools build` against a local deployment (the forensic workstation's template,
 * subnets and group from its stack outputs). moto runs no user data, so the builder writes nothing there: this proves
 * the wiring (every call made and its effect read back through the SDK), the unit tests the requests.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let s3: S3Client;
let dir: string;
const WORKLOAD = '444455556666';
const out: string[] = [];
const err: string[] = [];
let code: number;

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  const config = emulatorClientConfig(env);
  ec2 = new EC2Client(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-build-e2e-'));
  // A minimal x86-64 ELF header stands for AVML (it is never run: the version is given).
  const avml = Buffer.alloc(4096);
  avml.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  avml.writeUInt16LE(0x3e, 18);
  fs.writeFileSync(path.join(dir, 'avml'), avml);
  code = await runToolsBuild(
    { avml: path.join(dir, 'avml'), avmlVersion: '0.14.0', region: env.region, deploymentRegion: env.region, endpoint: env.endpoint, stack: env.stackName, shareWith: WORKLOAD, output: 'json' },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    {
      ...defaultRuntime,
      sleep: () => new Promise((r) => setTimeout(r, 50)),
      runVersion: () => {
        throw new Error('not run in tests');
      },
    },
  );
});

afterAll(async () => {
  ec2?.destroy();
  s3?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await env?.stop();
});

describe('forensics tools build (emulator)', () => {
  it('succeeds and says the content was not verified on the emulator', () => {
    expect(err.filter((l) => !l.startsWith('forensics: staged') && !l.startsWith('forensics: builder') && !l.startsWith('forensics: emulator'))).toEqual([]);
    expect(code).toBe(0);
    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({ contentVerified: false });
  });

  it('the tools snapshot exists, completed, with the tool tags, shared with the workload account', async () => {
    // Act
    const snaps = (await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:forensics:role', Values: ['memory-tools'] }] }))).Snapshots ?? [];

    // Assess
    expect(snaps).toHaveLength(1);
    const snap = snaps[0];
    expect(snap?.State).toBe('completed');
    expect(snap?.Encrypted).toBe(true);
    // moto does not carry the volume's KmsKeyId onto its snapshot: the key of the request is pinned in the unit test.
    const tags = Object.fromEntries((snap?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags['forensics:tool-version']).toBe('0.14.0');
    expect(tags['forensics:tool-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(tags['forensics:tool-architecture']).toBe('x86_64');
    const perms = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap?.SnapshotId, Attribute: 'createVolumePermission' }));
    expect(perms.CreateVolumePermissions?.map((p) => p.UserId)).toEqual([WORKLOAD]);
    expect(JSON.parse(out[0] ?? '{}').snapshotId).toBe(snap?.SnapshotId);
  });

  it('keeps nothing else: the builder volume deleted, the builder terminated', async () => {
    // Act
    const volumes = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:forensics:role', Values: ['memory-tools-build'] }] }))).Volumes ?? [];
    const builders = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:forensics:role', Values: ['memory-tools-builder'] }] }))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

    // Assess
    expect(volumes).toEqual([]);
    expect(builders.map((i) => i.State?.Name)).toEqual(['terminated']);
  });

  it('the staged files are evidence objects under tools/, each with a legal hold', async () => {
    // Act
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Prefix: 'tools/' }))).Contents ?? [];

    // Assess
    expect(listed.map((o) => o.Key?.split('/').pop()).sort()).toEqual(['TOOLS.json', 'avml', 'capture-memory.sh']);
    for (const o of listed) {
      const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: o.Key }));
      expect(hold.LegalHold?.Status).toBe('ON');
    }
  });

  it('doctor finds it as configured: exists, completed, the tool tags, shared with the workload account', async () => {
    // Prepare: the settings the command printed, as the deployment would carry them.
    const built = JSON.parse(out[0] ?? '{}') as { snapshotId: string; tool: { version: string; sha256: string } };
    const base = doctorContext({
      homeRegion: env.region,
      irAccountId: env.accountId,
      workloadAccounts: [env.accountId, WORKLOAD],
      workloadRegions: [env.region],
      multiAccount: true,
      client: (region?: string) => emulatorClientConfig({ endpoint: env.endpoint, region: region ?? env.region }),
    });
    const config = { ...parseConfig({}), memoryToolsSnapshots: { [env.region]: built.snapshotId }, memoryToolVersion: built.tool.version, memoryToolSha256: built.tool.sha256 };

    // Act
    const facts = await gatherToolsSnapshot({ ...base, config }, env.region);

    // Assess
    expect(evaluateToolsSnapshot(facts, true)).toMatchObject({ status: 'PASS' });
    expect(evaluateToolsShare(facts, true)).toMatchObject({ status: 'PASS', detail: expect.stringContaining(WORKLOAD) });
  });
});
