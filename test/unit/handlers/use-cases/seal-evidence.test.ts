import { PutObjectCommand } from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../../../handlers/domain/custody-record';
import { EvidenceExists } from '../../../../handlers/domain/evidence-errors';
import { sha256Hex } from '../../../../handlers/domain/hashing';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { recordContainment } from '../../../../handlers/use-cases/record-containment';
import { sealEvidence } from '../../../../handlers/use-cases/seal-evidence';
import { BUCKET, FakeCaseTable, RAW_EVENT, fullState, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

const CASE = 'case-20250301-0001';
const MANIFEST_KEY = `cases/${CASE}/manifest.json`;
const schema = JSON.parse(readFileSync(new URL('../../../../schemas/manifest.v1.schema.json', import.meta.url), 'utf8'));

describe('sealEvidence', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  let deps: Parameters<typeof sealEvidence>[0];

  beforeEach(async () => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    const clock = steppingClock();
    deps = {
      cases,
      store: bucket.store,
      clock,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'seal' }, sleep: async () => {} }),
    };
    const state = fullState();
    cases.seed(state.case);
    await recordContainment(deps, state, state.containment!, RAW_EVENT);
  });
  afterEach(() => bucket.s3.restore());

  it('records snapshot and copy results, writes a manifest listing every object, then a seal record with its hash', async () => {
    // Act
    const result = await sealEvidence(deps, fullState());

    // Assess
    const record = cases.cases.get(CASE)!;
    const bodies = record.custody.map((o) => bucket.objects.get(o.key)!.body);
    const actions = bodies.map((b) => JSON.parse(b).action);
    expect(actions.slice(5)).toEqual(['snapshot-result', 'snapshot-result', 'evidence-copy', 'evidence-copy', 'seal']);
    expect(verifyChain(bodies, { expectedHead: { seq: record.custodySeq, sha256: record.custodyHeadSha256 } }).valid).toBe(true);

    const manifestBody = bucket.objects.get(MANIFEST_KEY)!.body;
    const manifest = JSON.parse(manifestBody);
    expect(result.manifest).toEqual({ bucket: BUCKET, key: MANIFEST_KEY, sha256: sha256Hex(manifestBody), versionId: expect.any(String) });
    // The manifest lists the custody chain up to the seal, the raw finding and instance.json, with their hashes.
    expect(manifest.objects.map((o: { key: string }) => o.key)).toEqual([
      ...record.custody.slice(0, 9).map((o) => o.key),
      `cases/${CASE}/finding-a1b2c3d4e5f60718293a4b5c6d7e8f90.json`,
      `cases/${CASE}/instance.json`,
    ]);
    for (const o of manifest.objects as { key: string; sha256: string }[]) {
      expect(sha256Hex(bucket.objects.get(o.key)!.body)).toBe(o.sha256);
    }
    const ajv = new Ajv2020({ strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T/);
    expect(ajv.validate(schema, manifest), JSON.stringify(ajv.errors)).toBe(true);

    const seal = JSON.parse(bodies.at(-1)!);
    expect(seal).toMatchObject({ step: 'seal-evidence', action: 'seal', result: { manifest: { key: MANIFEST_KEY, sha256: sha256Hex(manifestBody) } } });
    expect(result.objects.at(-1)!.key).toBe(record.custody.at(-1)!.key);

    const manifestPut = bucket.s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === MANIFEST_KEY)!;
    expect(manifestPut.args[0].input).toMatchObject({ ChecksumAlgorithm: 'SHA256', ObjectLockLegalHoldStatus: 'ON', IfNoneMatch: '*' });
    expect(record.details.seal).toEqual(result);
  });

  it('returns the stored result when run again after success', async () => {
    // Prepare
    const first = await sealEvidence(deps, fullState());
    const puts = bucket.s3.commandCalls(PutObjectCommand).length;

    // Act
    const second = await sealEvidence(deps, fullState());

    // Assess
    expect(second).toEqual(first);
    expect(bucket.s3.commandCalls(PutObjectCommand)).toHaveLength(puts);
  });

  it('refuses to replace a manifest that exists without a recorded seal', async () => {
    // Prepare
    bucket.objects.set(MANIFEST_KEY, { body: '{}', versionId: 'v0' });

    // Act / Assess
    await expect(sealEvidence(deps, fullState())).rejects.toThrow(EvidenceExists);
    expect(bucket.objects.get(MANIFEST_KEY)!.body).toBe('{}');
  });
});
