import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../infra/app';
import { parseConfig } from '../../infra/config';
import { ResponderStack } from '../../infra/responder-stack';
import { ACQUISITION_STEP_NAMES, type AcquisitionStep } from '../../workflows/acquisition-steps';
import { RELEASE_STEP_NAMES, type ReleaseStep } from '../../workflows/release-steps';
import type { Decision } from '../support/policy-evaluator';
import { type Context, type RoleInfo, Simulator, worldOf } from '../support/template-policies';
import { type CfnTemplate, synth } from '../support/synthesis';

/**
 * What the synthesized policies ALLOW, evaluated (test/support/policy-evaluator.ts), not what their text looks like:
 * each known escalation path is tried and must be refused, and the properties the design relies on (no role
 * deletes evidence or bypasses retention, TLS only, the evidence key only through EC2/S3/DynamoDB/SNS, the responder
 * trust with its external id) are checked the same way, in single-account and multi-account mode. Identity policies
 * are evaluated together with the bucket, key and trust policies they meet.
 *
 * Tag keys and object keys are spelled out here (not imported) on purpose: the test states the contract.
 */
const IR = '123456789012';
const WORKLOAD = '111111111111';
const REGION = 'eu-west-1';
const CASE = '20260110T100000Z-i-0123456789abcdef0';
const MULTI = {
  'forensics:workloadAccounts': [WORKLOAD],
  'forensics:irAccountId': IR,
  'forensics:workloadRegions': [REGION, 'us-east-1'],
  'forensics:responderExternalId': 'ext-test-1',
  // The trail bucket the scope step reads (its statements exist only with it).
  'forensics:cloudTrailBucket': 'org-trail-logs',
  'forensics:cloudTrailPrefix': 'trails',
  // The flow log buckets and the log buckets' SSE-KMS key the scope step reads (statements only with them).
  'forensics:flowLogBuckets': ['vpc-flow-central/flows', 'vpc-flow-plain'],
  'forensics:logBucketKmsKeyArns': [`arn:aws:kms:${REGION}:${IR}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`],
};
const LOG_KEY = `arn:aws:kms:${REGION}:${IR}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;

let single: Simulator;
let multi: Simulator;
/** Multi-account with forensics:removeIntermediateCopies on (the responder template only). */
let removing: Simulator;

function responderWorld(context: Record<string, unknown>, evidenceKeyArn: string) {
  const config = parseConfig({ ...cdkJsonContext(), ...context });
  const stack = new ResponderStack(new App(), 'Responder', { config });
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;
  return worldOf(json, { account: WORKLOAD, region: REGION, parameters: { EvidenceKeyArn: evidenceKeyArn, IrAccountId: IR } });
}

beforeAll(() => {
  single = new Simulator([worldOf(synth().json, { account: IR, region: REGION })]);
  const m = synth(MULTI);
  const ir = worldOf(m.json, { account: IR, region: REGION });
  const keyArn = [...ir.keys.values()][0]!.arn;
  multi = new Simulator([ir, responderWorld(MULTI, keyArn)]);
  removing = new Simulator([ir, responderWorld({ ...MULTI, 'forensics:removeIntermediateCopies': true }, keyArn)]);
});

const decision = (sim: Simulator, role: RoleInfo, action: string, resource: string, context: Context = {}): Decision =>
  sim.can(role, action, resource, context).decision;

// ── Scope the incident ──────────────────────────────────────────────────────────────────────────────────

describe.each([
  ['single-account', () => single],
  ['multi-account', () => multi],
])('"Scope the incident" role (%s)', (mode, sim) => {
  it('cannot delete evidence, lift a hold, bypass governance, write outside cases/ or change IAM', () => {
    // Prepare
    const s = sim();
    const role = s.acquisitionRole('scopeIncident');
    const log = objectArn(s, KEYS.logs);
    const roleArn = `arn:aws:iam::${IR}:role/app-role`;
    // Act
    const allowed = [
      ['s3:DeleteObject', log],
      ['s3:DeleteObjectVersion', log],
      ['s3:BypassGovernanceRetention', log],
      ['s3:PutObjectLegalHold', log, { 's3:object-lock-legal-hold': 'OFF' }],
      ['s3:PutObject', objectArn(s, 'elsewhere/timeline.json'), WRITE_ONCE],
      ['s3:PutObject', objectArn(s, KEYS.manifest), WRITE_ONCE],
      ['s3:PutBucketPolicy', s.bucketArn('EvidenceBucket')],
      ['iam:PutRolePolicy', roleArn],
      ['iam:AttachRolePolicy', roleArn],
      ['iam:CreateAccessKey', `arn:aws:iam::${IR}:user/u`],
      ['iam:UpdateAssumeRolePolicy', roleArn],
      ['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${REGION}:${IR}:secret:prod/db-AbCdEf`],
      ['s3:PutObject', 'arn:aws:s3:::org-trail-logs/trails/AWSLogs/x', WRITE_ONCE],
    ].flatMap(([action, resource, context]) =>
      decision(s, role, action as string, resource as string, (context ?? {}) as Context) === 'Allow' ? [`${action} ${resource}`] : [],
    );
    // Assess
    expect(allowed).toEqual([]);
  });

  it('may read CloudTrail, simulate the instance role and write its sealed objects', () => {
    // Prepare
    const s = sim();
    const role = s.acquisitionRole('scopeIncident');
    // Act / Assess
    expect(decision(s, role, 'cloudtrail:LookupEvents', '*')).toBe('Allow');
    expect(decision(s, role, 'iam:SimulatePrincipalPolicy', `arn:aws:iam::${IR}:role/app-role`)).toBe('Allow');
    expect(decision(s, role, 's3:PutObject', objectArn(s, KEYS.timeline), WRITE_ONCE)).toBe('Allow');
    expect(decision(s, role, 's3:PutObject', objectArn(s, KEYS.logs), WRITE_ONCE)).toBe('Allow');
    if (mode === 'multi-account') {
      // The configured trail bucket and prefix only.
      expect(decision(s, role, 's3:GetObject', `arn:aws:s3:::org-trail-logs/trails/AWSLogs/o-abcdefghij/${WORKLOAD}/CloudTrail/x.json.gz`)).toBe('Allow');
      expect(decision(s, role, 's3:GetObject', 'arn:aws:s3:::org-trail-logs/secrets/x')).toBe('ImplicitDeny');
      expect(decision(s, role, 's3:GetObject', 'arn:aws:s3:::another-bucket/trails/AWSLogs/x')).toBe('ImplicitDeny');
    } else {
      expect(decision(s, role, 's3:GetObject', 'arn:aws:s3:::org-trail-logs/trails/AWSLogs/x')).toBe('ImplicitDeny');
    }
  });
});

describe.each([
  ['single-account', () => single],
  ['multi-account', () => multi],
])('"Scope the incident": resource policies, flow log buckets, log bucket keys (%s)', (mode, sim) => {
  it('may read the rotate list items\' own policies (secret, key, bucket), and nothing else of them', () => {
    // Prepare: in multi-account mode the workload reads go through the responder role.
    const s = sim();
    const account = mode === 'multi-account' ? WORKLOAD : IR;
    const role = mode === 'multi-account' ? s.role('ForensicsResponder') : s.acquisitionRole('scopeIncident');
    const secret = `arn:aws:secretsmanager:${REGION}:${account}:secret:prod/db-AbCdEf`;
    const key = `arn:aws:kms:${REGION}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    // Act / Assess
    expect(decision(s, role, 'secretsmanager:GetResourcePolicy', secret)).toBe('Allow');
    expect(decision(s, role, 'kms:GetKeyPolicy', key)).toBe('Allow');
    expect(s.can(role, 's3:GetBucketPolicy', 'arn:aws:s3:::app-data', {}, account).decision).toBe('Allow');
    expect(decision(s, role, 'secretsmanager:PutResourcePolicy', secret)).not.toBe('Allow');
    expect(decision(s, role, 'kms:PutKeyPolicy', key)).not.toBe('Allow');
    expect(s.can(role, 's3:PutBucketPolicy', 'arn:aws:s3:::app-data', {}, account).decision).not.toBe('Allow');
  });

  it('reads exactly the configured flow log buckets under AWSLogs/, and decrypts with exactly the configured key through S3', () => {
    // Prepare
    const s = sim();
    const role = s.acquisitionRole('scopeIncident');
    const can = (action: string, resource: string, context: Context = {}) => s.can(role, action, resource, context, IR).decision;
    const flowFile = `AWSLogs/${WORKLOAD}/vpcflowlogs/${REGION}/2026/01/10/${WORKLOAD}_vpcflowlogs_${REGION}_fl-0123456789abcdef0_20260110T0955Z_abc.log.gz`;
    const configured = mode === 'multi-account' ? 'Allow' : 'ImplicitDeny';
    // Act / Assess: only with the settings (MULTI has them, the single-account template not).
    expect(can('s3:GetObject', `arn:aws:s3:::vpc-flow-central/flows/${flowFile}`)).toBe(configured);
    expect(can('s3:GetObject', `arn:aws:s3:::vpc-flow-plain/${flowFile}`)).toBe(configured);
    expect(can('s3:ListBucket', 'arn:aws:s3:::vpc-flow-central', { 's3:prefix': `flows/AWSLogs/${WORKLOAD}/vpcflowlogs/` })).toBe(configured);
    expect(can('s3:GetObject', 'arn:aws:s3:::vpc-flow-central/other/secret.txt')).toBe('ImplicitDeny');
    expect(can('s3:GetObject', `arn:aws:s3:::another-bucket/${flowFile}`)).toBe('ImplicitDeny');
    expect(can('s3:ListBucket', 'arn:aws:s3:::vpc-flow-central', { 's3:prefix': 'other/' })).toBe('ImplicitDeny');
    expect(can('s3:PutObject', `arn:aws:s3:::vpc-flow-central/flows/${flowFile}`, WRITE_ONCE)).toBe('ImplicitDeny');
    expect(can('kms:Decrypt', LOG_KEY, { 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).toBe(configured);
    expect(can('kms:Decrypt', LOG_KEY, { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` })).toBe('ImplicitDeny');
    expect(can('kms:Decrypt', LOG_KEY)).toBe('ImplicitDeny');
    expect(can('kms:Decrypt', `arn:aws:kms:${REGION}:${IR}:key/ffffffff-4f50-6172-8394-a5b6c7d8e9f0`, { 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).toBe('ImplicitDeny');
  });
});

describe.each([
  ['single-account', () => single],
  ['multi-account', () => multi],
])('the flow log lookup is "Preserve and snapshot"\'s (%s)', (mode, sim) => {
  it('the preserve role may DescribeFlowLogs and the scope role may not; the scope still reads CloudWatch Logs records', () => {
    // Prepare
    const s = sim();
    const preserve = s.acquisitionRole('preserveAndSnapshot');
    const scope = s.acquisitionRole('scopeIncident');
    const group = `arn:aws:logs:${REGION}:${IR}:log-group:vpc-flow`;
    // Act / Assess: DescribeFlowLogs has no resource-level permissions (Resource "*").
    expect(decision(s, preserve, 'ec2:DescribeFlowLogs', '*')).toBe('Allow');
    expect(decision(s, scope, 'ec2:DescribeFlowLogs', '*')).toBe('ImplicitDeny');
    expect(decision(s, scope, 'logs:FilterLogEvents', group)).toBe('Allow');
    if (mode === 'multi-account') {
      // The workload side: the responder role, shared by the steps, keeps it (for the preserve step's session).
      expect(s.can(s.role('ForensicsResponder'), 'ec2:DescribeFlowLogs', '*', { 'aws:RequestedRegion': REGION }, WORKLOAD).decision).toBe('Allow');
    }
  });
});

// ── Evidence bucket ─────────────────────────────────────────────────────────────────────────────────────────────────

const objectArn = (sim: Simulator, key: string) => `${sim.bucketArn('EvidenceBucket')}/${key}`;
/** A PutObject as the evidence store sends it: If-None-Match: *, legal hold ON, SHA-256. */
// What every evidence write sends (handlers/adapters/evidence-store.ts): If-None-Match: *, a legal hold and its own retention.
const WRITE_ONCE: Context = { 's3:if-none-match': '*', 's3:object-lock-legal-hold': 'ON', 's3:object-lock-mode': 'COMPLIANCE' };
const KEYS = {
  custody: `cases/${CASE}/custody/000007-seal-evidence.json`,
  instance: `cases/${CASE}/instance.json`,
  rawFinding: `cases/${CASE}/finding-abc123.json`,
  manifest: `cases/${CASE}/manifest.json`,
  workstationRecord: `cases/${CASE}/workstation-i-0fedcba9876543210.json`,
  analysis: `cases/${CASE}/analysis/mount-report-i-0fedcba9876543210.json`,
  timeline: `cases/${CASE}/timeline.json`,
  rotate: `cases/${CASE}/rotate.json`,
  logs: `cases/${CASE}/logs/cloudtrail/trails/AWSLogs/o-abcdefghij/${WORKLOAD}/CloudTrail/${REGION}/2026/01/10/${WORKLOAD}_CloudTrail_${REGION}_20260110T0955Z_x.json.gz`,
} as const;
type Kind = keyof typeof KEYS;
/** The keys each step writes (handlers: custody log, writeEvidenceOnce, manifest, workstation record). */
const WRITES: Partial<Record<AcquisitionStep | ReleaseStep, Kind[]>> = {
  // Nothing on the path to containment writes evidence ("Isolate network", "Start memory capture" included).
  recordContainment: ['custody', 'rawFinding', 'instance'],
  checkSnapshots: ['custody'],
  scopeIncident: ['custody', 'timeline', 'rotate', 'logs'],
  sealEvidence: ['custody', 'rawFinding', 'instance', 'manifest'],
  launchWorkstation: ['custody', 'workstationRecord'],
  closeCase: ['custody'],
  recordFailure: ['custody', 'rawFinding', 'instance'],
  releaseContainment: ['custody'],
  recordReleaseFailure: ['custody'],
};
const stepRoles = (sim: Simulator): [AcquisitionStep | ReleaseStep, RoleInfo][] => [
  ...ACQUISITION_STEP_NAMES.map((s): [AcquisitionStep, RoleInfo] => [s, sim.acquisitionRole(s)]),
  ...RELEASE_STEP_NAMES.map((s): [ReleaseStep, RoleInfo] => [s, sim.releaseRole(s)]),
];

describe.each([
  ['single-account', () => single],
  ['multi-account', () => multi],
])('evidence objects (%s)', (_mode, sim) => {
  it('each step role writes exactly the keys its step writes; only "Seal evidence" writes the manifest', () => {
    // Prepare
    const s = sim();
    // Act
    const wrong = stepRoles(s).flatMap(([step, role]) =>
      (Object.keys(KEYS) as Kind[]).flatMap((kind) => {
        const expected = (WRITES[step] ?? []).includes(kind) ? 'Allow' : 'ImplicitDeny';
        const got = decision(s, role, 's3:PutObject', objectArn(s, KEYS[kind]), WRITE_ONCE);
        return got === expected ? [] : [`${step} PutObject ${kind}: ${got}, expected ${expected}`];
      }),
    );
    // Assess
    expect(wrong).toEqual([]);
  });

  it('legal holds can only go on: no role can set a hold OFF, on any key', () => {
    // Prepare
    const s = sim();
    // Act
    const lifting = s.allRoles().flatMap((role) =>
      Object.values(KEYS).flatMap((key) =>
        (['OFF', undefined] as const).flatMap((status) => {
          const got = decision(s, role, 's3:PutObjectLegalHold', objectArn(s, key), status ? { 's3:object-lock-legal-hold': status } : {});
          return got === 'Allow' ? [`${role.logicalId} ${key} hold=${status ?? '(none)'}`] : [];
        }),
      ),
    );
    const puttingOn = decision(s, s.acquisitionRole('sealEvidence'), 's3:PutObjectLegalHold', objectArn(s, KEYS.manifest), { 's3:object-lock-legal-hold': 'ON' });
    // Assess
    expect(lifting).toEqual([]);
    expect(puttingOn).toBe('Allow');
  });

  it('the bucket policy refuses a write without If-None-Match: *, without its own retention or without a legal hold, even from the seal step', () => {
    // Prepare
    const s = sim();
    const seal = s.acquisitionRole('sealEvidence');
    const manifest = objectArn(s, KEYS.manifest);
    // Act
    const attempts = {
      asTheStoreWrites: decision(s, seal, 's3:PutObject', manifest, WRITE_ONCE),
      withoutIfNoneMatch: decision(s, seal, 's3:PutObject', manifest, { 's3:object-lock-legal-hold': 'ON' }),
      ifNoneMatchNotStar: decision(s, seal, 's3:PutObject', manifest, { ...WRITE_ONCE, 's3:if-none-match': '"etag"' }),
      withoutLegalHold: decision(s, seal, 's3:PutObject', manifest, { 's3:if-none-match': '*', 's3:object-lock-mode': 'COMPLIANCE' }),
      withoutOwnRetention: decision(s, seal, 's3:PutObject', manifest, { 's3:if-none-match': '*', 's3:object-lock-legal-hold': 'ON' }),
      legalHoldOff: decision(s, seal, 's3:PutObject', manifest, { ...WRITE_ONCE, 's3:object-lock-legal-hold': 'OFF' }),
      governanceInACompliancebucket: decision(s, seal, 's3:PutObject', manifest, { ...WRITE_ONCE, 's3:object-lock-mode': 'GOVERNANCE' }),
      explicitCompliance: decision(s, seal, 's3:PutObject', manifest, { ...WRITE_ONCE, 's3:object-lock-mode': 'COMPLIANCE' }),
    };
    // Assess
    expect(attempts).toEqual({
      asTheStoreWrites: 'Allow',
      withoutIfNoneMatch: 'ExplicitDeny',
      ifNoneMatchNotStar: 'ExplicitDeny',
      withoutLegalHold: 'ExplicitDeny',
      withoutOwnRetention: 'ExplicitDeny',
      legalHoldOff: 'ExplicitDeny',
      governanceInACompliancebucket: 'ExplicitDeny',
      explicitCompliance: 'Allow',
    });
  });

  it('the bucket policy binds every principal: an account administrator cannot overwrite evidence either', () => {
    // Prepare
    const s = sim();
    const admin: RoleInfo = { ...s.acquisitionRole('triage'), logicalId: 'Admin', arn: `arn:aws:iam::${IR}:role/Admin`, identity: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    // Act / Assess
    expect(decision(s, admin, 's3:PutObject', objectArn(s, KEYS.manifest), { 's3:object-lock-legal-hold': 'ON' })).toBe('ExplicitDeny');
    expect(decision(s, admin, 's3:PutObject', objectArn(s, KEYS.manifest), WRITE_ONCE)).toBe('Allow');
  });

  it('no role can delete evidence, bypass governance retention, or change the bucket\'s protections', () => {
    // Prepare
    const s = sim();
    const bucket = s.bucketArn('EvidenceBucket');
    const onObjects = ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutObjectAcl', 's3:PutObjectVersionAcl'];
    const onBucket = ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:DeleteBucket'];
    // Act
    const allowed = s.allRoles().flatMap((role) => [
      ...onObjects.flatMap((a) => Object.values(KEYS).filter((k) => decision(s, role, a, objectArn(s, k)) === 'Allow').map((k) => `${role.logicalId} ${a} ${k}`)),
      ...onBucket.filter((a) => decision(s, role, a, bucket) === 'Allow').map((a) => `${role.logicalId} ${a}`),
      // Retention: COMPLIANCE cannot be shortened (S3 refuses); nobody may turn an object's retention GOVERNANCE.
      ...Object.values(KEYS)
        .filter((k) => decision(s, role, 's3:PutObjectRetention', objectArn(s, k), { 's3:object-lock-mode': 'GOVERNANCE' }) === 'Allow')
        .map((k) => `${role.logicalId} PutObjectRetention GOVERNANCE ${k}`),
    ]);
    // Assess
    expect(allowed).toEqual([]);
  });

  it('TLS only: no request without TLS is allowed, even a read by a role that may read', () => {
    // Prepare
    const s = sim();
    const seal = s.acquisitionRole('sealEvidence');
    // Act / Assess
    expect(decision(s, seal, 's3:GetObject', objectArn(s, KEYS.manifest))).toBe('Allow');
    expect(decision(s, seal, 's3:GetObject', objectArn(s, KEYS.manifest), { 'aws:SecureTransport': 'false' })).toBe('ExplicitDeny');
    expect(decision(s, seal, 's3:PutObject', objectArn(s, KEYS.custody), { ...WRITE_ONCE, 'aws:SecureTransport': 'false' })).toBe('ExplicitDeny');
  });

  it('the workstation instance role writes analysis results only (once, under a hold), nothing else', () => {
    // Prepare
    const s = sim();
    const workstation = s.allRoles().find((r) => r.logicalId.includes('WorkstationInstanceRole'))!;
    // Act
    const written = (Object.keys(KEYS) as Kind[]).filter((k) => decision(s, workstation, 's3:PutObject', objectArn(s, KEYS[k]), WRITE_ONCE) === 'Allow');
    // Assess
    expect(written).toEqual(['analysis']);
    expect(decision(s, workstation, 's3:PutObject', objectArn(s, KEYS.analysis), { 's3:object-lock-legal-hold': 'ON' })).toBe('ExplicitDeny');
  });

  it('the evidence key is usable only through the services the roles name (EC2, S3, DynamoDB, SNS), never directly', () => {
    // Prepare
    const s = sim();
    const key = s.keyArn('EvidenceKey');
    const via = (service: string): Context => ({ 'kms:ViaService': `${service}.${REGION}.amazonaws.com`, 'kms:CallerAccount': IR });
    // Act
    const direct = s.allRoles().flatMap((role) =>
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy', 'kms:DisableKey']
        .flatMap((a) => [{}, via('secretsmanager'), via('lambda')].map((ctx) => [a, ctx] as const))
        .filter(([a, ctx]) => decision(s, role, a, key, ctx) === 'Allow')
        .map(([a, ctx]) => `${role.logicalId} ${a} ${JSON.stringify(ctx)}`),
    );
    const grantNotForAwsResource = s.allRoles().filter((role) => decision(s, role, 'kms:CreateGrant', key, { ...via('ec2'), 'kms:GrantIsForAWSResource': 'false' }) === 'Allow');
    // Assess
    expect(direct).toEqual([]);
    expect(grantNotForAwsResource.map((r) => r.logicalId)).toEqual([]);
    expect(decision(s, s.acquisitionRole('copyEvidence'), 'kms:ReEncryptTo', key, via('ec2'))).toBe('Allow');
    expect(decision(s, s.acquisitionRole('sealEvidence'), 'kms:GenerateDataKey', key, { ...via('s3'), 'kms:EncryptionContext:aws:s3:arn': s.bucketArn('EvidenceBucket') })).toBe('Allow');
  });
});

// ── Drill cases (forensics drill) ──────────────────────────────────────────────────────────────────────────────────

/**
 * A drill case is written on the evidence path itself, with no exception in any policy: under `cases/`, in the
 * configured mode (COMPLIANCE), write-once, legal hold ON — only its retain-until date is short (1–30 days). So the
 * drill proves the real permissions, and there is no drill-only statement anyone could use to write, overwrite or
 * unhold real evidence. What a drill leaves is removed by `forensics drill clean` with the caller's own permissions
 * (lifting a hold, deleting a version), which no role of the product holds.
 */
const DRILL_WRITE: Context = {
  ...WRITE_ONCE,
  's3:object-lock-retain-until-date': '2026-01-11T10:00:00Z',
  's3:object-lock-remaining-retention-days': '1',
};

describe.each([
  ['single-account', () => single],
  ['multi-account', () => multi],
])('drill cases on the evidence path (%s)', (_mode, sim) => {
  it('a drill object as the store writes it (configured mode, short date, hold ON, write-once) is allowed exactly where a real one is', () => {
    // Prepare
    const s = sim();
    // Act
    const wrong = stepRoles(s).flatMap(([step, role]) =>
      (Object.keys(KEYS) as Kind[]).flatMap((kind) => {
        const expected = (WRITES[step] ?? []).includes(kind) ? 'Allow' : 'ImplicitDeny';
        const got = decision(s, role, 's3:PutObject', objectArn(s, KEYS[kind]), DRILL_WRITE);
        return got === expected ? [] : [`${step} ${kind}: ${got}, expected ${expected}`];
      }),
    );
    // Assess
    expect(wrong).toEqual([]);
  });

  it('no role can write a drill object in GOVERNANCE mode, without a legal hold, or over an existing object', () => {
    // Prepare
    const s = sim();
    const variants: Record<string, Context> = {
      governance: { ...DRILL_WRITE, 's3:object-lock-mode': 'GOVERNANCE' },
      noLegalHold: { ...DRILL_WRITE, 's3:object-lock-legal-hold': 'OFF' },
      overwrite: Object.fromEntries(Object.entries(DRILL_WRITE).filter(([k]) => k !== 's3:if-none-match')),
    };
    // Act
    const allowed = s.allRoles().flatMap((role) =>
      Object.values(KEYS).flatMap((key) =>
        Object.entries(variants)
          .filter(([, ctx]) => decision(s, role, 's3:PutObject', objectArn(s, key), ctx) !== 'ExplicitDeny')
          .map(([name]) => `${role.logicalId} ${name} ${key}`),
      ),
    );
    // Assess
    expect(allowed).toEqual([]);
  });

  it('there is no drill-only prefix: no role writes outside cases/, and the bucket policy binds any other prefix too', () => {
    // Prepare
    const s = sim();
    const elsewhere = objectArn(s, `drills/${CASE}/manifest.json`);
    // Act
    const writers = s.allRoles().filter((role) => decision(s, role, 's3:PutObject', elsewhere, DRILL_WRITE) === 'Allow');
    const withoutHold = s.allRoles().filter((role) => decision(s, role, 's3:PutObject', elsewhere, { ...DRILL_WRITE, 's3:object-lock-legal-hold': 'OFF' }) !== 'ExplicitDeny');
    // Assess
    expect(writers.map((r) => r.logicalId)).toEqual([]);
    expect(withoutHold.map((r) => r.logicalId)).toEqual([]);
  });

  it('no role of the product can make an existing instance a drill canary (the <prefix>:drill tag only at creation)', () => {
    // Prepare
    const s = sim();
    const instances = [`arn:aws:ec2:${REGION}:${IR}:instance/i-1`, `arn:aws:ec2:${REGION}:${WORKLOAD}:instance/i-2`];
    // Act
    const allowed = s.allRoles().flatMap((role) =>
      instances.flatMap((i) =>
        ([{ 'forensics:drill': 'd-1' }, { 'Forensics:Drill': 'd-1' }, { 'forensics:case-id': CASE, 'forensics:drill': 'd-1' }] as Record<string, string>[])
          .filter((tags) => decision(s, role, 'ec2:CreateTags', i, tagging(tags)) === 'Allow')
          .map((tags) => `${role.logicalId} ${i} ${JSON.stringify(tags)}`),
      ),
    );
    // Assess
    expect(allowed).toEqual([]);
    // The free tagging the preserve step does is untouched.
    expect(decision(s, s.acquisitionRole('preserveAndSnapshot'), 'ec2:CreateTags', instances[0]!, tagging({ 'forensics:case-id': CASE }))).not.toBe('ExplicitDeny');
  });

  it('clean-up is the caller\'s own business: no role of the product can lift a drill object\'s hold or delete it', () => {
    // Prepare
    const s = sim();
    const actions: [string, Context][] = [
      ['s3:PutObjectLegalHold', { 's3:object-lock-legal-hold': 'OFF' }],
      ['s3:DeleteObjectVersion', {}],
      ['s3:DeleteObject', {}],
      ['s3:BypassGovernanceRetention', {}],
    ];
    // Act
    const allowed = s.allRoles().flatMap((role) =>
      Object.values(KEYS).flatMap((key) => actions.filter(([a, ctx]) => decision(s, role, a, objectArn(s, key), ctx) === 'Allow').map(([a]) => `${role.logicalId} ${a} ${key}`)),
    );
    // Assess
    expect(allowed).toEqual([]);
  });
});

// ── Tags that authorize ────────────────────────────────────────────────────────────────────────────────────────────

const snapshot = (account = '') => `arn:aws:ec2:${REGION}:${account}:snapshot/snap-0123456789abcdef0`;
const tagging = (tags: Record<string, string>, createAction?: string): Context => ({
  'aws:TagKeys': Object.keys(tags),
  ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  ...(createAction ? { 'ec2:CreateAction': createAction } : {}),
});

describe('tags that authorize cannot be set on existing resources (single-account IR roles)', () => {
  it('no role can tag an existing snapshot, instance, volume or group with an authorizing key, in any spelling', () => {
    // Prepare
    const resources = [snapshot(), `arn:aws:ec2:${REGION}:${IR}:instance/i-1`, `arn:aws:ec2:${REGION}:${IR}:volume/vol-1`, `arn:aws:ec2:${REGION}:${IR}:security-group/sg-1`];
    const forged: Record<string, string>[] = [
      { 'forensics:evidence': 'true' },
      { 'Forensics:Evidence': 'true' },
      { 'forensics:role': 'workstation' },
      { 'forensics:contained': CASE },
      { 'forensics:case-id': CASE, 'forensics:evidence': 'true' },
    ];
    // Act
    const allowed = single.allRoles().flatMap((role) =>
      resources.flatMap((r) => forged.filter((tags) => decision(single, role, 'ec2:CreateTags', r, tagging(tags)) === 'Allow').map((t) => `${role.logicalId} ${r} ${JSON.stringify(t)}`)),
    );
    // Assess
    expect(allowed).toEqual([]);
  });

  it('free tagging still works for the keys the steps write, and only with at least one key (the ForAllValues pitfall)', () => {
    // Prepare
    const check = single.acquisitionRole('checkSnapshots');
    const preserve = single.acquisitionRole('preserveAndSnapshot');
    // Act / Assess
    expect(decision(single, check, 'ec2:CreateTags', snapshot(), tagging({ 'forensics:source-volume': 'vol-1', 'forensics:device': '/dev/xvda' }))).toBe('Allow');
    expect(decision(single, check, 'ec2:CreateTags', snapshot(), tagging({ Name: 'x' }))).toBe('ImplicitDeny');
    expect(decision(single, check, 'ec2:CreateTags', snapshot(), {})).toBe('ImplicitDeny');
    expect(decision(single, preserve, 'ec2:CreateTags', `arn:aws:ec2:${REGION}:${IR}:instance/i-1`, tagging({ 'forensics:case-id': CASE }))).toBe('Allow');
  });

  it('an original snapshot is never created as an evidence copy: the evidence tag only at CopySnapshot', () => {
    // Prepare
    const preserve = single.acquisitionRole('preserveAndSnapshot');
    const copy = single.acquisitionRole('copyEvidence');
    // Act / Assess
    expect(decision(single, preserve, 'ec2:CreateTags', snapshot(), tagging({ 'forensics:case-id': CASE }, 'CreateSnapshots'))).toBe('Allow');
    expect(decision(single, preserve, 'ec2:CreateTags', snapshot(), tagging({ 'forensics:case-id': CASE, 'forensics:evidence': 'true' }, 'CreateSnapshots'))).toBe('ImplicitDeny');
    expect(decision(single, copy, 'ec2:CreateTags', snapshot(), tagging({ 'forensics:case-id': CASE, 'forensics:evidence': 'true' }, 'CopySnapshot'))).toBe('Allow');
  });
});

// ── Release may delete deny policies only on roles the isolate step contained ───────────────────────────────────────

const role = (account: string, name = 'web-role') => `arn:aws:iam::${account}:role/${name}`;
const CONTAINED: Context = { 'aws:ResourceTag/forensics:contained': CASE };

describe('deny-policy removal (single-account)', () => {
  it('release deletes an inline policy only on a role tagged as contained, never on its own role', () => {
    // Prepare
    const release = single.releaseRole('releaseContainment');
    // Act / Assess
    expect(decision(single, release, 'iam:DeleteRolePolicy', role(IR))).toBe('ImplicitDeny');
    expect(decision(single, release, 'iam:DeleteRolePolicy', role(IR), CONTAINED)).toBe('Allow');
    expect(decision(single, release, 'iam:DeleteRolePolicy', release.arn, CONTAINED)).toBe('ExplicitDeny');
  });

  it('only the isolate step sets the containment tag (that key only); release may only remove it', () => {
    // Prepare
    const isolate = single.acquisitionRole('isolateNetwork');
    const release = single.releaseRole('releaseContainment');
    const tag = tagging({ 'forensics:contained': CASE });
    // Act
    const setters = single.allRoles().filter((r) => decision(single, r, 'iam:TagRole', role(IR), tag) === 'Allow').map((r) => r.logicalId);
    // Assess
    expect(setters).toEqual([isolate.logicalId]);
    expect(decision(single, isolate, 'iam:TagRole', role(IR), tagging({ 'forensics:contained': CASE, team: 'x' }))).toBe('ImplicitDeny');
    expect(decision(single, isolate, 'iam:TagRole', role(IR), {})).toBe('ImplicitDeny');
    expect(decision(single, isolate, 'iam:DeleteRolePolicy', role(IR), CONTAINED)).toBe('ImplicitDeny');
    expect(decision(single, release, 'iam:UntagRole', role(IR), { ...CONTAINED, 'aws:TagKeys': ['forensics:contained'] })).toBe('Allow');
    expect(decision(single, release, 'iam:UntagRole', role(IR), { ...CONTAINED, 'aws:TagKeys': ['team'] })).toBe('ImplicitDeny');
  });
});

// ── Responder role (multi-account) ─────────────────────────────────────────────────────────────────────────────────

const AS_ACQUISITION: Context = { 'aws:PrincipalTag/forensics:workflow': 'acquisition' };
const AS_RELEASE: Context = { 'aws:PrincipalTag/forensics:workflow': 'release' };

describe('responder role (multi-account)', () => {
  const responder = () => multi.role('ForensicsResponder');

  it('cannot tag an existing (original) snapshot as an intermediate copy, nor create one tagged so', () => {
    // Prepare
    const r = responder();
    const intermediate = { 'forensics:evidence': 'intermediate' };
    // Act / Assess
    expect(decision(multi, r, 'ec2:CreateTags', snapshot(), tagging(intermediate))).not.toBe('Allow');
    expect(decision(multi, r, 'ec2:CreateTags', snapshot(), tagging({ 'FORENSICS:evidence': 'intermediate' }))).not.toBe('Allow');
    expect(decision(multi, r, 'ec2:CreateTags', snapshot(), tagging(intermediate, 'CreateSnapshots'))).not.toBe('Allow');
    expect(decision(multi, r, 'ec2:CreateTags', snapshot(), tagging(intermediate, 'CopySnapshot'))).toBe('Allow');
    expect(decision(multi, r, 'ec2:CreateTags', snapshot(), tagging({ 'forensics:source-volume': 'vol-1' }))).toBe('Allow');
  });

  it('shares only intermediate copies, only with the IR account', () => {
    // Prepare
    const r = responder();
    const share = (tag: string | undefined, account: string) =>
      decision(multi, r, 'ec2:ModifySnapshotAttribute', snapshot(), { ...(tag ? { 'aws:ResourceTag/forensics:evidence': tag } : {}), 'ec2:Add/userId': account });
    // Act / Assess
    expect(share(undefined, IR)).toBe('ImplicitDeny');
    expect(share('true', IR)).toBe('ImplicitDeny');
    expect(share('intermediate', '999999999999')).toBe('ImplicitDeny');
    expect(share('intermediate', IR)).toBe('Allow');
  });

  it('deletes no snapshot at all unless forensics:removeIntermediateCopies is on, then only intermediate copies', () => {
    // Prepare
    const del = (sim: Simulator, tag?: string) =>
      decision(sim, sim.role('ForensicsResponder'), 'ec2:DeleteSnapshot', snapshot(), tag ? { 'aws:ResourceTag/forensics:evidence': tag } : {});
    // Act / Assess
    expect(del(multi, 'intermediate')).toBe('ImplicitDeny');
    expect(del(removing)).toBe('ImplicitDeny');
    expect(del(removing, 'true')).toBe('ImplicitDeny');
    expect(del(removing, 'intermediate')).toBe('Allow');
  });

  it('containment and release IAM calls are split by the session\'s workflow tag; deletion only on contained roles', () => {
    // Prepare
    const r = responder();
    const target = role(WORKLOAD);
    const tag = tagging({ 'forensics:contained': CASE });
    // Act
    const got = {
      acquisitionPuts: decision(multi, r, 'iam:PutRolePolicy', target, AS_ACQUISITION),
      acquisitionTags: decision(multi, r, 'iam:TagRole', target, { ...AS_ACQUISITION, ...tag }),
      acquisitionTagsOtherKey: decision(multi, r, 'iam:TagRole', target, { ...AS_ACQUISITION, ...tagging({ team: 'x' }) }),
      acquisitionDeletes: decision(multi, r, 'iam:DeleteRolePolicy', target, { ...AS_ACQUISITION, ...CONTAINED }),
      releaseDeletesUntagged: decision(multi, r, 'iam:DeleteRolePolicy', target, AS_RELEASE),
      releaseDeletesContained: decision(multi, r, 'iam:DeleteRolePolicy', target, { ...AS_RELEASE, ...CONTAINED }),
      releaseTags: decision(multi, r, 'iam:TagRole', target, { ...AS_RELEASE, ...tag }),
      releasePuts: decision(multi, r, 'iam:PutRolePolicy', target, AS_RELEASE),
      releaseUntags: decision(multi, r, 'iam:UntagRole', target, { ...AS_RELEASE, ...CONTAINED, 'aws:TagKeys': ['forensics:contained'] }),
      untaggedSessionDeletes: decision(multi, r, 'iam:DeleteRolePolicy', target, CONTAINED),
      ownRole: decision(multi, r, 'iam:DeleteRolePolicy', r.arn, { ...AS_RELEASE, ...CONTAINED }),
    };
    // Assess
    expect(got).toEqual({
      acquisitionPuts: 'Allow',
      acquisitionTags: 'Allow',
      acquisitionTagsOtherKey: 'ImplicitDeny',
      acquisitionDeletes: 'ImplicitDeny',
      releaseDeletesUntagged: 'ImplicitDeny',
      releaseDeletesContained: 'Allow',
      releaseTags: 'ImplicitDeny',
      releasePuts: 'ImplicitDeny',
      releaseUntags: 'Allow',
      untaggedSessionDeletes: 'ImplicitDeny',
      ownRole: 'ExplicitDeny',
    });
  });

  it('trust: only the IR workflow roles, only with the external id; each may tag its session with its own workflow only', () => {
    // Prepare
    const r = responder();
    const isolate = multi.acquisitionRole('isolateNetwork');
    const release = multi.releaseRole('releaseContainment');
    const seal = multi.acquisitionRole('sealEvidence');
    const ext = { 'sts:ExternalId': 'ext-test-1' };
    const session = (workflow: string): Context => ({ ...ext, ...tagging({ 'forensics:workflow': workflow }) });
    // Act
    const got = {
      isolateWithExternalId: decision(multi, isolate, 'sts:AssumeRole', r.arn, ext),
      isolateWithoutExternalId: decision(multi, isolate, 'sts:AssumeRole', r.arn),
      isolateWrongExternalId: decision(multi, isolate, 'sts:AssumeRole', r.arn, { 'sts:ExternalId': 'guess' }),
      sealStep: decision(multi, seal, 'sts:AssumeRole', r.arn, ext),
      releaseWithExternalId: decision(multi, release, 'sts:AssumeRole', r.arn, ext),
      isolateTagsAcquisition: decision(multi, isolate, 'sts:TagSession', r.arn, session('acquisition')),
      isolateTagsRelease: decision(multi, isolate, 'sts:TagSession', r.arn, session('release')),
      releaseTagsRelease: decision(multi, release, 'sts:TagSession', r.arn, session('release')),
      releaseTagsAcquisition: decision(multi, release, 'sts:TagSession', r.arn, session('acquisition')),
      releaseAddsAnotherTag: decision(multi, release, 'sts:TagSession', r.arn, { ...session('release'), 'aws:TagKeys': ['forensics:workflow', 'x'] }),
    };
    // Assess
    expect(got).toEqual({
      isolateWithExternalId: 'Allow',
      isolateWithoutExternalId: 'ImplicitDeny',
      isolateWrongExternalId: 'ImplicitDeny',
      sealStep: 'ImplicitDeny',
      releaseWithExternalId: 'Allow',
      isolateTagsAcquisition: 'Allow',
      isolateTagsRelease: 'ImplicitDeny',
      releaseTagsRelease: 'Allow',
      releaseTagsAcquisition: 'ImplicitDeny',
      releaseAddsAnotherTag: 'ImplicitDeny',
    });
  });

  it('uses the IR evidence key only through EC2 in its regions; no other role of the workload account can', () => {
    // Prepare
    const r = responder();
    const key = multi.keyArn('EvidenceKey');
    const ec2 = { 'kms:ViaService': `ec2.${REGION}.amazonaws.com`, 'kms:CallerAccount': WORKLOAD };
    const other: RoleInfo = { ...r, logicalId: 'Other', arn: role(WORKLOAD, 'Other'), identity: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    // Act / Assess
    expect(decision(multi, r, 'kms:ReEncryptTo', key, ec2)).toBe('Allow');
    expect(decision(multi, r, 'kms:Decrypt', key, { 'kms:CallerAccount': WORKLOAD })).toBe('ImplicitDeny');
    expect(decision(multi, r, 'kms:Decrypt', key, { ...ec2, 'aws:RequestedRegion': 'ap-south-1' })).toBe('ImplicitDeny');
    expect(decision(multi, other, 'kms:Decrypt', key, ec2)).toBe('ImplicitDeny');
  });
});

// ── Memory capture ──────────────────────────────────────────────────────────────────────────────────────
describe.each([
  ['single-account (step roles)', () => single, (sim: Simulator) => ({ start: sim.acquisitionRole('startMemoryCapture'), poll: sim.acquisitionRole('checkSnapshots') }), IR],
  ['multi-account (responder role)', () => multi, (sim: Simulator) => ({ start: sim.role('ForensicsResponder'), poll: sim.role('ForensicsResponder') }), WORKLOAD],
])('memory capture (%s)', (_mode, sim, roles, account) => {
  const arn = (resource: string) => `arn:aws:ec2:${REGION}:${account}:${resource}`;
  const inRegion = { 'aws:RequestedRegion': REGION };
  const session = _mode.startsWith('multi') ? { 'aws:PrincipalTag/forensics:workflow': 'acquisition' } : {};

  it('the channel group: rules only on a group tagged acquisition-channel; never an inbound rule added', () => {
    // Prepare
    const s = sim();
    const { start } = roles(s);
    const group = arn('security-group/sg-0123456789abcdef0');
    const tagged = (role: string) => ({ ...inRegion, 'aws:ResourceTag/forensics:role': role });
    // Act / Assess
    expect(decision(s, start, 'ec2:RevokeSecurityGroupEgress', group, tagged('acquisition-channel'))).toBe('Allow');
    expect(decision(s, start, 'ec2:AuthorizeSecurityGroupEgress', group, tagged('acquisition-channel'))).toBe('Allow');
    expect(decision(s, start, 'ec2:AuthorizeSecurityGroupEgress', group, { ...inRegion })).toBe('ImplicitDeny');
    if (_mode.startsWith('single')) {
      // The start step is not the isolation step: no ingress at all, no rules on the workload's own groups.
      expect(decision(s, start, 'ec2:AuthorizeSecurityGroupIngress', group, tagged('acquisition-channel'))).toBe('ImplicitDeny');
      expect(decision(s, start, 'ec2:AuthorizeSecurityGroupEgress', group, tagged('isolation'))).toBe('ImplicitDeny');
    }
  });

  it('the capture volume: created only with the case and memory tags; attached, detached, snapshotted only when tagged memory', () => {
    // Prepare
    const s = sim();
    const { start, poll } = roles(s);
    const volume = arn('volume/vol-0123456789abcdef0');
    const instance = arn('instance/i-0123456789abcdef0');
    const memory = { ...inRegion, ...session, 'aws:ResourceTag/forensics:role': 'memory' };
    // Act / Assess
    expect(decision(s, start, 'ec2:CreateVolume', volume, { ...inRegion, ...session, 'aws:RequestTag/forensics:role': 'memory', 'aws:RequestTag/forensics:case-id': CASE })).toBe('Allow');
    expect(decision(s, start, 'ec2:CreateVolume', volume, { ...inRegion, ...session, 'aws:RequestTag/forensics:role': 'memory' })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ec2:AttachVolume', volume, memory)).toBe('Allow');
    expect(decision(s, poll, 'ec2:AttachVolume', volume, { ...inRegion, ...session })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ec2:DetachVolume', volume, { ...inRegion, ...session, 'aws:ResourceTag/forensics:role': 'isolation' })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ec2:AttachVolume', instance, { ...inRegion, ...session, 'aws:ResourceTag/forensics:case-id': CASE })).toBe('Allow');
    expect(decision(s, poll, 'ec2:AttachVolume', instance, { ...inRegion, ...session })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ec2:CreateSnapshot', volume, memory)).toBe('Allow');
    expect(decision(s, poll, 'ec2:CreateSnapshot', volume, { ...inRegion, ...session })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ec2:DeleteVolume', volume, memory)).not.toBe('Allow');
  });

  it('Run Command: only the AWS-RunShellScript document, only on an instance under a case', () => {
    // Prepare
    const s = sim();
    const { poll } = roles(s);
    const doc = (name: string) => `arn:aws:ssm:${REGION}::document/${name}`;
    const instance = arn('instance/i-0123456789abcdef0');
    // Act / Assess
    expect(decision(s, poll, 'ssm:SendCommand', doc('AWS-RunShellScript'), { ...inRegion, ...session })).toBe('Allow');
    expect(decision(s, poll, 'ssm:SendCommand', doc('AWS-RunPowerShellScript'), { ...inRegion, ...session })).toBe('ImplicitDeny');
    expect(decision(s, poll, 'ssm:SendCommand', instance, { ...inRegion, ...session, 'ssm:resourceTag/forensics:case-id': CASE })).toBe('Allow');
    expect(decision(s, poll, 'ssm:SendCommand', instance, { ...inRegion, ...session })).toBe('ImplicitDeny');
  });
});
