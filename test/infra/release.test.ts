import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_SERVICE_ERRORS, THROTTLING_ERRORS, TRANSIENT_SERVER_ERRORS } from '../../handlers/domain/errors';
import { PROJECT_ROOT } from '../../infra/constructs/forensic-function';
import { IR_STACK_OUTPUTS } from '../../infra/ir-stack';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { RELEASE_CONTROL_STATES, RELEASE_STEP_NAMES, RELEASE_STEPS, RELEASE_TIMEOUT_MINUTES, type ReleaseStep } from '../../workflows/release-steps';
import { aslValidator, renderAsl, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[]; JitterStrategy?: string; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  ErrorPath?: string;
  CausePath?: string;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
}
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

let s: Synthesized;
let asl: Definition;
let acquisition: Definition;
beforeAll(() => {
  s = synth();
  asl = renderAsl(s.json, 'ReleaseStateMachine') as unknown as Definition;
  acquisition = renderAsl(s.json) as unknown as Definition;
});

const state = (name: string): State => {
  const found = asl.States[name];
  if (!found) throw new Error(`no state "${name}"`);
  return found;
};

describe('release state machine definition', () => {
  it('is valid ASL (asl-validator, including ARN and path checks)', () => {
    const result = aslValidator(asl, { checkPaths: true, checkArn: true });
    expect(result.errors, result.errorsText('\n')).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('validates first, then releases, then notifies', () => {
    expect(asl.StartAt).toBe(RELEASE_STEPS.validateRelease.state);
    expect(state(RELEASE_STEPS.validateRelease.state).Next).toBe(RELEASE_STEPS.releaseContainment.state);
    expect(state(RELEASE_STEPS.releaseContainment.state).Next).toBe(RELEASE_STEPS.notifyRelease.state);
    expect(state(RELEASE_STEPS.notifyRelease.state).Next).toBe(RELEASE_CONTROL_STATES.released);
    expect(state(RELEASE_CONTROL_STATES.released).Type).toBe('Succeed');
  });

  it('every Task retries throttling with the acquisition\'s rule (full jitter) and catches everything', () => {
    const tasks = Object.entries(asl.States).filter(([, st]) => st.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual(Object.values(RELEASE_STEPS).map((st) => st.state).sort());
    // The shared rule of the acquisition steps after a change (triage and describe retry longer, by error kind).
    const acquisitionRule = acquisition.States[ACQUISITION_STEPS.preserveAndSnapshot.state]?.Retry?.[0];
    for (const [name, task] of tasks) {
      const throttling = (task.Retry ?? []).find((r) => THROTTLING_ERRORS.every((e) => r.ErrorEquals.includes(e)));
      expect(throttling, `${name}: Retry on throttling`).toBeDefined();
      expect(throttling?.ErrorEquals, name).toEqual([...THROTTLING_ERRORS, ...TRANSIENT_SERVER_ERRORS, ...LAMBDA_SERVICE_ERRORS]);
      expect(throttling?.JitterStrategy, name).toBe('FULL');
      expect(throttling, `${name}: same rule as the acquisition`).toEqual(acquisitionRule);
      expect(task.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')), `${name}: Catch States.ALL`).toBe(true);
      expect(JSON.stringify(task)).toMatch(/arn:aws:lambda:[^"]+:function:/);
    }
  });

  it('refusals fail the execution with their own error name; later failures are recorded first', () => {
    const validate = state(RELEASE_STEPS.validateRelease.state);
    const refused = state(validate.Catch![0]!.Next);
    expect(refused).toMatchObject({ Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' });
    const release = state(RELEASE_STEPS.releaseContainment.state);
    expect(release.Catch![0]).toMatchObject({ Next: RELEASE_STEPS.recordReleaseFailure.state, ResultPath: '$.failure' });
    const record = state(RELEASE_STEPS.recordReleaseFailure.state);
    expect(state(record.Next!)).toMatchObject({ Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' });
    expect(state(record.Catch![0]!.Next).Type).toBe('Fail');
    // Notification is best effort: its Catch ends the release as succeeded.
    expect(state(RELEASE_STEPS.notifyRelease.state).Catch![0]).toMatchObject({ Next: RELEASE_CONTROL_STATES.released, ResultPath: '$.notificationFailure' });
  });

  it('has an execution timeout', () => {
    expect(asl.TimeoutSeconds).toBe(RELEASE_TIMEOUT_MINUTES * 60);
  });
});

describe('release state machine resource', () => {
  it('Standard, logging ALL with execution data to an encrypted, retained log group, X-Ray tracing', () => {
    const [, sm] = resourcesOfType(s.json, 'AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith('ReleaseStateMachine'))!;
    expect(sm.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const destination = JSON.stringify((sm.Properties!.LoggingConfiguration as { Destinations: unknown }).Destinations);
    const logGroup = s.json.Resources[/"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/.exec(destination)![1]!]!;
    expect(logGroup.Properties?.KmsKeyId).toBeDefined();
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });

  it('is exported as ReleaseStateMachineArn', () => {
    const [id] = resourcesOfType(s.json, 'AWS::StepFunctions::StateMachine').find(([i]) => i.startsWith('ReleaseStateMachine'))!;
    expect(IR_STACK_OUTPUTS.releaseStateMachineArn).toBe('ReleaseStateMachineArn');
    expect(s.json.Outputs?.ReleaseStateMachineArn?.Value).toEqual({ Ref: id });
  });
});

/** The statements of one release step's role, by Sid. */
function releaseStatements(step: ReleaseStep): Map<string, Statement> {
  const fn = resourcesOfType(s.json, 'AWS::Lambda::Function').find(
    ([, r]) => r.Properties?.Description === `Forensic release: ${RELEASE_STEPS[step].state}`,
  );
  if (!fn) throw new Error(`no function for ${step}`);
  const roleId = (fn[1].Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const out = new Map<string, Statement>();
  for (const [, p] of resourcesOfType(s.json, 'AWS::IAM::Policy')) {
    if (!list(p.Properties?.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) continue;
    for (const st of list((p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)) {
      out.set(st.Sid ?? `(no sid) ${JSON.stringify(st.Action)}`, st);
    }
  }
  return out;
}
const allowed = (step: ReleaseStep) =>
  [...new Set([...releaseStatements(step).values()].filter((st) => st.Effect === 'Allow').flatMap((st) => list(st.Action)))]
    .filter((a) => !/^(logs|xray):/.test(a))
    .sort();

describe('release least privilege', () => {
  it('each release step holds exactly the calls it makes', () => {
    const custody = ['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention'];
    expect(allowed('validateRelease')).toEqual(['dynamodb:GetItem', 'kms:Decrypt', 'kms:DescribeKey']);
    expect(allowed('releaseContainment')).toEqual(
      [
        'autoscaling:ExitStandby',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'ec2:ModifyNetworkInterfaceAttribute',
        'elasticloadbalancing:RegisterTargets',
        'iam:DeleteRolePolicy',
        'iam:ListRolePolicies',
        'iam:UntagRole',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        ...custody,
      ].sort(),
    );
    expect(allowed('notifyRelease')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish']);
    expect(allowed('recordReleaseFailure')).toEqual(
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'sns:Publish', ...custody].sort(),
    );
  });

  it('no release role can touch snapshots, shorten retention, or delete evidence', () => {
    // s3:PutObjectRetention is held only to write each custody record with its own retention: on an existing object
    // it can extend a retention, never shorten one (COMPLIANCE: nobody can; GOVERNANCE: only with
    // s3:BypassGovernanceRetention, which no role holds).
    for (const step of RELEASE_STEP_NAMES) {
      for (const action of allowed(step)) {
        expect(action, step).not.toMatch(/Snapshot|DeleteObject|BypassGovernance|kms:ScheduleKeyDeletion/);
      }
    }
  });

  it('the release step cannot change its own role (explicit deny, as the isolate step)', () => {
    const deny = releaseStatements('releaseContainment').get('ReleaseNotOnOwnRole');
    expect(deny?.Effect).toBe('Deny');
    expect(list(deny?.Action).sort()).toEqual(['iam:DeleteRolePolicy', 'iam:PutRolePolicy', 'iam:TagRole', 'iam:UntagRole']);
    expect(JSON.stringify(deny?.Resource)).toMatch(/ReleaseContainmentStepRole[0-9A-F]+","Arn"/);
  });

  it('every KMS permission goes through one named service', () => {
    for (const step of RELEASE_STEP_NAMES) {
      for (const [sid, st] of releaseStatements(step)) {
        if (!list(st.Action).some((a) => a.startsWith('kms:'))) continue;
        expect(JSON.stringify(st.Condition?.StringEquals?.['kms:ViaService']), `${step}/${sid}`).toMatch(
          /"(s3|dynamodb|sns)\.",\{"Ref":"AWS::Region"\},"\.amazonaws\.com"/,
        );
      }
    }
  });

  it('every release statement has a Sid documented in docs/permissions.md', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'permissions.md'), 'utf8');
    const sids = RELEASE_STEP_NAMES.flatMap((step) => [...releaseStatements(step).keys()]).filter((sid) => !sid.startsWith('('));
    expect(sids.length).toBeGreaterThan(15);
    for (const sid of sids) expect(doc, sid).toContain(`\`${sid}\``);
  });
});
