import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA_ID, buildManifest, manifestKey } from '../../../../handlers/domain/manifest';
import type { AcquisitionState } from '../../../../handlers/domain/types';
import { BUCKET, caseRef, describedState, fullState } from '../../../support/evidence-test-kit';

const schema = JSON.parse(readFileSync(new URL('../../../../schemas/manifest.v1.schema.json', import.meta.url), 'utf8'));

function validator() {
  // ajv comes with asl-validator (test-only use). date-time checked with a strict RFC 3339 pattern.
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(schema);
}

const objects = [
  { key: 'cases/case-20250301-0001/custody/000001-triage.json', sha256: 'a'.repeat(64) },
  { key: 'cases/case-20250301-0001/instance.json', sha256: 'b'.repeat(64), versionId: 'v1' },
];

describe('manifest v1', () => {
  it('is keyed under the case and names its schema', () => {
    expect(manifestKey('case-1')).toBe('cases/case-1/manifest.json');
    expect(schema.$id).toBe(MANIFEST_SCHEMA_ID);
  });

  it('builds from a complete state and validates against the JSON Schema', () => {
    // Prepare
    const state = fullState();

    // Act
    const manifest = buildManifest({
      state,
      caseRecord: { findings: [state.case.finding, { ...state.case.finding, count: 2 }] },
      bucket: BUCKET,
      sealedAt: '2025-03-01T10:05:00.000Z',
      objects,
    });
    const validate = validator();

    // Assess
    expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
    expect(manifest.snapshots).toEqual([
      expect.objectContaining({ volumeId: 'vol-0aaa', originalSnapshotId: 'snap-0aaa', originalState: 'completed', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', evidenceState: 'completed', lock: null }),
      expect.objectContaining({ volumeId: 'vol-0bbb', originalState: 'error', evidenceSnapshotId: null, evidenceState: 'skipped' }),
    ]);
    expect(manifest.containment.network?.networkInterfaces[0]).toMatchObject({ networkInterfaceId: 'eni-0aaa', originalGroupIds: ['sg-0web'], isolationGroupId: 'sg-0iso' });
    expect(manifest.timings).toEqual({
      openedAt: '2025-03-01T10:00:00.000Z',
      snapshotRequestedAt: '2025-03-01T10:00:04.000Z',
      containedAt: '2025-03-01T10:00:07.000Z',
      sealedAt: '2025-03-01T10:05:00.000Z',
      timeToContainmentSeconds: 7,
    });
    expect(manifest.findings).toHaveLength(2);
    expect(manifest.workstation).toBeNull();
    expect(manifest.objects).toEqual(objects);
    expect(manifest.preIncident?.volumes[1]).toEqual({ volumeId: 'vol-0bbb', deviceName: '/dev/xvdb', sizeGiB: 20, encrypted: true, kmsKeyId: 'alias/aws/ebs' });
  });

  it('validates for a partial state (failed before containment) with nulls where nothing happened', () => {
    // Prepare
    const state: AcquisitionState = describedState();

    // Act
    const manifest = buildManifest({ state, bucket: BUCKET, sealedAt: '2025-03-01T10:05:00.000Z', objects });
    const validate = validator();

    // Assess
    expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
    expect(manifest.findings).toEqual([caseRef().finding]);
    expect(manifest.containment.network).toBeNull();
    expect(manifest.timings.timeToContainmentSeconds).toBeNull();
  });

  it('is rejected by the schema when a required field is missing or a hash is malformed', () => {
    // Prepare
    const manifest = buildManifest({ state: fullState(), bucket: BUCKET, sealedAt: '2025-03-01T10:05:00.000Z', objects });
    const { caseId: _omit, ...withoutCaseId } = manifest;
    const badHash = { ...manifest, objects: [{ key: 'cases/x/a.json', sha256: 'xyz' }] };
    const validate = validator();

    // Act / Assess
    expect(validate(withoutCaseId)).toBe(false);
    expect(validate(badHash)).toBe(false);
  });
});
