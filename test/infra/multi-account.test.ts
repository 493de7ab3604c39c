import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config';
import { workflowRoleNames } from '../../infra/multi-account';
import { type Synthesized, synth } from '../support/synthesis';

/**
 * Multi-account mode: the responder stack (workload accounts), the forwarder stack (GuardDuty
 * administrator), and the IR side (key policy, assume-role permissions, bus policy, fixed role names).
 */
const WORKLOAD = '111111111111';
const ADMIN = '222222222222';
const IR = '123456789012';
const CONTEXT = {
  'forensics:workloadAccounts': [WORKLOAD],
  'forensics:findingSourceAccounts': [ADMIN],
  'forensics:irAccountId': IR,
  'forensics:workloadRegions': ['eu-west-1', 'us-east-1'],
  'forensics:responderExternalId': 'ext-test-1',
};

let s: Synthesized;
let responder: Template;
let forwarder: Template;
let responderJson: Record<string, unknown>;

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown; Resource?: unknown };
// The responder role's statements outgrow one inline policy (10,240 characters): CDK moves the rest into a managed
// "overflow" policy attached to the same role, so both resource types are read.
const statementsOf = (t: Template, types = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']): Statement[] =>
  types.flatMap((type) =>
    Object.values(t.findResources(type)).flatMap((r) => (r.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement),
  );
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

beforeAll(() => {
  s = synth(CONTEXT);
  if (!s.responder || !s.forwarder) throw new Error('multi-account stacks were not synthesized');
  responder = Template.fromStack(s.responder);
  forwarder = Template.fromStack(s.forwarder);
  responderJson = responder.toJSON();
});

describe('responder stack (workload accounts)', () => {
  it('is a StackSets-ready template: no assets, no bootstrap rule, parameters for the IR account, stack and external id', () => {
    expect(Object.keys(responderJson.Parameters as object).sort()).toEqual(
      ['EvidenceKeyArn', 'ExternalId', 'IrAccountId', 'IrStackName', 'WorkloadRegions'].sort(),
    );
    expect(responderJson.Rules).toBeUndefined();
    const artifact = s.app.synth().getStackArtifact(s.responder?.artifactId as string);
    expect(artifact.assets).toEqual([]);
  });

  it('trusts only the exact IR workflow role ARNs (nine acquisition steps and release), with the external id', () => {
    const roles = responder.findResources('AWS::IAM::Role');
    expect(Object.keys(roles)).toHaveLength(1);
    const role = Object.values(roles)[0]?.Properties as { RoleName: string; AssumeRolePolicyDocument: { Statement: Statement[] } };
    expect(role.RoleName).toBe('ForensicsResponder');
    const trust = role.AssumeRolePolicyDocument.Statement;
    // AssumeRole, and sts:TagSession twice: acquisition roles tag "acquisition", the release role "release".
    expect(trust.map((x) => x.Sid ?? x.Action)).toEqual(['sts:AssumeRole', 'AcquisitionSessionsTagged', 'ReleaseSessionsTagged']);
    const st = trust[0] as Statement;
    expect(st.Action).toBe('sts:AssumeRole');
    for (const tagging of trust.slice(1)) {
      expect(tagging.Action).toBe('sts:TagSession');
      expect(tagging.Condition?.['ForAllValues:StringEquals']).toEqual({ 'aws:TagKeys': ['forensics:workflow'] });
    }
    expect(st.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'IrAccountId' }, ':root']] } });
    expect(st.Condition?.StringEquals).toEqual({ 'sts:ExternalId': { Ref: 'ExternalId' } });
    const arns = st.Condition?.ArnEquals?.['aws:PrincipalArn'] as unknown[];
    expect(arns).toEqual(
      workflowRoleNames('').map((suffix) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'IrAccountId' }, ':role/', { Ref: 'IrStackName' }, suffix]],
      })),
    );
    expect(arns).toHaveLength(10);
    expect(JSON.stringify(arns)).toContain('"-release"');
    expect(JSON.stringify(arns)).not.toContain('*');
    expect(JSON.stringify(st.Condition)).not.toContain('aws:PrincipalOrgID');
  });

  it('holds every workload-side call the release makes, region-limited (ENI groups, deny policy, standby, targets)', () => {
    const sts = statementsOf(responder).filter((x) => x.Effect === 'Allow');
    const holding = (action: string) => sts.filter((x) => actions(x).includes(action));
    for (const action of ['ec2:ModifyNetworkInterfaceAttribute', 'iam:DeleteRolePolicy', 'autoscaling:ExitStandby', 'elasticloadbalancing:RegisterTargets']) {
      expect(holding(action).length, action).toBeGreaterThan(0);
    }
    const bySid = new Map(sts.map((x) => [x.Sid, x]));
    expect(actions(bySid.get('ReleaseExitStandby') as Statement)).toEqual(['autoscaling:ExitStandby']);
    expect(JSON.stringify(bySid.get('ReleaseExitStandby')?.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/*');
    expect(actions(bySid.get('ReleaseRegisterTargets') as Statement)).toEqual(['elasticloadbalancing:RegisterTargets']);
    expect(JSON.stringify(bySid.get('ReleaseRegisterTargets')?.Resource)).toContain(':targetgroup/*/*');
    // DeleteRolePolicy: roles of this account only, never the responder role itself (explicit deny).
    // Release sessions only, and only on roles the product tagged as contained (policy-evaluation.test.ts evaluates it).
    expect(holding('iam:DeleteRolePolicy').map((x) => x.Sid)).toEqual(['ReleaseDeleteDenyPolicy']);
    const deny = statementsOf(responder).find((x) => x.Sid === 'NotOnOwnRole');
    expect(actions(deny as Statement)).toContain('iam:DeleteRolePolicy');
  });

  it('holds only scoped permissions: every Allow is region-limited or IAM; mutations are tag/condition scoped', () => {
    const sts = statementsOf(responder);
    for (const st of sts.filter((x) => x.Effect === 'Allow')) {
      const isIam = actions(st).every((a) => a.startsWith('iam:'));
      if (!isIam) expect(st.Condition?.StringEquals?.['aws:RequestedRegion'], st.Sid).toEqual({ Ref: 'WorkloadRegions' });
    }
    const bySid = new Map(sts.map((x) => [x.Sid, x]));
    expect(bySid.get('ShareIntermediateCopyWithIrAccount')?.Condition?.StringEquals).toMatchObject({
      'aws:ResourceTag/forensics:evidence': 'intermediate',
      'ec2:Add/userId': { Ref: 'IrAccountId' },
    });

    expect(bySid.get('UseEvidenceKeyViaEc2')?.Resource).toEqual({ Ref: 'EvidenceKeyArn' });
    expect(bySid.get('UseEvidenceKeyViaEc2')?.Condition?.StringEquals?.['kms:ViaService']).toBeDefined();
    expect(bySid.get('GrantEvidenceKeyToEbs')?.Condition).toMatchObject({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
    expect(bySid.get('RulesOnOwnGroups')?.Condition?.Null).toEqual({ 'aws:ResourceTag/forensics:role': 'false' });
    expect(bySid.get('NotOnOwnRole')?.Effect).toBe('Deny');
    // forensics:removeIntermediateCopies is off here: no snapshot deletion at all (on: policy-evaluation.test.ts).
    expect(sts.filter((x) => actions(x).includes('ec2:DeleteSnapshot')).map((x) => x.Sid)).toEqual([]);
    // No wildcard action anywhere.
    for (const st of sts) for (const a of actions(st)) expect(a).not.toMatch(/\*/);
  });
});

describe('IR side in multi-account mode', () => {
  it('gives the step roles that act on instances fixed names, as the responder trust expects', () => {
    for (const name of workflowRoleNames('ForensicAcquisition')) {
      s.template.hasResourceProperties('AWS::IAM::Role', { RoleName: name });
    }
  });

  it('lets those roles (the nine acquisition steps and release) assume only the responder role in the listed accounts', () => {
    const assume = statementsOf(s.template).filter((st) => actions(st).includes('sts:AssumeRole'));
    expect(assume.map((st) => st.Sid).sort()).toEqual([...Array(9).fill('AssumeResponderRole'), 'ReleaseAssumeResponderRole']);
    for (const st of assume) {
      expect(st.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${WORKLOAD}:role/ForensicsResponder`]] });
    }
  });

  it('lets workload accounts use the evidence key only through EC2, grants only for AWS resources, only from the responder role', () => {
    const key = Object.values(s.template.findResources('AWS::KMS::Key'))[0]?.Properties as { KeyPolicy: { Statement: Statement[] } };
    const workload = key.KeyPolicy.Statement.filter((st) => JSON.stringify(st.Principal ?? '').includes(WORKLOAD));
    expect(workload.map((st) => st.Sid).sort()).toEqual(['WorkloadAccountsCopySnapshotsViaEc2', 'WorkloadAccountsGrantToEbsOnly']);
    for (const st of workload) {
      expect(st.Condition?.StringEquals?.['kms:ViaService']).toEqual({ 'Fn::Join': ['', ['ec2.', { Ref: 'AWS::Region' }, '.amazonaws.com']] });
      expect(st.Condition?.StringEquals?.['kms:CallerAccount']).toEqual([WORKLOAD]);
      expect(st.Condition?.ArnEquals?.['aws:PrincipalArn']).toBeDefined();
      for (const a of actions(st)) expect(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant']).toContain(a);
    }
    const grant = workload.find((st) => st.Sid === 'WorkloadAccountsGrantToEbsOnly');
    expect(grant?.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    expect(actions(workload.find((st) => st.Sid === 'WorkloadAccountsCopySnapshotsViaEc2') as Statement)).not.toContain('kms:CreateGrant');
  });

  it('accepts GuardDuty findings on the default bus from the administrator account only', () => {
    s.template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: 'default',
      Statement: Match.objectLike({
        Principal: { AWS: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ADMIN}:root`]] }] },
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'events:source': 'aws.guardduty', 'events:detail-type': 'GuardDuty Finding' } },
      }),
    });
  });

  it('passes the responder settings and the lock settings to the functions', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RESPONDER_ROLE_NAME: 'ForensicsResponder',
          RESPONDER_EXTERNAL_ID: 'ext-test-1',
          SNAPSHOT_LOCK_MODE: 'compliance',
          SNAPSHOT_LOCK_DAYS: '365',
          SNAPSHOT_LOCK_COOL_OFF_HOURS: '24',
        }),
      },
    });
  });

  it('locks only this workflow\'s evidence snapshots', () => {
    const lock = statementsOf(s.template).filter((st) => actions(st).includes('ec2:LockSnapshot'));
    expect(lock.length).toBe(2);
    for (const st of lock) expect(st.Condition?.StringEquals).toEqual({ 'aws:ResourceTag/forensics:evidence': 'true' });
  });
});

describe('release in multi-account mode', () => {
  it('"Release containment" acts only through the responder role: it assumes it, and holds no EC2/IAM/ASG/ELB permission of its own', () => {
    const fn = Object.values(s.template.findResources('AWS::Lambda::Function')).find(
      (r) => (r.Properties as { Description?: string }).Description === 'Forensic release: Release containment',
    );
    const roleId = ((fn!.Properties as { Role: { 'Fn::GetAtt': string[] } }).Role)['Fn::GetAtt'][0] as string;
    expect((s.template.toJSON().Resources[roleId].Properties as { RoleName: string }).RoleName).toBe('ForensicAcquisition-release');
    const own = Object.values(s.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify((p.Properties as { Roles: unknown[] }).Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    const allowed = own.filter((st) => st.Effect === 'Allow').flatMap(actions);
    expect(allowed.filter((a) => /^(ec2|iam|autoscaling|elasticloadbalancing):/.test(a))).toEqual([]);
    const assume = own.find((st) => st.Sid === 'ReleaseAssumeResponderRole');
    expect(actions(assume as Statement)).toEqual(['sts:AssumeRole']);
    expect(assume?.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${WORKLOAD}:role/ForensicsResponder`]] });
    // The release functions get the responder settings too (release-adapters.ts assumes the role per case).
    const env = (fn!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env).toMatchObject({ RESPONDER_ROLE_NAME: 'ForensicsResponder', RESPONDER_EXTERNAL_ID: 'ext-test-1' });
  });
});

describe('organisation mode (forensics:organizationId)', () => {
  const ORG = 'o-abcdefghij';
  let org: Synthesized;
  let orgResponder: Template;
  let orgWithExternalId: Template;
  const trustOf = (t: Template): Statement => {
    const role = Object.values(t.findResources('AWS::IAM::Role'))[0]?.Properties as { AssumeRolePolicyDocument: { Statement: Statement[] } };
    const assume = role.AssumeRolePolicyDocument.Statement.filter((x) => x.Action === 'sts:AssumeRole');
    expect(assume).toHaveLength(1);
    return assume[0] as Statement;
  };

  beforeAll(() => {
    // No external id: organisation mode may go without one.
    org = synth({
      'forensics:organizationId': ORG,
      'forensics:responderExternalId': '',
      'forensics:irAccountId': IR,
      'forensics:workloadRegions': ['eu-west-1'],
    });
    if (!org.responder) throw new Error('responder stack not synthesized in organisation mode');
    orgResponder = Template.fromStack(org.responder);
    const withId = synth({ 'forensics:organizationId': ORG, 'forensics:responderExternalId': 'ext-org-1', 'forensics:irAccountId': IR });
    if (!withId.responder) throw new Error('responder stack not synthesized in organisation mode');
    orgWithExternalId = Template.fromStack(withId.responder);
  });

  it('trusts the IR account\'s exact role ARNs with aws:PrincipalOrgID = the OrganizationId parameter, no external id', () => {
    const st = trustOf(orgResponder);
    expect(st.Effect).toBe('Allow');
    expect(st.Action).toBe('sts:AssumeRole');
    expect(st.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'IrAccountId' }, ':root']] } });
    expect(st.Condition?.StringEquals).toEqual({ 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } });
    expect(st.Condition?.ArnEquals?.['aws:PrincipalArn']).toHaveLength(10);
    expect(JSON.stringify(st.Condition?.ArnEquals)).not.toContain('*');
    const params = orgResponder.toJSON().Parameters as Record<string, { Default?: string; AllowedPattern?: string }>;
    expect(Object.keys(params).sort()).toEqual(['EvidenceKeyArn', 'IrAccountId', 'IrStackName', 'OrganizationId', 'WorkloadRegions']);
    expect(params.OrganizationId).toMatchObject({ Default: ORG, AllowedPattern: '^o-[a-z0-9]{10,32}$' });
  });

  it('an empty external id is accepted only in organisation mode', () => {
    expect(() => parseConfig({ 'forensics:workloadAccounts': [WORKLOAD], 'forensics:responderExternalId': '' })).toThrow(
      'cdk.json context forensics:responderExternalId: may be empty only with forensics:organizationId',
    );
    expect(parseConfig({ 'forensics:organizationId': ORG, 'forensics:responderExternalId': '' }).responderExternalId).toBe('');
  });

  it('keeps the external id when one is configured (both conditions)', () => {
    expect(trustOf(orgWithExternalId).Condition?.StringEquals).toEqual({
      'sts:ExternalId': { Ref: 'ExternalId' },
      'aws:PrincipalOrgID': { Ref: 'OrganizationId' },
    });
    expect(Object.keys(orgWithExternalId.toJSON().Parameters as object)).toContain('ExternalId');
  });

  it('IR side: the ten roles assume the responder role in any account of the organisation only, and present no external id', () => {
    const assume = statementsOf(org.template).filter((st) => actions(st).includes('sts:AssumeRole'));
    expect(assume).toHaveLength(10);
    for (const st of assume) {
      expect(st.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/ForensicsResponder']] });
      expect(st.Condition?.StringEquals).toEqual({ 'aws:ResourceOrgID': ORG });
    }
    expect(JSON.stringify(org.json)).toContain('RESPONDER_ROLE_NAME');
    expect(JSON.stringify(org.json)).not.toContain('RESPONDER_EXTERNAL_ID');
  });

  it('cdk-nag: zero unacknowledged findings; cfn-lint clean (skipped when cfn-lint is not installed)', (ctx) => {
    const nag = org.report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`))).toEqual([]);
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      ctx.skip();
      return;
    }
    const files = ['IrStack', 'ResponderStack'].map((n) => path.join(org.outdir, `${n}.template.json`));
    const run = spawnSync('cfn-lint', files, { encoding: 'utf8', cwd: path.resolve(__dirname, '../..') });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 240_000); // cfn-lint reads every template: minutes on a loaded 2-core machine
});

describe('single-account mode', () => {
  it('synthesizes the IR stack only, with generated role names and no responder role setting', () => {
    const single = synth();
    expect(single.responder).toBeUndefined();
    expect(single.forwarder).toBeUndefined();
    expect(JSON.stringify(single.json)).not.toContain('RESPONDER_ROLE_NAME');
    expect(statementsOf(single.template).filter((st) => actions(st).includes('sts:AssumeRole'))).toEqual([]);
    expect(Object.values(single.template.findResources('AWS::IAM::Role')).filter((r) => (r.Properties as { RoleName?: string }).RoleName)).toEqual([]);
  });
});

describe('forwarder stack (GuardDuty administrator)', () => {
  it('forwards the IR rule\'s own pattern to the IR account\'s default bus', () => {
    const irRule = Object.values(s.template.findResources('AWS::Events::Rule'))[0]?.Properties as { EventPattern: unknown };
    forwarder.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: irRule.EventPattern,
      Targets: [
        Match.objectLike({
          // The IR account's bus in its home region (parameter HomeRegion; empty: this region).
          Arn: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { 'Fn::If': ['ForwardInThisRegion', { Ref: 'AWS::Region' }, { Ref: 'HomeRegion' }] }, ':', { Ref: 'IrAccountId' }, ':event-bus/default']],
          },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });
});

describe('every stack is nag-clean and lint-clean', () => {
  it('cdk-nag: zero unacknowledged findings in any stack', () => {
    const nag = s.report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`))).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(s.app).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('cfn-lint: no finding on any template (skipped when cfn-lint is not installed)', (ctx) => {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      console.warn('cfn-lint not on PATH: lint check skipped (CI runs it)');
      ctx.skip();
      return;
    }
    const files = ['IrStack', 'ResponderStack', 'ForwarderStack'].map((n) => path.join(s.outdir, `${n}.template.json`));
    const run = spawnSync('cfn-lint', files, { encoding: 'utf8', cwd: path.resolve(__dirname, '../..') });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 240_000); // cfn-lint reads every template: minutes on a loaded 2-core machine
});
