import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderCaseView, type CaseView } from '../../../../cli/commands/case-show';
import { runCaseReport } from '../../../../cli/commands/case-report';
import { runCaseTimeline } from '../../../../cli/commands/case-timeline';
import { checkScope } from '../../../../cli/commands/case-verify';
import type { Io } from '../../../../cli/commands/common';
import { loadScopeDocument, missingScopeReason, scopeDocumentVerdict } from '../../../../cli/commands/scope-reader';
import { activityBuckets, escapeHtml, MAX_BARS, renderCaseReport, type CaseReportInput } from '../../../../cli/output/case-report-html';
import type { CheckResult } from '../../../../cli/output/format';
import { renderScopeSummary } from '../../../../cli/output/scope-summary';
import { CONTAINMENT_MARK, renderTimelineText } from '../../../../cli/output/timeline-text';
import { buildManifest, type ManifestV1 } from '../../../../handlers/domain/manifest';
import { rotateKey, timelineKey } from '../../../../handlers/domain/scope-documents';
import { BUCKET, fullState } from '../../../support/evidence-test-kit';
import {
  CLOUDTRAIL_DIGEST_KEY,
  CLOUDTRAIL_LOG_KEY,
  CONTAINED_AT,
  HOSTILE_USER_AGENT,
  ROTATE_SECRET_COMMAND,
  rotateDocument,
  SCOPE_CASE_ID,
  scopeBodies,
  scopeManifestParts,
  timelineDocument,
} from '../../../support/scope-documents-kit';

/** A sealed manifest of the kit's case with its scope sections, and the stored bodies it names. */
function sealedCase(caseId = SCOPE_CASE_ID) {
  const bodies = scopeBodies(caseId);
  const logObjects = [
    { key: CLOUDTRAIL_LOG_KEY(caseId), sha256: 'a'.repeat(64) },
    { key: CLOUDTRAIL_DIGEST_KEY(caseId), sha256: 'b'.repeat(64) },
  ];
  const parts = scopeManifestParts(caseId, { timeline: bodies.timeline.sha256, rotate: bodies.rotate.sha256, logs: logObjects });
  const base = buildManifest({ state: fullState(), bucket: BUCKET, sealedAt: '2026-11-28T09:48:00.000Z', objects: [{ key: `cases/${caseId}/instance.json`, sha256: 'c'.repeat(64), versionId: 'v1' }] });
  const manifest: ManifestV1 = {
    ...base,
    caseId,
    timings: { ...base.timings, containedAt: CONTAINED_AT, timeToContainmentSeconds: 7.25 },
    objects: [...base.objects, ...parts.objects],
    timeline: parts.timeline,
    logs: parts.logs,
    rotate: parts.rotate,
  };
  const stored = new Map<string, string>([
    [timelineKey(caseId), bodies.timeline.body],
    [rotateKey(caseId), bodies.rotate.body],
    [`cases/${caseId}/manifest.json`, JSON.stringify(manifest)],
  ]);
  return { manifest, stored, bodies };
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('case timeline, text form', () => {
  it('prints one line per event with actor and flags, the containment line where it falls, and the gaps last', () => {
    // Prepare
    const doc = timelineDocument();

    // Act
    const lines = renderTimelineText(doc);

    // Assess
    const header = lines.findIndex((l) => l.startsWith('TIME (UTC)'));
    expect(lines[header]).toMatch(/^TIME \(UTC\)\s+REGION\s+ACTOR\s+EVENT\s+SOURCE IP\s+ERROR\s+FLAGS$/);
    const rows = lines.slice(header + 1, lines.indexOf('', header));
    expect(rows).toHaveLength(doc.events.length + 1);
    // e-05 (08:41) is before containment (09:45:10), e-06 (09:46:02) after it.
    expect(rows[5]).toBe(`${CONTAINMENT_MARK} ${CONTAINED_AT} ──`);
    expect(rows[4]).toMatch(/^2026-11-28T08:41:00.000Z\s+eu-west-1\s+assumed data-reader\/x\s+GetObject\s+10\.0\.1\.10\s+-\s+! data-access$/);
    expect(rows[6]).toMatch(/GetSecretValue\s+10\.0\.1\.10\s+AccessDenied\s+! secret-or-decrypt,denied-after-containment$/);
    expect(rows[1]).toMatch(/key ASIAEXAMPLESTOLEN001\s+ListBuckets\s+198\.51\.100\.23\s+-\s+! outside-aws$/);
    expect(rows[0]).toMatch(/session i-0123456789abcdef0\s+GetCallerIdentity\s+10\.0\.1\.10\s+-\s+-$/);
    expect(lines.slice(-2)).toEqual(['Gaps (1)', '  lookup-events us-east-1: bound reached: stopped at 5000 events']);
    expect(lines.join('\n')).toContain('Events        6, flagged 5, contained at 2026-11-28T09:45:10.000Z');
  });

  it('marks containment after the last event when every event came before it, and says when there are no events', () => {
    // Prepare
    const before = { ...timelineDocument(), events: timelineDocument().events.slice(0, 2) };
    const empty = { ...timelineDocument(), events: [], containedAt: null, gaps: [] };

    // Act
    const a = renderTimelineText(before);
    const b = renderTimelineText(empty);

    // Assess
    expect(a[a.indexOf('', 6) - 1]).toBe(`${CONTAINMENT_MARK} ${CONTAINED_AT} ──`);
    expect(b).toContain('(no events in the window)');
    expect(b.join('\n')).not.toContain(CONTAINMENT_MARK);
    expect(b.at(-1)).toBe('Gaps (0): none, the timeline is complete within its bounds');
  });

  it('never lets an event field forge a line', () => {
    // Prepare
    const doc = timelineDocument();
    doc.events[0] = { ...doc.events[0]!, eventName: 'ListBuckets\n2026-01-01T00:00:00Z  forged' };

    // Act
    const lines = renderTimelineText(doc);

    // Assess
    expect(lines.some((l) => l.startsWith('2026-01-01T00:00:00Z'))).toBe(false);
  });
});

describe('scope documents are read through the manifest and checked against it', () => {
  it('accepts the sealed document, refuses a section hash, stored bytes or case id that disagree, warns on a count', () => {
    // Prepare
    const { manifest, bodies } = sealedCase();
    const good = { sha256: bodies.timeline.sha256, bytes: Buffer.from(bodies.timeline.body) };
    const altered = bodies.timeline.body.replace('GetCallerIdentity', 'GetCallerIdentitx');
    const otherCase = JSON.stringify({ ...timelineDocument(), caseId: '20200101T000000Z-i-0aaaaaaaaaaaaaaaa' });
    const short = JSON.stringify({ ...timelineDocument(), events: [] });

    // Act
    const ok = scopeDocumentVerdict(manifest, 'timeline', good);
    const sectionLies = scopeDocumentVerdict({ ...manifest, timeline: { ...manifest.timeline!, sha256: 'f'.repeat(64) } }, 'timeline', good);
    const tampered = scopeDocumentVerdict(manifest, 'timeline', { sha256: sha(altered), bytes: Buffer.from(altered) });
    const forged = scopeDocumentVerdict(
      { ...manifest, timeline: { ...manifest.timeline!, sha256: sha(otherCase) }, objects: manifest.objects.map((o) => (o.key === timelineKey(SCOPE_CASE_ID) ? { ...o, sha256: sha(otherCase) } : o)) },
      'timeline',
      { sha256: sha(otherCase), bytes: Buffer.from(otherCase) },
    );
    const counted = scopeDocumentVerdict(
      { ...manifest, timeline: { ...manifest.timeline!, sha256: sha(short) }, objects: manifest.objects.map((o) => (o.key === timelineKey(SCOPE_CASE_ID) ? { ...o, sha256: sha(short) } : o)) },
      'timeline',
      { sha256: sha(short), bytes: Buffer.from(short) },
    );
    const rotate = scopeDocumentVerdict(manifest, 'rotate', { sha256: bodies.rotate.sha256, bytes: Buffer.from(bodies.rotate.body) });

    // Assess
    expect(ok).toMatchObject({ ok: true, detail: '6 events, window 2026-11-27T09:30:00.000Z to 2026-11-28T09:47:00.000Z' });
    expect(sectionLies).toMatchObject({ ok: false, problem: expect.stringMatching(/^the manifest's timeline\.sha256 ffffffffffff… differs from the hash its objects list/) });
    expect(tampered).toMatchObject({ ok: false, problem: expect.stringMatching(/^SHA-256 of the stored object .* does not match the manifest/) });
    expect(forged).toMatchObject({ ok: false, problem: `the document names case 20200101T000000Z-i-0aaaaaaaaaaaaaaaa, not ${SCOPE_CASE_ID}` });
    expect(counted).toMatchObject({ ok: true, warning: 'the manifest counts 6 events, the sealed document holds 0' });
    expect(ok).not.toHaveProperty('warning');
    expect(rotate).toMatchObject({ ok: true, detail: '3 items, 1 observed' });
  });

  it('says why a case has none: sealed before scoping, or the scope skipped with its reason', () => {
    // Prepare
    const { manifest } = sealedCase();
    const { timeline: _dropped, ...older } = manifest;
    const skipped = { ...manifest, timeline: { ...manifest.timeline!, status: 'skipped' as const, reason: 'CloudTrail scoping disabled', key: null, sha256: null } };

    // Act
    const none = missingScopeReason(older, 'timeline');
    const why = missingScopeReason(skipped, 'timeline');

    // Assess
    expect(none).toBe(`case ${SCOPE_CASE_ID} has no timeline: its manifest has no timeline section (sealed before the incident scope was recorded)`);
    expect(why).toBe(`case ${SCOPE_CASE_ID} has no timeline: scope skipped: CloudTrail scoping disabled`);
    expect(missingScopeReason(manifest, 'timeline')).toBeNull();
  });
});

describe('case report HTML', () => {
  function input(overrides: Partial<CaseReportInput> = {}): CaseReportInput {
    const { manifest } = sealedCase();
    return {
      caseId: SCOPE_CASE_ID,
      status: 'CONTAINED',
      manifest,
      manifestSha256: 'd'.repeat(64),
      timeline: timelineDocument(),
      timelineNote: null,
      rotate: rotateDocument(),
      rotateNote: null,
      objectLocks: new Map(manifest.objects.map((o) => [o.key, { mode: 'COMPLIANCE', retainUntil: '2027-11-28T09:48:00.000Z', legalHold: 'ON' }])),
      generatedAt: '2026-11-28T10:00:00.000Z',
      ...overrides,
    };
  }

  it('renders attacker-controlled text as text: a <script> in a user agent never becomes markup', () => {
    // Prepare
    const report = input();

    // Act
    const html = renderCaseReport(report);

    // Assess
    expect(html).toContain(escapeHtml(HOSTILE_USER_AGENT));
    expect(escapeHtml(HOSTILE_USER_AGENT)).toBe('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; aws-cli/2.15.0');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(HOSTILE_USER_AGENT);
  });

  it('is self-contained: no script, no link, no source or reference to fetch, and a policy forbidding them', () => {
    // Prepare
    const report = input();

    // Act
    const html = renderCaseReport(report);

    // Assess
    expect(html).not.toMatch(/\b(src|href|xlink:href|srcset|action)\s*=/i);
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed)\b/i);
    expect(html).not.toMatch(/url\(|@import|https?:\/\//i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('holds the header, chart with containment, flagged events, evidence with hashes and locks, rotate list, logs and gaps', () => {
    // Prepare
    const report = input();
    const m = report.manifest;

    // Act
    const html = renderCaseReport(report);

    // Assess
    expect(html).toContain(`<title>Forensic case ${SCOPE_CASE_ID}</title>`);
    expect(html).toContain('i-0123456789abcdef0 in account 111122223333, eu-west-1');
    expect(html).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    expect(html).toMatch(/<th>Status<\/th><td>CONTAINED<\/td>/);
    expect(html).toMatch(/<th>Time to containment<\/th><td><strong>7\.25 s<\/strong>/);
    expect(html).toMatch(/<svg class="chart" role="img" aria-label="Activity of the principal per hour: 6 events, 5 flagged"/);
    expect(html).toMatch(/<g id="containment-marker" class="containment"><line [^>]+\/><text [^>]+>Contained 2026-11-28T09:45:10.000Z<\/text><\/g>/);
    // 22:00 one unflagged event; 08:00 four flagged; 09:00 one flagged (after containment).
    expect(html.match(/<rect class="bar flagged"/g)).toHaveLength(2);
    expect(html.match(/<rect class="bar"/g)).toHaveLength(1);
    // Flagged events table: the five flagged, not the unflagged GetCallerIdentity.
    const flagged = html.slice(html.indexOf('<h3>Flagged events</h3>'), html.indexOf('<h2>Rotate list</h2>'));
    expect(flagged.match(/<tr><td>2026-/g)).toHaveLength(5);
    expect(flagged).not.toContain('GetCallerIdentity');
    expect(flagged).toContain('<span class="flag">denied-after-containment</span>');
    // Every object of the manifest with its full SHA-256 and its lock; every snapshot with its copy, key and lock.
    for (const o of m.objects) expect(html).toContain(`<code class="hash">${o.sha256}</code>`);
    expect(html).toContain('COMPLIANCE until 2027-11-28T09:48:00.000Z, legal hold ON');
    for (const s of m.snapshots) expect(html).toContain(s.originalSnapshotId);
    expect(html).toContain('snap-0ccc');
    expect(html).toContain('arn:aws:kms:eu-west-1:999988887777:key/evidence');
    // Rotate list in rank order with its commands.
    const rotate = html.slice(html.indexOf('<h2>Rotate list</h2>'), html.indexOf('<h2>Evidence</h2>'));
    expect([...rotate.matchAll(/<tr><td>(\d)<\/td><td>([a-z-]+)<\/td>/g)].map((x) => `${x[1]} ${x[2]}`)).toEqual(['1 secret', '2 parameter', '3 kms-key']);
    expect(rotate).toContain(`<code class="command">${ROTATE_SECRET_COMMAND}</code>`);
    expect(rotate).toContain('<strong class="observed">observed</strong>');
    expect(html).toContain('from org-trail-logs: 1 log files, 1 digest files, 2048 bytes');
    expect(html).toContain('<li>lookup-events us-east-1: bound reached: stopped at 5000 events</li>');
  });

  it('says why the timeline and rotate list are missing on a case sealed before scoping', () => {
    // Prepare
    const { timeline: _t, logs: _l, rotate: _r, ...older } = sealedCase().manifest;
    const report = input({
      manifest: older,
      timeline: null,
      timelineNote: missingScopeReason(older, 'timeline'),
      rotate: null,
      rotateNote: missingScopeReason(older, 'rotate'),
    });

    // Act
    const html = renderCaseReport(report);

    // Assess
    expect(html).toContain('has no timeline: its manifest has no timeline section');
    expect(html).toContain('has no rotate: its manifest has no rotate section');
    expect(html).toContain('No preserved logs: the manifest has no logs section.');
    expect(html).not.toContain('<svg');
  });

  it('charts activity per hour, flagged separately, and at most a week of bars', () => {
    // Prepare
    const doc = timelineDocument();
    const month = { from: '2026-10-28T00:00:00.000Z', to: '2026-11-28T00:00:00.000Z' };

    // Act
    const hourly = activityBuckets(doc.events, doc.window, doc.containedAt);
    const long = activityBuckets(doc.events, month, doc.containedAt);

    // Assess
    expect(hourly.bucketMs).toBe(3_600_000);
    expect(hourly.buckets).toHaveLength(25); // 2026-11-27T09:00 .. 2026-11-28T09:00
    const at = (iso: string) => hourly.buckets.find((b) => b.start === Date.parse(iso));
    expect(at('2026-11-27T22:00:00.000Z')).toEqual({ start: Date.parse('2026-11-27T22:00:00.000Z'), total: 1, flagged: 0 });
    expect(at('2026-11-28T08:00:00.000Z')).toMatchObject({ total: 4, flagged: 4 });
    expect(at('2026-11-28T09:00:00.000Z')).toMatchObject({ total: 1, flagged: 1 });
    expect(hourly.buckets.reduce((n, b) => n + b.total, 0)).toBe(doc.events.length);
    expect(long.buckets.length).toBeLessThanOrEqual(MAX_BARS);
    expect(long.buckets.reduce((n, b) => n + b.total, 0)).toBe(doc.events.length);
  });
});

describe('case show: the incident scope', () => {
  it('prints the timeline counts and window, the logs preserved and the top of the rotate list', () => {
    // Prepare
    const { manifest } = sealedCase();

    // Act
    const lines = renderScopeSummary(manifest);
    const view: CaseView = { caseId: SCOPE_CASE_ID, status: 'CONTAINED', manifest, manifestSha256: 'd'.repeat(64), record: null, custody: [] };
    const shown = renderCaseView(view);

    // Assess
    expect(lines).toEqual([
      '',
      'Incident scope',
      '  timeline  partial: 6 events, 5 flagged, window 2026-11-27T09:30:00.000Z to 2026-11-28T09:47:00.000Z (look-back 24 h), regions eu-west-1, us-east-1, 1 gap(s)',
      '  logs      CloudTrail complete: 1 log files, 1 digest files, 2048 bytes from org-trail-logs',
      "            flow logs skipped (no flow log on the instance's network interfaces)",
      '  rotate    complete: 3 items the role can read, 1 observed read (top 2 below; case report lists all)',
      expect.stringMatching(/^ {4}RANK\s+KIND\s+NAME\s+REGION\s+READ\s+ROTATE WITH$/),
      expect.stringMatching(new RegExp(`^ {4}1\\s+secret\\s+prod/db\\s+eu-west-1\\s+OBSERVED\\s+${ROTATE_SECRET_COMMAND.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`)),
      expect.stringMatching(/^ {4}2\s+parameter\s+\/app\/api-key\s+eu-west-1\s+readable\s+aws ssm put-parameter/),
    ]);
    expect(shown.join('\n')).toContain(lines.slice(1).join('\n'));
  });

  it('prints nothing for a manifest sealed before scoping', () => {
    // Prepare
    const { timeline: _t, logs: _l, rotate: _r, ...older } = sealedCase().manifest;

    // Act
    const lines = renderScopeSummary(older);

    // Assess
    expect(lines).toEqual([]);
  });
});

// One S3 mock for the file: two mocks of the same client class would stub the same prototype.
const s3 = mockClient(S3Client);

describe('commands over the evidence bucket (S3 and DynamoDB mocked)', () => {
  const ddb = mockClient(DynamoDBClient);
  const deployment = { bucket: BUCKET, table: 'cases', region: 'eu-west-1' };
  let stored: Map<string, string>;

  beforeEach(() => {
    s3.reset();
    ddb.reset();
    stored = sealedCase().stored;
    ddb.on(GetItemCommand).resolves({});
    s3.on(GetObjectCommand).callsFake((i: { Key: string }) => {
      const body = stored.get(i.Key);
      if (body === undefined) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      return { Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(body)) } };
    });
    s3.on(HeadObjectCommand).resolves({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date('2027-11-28T09:48:00.000Z'), ObjectLockLegalHoldStatus: 'ON' });
  });
  afterEach(() => {
    s3.reset();
    ddb.reset();
  });

  it('case timeline --output json prints the array of sealed events (the contract fields included)', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await runCaseTimeline(SCOPE_CASE_ID, { ...deployment, output: 'json' }, io);

    // Assess
    expect(code).toBe(0);
    const events = JSON.parse(io.stdout.join('\n')) as Record<string, unknown>[];
    expect(events).toEqual(timelineDocument().events);
    for (const e of events) expect(Object.keys(e)).toEqual(expect.arrayContaining(['time', 'region', 'eventName', 'sourceIPAddress']));
    expect(io.stderr).toEqual(['forensics: warning: the timeline is partial: 1 gap(s), first: lookup-events us-east-1: bound reached: stopped at 5000 events']);
  });

  it('case timeline refuses an altered timeline.json, naming the object (exit 1)', async () => {
    // Prepare
    const key = timelineKey(SCOPE_CASE_ID);
    stored.set(key, (stored.get(key) ?? '').replace('198.51.100.23', '198.51.100.99'));
    const io = capture();

    // Act
    const code = await runCaseTimeline(SCOPE_CASE_ID, { ...deployment, output: 'json' }, io);

    // Assess
    expect(code).toBe(1);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([expect.stringMatching(new RegExp(`^forensics: s3://${BUCKET}/${key}: SHA-256 of the stored object .* does not match the manifest`))]);
  });

  it('case timeline on a case without a timeline says so, with the status and reason (exit 1)', async () => {
    // Prepare
    const { manifest } = sealedCase();
    stored.set(`cases/${SCOPE_CASE_ID}/manifest.json`, JSON.stringify({ ...manifest, timeline: { ...manifest.timeline, status: 'failed', reason: 'LookupEvents: AccessDeniedException', key: null, sha256: null } }));
    const io = capture();

    // Act
    const code = await runCaseTimeline(SCOPE_CASE_ID, deployment, io);

    // Assess
    expect(code).toBe(1);
    expect(io.stderr).toEqual([`forensics: case ${SCOPE_CASE_ID} has no timeline: scope failed: LookupEvents: AccessDeniedException`]);
  });

  it('loadScopeDocument reads the version the manifest lists', async () => {
    // Prepare
    const { manifest } = sealedCase();
    const versioned = { ...manifest, objects: manifest.objects.map((o) => (o.key === rotateKey(SCOPE_CASE_ID) ? { ...o, versionId: 'v7' } : o)) };

    // Act
    const loaded = await loadScopeDocument(new S3Client({ region: 'eu-west-1' }), BUCKET, versioned, 'rotate');

    // Assess
    expect(loaded.document.items.map((i) => i.name)).toEqual(['prod/db', '/app/api-key', 'alias/app']);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: rotateKey(SCOPE_CASE_ID), VersionId: 'v7' }]);
  });

  it('case report writes the page, refuses to overwrite it without --force, and overwrites with it', async () => {
    // Prepare
    const out = join(await mkdtemp(join(tmpdir(), 'forensics-report-')), 'case.html');
    const first = capture();
    const second = capture();
    const forced = capture();

    // Act
    const a = await runCaseReport(SCOPE_CASE_ID, { ...deployment, out, now: new Date('2026-11-28T10:00:00.000Z') }, first);
    await writeFile(out, 'handed to the commander');
    const b = await runCaseReport(SCOPE_CASE_ID, { ...deployment, out }, second);
    const kept = await readFile(out, 'utf8');
    const c = await runCaseReport(SCOPE_CASE_ID, { ...deployment, out, force: true }, forced);

    // Assess
    expect(a).toBe(0);
    expect(first.stdout).toEqual([out]);
    expect(b).toBe(2);
    expect(second.stderr).toEqual([`forensics: --out: ${out} exists; use --force to overwrite it`]);
    expect(kept).toBe('handed to the commander');
    expect(c).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain(`<code class="command">${ROTATE_SECRET_COMMAND}</code>`);
    expect(html).toContain('COMPLIANCE until 2027-11-28T09:48:00.000Z, legal hold ON');
    expect(html).toContain('id="containment-marker"');
  });
});

describe('case verify: the scope checks', () => {
  afterEach(() => s3.reset());

  async function run(manifest: ManifestV1, stored: Map<string, string>): Promise<CheckResult[]> {
    s3.on(GetObjectCommand).callsFake((i: { Key: string }) => ({ Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(stored.get(i.Key) ?? '')) } }));
    const checks: CheckResult[] = [];
    await checkScope(new S3Client({ region: 'eu-west-1' }), BUCKET, manifest, (status, check, subject, detail) => checks.push({ status, check, subject, detail }));
    return checks;
  }

  it('passes the sealed timeline, rotate list and logs listing', async () => {
    // Prepare
    const { manifest, stored } = sealedCase();

    // Act
    const checks = await run(manifest, stored);

    // Assess
    expect(checks.map((c) => `${c.status} ${c.check} ${c.subject}`)).toEqual([
      `PASS scope.timeline ${timelineKey(SCOPE_CASE_ID)}`,
      `PASS scope.rotate ${rotateKey(SCOPE_CASE_ID)}`,
      `PASS scope.logs cases/${SCOPE_CASE_ID}/logs/`,
    ]);
  });

  it('fails a section hash that differs from the listed object, a document of another case, and warns on a logs count', async () => {
    // Prepare
    const { manifest, stored } = sealedCase();
    const otherCase = JSON.stringify({ ...rotateDocument(), caseId: '20200101T000000Z-i-0aaaaaaaaaaaaaaaa' });
    stored.set(rotateKey(SCOPE_CASE_ID), otherCase);
    const edited: ManifestV1 = {
      ...manifest,
      timeline: { ...manifest.timeline!, sha256: 'e'.repeat(64) },
      rotate: { ...manifest.rotate!, sha256: sha(otherCase) },
      objects: manifest.objects.map((o) => (o.key === rotateKey(SCOPE_CASE_ID) ? { ...o, sha256: sha(otherCase) } : o)),
      logs: { ...manifest.logs!, cloudtrail: { ...manifest.logs!.cloudtrail, logFiles: 3 } },
    };

    // Act
    const checks = await run(edited, stored);

    // Assess
    expect(checks.map((c) => `${c.status} ${c.check}: ${c.detail}`)).toEqual([
      expect.stringMatching(/^FAIL scope\.timeline: the manifest's timeline\.sha256 eeeeeeeeeeee… differs from the hash its objects list/),
      `FAIL scope.rotate: the document names case 20200101T000000Z-i-0aaaaaaaaaaaaaaaa, not ${SCOPE_CASE_ID}`,
      'WARN scope.logs: the logs section counts 4 CloudTrail and 0 flow-log objects, the manifest lists 2 and 0',
    ]);
  });

  it('warns, without failing, when the sealed rotate list holds another number of items than the manifest counts', async () => {
    // Prepare
    const { manifest, stored } = sealedCase();

    // Act
    const checks = await run({ ...manifest, rotate: { ...manifest.rotate!, items: 5 } }, stored);

    // Assess
    expect(checks.find((c) => c.check === 'scope.rotate')).toMatchObject({
      status: 'WARN',
      detail: "the manifest's rotate.sha256 is the listed hash, but the manifest counts 5 items, the sealed document holds 3",
    });
  });

  it('skips a skipped scope and warns on a failed one, with the reason; nothing for an older manifest', async () => {
    // Prepare
    const { manifest, stored } = sealedCase();
    const { timeline: _t, logs: _l, rotate: _r, ...older } = manifest;
    const notDone: ManifestV1 = {
      ...older,
      timeline: { ...manifest.timeline!, status: 'failed', reason: 'LookupEvents throttled', key: null, sha256: null },
      rotate: { ...manifest.rotate!, status: 'skipped', reason: 'no instance role', key: null, sha256: null },
    };

    // Act
    const none = await run(older, stored);
    const checks = await run(notDone, stored);

    // Assess
    expect(none).toEqual([]);
    expect(checks.map((c) => `${c.status} ${c.check}: ${c.detail}`)).toEqual([
      `WARN scope.timeline: case ${SCOPE_CASE_ID} has no timeline: scope failed: LookupEvents throttled`,
      `SKIP scope.rotate: case ${SCOPE_CASE_ID} has no rotate: scope skipped: no instance role`,
    ]);
  });
});
