import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/forensic-function';
import { ACQUISITION_STEP_NAMES, ACQUISITION_STEPS, type AcquisitionStep } from '../../workflows/acquisition-steps';
import { type CfnTemplate, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

/**
 * Least privilege, checked over every policy in the template (identity policies, key policy, resource policies),
 * not only the ones this project wrote: a CDK grant that widened a role would fail here.
 */

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface FoundStatement {
  where: string;
  statement: Statement;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function allStatements(json: CfnTemplate): FoundStatement[] {
  const found: FoundStatement[] = [];
  const add = (where: string, doc: unknown) => {
    for (const statement of list((doc as { Statement?: Statement[] } | undefined)?.Statement)) found.push({ where, statement });
  };
  for (const [id, r] of Object.entries(json.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') add(id, p.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const inline of list(p.Policies as { PolicyDocument: unknown }[] | undefined)) add(id, inline.PolicyDocument);
    }
    if (r.Type === 'AWS::KMS::Key') add(id, p.KeyPolicy);
    if (/::(BucketPolicy|QueuePolicy|TopicPolicy)$/.test(r.Type)) add(id, p.PolicyDocument);
  }
  return found;
}

/**
 * Actions AWS defines without any resource type (Service Authorization Reference), which therefore can only be
 * granted on "*": X-Ray trace upload, and the CloudWatch Logs delivery APIs Step Functions logging requires.
 */
const RESOURCELESS_ACTIONS = new Set([
  // Run Command: CancelCommand names a command id, which is no IAM resource (Service Authorization Reference).
  'ssm:CancelCommand',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);
/** Read-only verbs; and CloudTrail's LookupEvents (a read of management events, AWS's access level Read, no resource). */
const isReadOnly = (action: string) => /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/.test(action) || action === 'cloudtrail:LookupEvents';

let s: Synthesized;
let statements: FoundStatement[];
beforeAll(() => {
  s = synth();
  statements = allStatements(s.json);
});

const isAccountRootAdmin = (st: Statement) =>
  JSON.stringify(st.Principal ?? '').includes(':root') && list(st.Action).every((a) => a === 'kms:*');

describe('no wildcard permissions', () => {
  it('finds the policies it checks', () => {
    expect(statements.length).toBeGreaterThan(40);
  });

  it('no Allow statement grants "*" or "service:*" (the key policy\'s account-root delegation aside)', () => {
    const offenders = statements
      .filter(({ statement }) => statement.Effect === 'Allow' && !isAccountRootAdmin(statement))
      .flatMap(({ where, statement }) =>
        list(statement.Action)
          .filter((a) => a === '*' || a.endsWith(':*'))
          .map((a) => `${where}/${statement.Sid ?? '?'}: ${a}`),
      );
    expect(offenders).toEqual([]);
  });

  it('partial wildcards in actions only on read-only verbs', () => {
    const offenders = statements
      .filter(({ statement }) => statement.Effect === 'Allow' && !isAccountRootAdmin(statement))
      .flatMap(({ where, statement }) =>
        list(statement.Action)
          .filter((a) => a.includes('*') && !/^[a-z0-9-]+:(Describe|List|Get)/.test(a))
          .map((a) => `${where}/${statement.Sid ?? '?'}: ${a}`),
      );
    expect(offenders).toEqual([]);
  });

  it('Resource "*" only for read-only or resource-less actions, or with conditions', () => {
    const offenders = statements
      .filter(({ statement }) => statement.Effect === 'Allow' && !isAccountRootAdmin(statement))
      .filter(({ statement }) => list(statement.Resource).includes('*'))
      .filter(({ statement }) => statement.Condition === undefined && statement.Principal === undefined)
      .flatMap(({ where, statement }) =>
        list(statement.Action)
          .filter((a) => !isReadOnly(a) && !RESOURCELESS_ACTIONS.has(a))
          .map((a) => `${where}/${statement.Sid ?? '?'}: ${a}`),
      );
    expect(offenders).toEqual([]);
  });
});

/** The statements of one step's role, by Sid. */
function stepStatements(step: AcquisitionStep): Map<string, Statement> {
  const fn = resourcesOfType(s.json, 'AWS::Lambda::Function').find(([, r]) =>
    // Exact: the release machine has a "Notify responders" step too ("Forensic release: ...").
    String(r.Properties?.Description) === `Forensic acquisition: ${stateOf(step)}`,
  );
  if (!fn) throw new Error(`no function for ${step}`);
  const roleId = (fn[1].Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const policies = resourcesOfType(s.json, 'AWS::IAM::Policy').filter(([, p]) =>
    list(p.Properties?.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const out = new Map<string, Statement>();
  for (const [, p] of policies) {
    for (const st of list((p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)) {
      out.set(st.Sid ?? `(no sid) ${JSON.stringify(st.Action)}`, st);
    }
  }
  return out;
}
const stateOf = (step: AcquisitionStep) => ACQUISITION_STEPS[step].state;

const actionsOf = (m: Map<string, Statement>) => new Set([...m.values()].flatMap((st) => list(st.Action)));

describe('per-step least privilege', () => {
  it('only the steps that need them can touch EC2 mutations, the topic, the bucket', () => {
    const mutating = (step: AcquisitionStep) =>
      [...actionsOf(stepStatements(step))].filter((a) => /^(ec2|autoscaling|elasticloadbalancing):/.test(a) && !isReadOnly(a)).sort();
    expect(mutating('triage')).toEqual([]);
    expect(mutating('sealEvidence')).toEqual([]);
    expect(mutating('notify')).toEqual([]);
    expect(mutating('closeCase')).toEqual([]);
    // A memory capture the failure interrupted: the ENIs back to the isolation group.
    expect(mutating('recordFailure')).toEqual(['ec2:ModifyNetworkInterfaceAttribute']);
    // The memory capture's stages (attach, detach, snapshot of the capture volume, ENIs back to isolation).
    expect(mutating('checkSnapshots')).toEqual(['ec2:AttachVolume', 'ec2:CreateSnapshot', 'ec2:CreateTags', 'ec2:DetachVolume', 'ec2:ModifyNetworkInterfaceAttribute']);
    expect(mutating('copyEvidence')).toEqual(['ec2:CopySnapshot', 'ec2:CreateTags', 'ec2:LockSnapshot']);
    // Multi-account: the IR-owned copy of the shared snapshot and its lock (single-account: deferred copies).
    expect(mutating('checkEvidenceCopies')).toEqual(['ec2:CopySnapshot', 'ec2:CreateTags', 'ec2:LockSnapshot']);
    for (const step of ACQUISITION_STEP_NAMES) {
      const publishes = actionsOf(stepStatements(step)).has('sns:Publish');
      expect(publishes, step).toBe(step === 'notify' || step === 'recordFailure');
      const deletes = actionsOf(stepStatements(step)).has('dynamodb:DeleteItem');
      expect(deletes, step).toBe(step === 'recordFailure');
    }
  });

  it('triage only reads, apart from the case table it opens the case in', () => {
    for (const action of actionsOf(stepStatements('triage'))) {
      // The case table and its key (the table is encrypted with the evidence key).
      const caseTable = /^dynamodb:(PutItem|ConditionCheckItem|GetItem|UpdateItem)$/.test(action) || /^kms:(Decrypt|DescribeKey|Encrypt|GenerateDataKey)$/.test(action);
      expect(caseTable || isReadOnly(action) || RESOURCELESS_ACTIONS.has(action) || /^logs:(CreateLogStream|PutLogEvents)$/.test(action), action).toBe(true);
    }
  });

  it('tagging is only at creation, or limited to the product\'s tag keys', () => {
    for (const step of ACQUISITION_STEP_NAMES) {
      for (const [sid, st] of stepStatements(step)) {
        if (st.Effect !== 'Allow' || !list(st.Action).includes('ec2:CreateTags')) continue;
        const c = st.Condition ?? {};
        const atCreation = typeof c.StringEquals?.['ec2:CreateAction'] === 'string';
        const ourKeys = JSON.stringify(c['ForAllValues:StringLike']?.['aws:TagKeys']) === JSON.stringify(['forensics:*']);
        expect(atCreation || ourKeys, `${step}/${sid}`).toBe(true);
      }
    }
  });

  it('isolation can change rules only on groups carrying the product\'s role tag', () => {
    const st = stepStatements('isolateNetwork');
    for (const sid of ['IsolateRulesOnOwnGroups', 'IsolateCreateTaggedGroup']) {
      expect(JSON.stringify(st.get(sid)?.Condition), sid).toMatch(/"Null":\{"aws:(Resource|Request)Tag\/forensics:role":"false"\}/);
    }
  });

  it('every KMS permission of a step goes through one named service; grants only for AWS resources', () => {
    for (const step of ACQUISITION_STEP_NAMES) {
      for (const [sid, st] of stepStatements(step)) {
        // Listing keys and aliases and reading a key policy (the scope's inventory and rotate list) use no key.
        if (!list(st.Action).some((a) => a.startsWith('kms:') && !/^kms:(List(Keys|Aliases)|GetKeyPolicy)$/.test(a))) continue;
        expect(JSON.stringify(st.Condition?.StringEquals?.['kms:ViaService']), `${step}/${sid}`).toMatch(
          /"(ec2|s3|dynamodb|sns)\.",\{"Ref":"AWS::Region"\},"\.amazonaws\.com"/,
        );
        if (list(st.Action).includes('kms:CreateGrant')) {
          expect(st.Condition?.Bool?.['kms:GrantIsForAWSResource'], `${step}/${sid}`).toBe('true');
        }
      }
    }
  });

  it('every statement this project wrote has a Sid documented in docs/permissions.md', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'permissions.md'), 'utf8');
    const sids = ACQUISITION_STEP_NAMES.flatMap((step) => [...stepStatements(step).keys()]).filter((sid) => !sid.startsWith('('));
    expect(sids.length).toBeGreaterThan(40);
    for (const sid of sids) expect(doc, sid).toContain(`\`${sid}\``);
  });
});
