import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStacksCommand, CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, GetInstanceProfileCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { Command } from '@commander-js/extra-typings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAcquire } from '../../cli/commands/acquire';
import { runCaseDownload } from '../../cli/commands/case-download';
import { runCaseShow } from '../../cli/commands/case-show';
import { runCaseVerify, type VerifyReport } from '../../cli/commands/case-verify';
import { runReleaseCommand } from '../../cli/commands/release';
import { registerRunLocalCommand } from '../../cli/commands/run-local';
import type { Io } from '../../cli/commands/common';
import { EMULATOR_ACCOUNT, EMULATOR_REGION, emulatorClientConfig, type EmulatorContext } from '../../cli/local/emulator-resources';
import { loadIrStack, prepareLocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { type E2eEmulator, e2eEmulator } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';

/**
 * End to end on a moto this test starts, as a responder would use the CLI:
 * - `forensics run-local --endpoint URL --event FILE` runs what the configuration deploys: with cdk.json as it is, the
 *   workstation (cdk.json forensics:workstation = true) is launched; `-c forensics:workstation=false` turns it off,
 *   as `cdk synth -c` would. The handlers' environment is the synthesized functions' environment, key for key.
 * - afterwards `cases`, `case show|verify|download` and `release` find that local deployment with `--endpoint` alone
 *   (a fresh process without any AWS_* or FORENSICS_* variable for `cases`; the others in-process with no other
 *   deployment option). Every assertion reads the emulator back through the SDK.
 * run-local goes through the CLI's commander definition in this process (`-c` parsed as the CLI parses it).
 */
const REPO = join(import.meta.dirname, '..', '..');
/** The environment of a responder's shell: nothing names the deployment, the region or credentials. */
const shellEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|FORENSICS_)/.test(k)));

/** A test that synthesizes the stack (the first one in a worker takes a while on a loaded two-core machine). */
const SYNTH_TIMEOUT_MS = 180_000;

let moto: E2eEmulator;
let ctx: EmulatorContext;
let ec2: EC2Client;
let plain: Victim;
let noWorkstation: Victim;
let byHand: Victim;
let acquired: RunLocalResult;
let withoutWorkstation: RunLocalResult;
let dir: string;

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** `npm run forensics -- ARGS` as a separate process in the responder's shell environment. */
function forensics(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'forensics', '--', ...args], { cwd: REPO, env: shellEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `forensics run-local … ARGS` parsed by the CLI's own commander definition, in this process (a second process would
 * synthesize the stack again: too slow for the suite on two cores).
 */
async function runLocalCli(victim: Victim, id: string, extra: string[] = []): Promise<RunLocalResult> {
  const file = join(dir, `${id}.json`);
  await writeFile(file, JSON.stringify(findingEventFor(victim, ctx, { id })));
  const io = capture();
  const program = new Command().exitOverride();
  registerRunLocalCommand(program, io);
  await program.parseAsync(['run-local', '--endpoint', moto.endpoint, '--event', file, '--quiet', ...extra], { from: 'user' });
  expect(io.stderr).toEqual([]);
  expect(process.exitCode ?? 0).toBe(0);
  expect(io.stdout).toHaveLength(1);
  return JSON.parse(io.stdout[0] ?? '{}') as RunLocalResult;
}

const workstationsOf = async (caseId: string) =>
  (
    await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:forensics:case-id', Values: [caseId] },
          { Name: 'tag:forensics:role', Values: ['workstation'] },
        ],
      }),
    )
  ).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

beforeAll(async () => {
  moto = await e2eEmulator();
  ctx = { endpoint: moto.endpoint, region: EMULATOR_REGION, accountId: EMULATOR_ACCOUNT };
  ec2 = new EC2Client(emulatorClientConfig(ctx));
  dir = await mkdtemp(join(tmpdir(), 'forensics-local-deployment-'));
  plain = await seedVictim(ctx, { name: 'web-local-1' });
  noWorkstation = await seedVictim(ctx, { name: 'web-local-2' });
  byHand = await seedVictim(ctx, { name: 'web-local-3' });
});

afterAll(async () => {
  await moto?.stop();
});

describe('run-local is configured as the deployment (cdk.json, -c)', () => {
  it('-c forensics:workstation=false: no workstation, as `cdk synth -c forensics:workstation=false` deploys', async () => {
    withoutWorkstation = await runLocalCli(noWorkstation, 'localdeploy0002', ['-c', 'forensics:workstation=false']);
    expect(withoutWorkstation.status).toBe('SUCCEEDED');
    expect(withoutWorkstation.forensicInstanceId).toBeNull();
    expect(await workstationsOf(withoutWorkstation.caseId ?? '')).toEqual([]);
  }, SYNTH_TIMEOUT_MS);

  it('with cdk.json as it is (forensics:workstation true), the acquisition launches the workstation and prints its id', async () => {
    acquired = await runLocalCli(plain, 'localdeploy0001');
    expect(acquired.status).toBe('SUCCEEDED');
    expect(acquired.forensicInstanceId).toMatch(/^i-[0-9a-f]+$/);
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [acquired.forensicInstanceId ?? ''] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State?.Name).toBe('running');
    expect(instance?.Tags).toEqual(expect.arrayContaining([{ Key: 'forensics:case-id', Value: acquired.caseId }]));
    expect((await workstationsOf(acquired.caseId ?? '')).map((i) => i.InstanceId)).toEqual([acquired.forensicInstanceId]);
  }, SYNTH_TIMEOUT_MS);

  it('registers the deployment as stack ForensicAcquisition whose outputs name the provisioned resources', async () => {
    const cfn = new CloudFormationClient(emulatorClientConfig(ctx));
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'ForensicAcquisition' }))).Stacks?.[0];
    const outputs = Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    expect(Object.keys(outputs).sort()).toEqual(Object.keys((await synthesizedTemplate()).template.Outputs ?? {}).sort());
    await new DynamoDBClient(emulatorClientConfig(ctx)).send(new DescribeTableCommand({ TableName: outputs.CaseTableName }));
    await new S3Client({ ...emulatorClientConfig(ctx), forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: outputs.EvidenceBucketName }));
    const key = await new KMSClient(emulatorClientConfig(ctx)).send(new DescribeKeyCommand({ KeyId: outputs.EvidenceKeyArn }));
    expect(key.KeyMetadata?.Arn).toBe(outputs.EvidenceKeyArn);
  }, SYNTH_TIMEOUT_MS);
});

describe('the CLI finds the local deployment with --endpoint alone', () => {
  it('cases (a fresh process, no AWS_* or FORENSICS_* variable) lists both cases', async () => {
    const run = await forensics(['cases', '--endpoint', moto.endpoint, '--output', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const listed = (JSON.parse(run.stdout) as { cases: { caseId: string; status: string }[] }).cases;
    expect(listed.map((c) => c.caseId).sort()).toEqual([acquired.caseId, withoutWorkstation.caseId].sort());
    const table = new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(ctx)), 'forensics-cases', () => new Date());
    for (const c of listed) expect((await table.getCase(c.caseId))?.status).toBe(c.status);
  });

  it('case show renders the case, naming the evidence snapshots that exist', async () => {
    const io = capture();
    expect(await runCaseShow(acquired.caseId ?? '', { endpoint: moto.endpoint }, io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain(`Case ${acquired.caseId}`);
    const ids = acquired.snapshots.map((s) => s.evidenceSnapshotId ?? '');
    const found = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
    expect((found.Snapshots ?? []).map((s) => s.State)).toEqual(ids.map(() => 'completed'));
    for (const id of ids) expect(text).toContain(id);
  });

  it('case verify passes', async () => {
    const io = capture();
    const code = await runCaseVerify(acquired.caseId ?? '', { endpoint: moto.endpoint, output: 'json' }, io);
    expect(io.stderr).toEqual([]);
    const report = JSON.parse(io.stdout.join('\n')) as VerifyReport;
    expect(report.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(code).toBe(0);
  });

  it('case download writes the manifest byte for byte as S3 holds it', async () => {
    const out = join(dir, 'download');
    const io = capture();
    expect(await runCaseDownload(acquired.caseId ?? '', { endpoint: moto.endpoint, out }, io)).toBe(0);
    const manifest = acquired.manifest;
    const s3 = new S3Client({ ...emulatorClientConfig(ctx), forcePathStyle: true });
    const stored = await (await s3.send(new GetObjectCommand({ Bucket: manifest?.bucket, Key: manifest?.key }))).Body?.transformToByteArray();
    const written = await readFile(join(out, 'manifest.json'));
    expect(Buffer.from(stored ?? []).equals(written)).toBe(true);
    expect(createHash('sha256').update(written).digest('hex')).toBe(manifest?.sha256);
  });

  it('release runs the release state machine of the local deployment: containment undone, the case RELEASED', async () => {
    const io = capture();
    const code = await runReleaseCommand(acquired.caseId ?? '', { reason: 'e2e: cleared', endpoint: moto.endpoint, output: 'json' }, io);
    expect(io.stderr.filter((l) => l.startsWith('forensics:'))).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(io.stdout.join('\n')) as { status: string; executionArn: string };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.executionArn).toMatch(/^arn:aws:states:us-east-1:123456789012:execution:ForensicRelease:release-/);
    // Read back: the case, every ENI's groups, the deny policy.
    const record = await new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(ctx)), 'forensics-cases', () => new Date()).getCase(
      acquired.caseId ?? '',
    );
    expect(record?.status).toBe('RELEASED');
    expect(record?.details.release).toMatchObject({ reason: 'e2e: cleared' });
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: plain.networkInterfaceIds }));
    for (const n of enis.NetworkInterfaces ?? []) {
      expect((n.Groups ?? []).map((g) => g.GroupId).sort(), n.NetworkInterfaceId).toEqual([...(plain.originalGroups[n.NetworkInterfaceId ?? ''] ?? [])].sort());
    }
    const iam = new IAMClient(emulatorClientConfig(ctx));
    await expect(iam.send(new GetRolePolicyCommand({ RoleName: plain.roleName, PolicyName: `forensics-deny-${acquired.caseId}` }))).rejects.toMatchObject({
      name: expect.stringMatching(/^NoSuchEntity/),
    });
  });
});

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>; Outputs?: Record<string, unknown> };
/** The IR template as `cdk synth` builds it from cdk.json (the in-process synthesis run-local made: one is enough). */
async function synthesizedTemplate(): Promise<{ template: Template; workflowFunctions: ReadonlySet<string> }> {
  const stack = await loadIrStack();
  return { template: stack.template as unknown as Template, workflowFunctions: new Set(stack.functions.map((f) => f.logicalId)) };
}

describe('the local handlers get the synthesized functions\' environment, key for key', () => {
  it('every variable of every function: literals equal, references resolved to the emulator resource of that type', async () => {
    const env = await prepareLocalEnvironment({ endpoint: moto.endpoint, handlerLogs: 'silent' });
    const { template, workflowFunctions } = await synthesizedTemplate();
    const config = emulatorClientConfig(ctx);
    const local = env.handlerEnv as Record<string, string | undefined>;
    const named = new Set<string>();

    /** The physical value behind one reference, checked against the emulator by the referenced resource's type. */
    async function checkReference(where: string, expression: unknown, value: string): Promise<void> {
      const ref = expression as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
      if (ref.Ref === 'AWS::AccountId') return void expect(value, where).toBe(EMULATOR_ACCOUNT);
      if (ref.Ref === 'AWS::Region') return void expect(value, where).toBe(EMULATOR_REGION);
      if (ref['Fn::Join']) {
        const [separator, parts] = ref['Fn::Join'];
        const values = value.split(separator);
        expect(values, where).toHaveLength(parts.length);
        for (const [i, part] of parts.entries()) await checkReference(where, part, values[i] ?? '');
        return;
      }
      const logicalId = ref.Ref ?? ref['Fn::GetAtt']?.[0] ?? '';
      const type = template.Resources[logicalId]?.Type;
      switch (`${type} ${ref.Ref ? 'Ref' : ref['Fn::GetAtt']?.[1]}`) {
        case 'AWS::DynamoDB::Table Ref':
          return void (await new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: value })));
        case 'AWS::S3::Bucket Ref':
          return void (await new S3Client({ ...config, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: value })));
        case 'AWS::KMS::Key Arn':
          return void expect((await new KMSClient(config).send(new DescribeKeyCommand({ KeyId: value }))).KeyMetadata?.Arn, where).toBe(value);
        case 'AWS::SNS::Topic Ref':
          return void (await new SNSClient(config).send(new GetTopicAttributesCommand({ TopicArn: value })));
        case 'AWS::EC2::Subnet Ref':
          return void expect((await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [value] }))).Subnets?.[0]?.SubnetId, where).toBe(value);
        case 'AWS::EC2::SecurityGroup GroupId':
          return void expect((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [value] }))).SecurityGroups?.[0]?.GroupId, where).toBe(value);
        case 'AWS::EC2::LaunchTemplate Ref':
          return void expect((await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [value] }))).LaunchTemplates?.[0]?.LaunchTemplateId, where).toBe(value);
        case 'AWS::IAM::InstanceProfile Arn': {
          const name = value.split('/').at(-1) ?? '';
          return void expect((await new IAMClient(config).send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile?.Arn, where).toBe(value);
        }
        default:
          throw new Error(`${where}: no check for a reference to ${type} (${JSON.stringify(expression)})`);
      }
    }

    // The functions the state machines run (the local runner runs them in-process); the redrive function is started
    // by EventBridge, not by a workflow, and the bench emulates it around its own decision.
    const functions = Object.entries(template.Resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && workflowFunctions.has(id));
    expect(functions.length).toBeGreaterThanOrEqual(15);
    for (const [logicalId, resource] of functions) {
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const [name, expression] of Object.entries(variables)) {
        if (name === 'NODE_OPTIONS') continue; // the Lambda runtime's option, not the handlers' configuration
        named.add(name);
        const where = `${logicalId} ${name}`;
        expect(local[name], where).toBeDefined();
        expect(process.env[name], where).toBe(local[name]);
        if (typeof expression === 'string') expect(local[name], where).toBe(expression);
        else await checkReference(where, expression, local[name] ?? '');
      }
    }
    // Nothing the deployment does not set: no local default of its own.
    expect(Object.keys(local).sort()).toEqual([...named].sort());
    // The cdk.json values themselves, as deployed (the example: the workstation is on).
    expect(local.DEFAULT_WORKSTATION).toBe('true');
    expect(local.MAX_WAIT_MINUTES).toBe('1440');
  });
});

describe('acquire --endpoint runs the local deployment\'s acquisition state machine', () => {
  it('a manual request by flags: the instance contained and preserved, the case CONTAINED, read back through the SDK', async () => {
    // Prepare
    const io = capture();
    // Act
    const code = await runAcquire(
      {
        instance: byHand.instanceId,
        account: EMULATOR_ACCOUNT,
        region: EMULATOR_REGION,
        reason: 'e2e: acquisition by hand against the local deployment',
        requestedBy: 'responder@example.com',
        workstation: false,
        endpoint: moto.endpoint,
        output: 'json',
      },
      io,
    );
    // Assess
    expect(io.stderr.filter((l) => l.startsWith('forensics:'))).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(io.stdout.join('\n')) as RunLocalResult;
    expect(result.status).toBe('SUCCEEDED');
    expect(result.caseId).toMatch(new RegExp(`-${byHand.instanceId}$`));
    const record = await new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(ctx)), 'forensics-cases', () => new Date()).getCase(result.caseId ?? '');
    expect(record?.status).toBe('CONTAINED');
    expect(record?.source).toBe('manual');
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: byHand.networkInterfaceIds }));
    for (const n of enis.NetworkInterfaces ?? []) {
      expect((n.Groups ?? []).map((g) => g.GroupId), n.NetworkInterfaceId).toEqual([result.isolation.securityGroupId]);
    }
    const protection = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: byHand.instanceId, Attribute: 'disableApiTermination' }));
    expect(protection.DisableApiTermination?.Value).toBe(true);
  }, SYNTH_TIMEOUT_MS);
});
