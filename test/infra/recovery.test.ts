import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_SERVICE_ERRORS, THROTTLING_ERRORS, TRANSIENT_ERRORS, TRANSIENT_SERVER_ERRORS } from '../../handlers/domain/errors';
import { MAX_AUTOMATIC_REDRIVES } from '../../handlers/domain/redrive';
import { PROJECT_ROOT } from '../../infra/constructs/forensic-function';
import { HISTORY_BUDGET_OPTIONS } from '../../workflows/acquisition-state-machine';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { type CfnResource, type CfnTemplate, PLACEHOLDER, renderAsl, resourcesOfType, synth } from '../support/synthesis';

/**
 * In the synthesized template: the retry windows of the steps before any change, the rule and the
 * redrive function with its least-privilege role (evaluated on concrete ARNs), and the alarms to the case topic.
 */
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
type Asl = { States: Record<string, { Type: string; Retry?: Retrier[] }> };

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

let json: CfnTemplate;
let asl: Asl;
beforeAll(() => {
  json = synth().json;
  asl = renderAsl(json) as unknown as Asl;
});

const only = (type: string, pred: (id: string, r: CfnResource) => boolean = () => true): [string, CfnResource] => {
  const found = resourcesOfType(json, type).filter(([id, r]) => pred(id, r));
  expect(found.map(([id]) => id), type).toHaveLength(1);
  return found[0]!;
};
const logicalId = (prefix: string, type: string) => only(type, (id) => id.startsWith(prefix))[0];

/** A CloudFormation value with references replaced by the placeholders the definition tests use. */
function concrete(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(concrete).join(sep);
  }
  if (v.Ref === 'AWS::Partition') return PLACEHOLDER.partition;
  if (v.Ref === 'AWS::Region') return PLACEHOLDER.region;
  if (v.Ref === 'AWS::AccountId') return PLACEHOLDER.account;
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    if (attr === 'Name') return id;
    if (json.Resources[id]?.Type === 'AWS::Lambda::Function') return `arn:aws:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:${id}`;
    return `arn:aws:placeholder:${PLACEHOLDER.region}:${PLACEHOLDER.account}:${id}`;
  }
  if (typeof v.Ref === 'string') return v.Ref;
  throw new Error(`unsupported value ${JSON.stringify(value)}`);
}

/** IAM's wildcard match of one resource pattern. */
const matches = (pattern: string, arn: string) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(arn);

/** Whether the role's identity policies allow `action` on `arn` (no Deny in these roles; conditions ignored). */
function allows(statements: Statement[], action: string, arn: string): boolean {
  return statements.some(
    (st) => st.Effect === 'Allow' && list(st.Action).includes(action) && list(st.Resource).some((r) => matches(concrete(r), arn)),
  );
}

/** Worst-case wait of a retrier: every retry at its full (un-jittered) interval, capped at MaxDelaySeconds. */
const window = (r: Retrier) =>
  Array.from({ length: r.MaxAttempts ?? 3 }, (_, k) => Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k, r.MaxDelaySeconds ?? Infinity)).reduce((a, b) => a + b, 0);

describe('retry windows', () => {
  it('triage (which describes the instance) retries each kind of transient error on its own rule, longer, with full jitter', () => {
    for (const name of [ACQUISITION_STEPS.triage.state]) {
      const retry = asl.States[name]?.Retry ?? [];
      const rule = (errors: readonly string[]) => retry.find((r) => errors.every((e) => r.ErrorEquals.includes(e)));
      for (const [kind, errors, minAttempts] of [
        ['throttling', THROTTLING_ERRORS, 10],
        ['transient server', TRANSIENT_SERVER_ERRORS, 10],
        ['Lambda service', LAMBDA_SERVICE_ERRORS, 8],
      ] as const) {
        const r = rule(errors);
        expect(r, `${name}: ${kind}`).toBeDefined();
        expect(r?.JitterStrategy, `${name}: ${kind}`).toBe('FULL');
        expect(r?.MaxAttempts, `${name}: ${kind}`).toBeGreaterThanOrEqual(minAttempts);
      }
      // Throttling and 5xx: about ten minutes of backoff before the error is let through to the redrive.
      expect(window(rule(THROTTLING_ERRORS)!)).toBeGreaterThanOrEqual(600);
      expect(window(rule(TRANSIENT_SERVER_ERRORS)!)).toBeGreaterThanOrEqual(600);
      // Every transient error the redrive function acts on is retried here first.
      for (const e of TRANSIENT_ERRORS) expect(retry.some((r) => r.ErrorEquals.includes(e)), `${name} retries ${e}`).toBe(true);
    }
  });

  it('the steps after a change keep the shared, shorter rule (6 attempts, 60 s apart at most)', () => {
    const preserve = asl.States[ACQUISITION_STEPS.preserveAndSnapshot.state]?.Retry ?? [];
    expect(preserve).toHaveLength(1);
    expect(preserve[0]).toMatchObject({ MaxAttempts: 6, MaxDelaySeconds: 60, JitterStrategy: 'FULL' });
  });
});

describe('redrive of failed executions', () => {
  const machineId = () => logicalId('AcquisitionStateMachine', 'AWS::StepFunctions::StateMachine');
  const redriveFunction = () => only('AWS::Lambda::Function', (_, r) => String(r.Properties?.Description).includes('Redrive failed acquisition'));
  const redriveStatements = (): Statement[] => {
    const roleId = (redriveFunction()[1].Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    return resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => list(p.Properties?.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
      .flatMap(([, p]) => list((p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement));
  };

  it('an EventBridge rule on FAILED and TIMED_OUT executions of the acquisition state machine invokes the redrive function', () => {
    const [, rule] = only('AWS::Events::Rule', (_, r) => JSON.stringify(r.Properties?.EventPattern).includes('aws.states'));
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT'], stateMachineArn: [{ Ref: machineId() }] },
    });
    const [target] = rule.Properties!.Targets as { Arn: unknown; DeadLetterConfig?: unknown; RetryPolicy?: unknown }[];
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': [redriveFunction()[0], 'Arn'] });
    expect(target?.DeadLetterConfig).toBeDefined();
    expect(target?.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 185 });
  });

  it('the function is told the machine, the Record failure function and the same redrive bound the history budget counts', () => {
    const env = (redriveFunction()[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    const recordFailure = only('AWS::Lambda::Function', (_, r) => r.Properties?.Description === `Forensic acquisition: ${ACQUISITION_STEPS.recordFailure.state}`)[0];
    expect(env.ACQUISITION_STATE_MACHINE_ARN).toEqual({ Ref: machineId() });
    expect(env.RECORD_FAILURE_FUNCTION_NAME).toEqual({ Ref: recordFailure });
    expect(env.MAX_REDRIVES).toBe(String(MAX_AUTOMATIC_REDRIVES));
    expect(HISTORY_BUDGET_OPTIONS.maxRedrives).toBe(MAX_AUTOMATIC_REDRIVES);
  });

  it('its role may read and redrive executions of the acquisition state machine only, invoke Record failure only, note the case', () => {
    // Prepare
    const statements = redriveStatements();
    const { region, account } = PLACEHOLDER;
    const own = `arn:aws:states:${region}:${account}:execution:${machineId()}:guardduty-7f3e`;
    const release = `arn:aws:states:${region}:${account}:execution:${logicalId('ReleaseStateMachine', 'AWS::StepFunctions::StateMachine')}:release-1`;
    const recordFailure = only('AWS::Lambda::Function', (_, r) => r.Properties?.Description === `Forensic acquisition: ${ACQUISITION_STEPS.recordFailure.state}`)[0];
    const isolate = only('AWS::Lambda::Function', (_, r) => r.Properties?.Description === `Forensic acquisition: ${ACQUISITION_STEPS.isolateNetwork.state}`)[0];
    const fn = (id: string) => `arn:aws:lambda:${region}:${account}:function:${id}`;
    // Act / Assess
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:RedriveExecution']) {
      expect(allows(statements, action, own), action).toBe(true);
      expect(allows(statements, action, release), `${action} on the release machine`).toBe(false);
    }
    for (const action of ['states:StartExecution', 'states:StopExecution']) expect(allows(statements, action, own), action).toBe(false);
    expect(allows(statements, 'lambda:InvokeFunction', fn(recordFailure))).toBe(true);
    expect(allows(statements, 'lambda:InvokeFunction', fn(isolate))).toBe(false);
    const actions = new Set(statements.flatMap((st) => list(st.Action)));
    expect([...actions].sort()).toEqual(
      [
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:RedriveExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const kms = statements.find((st) => list(st.Action).includes('kms:Encrypt'));
    expect(JSON.stringify(kms?.Condition)).toContain('"dynamodb.",{"Ref":"AWS::Region"}');
  });

  it('every statement of its role has a Sid documented in docs/permissions.md', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'permissions.md'), 'utf8');
    const sids = redriveStatements().flatMap((st) => (st.Sid ? [st.Sid] : []));
    expect(sids.length).toBe(4);
    for (const sid of sids) expect(doc, sid).toContain(`\`${sid}\``);
  });
});

describe('alarms', () => {
  const topic = () => logicalId('Topic', 'AWS::SNS::Topic');

  it('failed or timed-out acquisitions alarm to the case topic (ExecutionsFailed + ExecutionsTimedOut of the acquisition machine)', () => {
    const [, alarm] = only('AWS::CloudWatch::Alarm', (_, r) => JSON.stringify(r.Properties?.Metrics ?? '').includes('ExecutionsFailed'));
    const p = alarm.Properties!;
    expect(p.AlarmActions).toEqual([{ Ref: topic() }]);
    expect(p).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const metrics = p.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] }; Stat: string } }[];
    const stat = (name: string) => metrics.find((m) => m.MetricStat?.Metric.MetricName === name)?.MetricStat;
    for (const name of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(stat(name)?.Metric).toEqual({
        MetricName: name,
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId('AcquisitionStateMachine', 'AWS::StepFunctions::StateMachine') } }],
      });
      expect(stat(name)?.Stat).toBe('Sum');
    }
    const expression = metrics.find((m) => m.Expression)?.Expression ?? '';
    for (const m of metrics.filter((x) => x.MetricStat)) expect(expression).toContain(m.Id);
  });

  it('errors of the redrive function alarm to the case topic', () => {
    const [, alarm] = only('AWS::CloudWatch::Alarm', (_, r) => r.Properties?.MetricName === 'Errors');
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1, AlarmActions: [{ Ref: topic() }] });
    const fnId = only('AWS::Lambda::Function', (_, r) => String(r.Properties?.Description).includes('Redrive failed acquisition'))[0];
    expect(alarm.Properties?.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: fnId } }]);
  });

  it('CloudWatch may publish to the encrypted topic for these alarms only (topic policy and key policy)', () => {
    const topicPolicy = only('AWS::SNS::TopicPolicy')[1].Properties!.PolicyDocument as { Statement: Statement[] };
    const keyPolicy = only('AWS::KMS::Key', (id) => id.startsWith('EvidenceKey'))[1].Properties!.KeyPolicy as { Statement: Statement[] };
    const publish = topicPolicy.Statement.find((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'));
    const key = keyPolicy.Statement.find((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'));
    expect(publish?.Action).toBe('sns:Publish');
    expect(list(key?.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const st of [publish, key]) {
      expect(concrete(st?.Condition?.ArnLike?.['aws:SourceArn'])).toBe(`arn:aws:cloudwatch:${PLACEHOLDER.region}:${PLACEHOLDER.account}:alarm:ForensicAcquisition-*`);
      expect(concrete(st?.Condition?.StringEquals?.['aws:SourceAccount'])).toBe(PLACEHOLDER.account);
    }
    const alarmNames = resourcesOfType(json, 'AWS::CloudWatch::Alarm').map(([, r]) => String(r.Properties?.AlarmName));
    for (const name of alarmNames) expect(name.startsWith('ForensicAcquisition-'), name).toBe(true);
  });
});
