import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { DeleteSnapshotCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutObjectCommand, PutObjectLegalHoldCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAcquire } from '../../cli/commands/acquire';
import { runCaseDownload } from '../../cli/commands/case-download';
import { runCaseShow } from '../../cli/commands/case-show';
import { runCaseVerify, type VerifyReport } from '../../cli/commands/case-verify';
import { runCases } from '../../cli/commands/cases';
import type { Io } from '../../cli/commands/common';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim } from '../../cli/local/seed-victim';

/**
 * The responder commands, in-process, against a case acquired on moto by the real workflow. Then the evidence is
 * tampered with the raw S3/EC2 clients (no `If-None-Match`: a tamperer does not use the product's writer) and
 * `case verify` must fail naming the check. Set CLI_E2E_SAMPLES=1 to print the outputs (docs/responder-guide.md).
 */
let env: LocalEnvironment;
let result: RunLocalResult;
let caseId: string;
let s3: S3Client;
const samples = process.env.CLI_E2E_SAMPLES === '1';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

function deployment() {
  return {
    endpoint: env.endpoint,
    region: env.region,
    bucket: env.handlerEnv.EVIDENCE_BUCKET,
    table: env.handlerEnv.CASE_TABLE_NAME,
    keyArn: env.handlerEnv.EVIDENCE_KEY_ARN,
  };
}

function show(title: string, io: { stdout: string[]; stderr: string[] }, code: number) {
  if (samples) process.stdout.write(`\n===== ${title} (exit ${code}) =====\n${[...io.stderr, ...io.stdout].join('\n')}\n`);
}

async function verify(label: string): Promise<{ code: number; report: VerifyReport; text: string[] }> {
  const io = capture();
  const code = await runCaseVerify(caseId, { ...deployment(), output: 'json' }, io);
  const text = capture();
  await runCaseVerify(caseId, deployment(), text);
  show(`case verify ${label}`, text, code);
  return { code, report: JSON.parse(io.stdout.join('\n')) as VerifyReport, text: text.stdout };
}

const failing = (report: VerifyReport) => report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.check} ${c.subject}`);

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
  const victim = await seedVictim(env);
  result = await executeLocal(env, findingEventFor(victim, env, { id: 'cli0001finding' }));
  caseId = result.caseId ?? '';
});

afterAll(async () => {
  await env?.stop();
});

describe('responder commands on a run-local case', () => {
  it('the acquisition succeeded', () => {
    expect(result.status).toBe('SUCCEEDED');
  });

  it('cases lists it (text and JSON, with filters)', async () => {
    const text = capture();
    expect(await runCases(deployment(), text)).toBe(0);
    show('cases', text, 0);
    expect(text.stdout[0]).toMatch(/^CASE ID\s+STATUS/);
    expect(text.stdout.join('\n')).toContain(caseId);
    const json = capture();
    expect(await runCases({ ...deployment(), status: 'contained', since: '2000-01-01', output: 'json' }, json)).toBe(0);
    const listed = JSON.parse(json.stdout.join('\n')) as { cases: { caseId: string; status: string }[] };
    expect(listed.cases.map((c) => c.caseId)).toContain(caseId);
    const none = capture();
    await runCases({ ...deployment(), instance: 'i-0123456789abcdef0', output: 'json' }, none);
    expect((JSON.parse(none.stdout.join('\n')) as { cases: unknown[] }).cases).toEqual([]);
  });

  it('case show renders the manifest and the custody timeline', async () => {
    const io = capture();
    expect(await runCaseShow(caseId, deployment(), io)).toBe(0);
    show('case show', io, 0);
    const text = io.stdout.join('\n');
    expect(text).toContain(`Case ${caseId}`);
    expect(text).toMatch(/Snapshots \(3\)/);
    for (const s of result.snapshots) expect(text).toContain(s.evidenceSnapshotId ?? 'missing');
    expect(text).toContain(result.isolation.securityGroupId ?? 'missing');
    expect(text).toMatch(/Custody timeline \(\d+ records\)/);
    expect(text).toMatch(/seal/);
  });

  it('case download writes the evidence byte for byte with SHA256SUMS, verified', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'forensics-dl-')), 'case');
    const io = capture();
    const code = await runCaseDownload(caseId, { ...deployment(), out: dir }, io);
    show('case download', io, code);
    expect(code).toBe(0);
    const sums = (await readFile(join(dir, 'SHA256SUMS'), 'utf8')).trim().split('\n');
    expect(sums.some((l) => l.endsWith('  manifest.json'))).toBe(true);
    expect(sums.some((l) => l.endsWith('  instance.json'))).toBe(true);
    expect(sums.some((l) => / {2}custody\/000001-.+\.json$/.test(l))).toBe(true);
    for (const line of sums) {
      const [hash, path] = line.split('  ');
      const bytes = await readFile(join(dir, ...(path ?? '').split('/')));
      expect(createHash('sha256').update(bytes).digest('hex'), path).toBe(hash);
    }
    expect((await readdir(join(dir, 'custody'))).length).toBeGreaterThanOrEqual(5);
    const again = capture();
    expect(await runCaseDownload(caseId, { ...deployment(), out: dir }, again)).toBe(2);
    expect(again.stderr[0]).toMatch(/--out: .* is not empty/);
  });

  it('case verify passes on untouched evidence (snapshot lock is a WARN on the emulator; retention is not)', async () => {
    const { code, report } = await verify('(untouched)');
    expect(failing(report)).toEqual([]);
    expect(code).toBe(0);
    const names = new Set(report.checks.map((c) => c.check));
    for (const n of ['bucket.object-lock', 'custody.chain', 'manifest.sealed', 'object.sha256', 'object.s3-checksum', 'object.version', 'object.legal-hold', 'object.retention', 'snapshot.exists', 'snapshot.owner', 'snapshot.kms-key']) {
      expect(names, n).toContain(n);
    }
    // Every listed object carries its own retention, checked the same way as on AWS.
    const retention = report.checks.filter((c) => c.check === 'object.retention');
    expect(retention.length).toBe(report.checks.filter((c) => c.check === 'object.legal-hold').length);
    for (const c of retention) expect(`${c.status} ${c.subject} ${c.detail}`).toMatch(/^PASS .* COMPLIANCE until .* \(1 days from the write, as configured\)$/);
    expect(report.checks.find((c) => c.check === 'snapshot.lock')?.status).toBe('WARN');
  });

  it('smoke: `npm run forensics -- case verify` exits 0 as a process', () => {
    const d = deployment();
    const run = spawnSync(
      'npm',
      ['run', '-s', 'forensics', '--', 'case', 'verify', caseId, '--endpoint', d.endpoint, '--region', d.region, '--bucket', d.bucket, '--table', d.table, '--key-arn', d.keyArn, '--output', 'json'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).not.toMatch(/^forensics:/m);
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as VerifyReport).result).toBe('PASS');
  });

  it('an unknown case id and a malformed one', async () => {
    const bad = capture();
    expect(await runCaseVerify('nope', deployment(), bad)).toBe(2);
    expect(bad.stderr[0]).toMatch(/^forensics: caseId: /);
    const missing = capture();
    expect(await runCaseShow('20200101T000000Z-i-0123456789abcdef0', deployment(), missing)).toBe(1);
    expect(missing.stderr[0]).toMatch(/not found|no manifest/);
  });
});

describe('tampering is detected (each step adds to the previous one)', () => {
  it('a new version of the manifest', async () => {
    const key = `cases/${caseId}/manifest.json`;
    await s3.send(new PutObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key, Body: '{"caseId":"forged"}', ObjectLockLegalHoldStatus: 'ON' }));
    const { code, report } = await verify('(new manifest version)');
    expect(code).toBe(1);
    expect(failing(report)).toEqual([`object.version ${key}`]);
  });

  it('a new version of a custody record', async () => {
    const key = `cases/${caseId}/custody/000002-${(await custodyKeys())[1]?.split('000002-')[1] ?? ''}`;
    await s3.send(new PutObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key, Body: '{"seq":2}', ObjectLockLegalHoldStatus: 'ON' }));
    const { code, report } = await verify('(new custody record version)');
    expect(code).toBe(1);
    const f = failing(report);
    expect(f).toContain(`object.version ${key}`);
    expect(f.some((x) => x.startsWith('custody.chain '))).toBe(true);
  });

  it('a legal hold removed', async () => {
    const key = `cases/${caseId}/instance.json`;
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key, LegalHold: { Status: 'OFF' } }));
    const { code, report } = await verify('(legal hold removed)');
    expect(code).toBe(1);
    expect(failing(report)).toContain(`object.legal-hold ${key}`);
  });

  it('an evidence snapshot deleted', async () => {
    const id = result.snapshots[0]?.evidenceSnapshotId ?? '';
    await new EC2Client(emulatorClientConfig(env)).send(new DeleteSnapshotCommand({ SnapshotId: id }));
    const { code, report } = await verify('(evidence snapshot deleted)');
    expect(code).toBe(1);
    expect(failing(report)).toContain(`snapshot.exists ${id}`);
  });
});

async function custodyKeys(): Promise<string[]> {
  const { listVersions } = await import('../../cli/commands/evidence-reader');
  return [...(await listVersions(s3, env.handlerEnv.EVIDENCE_BUCKET, `cases/${caseId}/custody/`)).keys()].sort();
}

let machineArn = '';
describe('acquire against a state machine created in the emulator', () => {
  it('starts an execution whose input is the validated manual request', async () => {
    const sfn = new SFNClient(emulatorClientConfig(env));
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `cli-e2e-${Date.now()}`,
        roleArn: `arn:aws:iam::${env.accountId}:role/sfn`,
        definition: JSON.stringify({ StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } }),
      }),
    );
    machineArn = machine.stateMachineArn ?? '';
    const io = capture();
    const code = await runAcquire(
      {
        endpoint: env.endpoint,
        stateMachineArn: machine.stateMachineArn,
        instance: 'i-0123456789abcdef0',
        account: env.accountId,
        region: env.region,
        reason: 'EDR alert 4711: reverse shell',
        requestedBy: 'alice@example.com',
        workstation: false,
        revoke: 'role',
      },
      io,
    );
    show('acquire', io, code);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const arn = io.stdout[0]?.replace(/^Started /, '') ?? '';
    expect(io.stdout[1]).toMatch(/^Console https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\/home\?region=us-east-1#\/v2\/executions\/details\//);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(JSON.parse(described.input ?? '{}')).toEqual({
      instanceId: 'i-0123456789abcdef0',
      accountId: env.accountId,
      region: env.region,
      reason: 'EDR alert 4711: reverse shell',
      requestedBy: 'alice@example.com',
      options: { workstation: false, revoke: 'role' },
    });
  });

  it('--wait is bounded: an execution still running at the timeout exits 1 with one error line', async () => {
    // moto's executions never leave RUNNING (its history is a canned one), so this exercises the bound.
    const io = capture();
    const code = await runAcquire(
      {
        endpoint: env.endpoint,
        stateMachineArn: machineArn,
        instance: 'i-0123456789abcdef0',
        account: env.accountId,
        region: env.region,
        reason: 'bounded wait',
        requestedBy: 'alice@example.com',
        name: `wait-${Date.now()}`,
        wait: true,
        timeout: 0.01,
        pollIntervalMs: 200,
      },
      io,
    );
    show('acquire --wait (bounded)', io, code);
    expect(code).toBe(1);
    expect(io.stderr.at(-1)).toMatch(/^forensics: execution still running after 0.01 minutes/);
  });
});
