import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RotateDocument, TimelineDocument } from '../../../../handlers/domain/scope-documents';
import type { AcquisitionState, FlowLogSources } from '../../../../handlers/domain/types';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { type ScopeIncidentDeps, type ScopeSettings, scopeIncident } from '../../../../handlers/use-cases/scope-incident';
import { ACCOUNT, ROLE_ARN, SECRET_ARN, assumeRoleRecord, pivotRecord, record } from '../../../support/cloudtrail-records';
import { FakeCaseTable, caseRef, containedState, mockEvidenceBucket } from '../../../support/evidence-test-kit';

const INSTANCE = 'i-0abc';
const NOW = new Date('2025-03-17T21:10:00.000Z');
const SETTINGS: ScopeSettings = {
  lookBackHours: 24,
  regions: ['eu-west-1'],
  cloudTrailBucket: 'org-trail',
  organizationId: 'o-abcdefghij',
  maxEvents: 1000,
  maxLogObjects: 100,
  maxFlowLogRecords: 1000,
  maxInventoryItems: 100,
  maxPolicyReads: 100,
  concurrency: 4,
  timeCapSeconds: 600,
};
const DAY = `AWSLogs/o-abcdefghij/${ACCOUNT}/CloudTrail/eu-west-1/2025/03/17/`;
const DIGEST_DAY = `AWSLogs/o-abcdefghij/${ACCOUNT}/CloudTrail-Digest/eu-west-1/2025/03/17/`;
const IN_WINDOW = `${DAY}${ACCOUNT}_CloudTrail_eu-west-1_20250317T2030Z_abc.json.gz`;
const DIGEST = `${DIGEST_DAY}${ACCOUNT}_CloudTrail-Digest_eu-west-1_org_eu-west-1_20250317T210000Z.json.gz`;
const STALE = `AWSLogs/o-abcdefghij/${ACCOUNT}/CloudTrail/eu-west-1/2025/03/15/${ACCOUNT}_CloudTrail_eu-west-1_20250315T0100Z_old.json.gz`;

/** The flow logs "Preserve and snapshot" found (`$.acquisition.flowLogSources`); each test may change them. */
let flowLogSources: FlowLogSources | undefined;
const CWL_FLOW_LOG: FlowLogSources = {
  status: 'read',
  sources: [{ flowLogId: 'fl-1', resourceId: 'eni-0aaa', destinationType: 'cloud-watch-logs', destination: null, logGroupName: 'vpc-flow', hiveCompatible: false, perHour: false }],
};

/** The contained state of the kit, for instance i-0abc, first seen 20:00 with the instance role resolved. */
function state(): AcquisitionState {
  const s = containedState();
  s.acquisition = { ...(s.acquisition as NonNullable<AcquisitionState['acquisition']>), ...(flowLogSources ? { flowLogSources } : {}) };
  s.case = caseRef({ target: { ...s.case.target, accountId: ACCOUNT, instanceId: INSTANCE }, finding: { ...s.case.finding, firstSeenAt: '2025-03-17T20:00:00.000Z' } });
  s.containment = { ...(s.containment as NonNullable<AcquisitionState['containment']>), containedAt: '2025-03-17T21:00:00.000Z', credentials: { mode: 'instance', status: 'applied', roleArn: ROLE_ARN, policies: [] } };
  return s;
}

const lookupEvent = (r: ReturnType<typeof record>) => ({ record: r, resources: [] });

describe('scopeIncident', () => {
  let cases: FakeCaseTable;
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let copies: string[];
  let deps: ScopeIncidentDeps;

  beforeEach(() => {
    cases = new FakeCaseTable(() => NOW);
    bucket = mockEvidenceBucket(() => NOW);
    copies = [];
    flowLogSources = CWL_FLOW_LOG;
    const st = state();
    cases.seed(st.case);
    deps = {
      cases,
      store: bucket.store,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock: () => NOW, actor: {}, sleep: async () => {} }),
      clock: () => NOW,
      settings: SETTINGS,
      lookupIn: () => ({
        lookup: async (attribute) => {
          if (attribute.value === INSTANCE) return { events: [lookupEvent(record()), lookupEvent(assumeRoleRecord())], gaps: [] };
          if (attribute.value === 'pivot') return { events: [lookupEvent(pivotRecord()), lookupEvent(record({ eventID: 'not-ours', userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/other/pivot` } }))], gaps: [] };
          return { events: [], gaps: [] };
        },
      }),
      inventoryIn: () => ({
        secrets: async () => ({ items: [{ kind: 'secret', arn: SECRET_ARN, name: 'prod/db', region: 'eu-west-1' }], truncated: false }),
        secureStringParameters: async () => ({ items: [{ kind: 'parameter', arn: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/x`, name: '/x', region: 'eu-west-1' }], truncated: false }),
        customerKeys: async () => ({ items: [], truncated: false }),
        buckets: async () => ({ items: [{ kind: 's3-bucket', arn: 'arn:aws:s3:::app-data', name: 'app-data', region: 'eu-west-1' }], truncated: false }),
      }),
      flowLogRecordsIn: () => ({
        records: async () => ({ records: [{ timestamp: 1, message: '2 x eni-0aaa ACCEPT OK', logStreamName: 'eni-0aaa', eventId: 'e1' }], truncated: false }),
      }),
      // The role may read the secret and the bucket's objects, not the parameter.
      simulate: async (_role, actions, arns) => ({
        allowed: new Map(arns.filter((a) => a === SECRET_ARN || a === 'arn:aws:s3:::app-data/*').map((a) => [a, [...actions]])),
        explicitlyDenied: new Map(),
      }),
      // No resource policy anywhere: the identity policies decide (the resource-policy tests set their own).
      resourcePoliciesIn: () => ({ secretPolicy: async () => null, keyPolicy: async () => null, bucketPolicy: async () => null }),
      readSealed: async (key) => JSON.parse(bucket.objects.get(key)?.body as string) as unknown,
      roleOfProfile: async () => null,
      logs: {
        list: async (_b, prefix) => ({
          objects: prefix === DAY ? [{ key: IN_WINDOW, size: 100 }] : prefix === DIGEST_DAY ? [{ key: DIGEST, size: 10 }] : prefix.includes('/2025/03/16/') ? [{ key: STALE, size: 5 }] : [],
          truncated: false,
        }),
        copy: async (source, key) => {
          copies.push(source.key);
          return { key, sha256: 'a'.repeat(64), versionId: 'v', bytes: source.size ?? 0, existed: false };
        },
        records: async () => [record({ eventID: 'data-1', eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventCategory: 'Data', managementEvent: false, requestParameters: { bucketName: 'app-data', key: 'x' }, resources: [] })],
      },
    };
  });

  it('seals the timeline (one hop of AssumeRole, trail data events), the window’s logs and the ranked rotate list', async () => {
    // Act
    const result = await scopeIncident(deps, state());

    // Assess: the documents as written in the bucket.
    const timeline = JSON.parse(bucket.objects.get(`cases/${state().case.caseId}/timeline.json`)?.body as string) as TimelineDocument;
    const rotate = JSON.parse(bucket.objects.get(`cases/${state().case.caseId}/rotate.json`)?.body as string) as RotateDocument;
    expect(timeline.window).toEqual({ from: '2025-03-16T20:00:00.000Z', to: NOW.toISOString(), lookBackHours: 24 });
    expect(timeline.events.map((e) => [e.eventId, e.origin])).toEqual([
      // Same time: by event id.
      ['data-1', 'trail-logs'],
      ['e0000000-0000-4000-8000-000000000001', 'lookup-events'],
      ['e0000000-0000-4000-8000-000000000002', 'lookup-events'],
      ['e0000000-0000-4000-8000-000000000003', 'lookup-events'],
    ]);
    expect(timeline.assumedRoles).toEqual([{ roleArn: `arn:aws:iam::${ACCOUNT}:role/admin`, sessionName: 'pivot', assumedAt: '2025-03-17T20:25:00.000Z', eventId: 'e0000000-0000-4000-8000-000000000002' }]);
    expect(rotate.items.map((i) => [i.rank, i.name, i.observed])).toEqual([
      [1, 'prod/db', true],
      [2, 'app-data', true],
    ]);
    expect(rotate.evaluated).toBe(3);
    // Only the window's files were copied; digests too.
    expect(copies.sort()).toEqual([DIGEST, IN_WINDOW].sort());
    expect(result.logs.cloudtrail).toEqual({ status: 'complete', sourceBucket: 'org-trail', logFiles: 1, digestFiles: 1, bytes: 110 });
    expect(result.logs.flowLogs).toEqual({ status: 'complete', sources: [{ flowLogId: 'fl-1', destinationType: 'cloud-watch-logs', objects: 1, records: 1 }] });
    expect(result.timeline).toMatchObject({ status: 'complete', events: 4, key: `cases/${state().case.caseId}/timeline.json` });
    expect(result.timeline.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.rotate).toMatchObject({ status: 'complete', items: 2, observed: 2 });
    expect(result.rotate.top[0]?.command).toBe(`aws secretsmanager rotate-secret --secret-id ${SECRET_ARN} --region eu-west-1`);
    // Every object in the case's evidence index (what the manifest lists), each once; a custody record of the step.
    const record_ = cases.cases.get(state().case.caseId);
    const keys = (record_?.evidence ?? []).map((o) => o.key);
    expect(keys).toEqual(expect.arrayContaining([`cases/${state().case.caseId}/timeline.json`, `cases/${state().case.caseId}/rotate.json`, `cases/${state().case.caseId}/logs/cloudtrail/${IN_WINDOW}`, `cases/${state().case.caseId}/logs/flow-logs/fl-1/eu-west-1/records.ndjson`]));
    expect(new Set(keys).size).toBe(keys.length);
    expect(record_?.custody).toHaveLength(1);
    // The flow log records were written sealed (the kit's bucket refuses a write without retention and hold).
    expect(bucket.objects.get(`cases/${state().case.caseId}/logs/flow-logs/fl-1/eu-west-1/records.ndjson`)?.lock?.legalHold).toBe('ON');
  });

  it('returns the stored result when run again', async () => {
    // Prepare
    const first = await scopeIncident(deps, state());
    copies.length = 0;

    // Act
    const again = await scopeIncident(deps, state());

    // Assess
    expect(again).toEqual(first);
    expect(copies).toEqual([]);
  });

  it('records every part’s failure instead of throwing, and still seals what it has', async () => {
    // Prepare
    const denied = async () => {
      throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    };
    deps.lookupIn = () => ({ lookup: denied });
    deps.inventoryIn = () => ({ secrets: denied, secureStringParameters: denied, customerKeys: denied, buckets: denied });
    deps.flowLogRecordsIn = () => ({ records: denied });
    deps.logs = { ...deps.logs, list: denied };

    // Act
    const result = await scopeIncident(deps, state());

    // Assess
    expect(result.timeline.status).toBe('failed');
    expect(result.timeline.gaps[0]).toMatchObject({ source: 'lookup-events', kind: 'error', detail: expect.stringContaining('AccessDeniedException') });
    expect(result.logs.cloudtrail.status).toBe('failed');
    expect(result.logs.flowLogs.status).toBe('failed');
    expect(result.rotate.status).toBe('failed');
    expect(bucket.objects.has(`cases/${state().case.caseId}/timeline.json`)).toBe(true);
  });

  describe('flow logs found by "Preserve and snapshot" (read from the state, never looked up here)', () => {
    it('reads the records of the flow logs the state names, in their group and the ENIs’ streams', async () => {
      // Prepare
      const asked: { group: string; streams: readonly string[] }[] = [];
      deps.flowLogRecordsIn = () => ({
        records: async (group, streams) => {
          asked.push({ group, streams });
          return { records: [], truncated: false };
        },
      });

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(asked).toEqual([{ group: 'vpc-flow', streams: ['eni-0aaa'] }]);
      expect(result.logs.flowLogs).toEqual({ status: 'complete', sources: [{ flowLogId: 'fl-1', destinationType: 'cloud-watch-logs', objects: 1, records: 0 }] });
    });

    it('records a failed DescribeFlowLogs of the state as a gap with its error, and reads nothing', async () => {
      // Prepare
      flowLogSources = { status: 'failed', error: 'UnauthorizedOperation: You are not authorized to perform this operation.' };
      let reads = 0;
      deps.flowLogRecordsIn = () => ({
        records: async () => {
          reads++;
          return { records: [], truncated: false };
        },
      });

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(reads).toBe(0);
      expect(result.logs.flowLogs).toEqual({ status: 'failed', reason: 'UnauthorizedOperation: You are not authorized to perform this operation.', sources: [] });
      expect(result.logs.gaps).toContainEqual({ source: 'flow-logs', region: 'eu-west-1', kind: 'error', detail: 'DescribeFlowLogs: UnauthorizedOperation: You are not authorized to perform this operation.' });
    });

    it('records a state without the lookup (written before the step made it) as a gap, not as "no flow log"', async () => {
      // Prepare
      flowLogSources = undefined;

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(result.logs.flowLogs.status).toBe('failed');
      expect(result.logs.gaps).toContainEqual({ source: 'flow-logs', region: 'eu-west-1', kind: 'error', detail: expect.stringContaining('DescribeFlowLogs: not looked up') });
    });

    it('records a truncated lookup as a limit gap, and reads what it has', async () => {
      // Prepare
      flowLogSources = { ...CWL_FLOW_LOG, truncated: true } as FlowLogSources;

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(result.logs.flowLogs).toEqual({ status: 'partial', sources: [{ flowLogId: 'fl-1', destinationType: 'cloud-watch-logs', objects: 1, records: 1 }] });
      expect(result.logs.gaps).toContainEqual({ source: 'flow-logs', region: 'eu-west-1', kind: 'limit', detail: 'DescribeFlowLogs: more flow logs than the 1 recorded' });
    });

    it('skips, saying why, when no flow log covers the ENIs', async () => {
      // Prepare
      flowLogSources = { status: 'read', sources: [] };

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(result.logs.flowLogs).toEqual({ status: 'skipped', reason: 'no flow log covers the instance’s network interfaces', sources: [] });
    });
  });

  it('skips what is not configured or not applicable, saying why', async () => {
    // Prepare
    deps.settings = { ...SETTINGS, cloudTrailBucket: undefined } as unknown as ScopeSettings;
    const s = state();
    s.containment = { ...(s.containment as NonNullable<AcquisitionState['containment']>), credentials: { mode: 'none', status: 'skipped', policies: [] } };
    if (s.describe) s.describe.preIncident.iamInstanceProfile = undefined;

    // Act
    const result = await scopeIncident(deps, s);

    // Assess
    expect(result.logs.cloudtrail).toMatchObject({ status: 'skipped', reason: expect.stringContaining('forensics:cloudTrailBucket') });
    expect(result.rotate).toMatchObject({ status: 'skipped', items: 0 });
  });

  it('evaluates the items’ resource policies: a deny drops a secret, a key policy without the role drops a key, an unread policy is a gap', async () => {
    // Prepare: the identity policies allow everything; each item's own policy decides.
    const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const OPEN_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab`;
    const SHARED = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:shared-XyZ123`;
    deps.inventoryIn = () => ({
      secrets: async () => ({ items: [{ kind: 'secret', arn: SECRET_ARN, name: 'prod/db', region: 'eu-west-1' }, { kind: 'secret', arn: SHARED, name: 'shared', region: 'eu-west-1' }], truncated: false }),
      secureStringParameters: async () => ({ items: [], truncated: false }),
      customerKeys: async () => ({ items: [{ kind: 'kms-key', arn: KEY_ARN, name: 'alias/admins', region: 'eu-west-1' }, { kind: 'kms-key', arn: OPEN_KEY, name: 'alias/app', region: 'eu-west-1' }], truncated: false }),
      buckets: async () => ({ items: [{ kind: 's3-bucket', arn: 'arn:aws:s3:::app-data', name: 'app-data', region: 'us-east-1' }], truncated: false }),
    });
    deps.simulate = async (_role, actions, arns) => ({ allowed: new Map(arns.filter((a) => a !== SHARED).map((a) => [a, [...actions]])), explicitlyDenied: new Map() });
    const statement = (Effect: string, Principal: unknown, Action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect, Principal, Action, Resource: '*' }] });
    const regions: string[] = [];
    deps.resourcePoliciesIn = (region) => {
      regions.push(region);
      return {
        secretPolicy: async (arn) =>
          arn === SECRET_ARN ? statement('Deny', { AWS: ROLE_ARN }, 'secretsmanager:GetSecretValue') : statement('Allow', { AWS: ROLE_ARN }, 'secretsmanager:GetSecretValue'),
        keyPolicy: async (arn) => (arn === KEY_ARN ? statement('Allow', { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }, 'kms:*') : statement('Allow', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, 'kms:*')),
        bucketPolicy: async () => {
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
        },
      };
    };

    // Act
    const result = await scopeIncident(deps, state());

    // Assess
    const rotate = JSON.parse(bucket.objects.get(`cases/${state().case.caseId}/rotate.json`)?.body as string) as RotateDocument;
    expect(rotate.items.map((i) => [i.name, i.basis])).toEqual([
      ['app-data', 'identity-policy'],
      ['shared', 'resource-policy'],
      ['alias/app', 'identity-policy'],
    ]);
    expect(rotate.items.find((i) => i.name === 'app-data')?.notes).toEqual([expect.stringContaining('not read (AccessDenied)')]);
    expect(rotate.gaps).toEqual([{ source: 'resource-policy', kind: 'error', detail: expect.stringMatching(/^s3-bucket: 1 resource policy not read \(AccessDenied\): arn:aws:s3:::app-data;/) }]);
    expect(result.rotate.status).toBe('partial');
    // The bucket's policy is read in the bucket's own region.
    expect(regions).toContain('us-east-1');
  });

  it('bounds the policy reads: beyond maxPolicyReads an item keeps the identity answer, recorded as a limit', async () => {
    // Prepare
    deps.settings = { ...SETTINGS, maxPolicyReads: 1 };
    let reads = 0;
    const none = async () => {
      reads++;
      return null;
    };
    deps.resourcePoliciesIn = () => ({ secretPolicy: none, keyPolicy: none, bucketPolicy: none });

    // Act
    const result = await scopeIncident(deps, state());

    // Assess: the secret's policy is read first; the bucket's is not, and the bucket stays on its identity answer.
    const rotate = JSON.parse(bucket.objects.get(`cases/${state().case.caseId}/rotate.json`)?.body as string) as RotateDocument;
    expect(reads).toBe(1);
    expect(rotate.items.map((i) => i.name)).toEqual(['prod/db', 'app-data']);
    expect(rotate.gaps).toEqual([{ source: 'resource-policy', kind: 'limit', detail: expect.stringContaining('s3-bucket: 1 resource policy not read (bound of 1 policy reads reached)') }]);
    expect(result.rotate.status).toBe('partial');
  });

  describe('flow logs delivered to S3', () => {
    const FL = 'fl-0123456789abcdef0';
    const folder = `flows/AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2025/03/17/`;
    const flowFile = (stamp: string, id = FL) => `${folder}${ACCOUNT}_vpcflowlogs_eu-west-1_${id}_${stamp}_0a1b2c3d.log.gz`;
    const IN = flowFile('20250317T2035Z');
    const OTHER_FLOW_LOG = flowFile('20250317T2035Z', 'fl-0fffffffffffffff0');
    const AFTER = flowFile('20250317T2130Z');

    beforeEach(() => {
      deps.settings = { ...SETTINGS, cloudTrailBucket: undefined, flowLogBuckets: ['central-flows/flows'] } as unknown as ScopeSettings;
      flowLogSources = {
        status: 'read',
        sources: [{ flowLogId: FL, resourceId: 'vpc-1', destinationType: 's3', destination: 'arn:aws:s3:::central-flows/flows', logGroupName: null, hiveCompatible: false, perHour: false }],
      };
      const list = deps.logs.list;
      deps.logs = {
        ...deps.logs,
        list: async (b, prefix, max) => (b === 'central-flows' ? { objects: prefix === folder ? [IN, OTHER_FLOW_LOG, AFTER].map((key) => ({ key, size: 7 })) : [], truncated: false } : list(b, prefix, max)),
      };
    });

    it('copies this flow log’s files of the window from a configured bucket, sealed and indexed', async () => {
      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(copies).toEqual([IN]);
      expect(result.logs.flowLogs).toEqual({ status: 'complete', sources: [{ flowLogId: FL, destinationType: 's3', objects: 1, records: 0 }] });
      expect((cases.cases.get(state().case.caseId)?.evidence ?? []).map((o) => o.key)).toContain(`cases/${state().case.caseId}/logs/flow-logs/${IN}`);
    });

    it('records a flow log into a bucket not configured as a gap naming forensics:flowLogBuckets, and copies nothing', async () => {
      // Prepare
      deps.settings = { ...deps.settings, flowLogBuckets: ['central-flows'] };

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(copies).toEqual([]);
      expect(result.logs.flowLogs.status).toBe('failed');
      expect(result.logs.gaps).toContainEqual({ source: 'flow-logs', region: 'eu-west-1', kind: 'error', detail: `${FL}: s3://central-flows/flows/ is not in forensics:flowLogBuckets: its files were not copied` });
    });

    it('names forensics:logBucketKmsKeyArns when KMS refuses the copy of an SSE-KMS object', async () => {
      // Prepare: S3's answer when the caller may not decrypt the source object's key.
      deps.logs = {
        ...deps.logs,
        copy: async () => {
          throw Object.assign(new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/scope/x is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:${ACCOUNT}:key/k because no identity-based policy allows the kms:Decrypt action`), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        },
      };

      // Act
      const result = await scopeIncident(deps, state());

      // Assess
      expect(result.logs.flowLogs.sources).toEqual([{ flowLogId: FL, destinationType: 's3', objects: 0, records: 0 }]);
      expect(result.logs.gaps).toContainEqual(expect.objectContaining({ source: 'flow-logs', kind: 'error', detail: expect.stringContaining('add the key to forensics:logBucketKmsKeyArns') }));
    });
  });

  it('a retry after the documents were sealed summarises the sealed documents, read back, not its own recount', async () => {
    // Prepare: the first attempt seals timeline.json and rotate.json, then fails recording custody.
    const custody = deps.custody;
    deps.custody = { append: async () => { throw Object.assign(new Error('Lambda timed out'), { name: 'TimeoutError' }); } };
    await expect(scopeIncident(deps, state())).rejects.toThrow('Lambda timed out');
    const sealedBody = bucket.objects.get(`cases/${state().case.caseId}/timeline.json`)?.body as string;
    const sealed = JSON.parse(sealedBody) as TimelineDocument;
    // The retry sees one more event in CloudTrail, and no readable item any more.
    deps.custody = custody;
    const lookup = deps.lookupIn('eu-west-1').lookup;
    deps.lookupIn = () => ({
      lookup: async (attribute, window, bounds) => {
        const out = await lookup(attribute, window, bounds);
        return attribute.value === INSTANCE ? { ...out, events: [...out.events, lookupEvent(record({ eventID: 'late-1', eventTime: '2025-03-17T21:05:00Z' }))] } : out;
      },
    });
    deps.simulate = async () => ({ allowed: new Map(), explicitlyDenied: new Map() });

    // Act
    const result = await scopeIncident(deps, state());

    // Assess: the sealed object is unchanged, and the summary counts what it holds, with its hash.
    expect(bucket.objects.get(`cases/${state().case.caseId}/timeline.json`)?.body).toBe(sealedBody);
    expect(result.timeline.events).toBe(sealed.events.length);
    expect(result.timeline.sha256).toBe(createHash('sha256').update(sealedBody).digest('hex'));
    expect(result.rotate).toMatchObject({ items: 2, observed: 2 });
  });
});
