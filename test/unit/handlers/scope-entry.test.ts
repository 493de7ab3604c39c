import { describe, expect, it } from 'vitest';
import { scopeSettings } from '../../../handlers/composition/scope';
import type { HandlerEnvironment } from '../../../handlers/config/env';
import { InvalidInput } from '../../../handlers/domain/errors';
import type { AcquisitionState } from '../../../handlers/domain/types';
import { createScopeIncidentHandler } from '../../../handlers/scope-incident';

const env = { WORKLOAD_REGIONS: 'eu-west-1,us-east-1', EVIDENCE_KEY_ARN: 'arn:aws:kms:eu-west-1:999999999999:key/k', OBJECT_LOCK_MODE: 'COMPLIANCE', EVIDENCE_RETENTION_DAYS: 365 } as HandlerEnvironment;

describe('"Scope the incident" entry and settings', () => {
  it('refuses a state without a target, naming the field', async () => {
    // Act / Assess
    await expect(createScopeIncidentHandler({ env: () => env })({} as AcquisitionState)).rejects.toThrow(InvalidInput);
    await expect(createScopeIncidentHandler({ env: () => env })({} as AcquisitionState)).rejects.toThrow(/case\.target/);
  });

  it('searches the target’s region first, then the workload regions, with the documented defaults', () => {
    // Act
    const settings = scopeSettings(env, { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-1' });

    // Assess
    expect(settings).toMatchObject({ regions: ['us-east-1', 'eu-west-1'], lookBackHours: 24, maxEvents: 5000, maxLogObjects: 500, timeCapSeconds: 600 });
    expect(settings.cloudTrailBucket).toBeUndefined();
  });

  it('takes the trail bucket, prefix, organization and bounds from the environment', () => {
    // Act
    const settings = scopeSettings(
      { ...env, CLOUDTRAIL_BUCKET: 'org-trail', CLOUDTRAIL_PREFIX: 'trails', ORGANIZATION_ID: 'o-abcdefghij', SCOPE_LOOK_BACK_HOURS: 48, SCOPE_MAX_LOG_OBJECTS: 10, SCOPE_TIME_CAP_SECONDS: 120, FLOW_LOG_BUCKETS: 'central-flows/vpc,other-flows' },
      { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-1' },
    );

    // Assess
    expect(settings).toMatchObject({ cloudTrailBucket: 'org-trail', cloudTrailPrefix: 'trails', organizationId: 'o-abcdefghij', lookBackHours: 48, maxLogObjects: 10, timeCapSeconds: 120, regions: ['eu-west-1', 'us-east-1'], flowLogBuckets: ['central-flows/vpc', 'other-flows'] });
  });
});
