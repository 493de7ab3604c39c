import { drillOf } from '../../handlers/domain/drill';
import { DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, type KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectLockConfigurationCommand, HeadObjectCommand, type HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { verifyChain } from '../../handlers/domain/custody-record';
import { isEvidenceKeyOrReplica, regionOfKeyArn } from '../../handlers/domain/evidence-regions';
import { base64ToHex } from '../../handlers/domain/hashing';
import { manifestKey, type ManifestV1 } from '../../handlers/domain/manifest';
import type { CaseRecord } from '../../handlers/domain/ports';
import { clientConfig, type Deployment, type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { type CheckResult, type CheckStatus, renderChecks, shortHash, summarizeChecks } from '../output/format';
import { EXIT_FAILED, EXIT_OK, type Io, parseOutputFormat, runCommand } from './common';
import { logsPrefix, rotateKey, timelineKey } from '../../handlers/domain/scope-documents';
import type { ManifestMemory } from '../../handlers/domain/memory-capture';
import { checkMemory } from './memory-check';
import { missingScopeReason, type ScopeDocumentKind, scopeDocumentVerdict } from './scope-reader';
import {
  type CustodyEntry,
  type KeyVersions,
  latestVersion,
  listVersions,
  loadCustody,
  mapLimit,
  readCaseRecord,
  readObject,
  requireCaseId,
  sealedManifest,
} from './evidence-reader';

/**
 * `forensics case verify <caseId>`: proves, from the stored evidence alone plus the case table, that nothing of the
 * case was altered. Every check prints one line, PASS / FAIL / WARN / SKIP; exit 0 only when no check FAILs.
 *
 * What is checked, and against what:
 * - `bucket.object-lock`: the evidence bucket has Object Lock enabled (without it legal holds mean nothing).
 * - `case.record`: the case exists in the case table.
 * - `custody.chain`: the custody records as stored now (latest version of every `custody/` key), walked in order:
 *   seq 1..n, each `prevSha256` the SHA-256 of the previous stored body, bodies canonical JSON, and the last hash
 *   equal to the head the case table holds (`verifyChain`).
 * - `manifest.sealed`: the chain's `seal` record names the manifest (hash, version) and the case table agrees.
 * - for the manifest, every object it lists and every custody record written after it:
 *   `object.exists`, `object.sha256` (recomputed from the bytes of the version named, against the manifest — or the
 *   seal record for the manifest, or the case table's index for later custody records), `object.s3-checksum` (S3's
 *   stored SHA-256 checksum, HeadObject ChecksumMode ENABLED), `object.version` (the version named is the latest:
 *   no newer version or delete marker shadows it), `object.legal-hold` (ON), `object.retention` (the version's own
 *   Object Lock retention, as HeadObject reports it: see "Retention" below).
 * - `manifest.coverage`: objects under the case prefix that nothing lists (WARN: not evidence, but worth a look).
 * - the incident scope, when the manifest has its sections (checkScope): `timeline.json`, `rotate.json` and every
 *   `logs/` object are listed in `objects`, so the object checks above cover them (hash, S3 checksum, version, legal
 *   hold, retention). On top: `scope.timeline` / `scope.rotate`: the section's `sha256` equals the hash `objects`
 *   lists for its key, the stored bytes hash to it, the document parses with this case's id (WARN when it holds
 *   another number of events / items than the section counts; SKIP when the scope was skipped, WARN when it failed); `scope.logs`: the
 *   `logs/` objects listed agree with the logs section's counts (WARN otherwise: the objects are still verified).
 * - the memory section, when the manifest has one (cli/commands/memory-check.ts): `memory.status`, and for a capture
 *   `memory.host-sha256`, `memory.tool`, `memory.snapshot` (listed among the snapshots below), `memory.custody`.
 * - for each evidence snapshot the manifest names, looked up in its evidence region (checkSnapshots): `snapshot.exists`,
 *   `snapshot.state` (completed), `snapshot.owner` (the IR account: the account of the evidence key), `snapshot.region`
 *   (the home region), `snapshot.kms-key` (KmsKeyId = the evidence key ARN, and that key exists, enabled, in the
 *   evidence region), `snapshot.intermediate-key` (a listed intermediate copy is under the evidence key or its
 *   replica in its region), `snapshot.lock`: DescribeLockedSnapshots when the manifest says locked; a lock that was
 *   unavailable or refused at acquisition is a FAIL (WARN on an emulator); SKIP when locking was disabled for the case.
 *
 * Retention: every evidence object is written with its own retention (mode and retain-until date), never relying on
 * the bucket's default alone (which S3 applies only to writes naming none, and which can be changed for later
 * writes). So on every listed object, on AWS and on an emulator alike:
 * - no retention mode or date: FAIL;
 * - a mode other than the deployment's (the bucket's default retention mode, set from the same setting): FAIL;
 * - a retain-until date earlier than the object's write time (LastModified) plus the deployment's retention days,
 *   less 15 minutes (the clock skew SigV4 itself tolerates between the writer and S3): FAIL;
 * - a date already passed: WARN: the legal hold (checked separately) is then what keeps the object.
 * Without a readable default retention (no Object Lock configuration) only the presence and the date are checked.
 */

export interface VerifyOptions extends DeploymentOptions {
  output?: string;
  /** Clock for retention dates (tests). */
  now?: Date;
}

export interface VerifyReport {
  caseId: string;
  result: 'PASS' | 'FAIL';
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
}

export async function runCaseVerify(caseId: string, options: VerifyOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    requireCaseId(caseId);
    const deployment = await resolveDeployment(options, ['bucket', 'table', 'keyArn']);
    const report = await verifyCase(deployment, caseId, options.now ?? new Date());
    if (format === 'json') io.out(JSON.stringify(report, null, 2));
    else {
      // Text form: keys relative to the case prefix (the JSON form keeps them whole).
      const prefix = `cases/${caseId}/`;
      const shown = report.checks.map((c) => ({ ...c, subject: c.subject.startsWith(prefix) && c.subject !== prefix ? c.subject.slice(prefix.length) : c.subject }));
      io.out(`Case ${caseId}, evidence bucket ${deployment.bucket}`);
      for (const line of renderChecks(shown)) io.out(line);
      const c = report.counts;
      io.out(`${report.result}: case ${caseId}: ${c.PASS} passed, ${c.FAIL} failed, ${c.WARN} warnings, ${c.SKIP} skipped`);
    }
    return report.result === 'PASS' ? EXIT_OK : EXIT_FAILED;
  });
}

interface Expected {
  key: string;
  sha256: string;
  versionId?: string;
  /** Which evidence names this hash. */
  listedBy: 'manifest' | 'seal record' | 'case table';
}

export async function verifyCase(deployment: Deployment, caseId: string, now: Date): Promise<VerifyReport> {
  const bucket = deployment.bucket as string;
  const keyArn = deployment.keyArn as string;
  const s3 = new S3Client(s3Config(deployment));
  const checks: CheckResult[] = [];
  const add = (status: CheckStatus, check: string, subject: string, detail: string) => checks.push({ status, check, subject, detail });
  let configured: ConfiguredRetention | undefined;
  try {
    // ── Bucket ──
    try {
      const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      const cfg = lock.ObjectLockConfiguration;
      const retention = cfg?.Rule?.DefaultRetention;
      const days = retention?.Days ?? (retention?.Years !== undefined ? retention.Years * 365 : undefined);
      if (retention?.Mode && days) configured = { mode: retention.Mode, days };
      const rule = retention ? `default retention ${retention.Mode} ${retention.Days ?? retention.Years} ${retention.Days ? 'days' : 'years'}` : 'no default retention';
      add(cfg?.ObjectLockEnabled === 'Enabled' ? 'PASS' : 'FAIL', 'bucket.object-lock', bucket, cfg?.ObjectLockEnabled === 'Enabled' ? `Object Lock enabled, ${rule}` : 'Object Lock is not enabled');
    } catch (err) {
      add('FAIL', 'bucket.object-lock', bucket, `cannot read the Object Lock configuration: ${(err as Error).name}`);
    }

    // ── Case record ──
    const record = await readCaseRecord(deployment, caseId);
    if (record) add('PASS', 'case.record', caseId, `status ${record.status}, ${record.custody.length} custody records indexed`);
    else add('FAIL', 'case.record', caseId, `no case in table ${deployment.table}`);

    // ── Custody chain (as stored now) ──
    const { entries: custody } = await loadCustody(s3, bucket, caseId);
    checkChain(custody, record, caseId, add);

    // ── Manifest: which version was sealed ──
    const mKey = manifestKey(caseId);
    const sealRecord = custody.map((e) => e.record).find((r) => r?.action === 'seal');
    const sealedByChain = sealRecord?.result?.manifest as { key?: string; sha256?: string; versionId?: string } | undefined;
    const sealedByTable = sealedManifest(record);
    if (!sealedByChain?.sha256) {
      add('FAIL', 'manifest.sealed', mKey, 'no seal record in the custody chain: the case was never sealed');
    } else if (sealedByTable && (sealedByTable.sha256 !== sealedByChain.sha256 || (sealedByTable.versionId ?? '') !== (sealedByChain.versionId ?? ''))) {
      add('FAIL', 'manifest.sealed', mKey, `the case table names ${shortHash(sealedByTable.sha256)} version ${sealedByTable.versionId ?? '-'}, the seal record ${shortHash(sealedByChain.sha256)} version ${sealedByChain.versionId ?? '-'}`);
    } else {
      add('PASS', 'manifest.sealed', mKey, `seal record names sha256 ${shortHash(sealedByChain.sha256)} version ${sealedByChain.versionId ?? '-'}${sealedByTable ? '; the case table agrees' : ''}`);
    }

    // ── Objects ──
    const versions = await listVersions(s3, bucket, `cases/${caseId}/`);
    let manifest: ManifestV1 | undefined;
    const expected: Expected[] = [];
    const sealed = sealedByChain?.sha256 ? sealedByChain : sealedByTable;
    if (sealed?.sha256) {
      expected.push({ key: mKey, sha256: sealed.sha256, ...(sealed.versionId ? { versionId: sealed.versionId } : {}), listedBy: 'seal record' });
    }
    try {
      const manifestVersion = sealed?.versionId ?? latestVersion(versions.get(mKey))?.versionId;
      const m = await readObject(s3, bucket, mKey, manifestVersion === 'null' ? undefined : manifestVersion);
      manifest = JSON.parse(m.bytes.toString('utf8')) as ManifestV1;
      if (manifest.caseId !== caseId || !Array.isArray(manifest.objects)) {
        add('FAIL', 'manifest.content', mKey, `not the manifest of case ${caseId} (caseId ${String(manifest.caseId)})`);
      } else {
        add('PASS', 'manifest.content', mKey, `schema ${manifest.schemaVersion}, ${manifest.objects.length} objects, ${manifest.snapshots?.length ?? 0} snapshots`);
      }
      if (!sealed?.sha256) expected.push({ key: mKey, sha256: m.sha256, ...(m.versionId ? { versionId: m.versionId } : {}), listedBy: 'case table' });
    } catch (err) {
      add('FAIL', 'manifest.content', mKey, `cannot read the manifest: ${(err as Error).name}: ${(err as Error).message}`);
    }
    const listed = new Set(expected.map((e) => e.key));
    for (const o of manifest?.objects ?? []) {
      if (listed.has(o.key)) continue;
      listed.add(o.key);
      expected.push({ key: o.key, sha256: o.sha256, ...(o.versionId ? { versionId: o.versionId } : {}), listedBy: 'manifest' });
    }
    // Custody records written after the manifest (the seal record, notification, close): hashed by the chain and
    // indexed in the case table.
    for (const c of record?.custody ?? []) {
      if (listed.has(c.key)) continue;
      listed.add(c.key);
      expected.push({ key: c.key, sha256: c.sha256, ...(c.versionId ? { versionId: c.versionId } : {}), listedBy: 'case table' });
    }
    // Evidence objects written after the manifest (the workstation record, workstation-<instanceId>.json): indexed in
    // the case table and hashed in a custody record, so verified like the later custody records.
    for (const o of record?.evidence ?? []) {
      if (listed.has(o.key)) continue;
      listed.add(o.key);
      expected.push({ key: o.key, sha256: o.sha256, ...(o.versionId ? { versionId: o.versionId } : {}), listedBy: 'case table' });
    }
    for (const c of custody) {
      if (listed.has(c.key)) continue;
      listed.add(c.key);
      add('FAIL', 'custody.index', c.key, 'custody record in the bucket that neither the manifest nor the case table lists');
    }
    // A drill case (forensics drill): its objects carry the drill's short retain-until date, in the configured mode.
    // The sealed manifest says so when there is one (its hash is in the chain: a case table edited afterwards cannot
    // turn a sealed real case into a drill), else the case record.
    const drill = drillOf({ drill: manifest ? manifest.drill : (record?.details?.options as { drill?: unknown } | undefined)?.drill } as never);
    if (drill) add('PASS', 'case.drill', caseId, `drill case: objects are kept ${drill.retentionDays} day(s) from the write, not the evidence default (forensics drill clean removes them after that)`);
    const expectedRetention = drill && configured ? { ...configured, days: drill.retentionDays, drill: true } : configured;
    const results = await mapLimit(expected, 8, (e) => checkObject(s3, bucket, e, versions.get(e.key), expectedRetention, now));
    for (const r of results) checks.push(...r);

    const unlisted = [...versions.keys()].filter((k) => !listed.has(k) && !custody.some((c) => c.key === k));
    for (const key of unlisted) add('WARN', 'manifest.coverage', key, 'object under the case prefix that no evidence lists');

    // ── Incident scope (its objects are in `objects`, so the per-object checks above covered them) ──
    if (manifest) await checkScope(s3, bucket, manifest, add);

    // ── Memory (its evidence snapshot is one of `snapshots[]`, checked with the disks' below) ──
    if (manifest) checkMemory(manifest as ManifestV1 & { memory?: ManifestMemory | null }, custody.map((e) => e.record), add);

    // ── Snapshots ──
    if (manifest?.snapshots) await checkSnapshots(deployment, manifest, keyArn, add);
  } finally {
    s3.destroy();
  }
  const counts = summarizeChecks(checks);
  return { caseId, result: counts.FAIL > 0 ? 'FAIL' : 'PASS', counts, checks };
}

/** The incident scope's own checks (the header comment lists them). */
export async function checkScope(s3: S3Client, bucket: string, manifest: ManifestV1, add: Add): Promise<void> {
  const keys: Record<ScopeDocumentKind, string> = { timeline: timelineKey(manifest.caseId), rotate: rotateKey(manifest.caseId) };
  for (const kind of ['timeline', 'rotate'] as const) {
    const section = manifest[kind];
    if (!section) continue;
    const check = `scope.${kind}`;
    if (!section.key) {
      add(section.status === 'failed' ? 'WARN' : 'SKIP', check, keys[kind], missingScopeReason(manifest, kind) ?? section.status);
      continue;
    }
    const versionId = manifest.objects.find((o) => o.key === section.key)?.versionId;
    try {
      const stored = await readObject(s3, bucket, section.key, versionId);
      const verdict = scopeDocumentVerdict(manifest, kind, stored);
      if (!verdict.ok) add('FAIL', check, section.key, verdict.problem);
      else if (verdict.warning) add('WARN', check, section.key, `the manifest's ${kind}.sha256 is the listed hash, but ${verdict.warning}`);
      else add('PASS', check, section.key, `the manifest's ${kind}.sha256 is the listed hash; ${verdict.detail} (${section.status})`);
    } catch (err) {
      add('FAIL', check, section.key, `cannot read the ${kind}: ${(err as Error).name}`);
    }
  }
  const logs = manifest.logs;
  if (logs) {
    const listed = (kind: 'cloudtrail' | 'flow-logs') => manifest.objects.filter((o) => o.key.startsWith(logsPrefix(manifest.caseId, kind))).length;
    const cloudtrail = listed('cloudtrail');
    const flowLogs = listed('flow-logs');
    const expectedCloudtrail = logs.cloudtrail.logFiles + logs.cloudtrail.digestFiles;
    const expectedFlowLogs = logs.flowLogs.sources.reduce((n, s) => n + s.objects, 0);
    const agree = cloudtrail === expectedCloudtrail && flowLogs === expectedFlowLogs;
    add(
      agree ? 'PASS' : 'WARN',
      'scope.logs',
      `cases/${manifest.caseId}/logs/`,
      agree
        ? `${cloudtrail} CloudTrail log and digest files and ${flowLogs} flow-log objects listed, as the logs section counts (each verified above)`
        : `the logs section counts ${expectedCloudtrail} CloudTrail and ${expectedFlowLogs} flow-log objects, the manifest lists ${cloudtrail} and ${flowLogs}`,
    );
  }
}

export type Add = (status: CheckStatus, check: string, subject: string, detail: string) => void;

function checkChain(custody: CustodyEntry[], record: CaseRecord | undefined, caseId: string, add: Add): void {
  const subject = `cases/${caseId}/custody/`;
  if (custody.length === 0) {
    add('FAIL', 'custody.chain', subject, 'no custody records in the bucket');
    return;
  }
  const chain = verifyChain(
    custody.map((e) => e.object.bytes.toString('utf8')),
    { caseId, ...(record ? { expectedHead: { seq: record.custodySeq, sha256: record.custodyHeadSha256 } } : {}) },
  );
  if (chain.valid) {
    add('PASS', 'custody.chain', subject, `${chain.length} records, seq 1..${chain.head.seq}, hash chain intact, head ${shortHash(chain.head.sha256)}${record ? ' matches the case table' : ''}`);
    return;
  }
  const first = chain.problems[0];
  const at = first?.seq !== null && first?.seq !== undefined ? custody.find((e) => e.record?.seq === first.seq)?.key ?? `seq ${first.seq}` : subject;
  const more = chain.problems.length > 1 ? ` (+${chain.problems.length - 1} more)` : '';
  add('FAIL', 'custody.chain', at, `${first?.problem ?? 'chain broken'}${more}`);
}

/** The deployment's retention, as the evidence bucket's default retention holds it. */
interface ConfiguredRetention {
  mode: string;
  days: number;
  /** A drill case's days (the drill's `retentionDays`), not the deployment's. */
  drill?: boolean;
}

/** Clock skew allowed between the writer (who computes the retain-until date) and S3 (LastModified): SigV4's own. */
const SKEW_MS = 15 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

async function checkObject(
  s3: S3Client,
  bucket: string,
  e: Expected,
  versions: KeyVersions | undefined,
  configured: ConfiguredRetention | undefined,
  now: Date,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const add = (status: CheckStatus, check: string, detail: string) => out.push({ status, check, subject: e.key, detail });
  let head: HeadObjectCommandOutput;
  let sha256: string;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: e.key, ...(e.versionId ? { VersionId: e.versionId } : {}), ChecksumMode: 'ENABLED' }));
    sha256 = (await readObject(s3, bucket, e.key, e.versionId)).sha256;
  } catch (err) {
    add('FAIL', 'object.exists', `${e.versionId ? `version ${e.versionId}` : 'object'} not readable: ${(err as Error).name}`);
    return out;
  }
  add(sha256 === e.sha256 ? 'PASS' : 'FAIL', 'object.sha256', sha256 === e.sha256 ? `${shortHash(sha256)} matches the ${e.listedBy}` : `recomputed ${shortHash(sha256)}, the ${e.listedBy} says ${shortHash(e.sha256)}`);

  if (!head.ChecksumSHA256) add('FAIL', 'object.s3-checksum', 'S3 stores no SHA-256 checksum for this version');
  else {
    const stored = base64ToHex(head.ChecksumSHA256.split('-')[0] ?? '');
    add(stored === sha256 ? 'PASS' : 'FAIL', 'object.s3-checksum', stored === sha256 ? 'S3 stored checksum matches the bytes' : `S3 stored checksum ${shortHash(stored)} differs from the bytes ${shortHash(sha256)}`);
  }

  const latest = latestVersion(versions);
  const named = e.versionId ?? head.VersionId;
  if (versions?.deleted) add('FAIL', 'object.version', 'a delete marker hides the object');
  else if (!latest) add('FAIL', 'object.version', 'no version listed');
  else if (named && latest.versionId !== named) {
    add('FAIL', 'object.version', `newer version ${latest.versionId}${latest.lastModified ? ` (${latest.lastModified.toISOString()})` : ''} shadows version ${named}`);
  } else if (!e.versionId && (versions?.versions.length ?? 0) > 1) {
    add('FAIL', 'object.version', `${versions?.versions.length} versions stored and the ${e.listedBy} names none`);
  } else {
    add('PASS', 'object.version', `version ${latest.versionId} is the latest (${versions?.versions.length ?? 1} version${(versions?.versions.length ?? 1) > 1 ? 's' : ''})`);
  }

  add(head.ObjectLockLegalHoldStatus === 'ON' ? 'PASS' : 'FAIL', 'object.legal-hold', `legal hold ${head.ObjectLockLegalHoldStatus ?? 'absent'}`);

  out.push({ ...retentionCheck(head, configured, now), check: 'object.retention', subject: e.key });
  return out;
}

/** The `object.retention` verdict for one object version (rules in the header comment). */
export function retentionCheck(
  head: Pick<HeadObjectCommandOutput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate' | 'LastModified'>,
  configured: ConfiguredRetention | undefined,
  now: Date,
): { status: CheckStatus; detail: string } {
  const mode = head.ObjectLockMode;
  const until = head.ObjectLockRetainUntilDate;
  if (!mode || !until) {
    return { status: 'FAIL', detail: `no Object Lock retention of its own on this version (mode ${mode ?? 'absent'}, retain-until ${until?.toISOString() ?? 'absent'})` };
  }
  const what = `${mode} until ${until.toISOString()}`;
  if (configured && mode !== configured.mode) {
    return { status: 'FAIL', detail: `${what}: the deployment's retention mode is ${configured.mode}` };
  }
  if (configured && head.LastModified) {
    const due = head.LastModified.getTime() + configured.days * DAY_MS;
    if (until.getTime() < due - SKEW_MS) {
      return {
        status: 'FAIL',
        detail: `${what}: shorter than the ${configured.drill ? "drill's" : "deployment's"} ${configured.days} days from the write (${head.LastModified.toISOString()})`,
      };
    }
  }
  if (until.getTime() <= now.getTime()) return { status: 'WARN', detail: `${what} (expired: only the legal hold keeps the object)` };
  return { status: 'PASS', detail: `${what}${configured ? ` (${configured.days} days from the write, ${configured.drill ? 'as the drill asked' : 'as configured'})` : ''}` };
}

/**
 * The evidence snapshots the manifest names, each looked up in ITS evidence region (the home region;
 * manifests written before name none, and their evidence is in the instance's region):
 * - `snapshot.exists`, `snapshot.state`, `snapshot.owner` (the IR account),
 * - `snapshot.region`: the evidence is in the home region (the evidence key's region),
 * - `snapshot.kms-key`: KmsKeyId is the evidence key, and DescribeKey in the evidence region finds that key there,
 *   enabled (a key ARN of another region would not exist there: AWS would have refused the copy),
 * - `snapshot.intermediate-key`: where the manifest lists an intermediate copy (cross-account chain), that copy —
 *   shared with the IR account — is under the evidence key or its multi-Region replica, which exists in the copy's
 *   region; a copy no longer visible (removed, or the share revoked) is a WARN,
 * - `snapshot.lock` as before.
 */
export async function checkSnapshots(
  deployment: Pick<Deployment, 'region' | 'profile' | 'endpoint'>,
  manifest: Pick<ManifestV1, 'snapshots' | 'target'>,
  keyArn: string,
  add: Add,
): Promise<void> {
  const irAccount = keyArn.split(':')[4] ?? '';
  const homeRegion = regionOfKeyArn(keyArn) ?? deployment.region ?? manifest.target.region;
  const ec2s = new Map<string, EC2Client>();
  const kmss = new Map<string, KMSClient>();
  const ec2In = (region: string) => ec2s.get(region) ?? ec2s.set(region, new EC2Client(clientConfig(deployment, region))).get(region) as EC2Client;
  const kmsIn = (region: string) => kmss.get(region) ?? kmss.set(region, new KMSClient(clientConfig(deployment, region))).get(region) as KMSClient;
  const describeKey = async (region: string, keyId: string): Promise<KeyMetadata | undefined> => {
    try {
      return (await kmsIn(region).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    } catch (err) {
      if (/NotFound|AccessDenied|InvalidArn/i.test((err as Error).name)) return undefined;
      throw err;
    }
  };
  const describeSnapshot = async (region: string, id: string): Promise<Snapshot | undefined> => {
    try {
      return (await ec2In(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.[0];
    } catch (err) {
      if (!/NotFound/i.test((err as Error).name)) throw err;
      return undefined;
    }
  };
  try {
    for (const s of manifest.snapshots) {
      const id = s.evidenceSnapshotId;
      if (!id) {
        add('FAIL', 'snapshot.exists', s.volumeId, `no evidence copy of ${s.originalSnapshotId} (state ${s.evidenceState ?? 'none'})`);
        continue;
      }
      const region = s.evidenceRegion ?? manifest.target.region;
      const snap = await describeSnapshot(region, id);
      if (!snap) {
        add('FAIL', 'snapshot.exists', id, `evidence snapshot of ${s.volumeId} not found in ${region}`);
        continue;
      }
      add('PASS', 'snapshot.exists', id, `evidence copy of ${s.volumeId} (${s.deviceName ?? '-'}) from ${s.originalSnapshotId}, in ${region}`);
      add(snap.State === 'completed' ? 'PASS' : 'FAIL', 'snapshot.state', id, `state ${snap.State ?? 'unknown'}${snap.StateMessage ? `: ${snap.StateMessage}` : ''}`);
      add(snap.OwnerId === irAccount ? 'PASS' : 'FAIL', 'snapshot.owner', id, snap.OwnerId === irAccount ? `owned by the IR account ${irAccount}` : `owned by ${snap.OwnerId ?? 'unknown'}, not the IR account ${irAccount}`);
      add(region === homeRegion ? 'PASS' : 'FAIL', 'snapshot.region', id, region === homeRegion ? `in the home region ${homeRegion}` : `in ${region}, not the home region ${homeRegion}`);
      if (snap.KmsKeyId !== keyArn) {
        add('FAIL', 'snapshot.kms-key', id, `key ${snap.KmsKeyId ?? 'none'}, not the evidence key ${keyArn}`);
      } else {
        const key = await describeKey(region, keyArn);
        const ok = key?.Arn === keyArn && key.KeyState === 'Enabled';
        add(ok ? 'PASS' : 'FAIL', 'snapshot.kms-key', id, ok ? `encrypted with the evidence key, which exists in ${region}` : key ? `the evidence key in ${region} is ${key.KeyState ?? 'in an unknown state'}` : `the evidence key does not exist in ${region}`);
      }
      await checkIntermediate(s, id, { describeSnapshot, describeKey, keyArn, targetRegion: manifest.target.region, add });
      if (!s.lock) {
        add('SKIP', 'snapshot.lock', id, 'no lock was attempted for this case (snapshot locking disabled in the deployment)');
        continue;
      }
      // Not locked at acquisition (API unavailable, or refused): recorded in custody, and not provable here. On AWS
      // that is a FAIL — the evidence snapshot could be deleted; an emulator has no snapshot lock, hence a WARN.
      const notLocked = deployment.endpoint ? 'WARN' : 'FAIL';
      if (s.lock.status === 'unsupported' || s.lock.status === 'failed') {
        add(notLocked, 'snapshot.lock', id, `not locked: ${s.lock.status} at acquisition${s.lock.reason ? ` (${s.lock.reason.slice(0, 120)})` : ''}`);
        continue;
      }
      try {
        const locked = await ec2In(region).send(new DescribeLockedSnapshotsCommand({ SnapshotIds: [id] }));
        const info = locked.Snapshots?.[0];
        const ok = info?.LockState === 'compliance' || info?.LockState === 'governance' || info?.LockState === 'compliance-cooloff';
        add(ok ? 'PASS' : 'FAIL', 'snapshot.lock', id, ok ? `${info?.LockState} until ${info?.LockExpiresOn?.toISOString() ?? '-'}` : `not locked (manifest says ${s.lock.mode})`);
      } catch (err) {
        add(notLocked, 'snapshot.lock', id, `cannot read the snapshot lock: ${(err as Error).name}`);
      }
    }
  } finally {
    for (const c of ec2s.values()) c.destroy();
    for (const c of kmss.values()) c.destroy();
  }
}

/** The intermediate copy of a cross-account chain, where the manifest lists one still retained. */
async function checkIntermediate(
  s: ManifestV1['snapshots'][number],
  evidenceId: string,
  io: {
    describeSnapshot: (region: string, id: string) => Promise<Snapshot | undefined>;
    describeKey: (region: string, keyId: string) => Promise<KeyMetadata | undefined>;
    keyArn: string;
    targetRegion: string;
    add: Add;
  },
): Promise<void> {
  const copy = s.intermediateCopy;
  if (!copy?.snapshotId) return;
  const subject = `${evidenceId} via ${copy.snapshotId}`;
  if (copy.removal === 'removed') {
    io.add('SKIP', 'snapshot.intermediate-key', subject, 'the intermediate copy was removed after the IR copy completed');
    return;
  }
  const region = copy.region ?? s.sourceRegion ?? io.targetRegion;
  const snap = await io.describeSnapshot(region, copy.snapshotId);
  if (!snap) {
    io.add('WARN', 'snapshot.intermediate-key', subject, `intermediate copy not visible in ${region} (removed, or no longer shared with the IR account)`);
    return;
  }
  const keyId = snap.KmsKeyId;
  if (!isEvidenceKeyOrReplica(keyId, io.keyArn) || (copy.kmsKeyId && copy.kmsKeyId !== keyId)) {
    io.add('FAIL', 'snapshot.intermediate-key', subject, `intermediate copy under ${keyId ?? 'no key'}, not the evidence key or its replica${copy.kmsKeyId ? ` (manifest: ${copy.kmsKeyId})` : ''}`);
    return;
  }
  const key = await io.describeKey(region, keyId as string);
  const primary = key?.MultiRegionConfiguration?.PrimaryKey?.Arn;
  const ok = key?.Arn === keyId && (keyId === io.keyArn || primary === io.keyArn);
  io.add(
    ok ? 'PASS' : 'FAIL',
    'snapshot.intermediate-key',
    subject,
    ok
      ? keyId === io.keyArn
        ? `intermediate copy in ${region} under the evidence key`
        : `intermediate copy in ${region} under the evidence key's replica ${keyId}`
      : key
        ? `key ${keyId} in ${region} is not a replica of the evidence key (primary ${primary ?? 'none'})`
        : `key ${keyId} does not exist in ${region}`,
  );
}
