import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaseShow } from '../../cli/commands/case-show';
import { runCaseTimeline } from '../../cli/commands/case-timeline';
import { runCaseVerify, type VerifyReport } from '../../cli/commands/case-verify';
import type { Io } from '../../cli/commands/common';
import { renderCaseReport } from '../../cli/output/case-report-html';
import { CONTAINMENT_MARK } from '../../cli/output/timeline-text';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';
import { S3EvidenceStore } from '../../handlers/adapters/evidence-store';
import { canonicalBody } from '../../handlers/domain/hashing';
import { buildManifest, type ManifestV1, manifestKey } from '../../handlers/domain/manifest';
import { rotateKey, timelineKey } from '../../handlers/domain/scope-documents';
import type { AcquisitionState, CaseRef, SealResult } from '../../handlers/domain/types';
import { caseEvidenceObjects, writeEvidenceOnce } from '../../handlers/use-cases/case-evidence-objects';
import { ChainedCustodyLog } from '../../handlers/use-cases/custody-log';
import { containedState, RAW_EVENT } from '../support/evidence-test-kit';
import { decodePng } from '../support/png-pixels';
import {
  CLOUDTRAIL_DIGEST_KEY,
  CLOUDTRAIL_LOG_KEY,
  HOSTILE_USER_AGENT,
  INSTANCE_ID,
  ROTATE_SECRET_COMMAND,
  rotateDocument,
  scopeManifestParts,
  timelineDocument,
} from '../support/scope-documents-kit';

/**
 * The IR team's scope commands against a local deployment on moto: a case sealed as the product seals it (every object
 * written once by the evidence store with its own retention and a legal hold, indexed in the case table, hashed in the
 * custody chain; the manifest with its timeline, logs and rotate sections, then the seal record), then the real CLI
 * (`npm run forensics -- case timeline|report`, as processes, with `--endpoint` alone) and `case show|verify`.
 * Then the report is rendered in headless Chromium (the Debian package; skipped, saying so, where it is not
 * installed) to check what a commander sees.
 */
let env: LocalEnvironment;
let s3: S3Client;
let ddb: DynamoDBClient;
let manifest: ManifestV1;
const caseId = `20261128T094419Z-${INSTANCE_ID}`;
let workDir: string;

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

function forensics(args: string[]) {
  return spawnSync('npm', ['run', '-s', 'forensics', '--', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** The state of a contained case of the local deployment's account (no snapshots: none exist in this emulator). */
function stateOf(): AcquisitionState {
  const base = containedState();
  const target = { accountId: env.accountId, region: env.region, instanceId: INSTANCE_ID };
  const ref: CaseRef = { ...base.case, caseId, target, openedAt: '2026-11-28T09:44:19.000Z', executionArn: `arn:aws:states:${env.region}:${env.accountId}:execution:acquisition:${caseId}` };
  const { acquisition: _none, ...rest } = base;
  return { ...rest, case: ref, containment: { ...base.containment!, startedAt: '2026-11-28T09:45:02.000Z', containedAt: '2026-11-28T09:45:10.000Z' } };
}

/** Seals the case as "Seal evidence" does, with the scope's documents and sections the scoping step adds. */
async function sealCaseWithScope(): Promise<ManifestV1> {
  const clock = () => new Date();
  const cases = new DynamoCaseTable(ddb, env.handlerEnv.CASE_TABLE_NAME, clock);
  const store = new S3EvidenceStore(s3, env.handlerEnv.EVIDENCE_BUCKET, { mode: env.handlerEnv.OBJECT_LOCK_MODE as 'COMPLIANCE', days: Number(env.handlerEnv.EVIDENCE_RETENTION_DAYS) }, clock);
  const custody = new ChainedCustodyLog({ cases, store, clock, actor: { functionName: 'e2e' } });
  const state = stateOf();
  expect((await cases.openCase(state.case)).opened).toBe(true);
  await custody.append(state.case, [{ step: 'triage', action: 'open-case', status: 'succeeded', performedAt: state.case.openedAt, request: {}, result: { caseId } }]);
  let record = await cases.getCase(caseId);
  await writeEvidenceOnce({ cases, store, clock }, record!, [
    ...caseEvidenceObjects(state, RAW_EVENT),
    { key: timelineKey(caseId), value: timelineDocument(caseId) },
    { key: rotateKey(caseId), value: rotateDocument(caseId) },
  ]);
  // Preserved log files: indexed first, then written once (their bytes are the source's, not canonical JSON).
  for (const key of [CLOUDTRAIL_LOG_KEY(caseId), CLOUDTRAIL_DIGEST_KEY(caseId)]) {
    const { body, sha256 } = canonicalBody({ Records: [{ eventName: 'GetSecretValue', source: key }] });
    await cases.appendEvidence(caseId, [{ key, sha256 }]);
    await store.put(key, body);
  }
  record = await cases.getCase(caseId);
  const objects = [...record!.custody, ...(record!.evidence ?? [])];
  const hash = (key: string) => objects.find((o) => o.key === key)?.sha256 ?? '';
  const parts = scopeManifestParts(caseId, { timeline: hash(timelineKey(caseId)), rotate: hash(rotateKey(caseId)), logs: [] });
  const sealedAt = new Date().toISOString();
  const built: ManifestV1 = {
    ...buildManifest({ state, caseRecord: record!, bucket: store.bucket, sealedAt, objects }),
    timeline: parts.timeline,
    logs: parts.logs,
    rotate: parts.rotate,
  };
  const written = await store.put(manifestKey(caseId), canonicalBody(built).body);
  const seal = await custody.append(state.case, [
    { step: 'seal-evidence', action: 'seal', status: 'succeeded', performedAt: sealedAt, request: { manifestKey: manifestKey(caseId), objectCount: objects.length }, result: { manifest: { bucket: store.bucket, key: written.key, sha256: written.sha256, ...(written.versionId ? { versionId: written.versionId } : {}) } } },
  ]);
  const result: SealResult = { manifest: { bucket: store.bucket, key: written.key, sha256: written.sha256, ...(written.versionId ? { versionId: written.versionId } : {}) }, objects: [...objects, ...seal] };
  await cases.updateCase(caseId, { status: 'CONTAINED', details: { seal: result, sealedAt } });
  return built;
}

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  s3 = new S3Client({ ...emulatorClientConfig(env), forcePathStyle: true });
  ddb = new DynamoDBClient(emulatorClientConfig(env));
  workDir = await mkdtemp(join(tmpdir(), 'forensics-scope-'));
  manifest = await sealCaseWithScope();
});

afterAll(async () => {
  s3?.destroy();
  ddb?.destroy();
  await env?.stop();
});

describe('a case sealed with its scope, on a local deployment', () => {
  it('the scope objects are stored with their own retention and a legal hold (read back through S3)', async () => {
    for (const key of [timelineKey(caseId), rotateKey(caseId), CLOUDTRAIL_LOG_KEY(caseId), CLOUDTRAIL_DIGEST_KEY(caseId)]) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: key }));
      expect(`${key} ${head.ObjectLockMode} ${head.ObjectLockLegalHoldStatus}`).toBe(`${key} ${env.handlerEnv.OBJECT_LOCK_MODE} ON`);
      expect(head.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.now());
      expect(manifest.objects.map((o) => o.key)).toContain(key);
    }
  });

  it('`npm run forensics -- case timeline <caseId> --endpoint URL --output json` prints the sealed events', () => {
    // Act
    const run = forensics(['case', 'timeline', caseId, '--endpoint', env.endpoint, '--output', 'json']);

    // Assess
    expect(run.status, run.stderr).toBe(0);
    const events = JSON.parse(run.stdout) as Record<string, unknown>[];
    expect(events).toEqual(timelineDocument(caseId).events);
    for (const e of events) {
      expect(typeof e.time).toBe('string');
      expect(typeof e.region).toBe('string');
      expect(typeof e.eventName).toBe('string');
      expect('sourceIPAddress' in e).toBe(true);
    }
  });

  it('case timeline (text) marks containment; case show prints the scope', async () => {
    // Prepare
    const timeline = capture();
    const show = capture();

    // Act
    const a = await runCaseTimeline(caseId, { endpoint: env.endpoint }, timeline);
    const b = await runCaseShow(caseId, { endpoint: env.endpoint }, show);

    // Assess
    expect(a).toBe(0);
    expect(timeline.stdout).toContain(`${CONTAINMENT_MARK} 2026-11-28T09:45:10.000Z ──`);
    expect(b).toBe(0);
    const text = show.stdout.join('\n');
    expect(text).toContain('Incident scope');
    expect(text).toMatch(/rotate {4}complete: 3 items the role can read, 1 observed read/);
    expect(text).toContain(ROTATE_SECRET_COMMAND);
  });

  it('case verify passes, and checks the scope documents and every preserved log object', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await runCaseVerify(caseId, { endpoint: env.endpoint, output: 'json' }, io);

    // Assess
    const report = JSON.parse(io.stdout.join('\n')) as VerifyReport;
    expect(report.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(code).toBe(0);
    const status = (check: string, subject: string) => report.checks.find((c) => c.check === check && c.subject === subject)?.status;
    expect(status('scope.timeline', timelineKey(caseId))).toBe('PASS');
    expect(status('scope.rotate', rotateKey(caseId))).toBe('PASS');
    expect(status('scope.logs', `cases/${caseId}/logs/`)).toBe('PASS');
    for (const key of [timelineKey(caseId), rotateKey(caseId), CLOUDTRAIL_LOG_KEY(caseId), CLOUDTRAIL_DIGEST_KEY(caseId)]) {
      for (const check of ['object.sha256', 'object.legal-hold', 'object.retention']) expect(`${check} ${status(check, key)}`).toBe(`${check} PASS`);
    }
  });

  it('`npm run forensics -- case report <caseId> --endpoint URL --out FILE` writes one self-contained page, and keeps it', async () => {
    // Prepare
    const out = join(workDir, 'report.html');

    // Act
    const run = forensics(['case', 'report', caseId, '--endpoint', env.endpoint, '--out', out]);
    const again = forensics(['case', 'report', caseId, '--endpoint', env.endpoint, '--out', out]);

    // Assess
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(out);
    const html = await readFile(out, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=|https?:\/\//i);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).toContain(ROTATE_SECRET_COMMAND);
    expect(html).toContain('id="containment-marker"');
    for (const o of manifest.objects) expect(html).toContain(o.sha256);
    expect(html).toContain(`${env.handlerEnv.OBJECT_LOCK_MODE} until`);
    expect(html).not.toContain('legal hold OFF');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--out: .* exists; use --force to overwrite it/);
  });

  it('a forged new version of timeline.json: case timeline refuses it naming the object, verify fails it', async () => {
    // Prepare: a tamperer's raw write (no If-None-Match; moto does not enforce the bucket policy that refuses it).
    const forged = JSON.stringify({ ...timelineDocument(caseId), events: [] });
    await s3.send(new PutObjectCommand({ Bucket: env.handlerEnv.EVIDENCE_BUCKET, Key: timelineKey(caseId), Body: forged, ObjectLockLegalHoldStatus: 'ON' }));
    const timeline = capture();
    const verify = capture();

    // Act
    const a = await runCaseTimeline(caseId, { endpoint: env.endpoint, output: 'json' }, timeline);
    const b = await runCaseVerify(caseId, { endpoint: env.endpoint, output: 'json' }, verify);

    // Assess
    expect(a).toBe(1);
    expect(timeline.stdout).toEqual([]);
    expect(timeline.stderr).toEqual([expect.stringMatching(new RegExp(`^forensics: s3://${env.handlerEnv.EVIDENCE_BUCKET}/${timelineKey(caseId)}: SHA-256 of the stored object .* does not match the manifest`))]);
    expect(b).toBe(1);
    const failing = (JSON.parse(verify.stdout.join('\n')) as VerifyReport).checks.filter((c) => c.status === 'FAIL').map((c) => `${c.check} ${c.subject}`);
    expect(failing).toEqual(expect.arrayContaining([`object.sha256 ${timelineKey(caseId)}`, `object.version ${timelineKey(caseId)}`, `scope.timeline ${timelineKey(caseId)}`]));
    expect(failing.every((f) => f.endsWith(timelineKey(caseId)))).toBe(true);
  });
});

/** The Debian package's binary on the PATH (`apt-get install chromium`); CI images without it skip the test. */
const chromium = ['chromium', 'chromium-browser', 'google-chrome']
  .flatMap((name) => (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)))
  .find((path) => existsSync(path));

describe('the report in headless Chromium', () => {
  function render(file: string, mode: string[]): ReturnType<typeof spawnSync> {
    return spawnSync(
      chromium as string,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(workDir, 'chromium-profile')}`, ...mode, `file://${file}`],
      { encoding: 'utf8', timeout: 90_000 },
    );
  }

  const title = 'shows the rotate command and the user agent as text, paints the flagged bars and the containment line';
  // The reason is in the name, so a skipped run says why in the report (CI images cannot apt-get during npm ci).
  it.skipIf(!chromium)(chromium ? `${title} (${chromium})` : `${title} — SKIPPED: no chromium binary on the PATH (apt-get install chromium)`, async () => {
    // Prepare: the report the CLI wrote, and the same page without containment for comparison.
    const file = join(workDir, 'report.html');
    if (!existsSync(file)) expect(forensics(['case', 'report', caseId, '--endpoint', env.endpoint, '--out', file]).status).toBe(0);
    const uncontained = join(workDir, 'uncontained.html');
    await writeFile(
      uncontained,
      renderCaseReport({ caseId, status: 'CONTAINED', manifest, manifestSha256: '0'.repeat(64), timeline: { ...timelineDocument(caseId), containedAt: null }, timelineNote: null, rotate: rotateDocument(caseId), rotateNote: null, objectLocks: new Map(), generatedAt: new Date().toISOString() }),
    );
    const shot = join(workDir, 'report.png');
    const shotUncontained = join(workDir, 'uncontained.png');

    // Act
    const dom = render(file, ['--dump-dom']);
    const a = render(file, ['--window-size=1280,1400', `--screenshot=${shot}`]);
    const b = render(uncontained, ['--window-size=1280,1400', `--screenshot=${shotUncontained}`]);

    // Assess: the DOM as Chromium parsed it.
    expect(dom.status, String(dom.stderr).slice(-500)).toBe(0);
    const parsed = String(dom.stdout);
    expect(parsed).toContain(ROTATE_SECRET_COMMAND);
    expect(parsed).toMatch(/<g id="containment-marker" class="containment">/);
    expect(parsed).not.toMatch(/<script/i); // the user agent's markup stayed text
    expect(parsed).toContain(HOSTILE_USER_AGENT.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    // What was painted: the flagged bars' red, and the containment line's blue (compared with the page without it).
    expect(a.status, String(a.stderr).slice(-500)).toBe(0);
    expect(b.status).toBe(0);
    const painted = decodePng(await readFile(shot));
    const without = decodePng(await readFile(shotUncontained));
    expect([painted.width, painted.height]).toEqual([1280, 1400]);
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    const red: [number, number, number] = [0xcf, 0x22, 0x2e];
    const blue: [number, number, number] = [0x09, 0x69, 0xda];
    expect(painted.count(red, 2)).toBeGreaterThan(3000);
    expect(painted.count(blue, 2) - without.count(blue, 2)).toBeGreaterThan(150);
  });
});
