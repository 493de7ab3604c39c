import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../../../handlers/domain/manifest';
import { successNotification } from '../../../../handlers/domain/notification-message';
import { scopeSections } from '../../../../handlers/domain/scope-manifest';
import type { AcquisitionState, ScopeResult } from '../../../../handlers/domain/types';
import { BUCKET, fullState } from '../../../support/evidence-test-kit';

const schema = JSON.parse(readFileSync(new URL('../../../../schemas/manifest.v1.schema.json', import.meta.url), 'utf8'));
const validate = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(schema);
})();
const objects = [{ key: 'cases/case-20250301-0001/custody/000001-triage.json', sha256: 'a'.repeat(64) }];
const COMMAND = 'aws secretsmanager rotate-secret --secret-id arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf --region eu-west-1';

const scope: ScopeResult = {
  timeline: {
    status: 'partial',
    key: 'cases/case-20250301-0001/timeline.json',
    sha256: 'c'.repeat(64),
    events: 12,
    flagged: 3,
    window: { from: '2025-02-28T10:00:00.000Z', to: '2025-03-01T10:02:00.000Z', lookBackHours: 24 },
    regions: ['eu-west-1'],
    gaps: [{ source: 'lookup-events', region: 'eu-west-1', kind: 'limit', detail: 'Username=i-1: event bound 5000 reached' }],
  },
  logs: {
    cloudtrail: { status: 'complete', sourceBucket: 'org-trail', logFiles: 4, digestFiles: 1, bytes: 12345 },
    flowLogs: { status: 'skipped', reason: 'no flow log covers the instance’s network interfaces', sources: [] },
    gaps: [],
  },
  rotate: {
    status: 'complete',
    key: 'cases/case-20250301-0001/rotate.json',
    sha256: 'd'.repeat(64),
    items: 2,
    observed: 1,
    top: [{ rank: 1, kind: 'secret', name: 'prod/db', region: 'eu-west-1', observed: true, command: COMMAND }],
  },
  objects: 7,
  scopedAt: '2025-03-01T10:02:00.000Z',
};

describe('the scope in the manifest and the notification', () => {
  it('puts the scope’s three sections in the manifest, valid against the schema', () => {
    // Prepare
    const state: AcquisitionState = { ...fullState(), scope };

    // Act
    const manifest = buildManifest({ state, bucket: BUCKET, sealedAt: '2025-03-01T10:05:00.000Z', objects });

    // Assess
    expect(manifest.timeline).toEqual(scope.timeline);
    expect(manifest.logs).toEqual(scope.logs);
    expect(manifest.rotate).toEqual(scope.rotate);
    expect(validate(JSON.parse(JSON.stringify(manifest))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('records every section as failed, with the reason, when the step failed', () => {
    // Prepare
    const state: AcquisitionState = {
      ...fullState(),
      scopeFailure: { Error: 'States.Timeout', Cause: JSON.stringify({ errorMessage: 'Task timed out after 840 seconds' }) },
    };

    // Act
    const manifest = buildManifest({ state, bucket: BUCKET, sealedAt: '2025-03-01T10:05:00.000Z', objects });

    // Assess
    expect(manifest.timeline).toMatchObject({ status: 'failed', reason: 'Scope the incident failed: States.Timeout: Task timed out after 840 seconds', key: null });
    expect(manifest.logs?.cloudtrail.status).toBe('failed');
    expect(manifest.rotate).toMatchObject({ status: 'failed', items: 0, top: [] });
    expect(validate(JSON.parse(JSON.stringify(manifest))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('adds nothing for an execution without the step', () => {
    // Act / Assess
    expect(scopeSections(fullState())).toEqual({});
    expect(buildManifest({ state: fullState(), bucket: BUCKET, sealedAt: '2025-03-01T10:05:00.000Z', objects })).not.toHaveProperty('timeline');
  });

  it('gives the top of the rotate list in the notification', () => {
    // Act
    const message = successNotification({ ...fullState(), scope }, BUCKET).message;

    // Assess
    expect(message).toContain('- timeline: partial, 12 event(s), 3 flagged');
    expect(message).toContain(`  1. READ secret prod/db (eu-west-1): ${COMMAND}`);
  });
});
