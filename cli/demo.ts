#!/usr/bin/env tsx
import './runtime/quiet-warnings';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { emulatorClientConfig } from './local/emulator-resources';
import { executeLocal, loadAcquisitionDefinition, loadHandlers, prepareLocalEnvironment } from './local/local-runner';
import { findingEventFor, seedVictim } from './local/seed-victim';

/**
 * `npm run demo` — the whole story on the local emulator, for a newcomer: a victim instance, a HIGH GuardDuty
 * finding, the acquisition as it happens, then proof read back from the emulator (not from the workflow's output).
 * The local deployment is configured by cdk.json, as `cdk deploy` would be. `npm run demo -- --keep` leaves the
 * emulator running afterwards (its PID and how to stop it are printed) with the exact responder commands that work
 * against it.
 */
const out = (line = '') => process.stdout.write(`${line}\n`);
const section = (title: string) => out(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);

function options(): { keep: boolean } {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { keep: { type: 'boolean', default: false } }, strict: true });
    return { keep: Boolean(values.keep) };
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message} (usage: npm run demo [-- --keep])\n`);
    process.exit(2);
  }
}

/** Quoted for a POSIX shell when it needs to be. */
const sh = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

async function main(): Promise<void> {
  const { keep } = options();
  section('1. Starting the local AWS emulator (moto_server on a free loopback port)');
  const env = await prepareLocalEnvironment({ handlerLogs: 'silent', keepEmulator: keep });
  let stopEmulator = true;
  // Synthesizing the CDK app takes a few seconds: done before the clock starts, as a deployment would be.
  await Promise.all([loadAcquisitionDefinition(), loadHandlers()]);
  out(`emulator: ${env.endpoint}   account ${env.accountId}   region ${env.region}`);
  out(`evidence bucket: ${env.handlerEnv.EVIDENCE_BUCKET} (Object Lock, COMPLIANCE)   case table: ${env.handlerEnv.CASE_TABLE_NAME}`);
  try {
    const config = emulatorClientConfig(env);
    const ec2 = new EC2Client(config);
    const s3 = new S3Client({ ...config, forcePathStyle: true });

    section('2. A compromised web server');
    const victim = await seedVictim(env, { name: 'web-01' });
    out(`instance ${victim.instanceId} with ${victim.volumeIds.length} EBS volumes (one encrypted with the default EBS key)`);
    for (const [eni, groups] of Object.entries(victim.originalGroups)) out(`  ${eni}: security groups ${groups.join(', ')}`);
    out(`  instance role ${victim.roleName}; registered in a target group`);

    section('3. GuardDuty reports CryptoCurrency:EC2/BitcoinTool.B!DNS, severity 8 (HIGH)');
    const event = findingEventFor(victim, env, { id: 'demo0001' });
    let started = Date.now();
    let first = true;
    let containedAt: number | undefined;
    const result = await executeLocal(env, event, {
      onProgress: (p) => {
        if (first) {
          // The clock starts when the execution does (the interpreter validates the definition first).
          started = p.at;
          first = false;
        }
        const t = `${((p.at - started) / 1000).toFixed(2)}s`.padStart(7);
        if (p.kind === 'entered') out(`${t}  → ${p.state}`);
        if (p.kind === 'retried') out(`${t}    ↻ retried ${p.state} (${p.detail ?? ''})`);
        if (p.kind === 'failed') out(`${t}    ✗ ${p.state}: ${p.detail ?? ''}`);
        if (p.kind === 'exited' && p.state === 'Isolate network') {
          containedAt = p.at;
          out(`${t}    ✓ contained`);
        }
      },
    });
    const total = ((Date.now() - started) / 1000).toFixed(2);

    section('4. What the workflow did — read back from the emulator');
    out(`case ${result.caseId}: ${result.status} in ${total}s` +
      (containedAt ? `, contained ${((containedAt - started) / 1000).toFixed(2)}s after the finding arrived` : ''));
    if (result.error) out(`error: ${result.error.name}: ${result.error.cause ?? ''}`);

    const snaps = await ec2.send(
      new DescribeSnapshotsCommand({ SnapshotIds: result.snapshots.flatMap((s) => [s.snapshotId, s.evidenceSnapshotId ?? s.snapshotId]) }),
    );
    const byId = new Map((snaps.Snapshots ?? []).map((s) => [s.SnapshotId, s]));
    out('evidence (volume → snapshot → copy re-encrypted with the evidence key):');
    for (const s of result.snapshots) {
      const copy = byId.get(s.evidenceSnapshotId ?? '');
      out(`  ${s.volumeId} → ${s.snapshotId} → ${s.evidenceSnapshotId} (${copy?.State}, key ${copy?.KmsKeyId?.split('/').pop()})`);
    }

    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: victim.networkInterfaceIds }));
    out('network isolation (every interface now has only the rule-less isolation group):');
    for (const n of enis.NetworkInterfaces ?? []) {
      out(`  ${n.NetworkInterfaceId}: was ${victim.originalGroups[n.NetworkInterfaceId ?? '']?.join(', ')} → now ${n.Groups?.map((g) => g.GroupId).join(', ')}`);
    }
    const protection = await ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }),
    );
    out(`termination protection: ${protection.DisableApiTermination?.Value ? 'on' : 'OFF'}`);
    const iam = new IAMClient(config);
    const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: victim.roleName }));
    for (const name of policies.PolicyNames ?? []) {
      const doc = await iam.send(new GetRolePolicyCommand({ RoleName: victim.roleName, PolicyName: name }));
      const text = decodeURIComponent(doc.PolicyDocument ?? '');
      const scoped = text.includes('ec2:SourceInstanceARN') ? ' (deny all, only where ec2:SourceInstanceARN is this instance)' : '';
      out(`credentials: inline policy ${name} on role ${victim.roleName}${scoped}`);
    }

    if (result.manifest) {
      const { bucket, key, sha256 } = result.manifest;
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const body = (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
      const recomputed = createHash('sha256').update(body).digest('hex');
      const manifest = JSON.parse(body) as { objects?: unknown[] };
      out(`manifest s3://${bucket}/${key}`);
      out(`  sha256 ${sha256} (recomputed: ${recomputed === sha256 ? 'match' : 'MISMATCH'})`);
      out(`  legal hold ${head.ObjectLockLegalHoldStatus}; its own retention ${head.ObjectLockMode} until ${head.ObjectLockRetainUntilDate?.toISOString()}`);
      out(`  lists ${manifest.objects?.length ?? 0} evidence objects (custody records, finding, pre-incident state)`);
    }

    if (result.forensicInstanceId) {
      out(`forensic workstation ${result.forensicInstanceId}: volumes from the evidence snapshots, in the isolated forensic VPC`);
    }

    section('5. GuardDuty republishes the finding (count 2)');
    const replay = await executeLocal(env, findingEventFor(victim, env, { id: 'demo0001', count: 2 }));
    out(`second execution: ${replay.status} — appended to case ${replay.caseId}, no second snapshot`);

    section('Done');
    const caseId = result.caseId ?? '<caseId>';
    const next = [
      ['cases'],
      ['case', 'show', caseId],
      ['case', 'verify', caseId],
      ['case', 'download', caseId, '--out', `./case-${caseId}`],
      ['release', caseId, '--reason', 'demo: cleared by the investigation'],
    ].map((args) => `npm run forensics -- ${[...args, '--endpoint', env.endpoint].map(sh).join(' ')}`);
    if (keep && env.moto) {
      stopEmulator = false;
      out(`The emulator keeps running: moto_server PID ${env.moto.pid} at ${env.endpoint} (stop it with: kill ${env.moto.pid}).`);
      out(`The local deployment is registered there as stack ${env.stackName}; every command finds it with --endpoint alone:`);
      for (const line of next) out(`  ${line}`);
    } else {
      out('`npm run demo -- --keep` leaves the emulator running and prints the responder commands that work against it');
      out('(cases, case show, case verify, case download, release). `npm test` runs every test; README.md explains deployment.');
    }
    process.exitCode = result.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    if (stopEmulator) await env.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
  process.exitCode = 1;
});
