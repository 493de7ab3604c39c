import { readFileSync } from 'node:fs';
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ec2AdaptersFor } from '../../../../handlers/adapters/ec2-side-adapters';
import { describeCaseInstance } from '../../../../handlers/use-cases/describe-instance';
import { drillObjectRetention, drillSnapshotLock, requireDrillCanary } from '../../../../handlers/domain/drill';
import { buildManifest } from '../../../../handlers/domain/manifest';
import { mergeOptions, parseManualRequest } from '../../../../handlers/domain/manual-request';
import { failureNotification, successNotification } from '../../../../handlers/domain/notification-message';
import type { AcquisitionState } from '../../../../handlers/domain/types';
import { withDrillLock } from '../../../../handlers/composition/evidence-chain';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { releaseNotification, validateRelease } from '../../../../handlers/use-cases/release-workflow';
import { BUCKET, FakeCaseTable, RETENTION, T0, caseRef, fullState, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

/**
 * Drill cases (`forensics drill`) in the workflow: the manual-request option, the short retain-until date on every
 * object (in the configured mode, COMPLIANCE by default, with the legal hold: what the bucket policy demands of every
 * write), the governance snapshot lock, the canary-only guard, and the DRILL mark in manifest and notifications.
 * Everything else of a drill case is the production path, tested elsewhere.
 */

const request = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '111122223333',
  region: 'eu-west-1',
  reason: 'forensics drill d-1',
  requestedBy: 'arn:aws:iam::111122223333:user/alice',
};
const defaults = { workstation: false, revoke: 'instance' as const };
const NOW = new Date('2026-03-01T10:00:00.000Z');

describe('drill option of a manual request', () => {
  it('is accepted with 1–30 retention days and reaches the case options', () => {
    const parsed = parseManualRequest({ ...request, options: { drill: { retentionDays: 2 } } });
    expect(mergeOptions(defaults, parsed.options)).toEqual({ workstation: false, revoke: 'instance', drill: { retentionDays: 2 } });
    expect(mergeOptions(defaults, parseManualRequest(request).options)).not.toHaveProperty('drill');
  });

  it('refuses bad values, naming the field', () => {
    expect(() => parseManualRequest({ ...request, options: { drill: { retentionDays: 0 } } })).toThrow(/^options\.drill\.retentionDays: /);
    expect(() => parseManualRequest({ ...request, options: { drill: { retentionDays: 31 } } })).toThrow(/options\.drill\.retentionDays/);
    expect(() => parseManualRequest({ ...request, options: { drill: { retentionDays: 1, keep: true } } })).toThrow(/options\.drill\.keep/);
  });
});

describe('drill retention and lock', () => {
  it('objects of a drill case: retain until retentionDays from now (no mode of its own); none for a real case', () => {
    expect(drillObjectRetention({ ...defaults, drill: { retentionDays: 2 } }, NOW)).toEqual({ retainUntil: new Date('2026-03-03T10:00:00.000Z') });
    expect(drillObjectRetention(defaults, NOW)).toBeUndefined();
  });

  it('snapshots of a drill case: governance for the drill days, no cool-off; a disabled lock stays disabled', () => {
    const lock = { mode: 'compliance' as const, durationDays: 365, coolOffHours: 24 };
    expect(drillSnapshotLock(lock, { ...defaults, drill: { retentionDays: 1 } })).toEqual({ mode: 'governance', durationDays: 1, coolOffHours: 0 });
    expect(drillSnapshotLock(lock, defaults)).toBe(lock);
    expect(drillSnapshotLock(undefined, { ...defaults, drill: { retentionDays: 1 } })).toBeUndefined();
    const chain = { irSnapshots: {} as never, irAccountId: '1', lock, removeIntermediate: false };
    expect(withDrillLock(chain, { ...defaults, drill: { retentionDays: 3 } }).lock).toEqual({ mode: 'governance', durationDays: 3, coolOffHours: 0 });
    expect(withDrillLock(chain, defaults)).toBe(chain);
  });

  it('only a drill canary may be a drill case', () => {
    const drill = { ...defaults, drill: { retentionDays: 1 } };
    expect(() => requireDrillCanary(drill, { Name: 'web' }, 'forensics')).toThrow(/options\.drill: the instance is not a drill canary/);
    expect(() => requireDrillCanary(drill, { 'forensics:drill': 'd-1' }, 'forensics')).not.toThrow();
    expect(() => requireDrillCanary(defaults, {}, 'forensics')).not.toThrow();
  });
});

describe('drill objects in the evidence bucket', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  beforeEach(() => {
    bucket = mockEvidenceBucket();
  });
  afterEach(() => bucket.s3.restore());

  it('the store writes a drill date in the configured mode, with the legal hold and If-None-Match, as any evidence', async () => {
    // Prepare: the kit's store is configured COMPLIANCE for RETENTION.days, its clock at T0.
    // Act
    await bucket.store.put('cases/c/a.json', '{}', 'application/json', { retainUntil: new Date('2025-03-02T10:00:00Z') });
    await bucket.store.put('cases/c/b.json', '{}');
    // Assess: the drill object differs only by its date; the mode is never GOVERNANCE (the bucket policy refuses it).
    const [drill, real] = bucket.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(drill).toMatchObject({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date('2025-03-02T10:00:00Z'), ObjectLockLegalHoldStatus: 'ON', IfNoneMatch: '*' });
    expect(real).toMatchObject({ ObjectLockMode: 'COMPLIANCE', ObjectLockLegalHoldStatus: 'ON', IfNoneMatch: '*' });
    expect(real?.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.parse('2025-03-02T10:00:00Z'));
  });

  it('custody records of a drill case carry its short date (read from the case record), a real case the evidence default', async () => {
    const cases = new FakeCaseTable();
    const drillRef = caseRef({ caseId: 'drill-case', options: { ...defaults, drill: { retentionDays: 1 } } });
    cases.seed(drillRef, { details: { options: drillRef.options } });
    const realRef = caseRef({ caseId: 'real-case', target: { ...drillRef.target, instanceId: 'i-0fedcba9876543210' } });
    cases.seed(realRef, { details: { options: realRef.options } });
    const clock = steppingClock();
    const log = new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: {}, sleep: async () => {} });
    const action = { step: 'isolate-network', action: 'a', status: 'succeeded' as const, performedAt: 'x', request: {}, result: {} };
    await log.append(drillRef, [action]);
    await log.append(realRef, [action]);
    const [drillPut, realPut] = bucket.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(drillPut?.ObjectLockMode).toBe('COMPLIANCE');
    expect(realPut?.ObjectLockMode).toBe('COMPLIANCE');
    const drillDays = ((drillPut?.ObjectLockRetainUntilDate?.getTime() ?? 0) - T0) / 86_400_000;
    const realDays = ((realPut?.ObjectLockRetainUntilDate?.getTime() ?? 0) - T0) / 86_400_000;
    expect(drillDays).toBeGreaterThanOrEqual(1);
    expect(drillDays).toBeLessThan(1.01);
    expect(realDays).toBeGreaterThanOrEqual(RETENTION.days);
  });
});

describe('drill mark in the manifest and the notifications', () => {
  const drillState = (): AcquisitionState => {
    const s = fullState();
    return { ...s, case: { ...s.case, options: { ...s.case.options, drill: { retentionDays: 1 } } } };
  };

  it('the manifest of a drill case says so and still validates against the schema', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../../schemas/manifest.v1.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    const validate = ajv.compile(schema);
    const manifest = buildManifest({ state: drillState(), bucket: BUCKET, sealedAt: NOW.toISOString(), objects: [{ key: 'cases/x/custody/000001-a.json', sha256: 'a'.repeat(64) }] });
    expect(manifest.drill).toEqual({ retentionDays: 1 });
    expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
    expect(buildManifest({ state: fullState(), bucket: BUCKET, sealedAt: NOW.toISOString(), objects: [] })).not.toHaveProperty('drill');
  });

  it('notification subjects start [IR] [DRILL] for a drill case only', () => {
    expect(successNotification(drillState(), BUCKET).subject).toMatch(/^\[IR\] \[DRILL\] Contained /);
    expect(successNotification(drillState(), BUCKET).message).toMatch(/^DRILL: an exercise/m);
    expect(successNotification(fullState(), BUCKET).subject).toMatch(/^\[IR\] Contained /);
    const failed = failureNotification({
      state: drillState(),
      failedStep: 'Seal evidence' as never,
      failure: { error: 'X', message: 'm' } as never,
      secured: { snapshots: [], evidenceSnapshots: [], isolatedNetworkInterfaces: [], preservationApplied: [] } as never,
      lockReleased: false,
      bucket: BUCKET,
    });
    expect(failed.subject).toMatch(/^\[IR\] \[DRILL\] FAILED acquisition/);
  });

  it('the release of a drill case is marked too (validate carries the mark from the case record)', async () => {
    const ref = caseRef({ caseId: '20260301T100000Z-i-0123456789abcdef0', options: { ...defaults, drill: { retentionDays: 1 } } });
    const cases = new FakeCaseTable();
    cases.seed(ref, { status: 'CONTAINED', details: { options: ref.options } });
    const state = await validateRelease({ cases }, { request: { caseId: ref.caseId, reason: 'drill done', requestedBy: 'alice' }, executionArn: 'arn:x' });
    expect(state.case.drill).toBe(true);
    expect(releaseNotification(state).subject).toMatch(/^\[IR\] \[DRILL\] Released /);
  });
});

describe('describing the instance of a drill case (triage, beside the case lock)', () => {
  const ec2 = mockClient(EC2Client);
  const asg = mockClient(AutoScalingClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  beforeEach(() => {
    for (const m of [ec2, asg, elb]) m.reset();
    ec2.on(DescribeInstanceAttributeCommand).resolves({});
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({});
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    asg.on(DescribeAutoScalingInstancesCommand).resolves({});
    elb.on(DescribeTargetGroupsCommand).resolves({});
  });
  const state = (): AcquisitionState => {
    const s = fullState();
    return { outcome: 'ACQUIRE', case: { ...s.case, options: { ...s.case.options, drill: { retentionDays: 1 } } } };
  };
  const handler = () => (s: AcquisitionState) =>
    describeCaseInstance({ ...ec2AdaptersFor(s.case.target), clock: () => new Date(), tagPrefix: 'forensics' }, s.case);

  it('refuses an instance without the drill tag before anything is changed', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: state().case.target.instanceId, State: { Name: 'running' }, Tags: [{ Key: 'Name', Value: 'prod-web' }] }] }] });
    await expect(handler()(state())).rejects.toMatchObject({ name: 'InvalidInput', field: 'options.drill' });
  });

  it('acquires the canary the drill launched', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: state().case.target.instanceId, State: { Name: 'running' }, Tags: [{ Key: 'forensics:drill', Value: 'd-1' }] }] }] });
    const out = await handler()(state());
    expect(out.preIncident.tags['forensics:drill']).toBe('d-1');
  });
});
