import * as fs from 'node:fs';
import * as path from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/forensic-function';
import { type CfnResource, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

/** `forensics:quarantineProfile`: the no-permission profile, and exactly the permissions the swap needs. */

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statementsBySid(json: Synthesized['json']): Map<string, Statement[]> {
  const out = new Map<string, Statement[]>();
  for (const [, p] of resourcesOfType(json, 'AWS::IAM::Policy')) {
    for (const st of list((p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)) {
      if (st.Sid) out.set(st.Sid, [...(out.get(st.Sid) ?? []), st]);
    }
  }
  return out;
}

/** The workstation has an instance profile of its own; the quarantine profile is the IR stack's `QuarantineProfile`. */
const quarantineProfiles = (json: Synthesized['json']) =>
  resourcesOfType(json, 'AWS::IAM::InstanceProfile').filter(([id]) => id.startsWith('QuarantineProfile'));

let on: Synthesized;
let off: Synthesized;
beforeAll(() => {
  on = synth({ 'forensics:quarantineProfile': true });
  off = synth();
});

const QUARANTINE_SIDS = [
  'QuarantineFindProfileAssociation',
  'QuarantineSwapInstanceProfile',
  'QuarantinePassRole',
  'ReleaseFindProfileAssociation',
  'ReleaseRestoreInstanceProfile',
  'ReleasePassOriginalRole',
];

describe('quarantine instance profile', () => {
  it('off (default): no profile, no quarantine permission', () => {
    expect(quarantineProfiles(off.json)).toEqual([]);
    const sids = statementsBySid(off.json);
    for (const sid of QUARANTINE_SIDS) expect(sids.has(sid), sid).toBe(false);
  });

  it('on: a profile whose role has no policy at all and trusts only EC2, tagged', () => {
    const profiles = quarantineProfiles(on.json);
    expect(profiles).toHaveLength(1);
    const roleRef = list((profiles[0]![1].Properties!.Roles as unknown[]))[0] as { Ref: string };
    const role = on.json.Resources[roleRef.Ref] as CfnResource;
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties!.Policies).toBeUndefined();
    // No AWS::IAM::Policy is attached to it either.
    const attached = resourcesOfType(on.json, 'AWS::IAM::Policy').filter(([, p]) =>
      list(p.Properties?.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify(roleRef)),
    );
    expect(attached).toEqual([]);
    expect(role.Properties!.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } }],
    });
    expect(role.Properties!.Tags).toContainEqual({ Key: 'forensics:role', Value: 'quarantine-profile' });
  });

  it('on: the isolate function gets the profile ARN and the default; other functions do not', () => {
    const fns = resourcesOfType(on.json, 'AWS::Lambda::Function');
    const withArn = fns.filter(([, f]) => (f.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.QUARANTINE_PROFILE_ARN);
    expect(withArn.map(([, f]) => f.Properties?.Description)).toEqual(['Forensic acquisition: Isolate network']);
    const vars = (withArn[0]![1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.DEFAULT_QUARANTINE_PROFILE).toBe('true');
    expect(JSON.stringify(vars.QUARANTINE_PROFILE_ARN)).toContain('QuarantineProfile');
  });

  it('on: PassRole only to EC2; the isolate role only on the quarantine role; instance-scoped swaps', () => {
    const sids = statementsBySid(on.json);
    for (const sid of QUARANTINE_SIDS) expect(sids.get(sid), sid).toHaveLength(1);
    const pass = sids.get('QuarantinePassRole')![0]!;
    expect(pass.Action).toBe('iam:PassRole');
    expect(JSON.stringify(pass.Resource)).toMatch(/QuarantineProfileRole.*Arn/);
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': { 'Fn::Join': ['', ['ec2.', { Ref: 'AWS::URLSuffix' }]] } } });
    const releasePass = sids.get('ReleasePassOriginalRole')![0]!;
    expect(releasePass.Condition).toEqual(pass.Condition);
    for (const sid of ['QuarantineSwapInstanceProfile', 'ReleaseRestoreInstanceProfile']) {
      expect(JSON.stringify(sids.get(sid)![0]!.Resource), sid).toMatch(/:instance\/\*"/);
    }
  });

  it('on: cdk-nag clean, and every Sid is documented in docs/permissions.md', () => {
    expect(new AwsSolutionsChecks().validateScope(on.app).violations.map((v) => v.ruleName)).toEqual([]);
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'permissions.md'), 'utf8');
    for (const sid of QUARANTINE_SIDS) expect(doc, sid).toContain(`\`${sid}\``);
  });

  it('multi-account mode refuses it at synth (single-account only for now)', () => {
    expect(() => synth({ 'forensics:quarantineProfile': true, 'forensics:workloadAccounts': ['111122223333'] })).toThrow(
      /forensics:quarantineProfile: single-account only/,
    );
  });
});
