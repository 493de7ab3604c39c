import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HandlerEnvironment, handlerEnvironmentSchema } from '../../handlers/config/env';
import type { CaseTable, OpenCaseResult } from '../../handlers/domain/ports';
import type { CaseRef, TriageResult } from '../../handlers/domain/types';
import { createTriageHandler } from '../../handlers/triage';
import { type CfnTemplate, PLACEHOLDER, type Synthesized, synth } from '../support/synthesis';

/**
 * "one IR home region for the whole organisation", from the synthesized templates:
 * - organisation mode through the SYNTHESIZED Lambda environment: the triage handler, given the environment the template
 *   gives the function, acquires a member account's finding (and ignores an excluded account's);
 * - the step permissions, EVALUATED for calls in a workload region other than the home region;
 * - the home bus accepts the organisation only; the evidence key is a multi-Region primary on request;
 * - the regional stack (replica key, forwarding), the forwarder's home region, the responder's replica ARNs;
 * - every template nag-clean and cfn-lint-clean.
 */
const IR = PLACEHOLDER.account; // the placeholder account the templates' AWS::AccountId resolves to
const MEMBER = '444455556666';
const EXCLUDED = '777777777777';
const ORG = 'o-abcdef1234';
const HOME = PLACEHOLDER.region; // us-east-1
const OTHER = 'eu-west-1';
const MRK_ID = 'mrk-0123456789abcdef0123456789abcdef';
const ADMIN = '222222222222';
const ORG_CONTEXT = {
  'forensics:organizationId': ORG,
  'forensics:findingSourceAccounts': [ADMIN],
  'forensics:irAccountId': IR,
  'forensics:responderExternalId': '',
  'forensics:excludedAccounts': [EXCLUDED],
  'forensics:workloadRegions': [HOME, OTHER],
  'forensics:evidenceKeyMultiRegion': true,
};

type Json = Record<string, unknown>;

/** A template value with its intrinsics resolved to the placeholder environment (as CloudFormation would). */
function resolver(json: CfnTemplate, keyId: string) {
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(resolve);
    const v = value as Json;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(resolve(p))).join(sep);
    }
    if ('Fn::Select' in v) {
      const [i, list] = v['Fn::Select'] as [number, unknown];
      return (resolve(list) as unknown[])[i];
    }
    if ('Fn::Split' in v) {
      const [sep, s] = v['Fn::Split'] as [string, unknown];
      return String(resolve(s)).split(sep);
    }
    const ref = (v.Ref ?? (Array.isArray(v['Fn::GetAtt']) ? (v['Fn::GetAtt'] as string[])[0] : undefined)) as string | undefined;
    if (ref === 'AWS::Partition') return PLACEHOLDER.partition;
    if (ref === 'AWS::Region') return HOME;
    if (ref === 'AWS::AccountId') return IR;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (ref) {
      const type = json.Resources[ref]?.Type;
      if (type === 'AWS::KMS::Key') return v.Ref ? keyId : `arn:aws:kms:${HOME}:${IR}:key/${keyId}`;
      if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${HOME}:${IR}:${ref}`;
      if (type === 'AWS::SQS::Queue') return `arn:aws:sqs:${HOME}:${IR}:${ref}`;
      if (type === 'AWS::IAM::Role') return v.Ref ? ref : `arn:aws:iam::${IR}:role/${ref}`;
      return ref.toLowerCase();
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve;
}

/** The environment the template gives a step's function, resolved and parsed as the handlers parse it. */
function lambdaEnvironment(s: Synthesized, step: string, keyId: string): HandlerEnvironment {
  const resolve = resolver(s.json, keyId);
  const [, fn] = Object.entries(s.json.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(`${step}StepFunction`)) ?? [];
  if (!fn) throw new Error(`no function for step ${step}`);
  const variables = resolve((fn.Properties!.Environment as Json).Variables) as Record<string, string>;
  return handlerEnvironmentSchema.parse(variables);
}

function openingCaseTable(): CaseTable {
  const refuse = async () => {
    throw new Error('not expected');
  };
  return {
    openCase: async (caseRef: CaseRef): Promise<OpenCaseResult> => ({ opened: true, caseRef }),
    appendFinding: refuse,
    getCase: refuse,
    updateCase: refuse,
    advanceCustody: refuse,
  };
}

/** An EventBridge GuardDuty finding as the delegated administrator (here the IR account) delivers it. */
const findingEvent = (accountId: string, region: string) => ({
  version: '0',
  id: 'e1',
  'detail-type': 'GuardDuty Finding',
  source: 'aws.guardduty',
  account: IR,
  region: HOME,
  time: '2026-11-28T09:00:00Z',
  resources: [],
  detail: {
    schemaVersion: '2.0',
    accountId,
    region,
    id: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
    type: 'Backdoor:EC2/C&CActivity.B',
    severity: 8,
    resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0123456789abcdef0' } },
    service: { archived: false, count: 1 },
  },
});

async function triageWith(env: HandlerEnvironment, event: unknown): Promise<TriageResult> {
  // The Lambda runs in the home region, where the stack is deployed.
  const previous = process.env.AWS_REGION;
  process.env.AWS_REGION = HOME;
  try {
    const handler = createTriageHandler({
      cases: openingCaseTable(),
      env: () => env,
      clock: () => new Date('2026-11-28T09:15:02Z'),
      // The decision is what is tested: the instance is not described (its failure rides along with ACQUIRE).
      adaptersFor: () => {
        throw new Error('not described in this test');
      },
    });
    return await handler({ event, executionArn: `arn:aws:states:${HOME}:${IR}:execution:Acquisition:x`, startedAt: '2026-11-28T09:15:00Z' });
  } finally {
    if (previous === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = previous;
  }
}

// ── A small evaluator of identity policies: is (action, resource, context) allowed by a role's statements? ──
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

function roleStatements(s: Synthesized, logicalIdPrefix: string, keyId: string): Statement[] {
  const resolve = resolver(s.json, keyId);
  return Object.entries(s.json.Resources)
    .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(logicalIdPrefix))
    .flatMap(([, r]) => resolve((r.Properties!.PolicyDocument as { Statement: unknown }).Statement) as Statement[]);
}

function allows(statements: Statement[], action: string, resource: string, context: Record<string, string> = {}): boolean {
  const matches = (st: Statement) =>
    list(st.Action).some((a) => glob(a, action)) &&
    list(st.Resource as string | string[]).some((r) => glob(r, resource)) &&
    Object.entries(st.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, expected]) => {
        const actual = context[key];
        const values = list(expected as string | string[]).map(String);
        if (operator === 'Null') return (actual === undefined) === (values[0] === 'true');
        if (actual === undefined) return false;
        if (operator === 'StringEquals' || operator === 'ArnEquals' || operator === 'Bool') return values.includes(actual);
        if (operator === 'StringLike' || operator === 'ArnLike') return values.some((v) => glob(v, actual));
        return false;
      }),
    );
  return !statements.some((st) => st.Effect === 'Deny' && matches(st)) && statements.some((st) => st.Effect === 'Allow' && matches(st));
}

// Each synthesis takes seconds: one per configuration, shared by the tests.
let org: Synthesized;
let minimal: Synthesized;
beforeAll(() => {
  org = synth(ORG_CONTEXT);
  minimal = synth({ 'forensics:organizationId': ORG, 'forensics:irAccountId': IR });
});

describe('organisation mode through the synthesized Lambda environment', () => {

  it('the triage function, with the environment the template gives it, acquires a member account\'s finding in a workload region', async () => {
    // Prepare
    const env = lambdaEnvironment(org, 'Triage', MRK_ID);
    // Act
    const result = await triageWith(env, findingEvent(MEMBER, OTHER));
    // Assess
    expect(result).toMatchObject({ outcome: 'ACQUIRE', case: { target: { accountId: MEMBER, region: OTHER, instanceId: 'i-0123456789abcdef0' } } });
  });

  it('and ignores, with the reason, an excluded account and a region outside forensics:workloadRegions', async () => {
    const env = lambdaEnvironment(org, 'Triage', MRK_ID);
    expect(await triageWith(env, findingEvent(EXCLUDED, HOME))).toMatchObject({ outcome: 'IGNORED', reason: expect.stringMatching(/excluded/) });
    expect(await triageWith(env, findingEvent(MEMBER, 'ap-south-1'))).toMatchObject({ outcome: 'IGNORED', reason: expect.stringMatching(/region ap-south-1 is not a workload region/) });
  });

  it('organisation mode without regions or a multi-Region key: a member account\'s finding in the home region is acquired', async () => {
    const env = lambdaEnvironment(minimal, 'Triage', '11111111-2222-3333-4444-555555555555');
    expect(await triageWith(env, findingEvent(MEMBER, HOME))).toMatchObject({ outcome: 'ACQUIRE' });
    // Outside the home region another account's copy would need the key's replica there: ignored at triage.
    expect(await triageWith(env, findingEvent(MEMBER, OTHER))).toMatchObject({ outcome: 'IGNORED' });
  });

  it('"nothing outside the organisation": the steps may assume the responder role only where aws:ResourceOrgID is the organisation', () => {
    for (const prefix of ['TriageStep', 'PreserveAndSnapshotStep', 'ReleaseReleaseContainmentStep']) {
      const statements = roleStatements(org, prefix, MRK_ID);
      const role = (account: string) => `arn:aws:iam::${account}:role/ForensicsResponder`;
      expect(allows(statements, 'sts:AssumeRole', role(MEMBER), { 'aws:ResourceOrgID': ORG }), prefix).toBe(true);
      expect(allows(statements, 'sts:AssumeRole', role(MEMBER), { 'aws:ResourceOrgID': 'o-otherorg123' }), prefix).toBe(false);
      expect(allows(statements, 'sts:AssumeRole', role(MEMBER)), `${prefix}: an account in no organisation`).toBe(false);
      expect(allows(statements, 'sts:AssumeRole', `arn:aws:iam::${MEMBER}:role/Admin`, { 'aws:ResourceOrgID': ORG }), prefix).toBe(false);
    }
  });

  it('the home bus accepts GuardDuty findings only from principals of the organisation (and a listed administrator)', () => {
    const policies = Object.values(minimal.json.Resources).filter((r) => r.Type === 'AWS::Events::EventBusPolicy');
    const statements = (t: CfnTemplate) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::Events::EventBusPolicy').map((p) => p.Properties?.Statement as Json);
    expect(statements(org.json).map((st) => st.Sid).sort()).toEqual(['AcceptGuardDutyFindingsFromAdministrator', 'AcceptGuardDutyFindingsFromOrganization']);
    expect(policies.map((p) => p.Properties?.Statement)).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'events:source': 'aws.guardduty', 'events:detail-type': 'GuardDuty Finding' } },
      }),
    ]);
  });

  it('the evidence key is a multi-Region primary key only on request, as a new resource: an existing key cannot change', () => {
    const keysAndAliases = (t: CfnTemplate) =>
      Object.fromEntries(
        Object.entries(t.Resources)
          .filter(([, r]) => r.Type === 'AWS::KMS::Key' || r.Type === 'AWS::KMS::Alias')
          .map(([id, r]) => [id, { type: r.Type, multiRegion: r.Properties?.MultiRegion, target: r.Properties?.TargetKeyId, retain: r.DeletionPolicy }]),
      );
    // Off (the default): exactly the key and alias every deployment has had.
    expect(keysAndAliases(minimal.json)).toEqual({
      EvidenceKey167D8F4D: { type: 'AWS::KMS::Key', multiRegion: undefined, target: undefined, retain: 'Retain' },
      EvidenceKeyAliasE40C74E1: { type: 'AWS::KMS::Alias', multiRegion: undefined, target: { 'Fn::GetAtt': ['EvidenceKey167D8F4D', 'Arn'] }, retain: undefined },
    });
    // On: another key resource (the old one is retained by CloudFormation, not changed), the same alias re-pointed.
    const on = keysAndAliases(org.json);
    const [newKey] = Object.keys(on).filter((id) => on[id]?.type === 'AWS::KMS::Key');
    expect(newKey).not.toBe('EvidenceKey167D8F4D');
    expect(on[newKey as string]).toMatchObject({ multiRegion: true, retain: 'Retain' });
    expect(on.EvidenceKeyAliasE40C74E1?.target).toEqual({ 'Fn::GetAtt': [newKey, 'Arn'] });
  });

  it('the IR copy may use the evidence key\'s replicas in the workload regions, through EC2, grants for AWS resources only', () => {
    const statements = roleStatements(org, 'CheckEvidenceCopiesStep', MRK_ID);
    const replica = `arn:aws:kms:${OTHER}:${IR}:key/${MRK_ID}`;
    expect(allows(statements, 'kms:Decrypt', replica, { 'kms:ViaService': `ec2.${OTHER}.amazonaws.com` })).toBe(true);
    expect(allows(statements, 'kms:Decrypt', replica, { 'kms:ViaService': `s3.${OTHER}.amazonaws.com` })).toBe(false);
    expect(allows(statements, 'kms:CreateGrant', replica, { 'kms:ViaService': `ec2.${HOME}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true' })).toBe(true);
    expect(allows(statements, 'kms:CreateGrant', replica, { 'kms:ViaService': `ec2.${HOME}.amazonaws.com` })).toBe(false);
    expect(allows(statements, 'kms:Decrypt', `arn:aws:kms:ap-south-1:${IR}:key/${MRK_ID}`, { 'kms:ViaService': 'ec2.ap-south-1.amazonaws.com' })).toBe(false);
    // The IR copy is issued in the home region from the intermediate copy in the workload region.
    expect(allows(statements, 'ec2:CopySnapshot', `arn:aws:ec2:${OTHER}::snapshot/snap-0intermediate`)).toBe(true);
  });
});

describe('single account, instances in another region than the home region', () => {
  let single: Synthesized;
  const KEY = '11111111-2222-3333-4444-555555555555';
  beforeAll(() => {
    single = synth({ 'forensics:workloadRegions': [HOME, OTHER] });
  });

  it('the steps may act on the instance in every workload region, and nowhere else', () => {
    const preserve = roleStatements(single, 'PreserveAndSnapshotStep', KEY);
    const instance = (region: string) => `arn:aws:ec2:${region}:${IR}:instance/i-0123456789abcdef0`;
    expect(allows(preserve, 'ec2:CreateSnapshots', instance(HOME))).toBe(true);
    expect(allows(preserve, 'ec2:CreateSnapshots', instance(OTHER))).toBe(true);
    expect(allows(preserve, 'ec2:CreateSnapshots', instance('ap-south-1'))).toBe(false);
    const isolate = roleStatements(single, 'IsolateNetworkStep', KEY);
    expect(allows(isolate, 'ec2:ModifyNetworkInterfaceAttribute', `arn:aws:ec2:${OTHER}:${IR}:network-interface/eni-0abc`)).toBe(true);
    const release = roleStatements(single, 'ReleaseReleaseContainmentStep', KEY);
    expect(allows(release, 'ec2:ModifyNetworkInterfaceAttribute', `arn:aws:ec2:${OTHER}:${IR}:network-interface/eni-0abc`)).toBe(true);
    expect(allows(release, 'autoscaling:ExitStandby', `arn:aws:autoscaling:${OTHER}:${IR}:autoScalingGroup:uuid:autoScalingGroupName/web`)).toBe(true);
  });

  it('the copy step copies into the home region from the workload region: source snapshot and source key there, via EC2 there', () => {
    const copy = roleStatements(single, 'CopyEvidenceStep', KEY);
    expect(allows(copy, 'ec2:CopySnapshot', `arn:aws:ec2:${OTHER}::snapshot/snap-0original`)).toBe(true);
    expect(allows(copy, 'ec2:CopySnapshot', `arn:aws:ec2:${HOME}::snapshot/snap-0copy`)).toBe(true);
    const sourceKey = `arn:aws:kms:${OTHER}:${IR}:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`;
    expect(allows(copy, 'kms:Decrypt', sourceKey, { 'kms:ViaService': `ec2.${OTHER}.amazonaws.com` })).toBe(true);
    expect(allows(copy, 'kms:Decrypt', sourceKey, { 'kms:ViaService': `lambda.${OTHER}.amazonaws.com` })).toBe(false);
    // The evidence key is used through EC2 only.
    const evidenceKey = `arn:aws:kms:${HOME}:${IR}:key/${KEY}`;
    expect(allows(copy, 'kms:ReEncryptTo', evidenceKey, { 'kms:ViaService': `ec2.${HOME}.amazonaws.com` })).toBe(true);
  });

  it('the workstation stays in the home region (its forensic VPC): no permission of its role names a workload region', () => {
    const ws = roleStatements(single, 'LaunchWorkstationStep', KEY);
    expect(ws.some((st) => list(st.Action).includes('ec2:CreateVolume'))).toBe(true);
    expect(JSON.stringify(ws)).toContain(`:ec2:${HOME}:`);
    expect(JSON.stringify(ws)).not.toContain(OTHER);
  });

  it('a single-account deployment synthesizes the regional stack for finding forwarding, without a replica key', () => {
    expect(single.regional).toBeDefined();
    const regional = Template.fromStack(single.regional as NonNullable<Synthesized['regional']>);
    regional.resourceCountIs('AWS::KMS::ReplicaKey', 0);
    regional.resourceCountIs('AWS::Events::Rule', 1);
  });
});

describe('regional stack (IR account, every workload region but the home one)', () => {
  let regional: Template;
  let json: CfnTemplate & { Parameters: Json; Rules: Json; Conditions: Json };
  beforeAll(() => {
    if (!org.regional) throw new Error('regional stack not synthesized');
    regional = Template.fromStack(org.regional);
    json = regional.toJSON() as typeof json;
  });

  it('is a StackSets-ready template: no assets, parameters for the home region, the primary key and forwarding', () => {
    expect(Object.keys(json.Parameters).sort()).toEqual(['ForwardFindings', 'HomeRegion', 'PrimaryKeyArn']);
    expect(JSON.stringify(json)).not.toContain('BootstrapVersion');
    expect(JSON.stringify(json.Rules)).toContain('"Fn::Not"');
  });

  it('replicates the evidence key with the same key-policy rules, for THIS region: workload accounts only via EC2 here', () => {
    const replicas = Object.values(regional.findResources('AWS::KMS::ReplicaKey'));
    expect(replicas).toHaveLength(1);
    const replica = replicas[0] as { Properties: { PrimaryKeyArn: unknown; KeyPolicy: { Statement: Json[] } }; DeletionPolicy: string };
    expect(replica.Properties.PrimaryKeyArn).toEqual({ Ref: 'PrimaryKeyArn' });
    expect(replica.DeletionPolicy).toBe('Retain');
    const statements = replica.Properties.KeyPolicy.Statement;
    const workload = statements.filter((st) => String(st.Sid).startsWith('WorkloadAccounts'));
    expect(workload.map((st) => st.Sid).sort()).toEqual(['WorkloadAccountsCopySnapshotsViaEc2', 'WorkloadAccountsGrantToEbsOnly']);
    for (const st of workload) {
      expect((st.Condition as Json).StringEquals).toEqual({
        'kms:ViaService': { 'Fn::Join': ['', ['ec2.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        'aws:PrincipalOrgID': ORG,
      });
    }
    expect((workload.find((st) => st.Sid === 'WorkloadAccountsGrantToEbsOnly')!.Condition as Json).Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    // The same statements as the primary key's (home region).
    const primary = Object.values(org.template.findResources('AWS::KMS::Key'))[0] as { Properties: { KeyPolicy: { Statement: Json[] } } };
    const primaryWorkload = primary.Properties.KeyPolicy.Statement.filter((st) => String(st.Sid).startsWith('WorkloadAccounts'));
    expect(primaryWorkload).toEqual(workload);
  });

  it('forwards this region\'s GuardDuty findings, with the IR rule\'s own pattern, to the home region\'s bus, through a role', () => {
    const irRule = Object.values(org.template.findResources('AWS::Events::Rule'))[0]?.Properties as { EventPattern: unknown };
    const rule = Object.values(regional.findResources('AWS::Events::Rule'))[0] as { Properties: Json; Condition: string };
    expect(rule.Condition).toBe('ForwardFindingsToHomeRegion');
    expect(rule.Properties.EventPattern).toEqual(irRule.EventPattern);
    const [target] = rule.Properties.Targets as Json[];
    expect(target?.Arn).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'HomeRegion' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
    });
    expect(target?.RoleArn).toBeDefined();
    expect(target?.DeadLetterConfig).toBeDefined();
    // Every forwarding resource follows the ForwardFindings parameter; the replica key does not.
    for (const [id, r] of Object.entries(json.Resources)) {
      expect((r as { Condition?: string }).Condition, id).toBe(r.Type.startsWith('AWS::KMS::') ? undefined : 'ForwardFindingsToHomeRegion');
    }
  });

  it('the forwarder (another GuardDuty administrator) targets the home region\'s bus directly; the responder may use the replicas', () => {
    const withAdmin = org;
    const forwarder = Template.fromStack(withAdmin.forwarder as NonNullable<Synthesized['forwarder']>).toJSON() as { Parameters: Json; Resources: Record<string, { Type: string; Properties: Json }> };
    expect(forwarder.Parameters.HomeRegion).toMatchObject({ Default: '' });
    const rule = Object.values(forwarder.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    expect(JSON.stringify((rule!.Properties.Targets as Json[])[0]?.Arn)).toContain('{"Fn::If":["ForwardInThisRegion",{"Ref":"AWS::Region"},{"Ref":"HomeRegion"}]}');
    const responder = Template.fromStack(withAdmin.responder as NonNullable<Synthesized['responder']>).toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> };
    const use = Object.values(responder.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Json[] }).Statement)
      .find((st) => st.Sid === 'UseEvidenceKeyViaEc2');
    expect(JSON.stringify(use?.Resource)).toContain(':kms:*:');
  });

  it('cdk-nag: zero findings in the regional stack (and every other); cfn-lint clean (skipped when cfn-lint is not installed)', (ctx) => {
    // cdk-nag runs as the synthesis' validation plugin over the whole app, the regional stack included.
    expect(org.app.node.findAll().some((c) => c === org.regional)).toBe(true);
    const nag = org.report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`))).toEqual([]);
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      ctx.skip();
      return;
    }
    const files = ['IrStack', 'ForwarderStack', 'RegionalStack'].map((n) => path.join(org.outdir, `${n}.template.json`));
    const run = spawnSync('cfn-lint', files, { encoding: 'utf8', cwd: path.resolve(__dirname, '../..') });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 240_000); // cfn-lint reads every template: minutes on a loaded 2-core machine
});
