import { ACQUISITION_STEPS, type AcquisitionStep } from '../../workflows/acquisition-steps';
import { RELEASE_STEPS, type ReleaseStep } from '../../workflows/release-steps';
import { type Evaluation, evaluate, type RequestContext, type Statement } from './policy-evaluator';
import type { CfnTemplate } from './synthesis';

/**
 * The synthesized templates as a small IAM world for policy-evaluator.ts: every role with its identity policies and
 * trust policy, every bucket with its bucket policy, every KMS key with its key policy, with CloudFormation intrinsics
 * resolved for a given account, region and parameter values. `Simulator.can` then answers "may this role do this
 * action on this resource with this request context", evaluating identity and resource policies together.
 */

type Value = string | string[];
export interface Deployment {
  readonly account: string;
  readonly region: string;
  /** Values of the template's parameters (defaults apply to the others). */
  readonly parameters?: Record<string, Value>;
}

export interface RoleInfo {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly account: string;
  readonly region: string;
  readonly identity: Statement[];
  readonly trust: Statement[];
}
interface ResourcePolicy {
  readonly arn: string;
  readonly account: string;
  readonly policy: Statement[];
}
export interface World {
  readonly template: CfnTemplate;
  readonly deployment: Deployment;
  readonly roles: Map<string, RoleInfo>;
  readonly buckets: Map<string, ResourcePolicy & { name: string }>;
  readonly keys: Map<string, ResourcePolicy>;
}

type Resources = CfnTemplate['Resources'];
interface TemplateWithParameters extends CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

function refOf(resources: Resources, logicalId: string, resolve: (v: unknown) => Value): string {
  const r = resources[logicalId];
  if (!r) throw new Error(`Ref to unknown resource ${logicalId}`);
  const p = r.Properties ?? {};
  if (r.Type === 'AWS::IAM::Role' && p.RoleName !== undefined) return String(resolve(p.RoleName));
  if (r.Type === 'AWS::S3::Bucket') return `bucket-${logicalId.toLowerCase()}`;
  if (r.Type === 'AWS::KMS::Key') return `key-${logicalId}`;
  return logicalId;
}

function arnOf(resources: Resources, logicalId: string, d: Deployment, resolve: (v: unknown) => Value): string {
  const r = resources[logicalId];
  if (!r) throw new Error(`GetAtt of unknown resource ${logicalId}`);
  const ref = refOf(resources, logicalId, resolve);
  switch (r.Type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${d.account}:role/${ref}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${ref}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${d.region}:${d.account}:key/${ref}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${d.region}:${d.account}:function:${ref}`;
    default: {
      const service = r.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return `arn:aws:${service}:${d.region}:${d.account}:${logicalId}`;
    }
  }
}

/** A resolver of the intrinsics CDK emits in policies: Ref, Fn::GetAtt, Fn::Join, Fn::Split, Fn::Sub, Fn::Select. */
export function resolverFor(template: TemplateWithParameters, d: Deployment): (v: unknown) => Value {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': d.region,
    'AWS::AccountId': d.account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Stack',
    'AWS::NoValue': '',
  };
  const parameter = (name: string): Value | undefined => {
    const given = d.parameters?.[name];
    if (given !== undefined) return given;
    const def = template.Parameters?.[name];
    if (!def) return undefined;
    if (def.Default === undefined) throw new Error(`parameter ${name} has no default: give it a value`);
    return def.Type === 'CommaDelimitedList' ? def.Default.split(',') : def.Default;
  };
  const resolve = (v: unknown): Value => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return v.flatMap((x) => resolve(x));
    const o = v as Record<string, unknown>;
    if (o.Ref !== undefined) {
      const name = String(o.Ref);
      if (pseudo[name] !== undefined) return pseudo[name];
      return parameter(name) ?? refOf(template.Resources, name, resolve);
    }
    if (o['Fn::GetAtt'] !== undefined) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      return attr === 'Arn' ? arnOf(template.Resources, id, d, resolve) : `${id}.${attr}`;
    }
    if (o['Fn::Join'] !== undefined) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown];
      return ([] as string[]).concat(resolve(parts)).join(sep);
    }
    if (o['Fn::Split'] !== undefined) {
      const [sep, text] = o['Fn::Split'] as [string, unknown];
      return String(resolve(text)).split(sep);
    }
    if (o['Fn::Select'] !== undefined) {
      const [index, items] = o['Fn::Select'] as [number | string, unknown];
      return ([] as string[]).concat(resolve(items))[Number(index)] ?? '';
    }
    if (o['Fn::Sub'] !== undefined) {
      const arg = o['Fn::Sub'] as string | [string, Record<string, unknown>];
      const [text, vars] = typeof arg === 'string' ? [arg, {}] : arg;
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (vars[name] !== undefined) return String(resolve(vars[name]));
        if (name.includes('.')) {
          const [id, attr] = name.split('.') as [string, string];
          return String(resolve({ 'Fn::GetAtt': [id, attr] }));
        }
        return String(resolve({ Ref: name }));
      });
    }
    throw new Error(`unsupported intrinsic in a policy: ${JSON.stringify(v).slice(0, 200)}`);
  };
  return resolve;
}

/** Resolves every intrinsic inside a policy document (keys stay, values resolve; lists flatten). */
function resolveDeep(value: unknown, resolve: (v: unknown) => Value): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.flatMap((x) => resolveDeep(x, resolve) as unknown[] | string);
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return resolve(o);
  return Object.fromEntries(keys.map((k) => [k, resolveDeep(o[k], resolve)]));
}

const statementsOf = (doc: unknown, resolve: (v: unknown) => Value): Statement[] => {
  const d = resolveDeep(doc, resolve) as { Statement?: Statement | Statement[] } | undefined;
  const st = d?.Statement;
  return st === undefined ? [] : Array.isArray(st) ? st : [st];
};

export function worldOf(template: CfnTemplate, deployment: Deployment): World {
  const t = template as TemplateWithParameters;
  const resolve = resolverFor(t, deployment);
  const roles = new Map<string, RoleInfo>();
  const buckets = new Map<string, ResourcePolicy & { name: string }>();
  const keys = new Map<string, ResourcePolicy>();
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Role') {
      roles.set(id, {
        logicalId: id,
        name: refOf(t.Resources, id, resolve),
        arn: arnOf(t.Resources, id, deployment, resolve),
        account: deployment.account,
        region: deployment.region,
        identity: ((p.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).flatMap((x) => statementsOf(x.PolicyDocument, resolve)),
        trust: statementsOf(p.AssumeRolePolicyDocument, resolve),
      });
    }
    if (r.Type === 'AWS::S3::Bucket') {
      buckets.set(id, { name: refOf(t.Resources, id, resolve), arn: arnOf(t.Resources, id, deployment, resolve), account: deployment.account, policy: [] });
    }
    if (r.Type === 'AWS::KMS::Key') {
      keys.set(id, { arn: arnOf(t.Resources, id, deployment, resolve), account: deployment.account, policy: statementsOf(p.KeyPolicy, resolve) });
    }
  }
  for (const [, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const statements = statementsOf(p.PolicyDocument, resolve);
      for (const ref of (p.Roles as { Ref: string }[] | undefined) ?? []) {
        const role = roles.get(ref.Ref);
        if (!role) throw new Error(`policy attached to unknown role ${JSON.stringify(ref)}`);
        role.identity.push(...statements);
      }
    }
    if (r.Type === 'AWS::S3::BucketPolicy') {
      const bucketId = (p.Bucket as { Ref: string }).Ref;
      buckets.get(bucketId)?.policy.push(...statementsOf(p.PolicyDocument, resolve));
    }
  }
  return { template, deployment, roles, buckets, keys };
}

export type Context = RequestContext;

/** Several deployments (e.g. the IR stack in one account, the responder stack in another) evaluated together. */
export class Simulator {
  constructor(private readonly worlds: World[]) {}

  /** The role with this name, logical id, or Lambda function description (`Forensic acquisition: <state>`). */
  role(key: string): RoleInfo {
    for (const w of this.worlds) {
      for (const role of w.roles.values()) if (role.name === key || role.logicalId === key) return role;
      for (const [, r] of Object.entries(w.template.Resources)) {
        if (r.Type !== 'AWS::Lambda::Function' || String(r.Properties?.Description) !== key) continue;
        const roleId = (r.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
        return w.roles.get(roleId)!;
      }
    }
    throw new Error(`no role ${key}`);
  }

  acquisitionRole(step: AcquisitionStep): RoleInfo {
    return this.role(`Forensic acquisition: ${ACQUISITION_STEPS[step].state}`);
  }

  releaseRole(step: ReleaseStep): RoleInfo {
    return this.role(`Forensic release: ${RELEASE_STEPS[step].state}`);
  }

  /** Every role of every deployment. */
  allRoles(): RoleInfo[] {
    return this.worlds.flatMap((w) => [...w.roles.values()]);
  }

  bucketArn(logicalIdPart: string): string {
    for (const w of this.worlds) for (const [id, b] of w.buckets) if (id.includes(logicalIdPart)) return b.arn;
    throw new Error(`no bucket ${logicalIdPart}`);
  }

  keyArn(logicalIdPart: string): string {
    for (const w of this.worlds) for (const [id, k] of w.keys) if (id.includes(logicalIdPart)) return k.arn;
    throw new Error(`no key ${logicalIdPart}`);
  }

  bucketPolicy(logicalIdPart: string): Statement[] {
    for (const w of this.worlds) for (const [id, b] of w.buckets) if (id.includes(logicalIdPart)) return b.policy;
    throw new Error(`no bucket ${logicalIdPart}`);
  }

  /**
   * May `role` call `action` on `resource`? The resource's own policy (bucket, key, or a role's trust policy for
   * sts:AssumeRole) is found by ARN; a resource without an account in its ARN (EC2 snapshots, S3 objects) belongs to
   * `resourceAccount` (default: the bucket's account, else the role's). Defaults in the request context: the
   * principal's ARN and account, TLS, and the role's region as the requested region.
   */
  can(role: RoleInfo, action: string, resource: string, context: Context = {}, resourceAccount?: string): Evaluation {
    let resourcePolicy: Statement[] | undefined;
    let owner = resourceAccount ?? /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(resource)?.[1];
    let keyPolicy = false;
    for (const w of this.worlds) {
      for (const b of w.buckets.values()) {
        if (resource === b.arn || resource.startsWith(`${b.arn}/`)) {
          resourcePolicy = b.policy;
          owner ??= b.account;
        }
      }
      for (const k of w.keys.values()) {
        if (resource === k.arn) {
          resourcePolicy = k.policy;
          keyPolicy = true;
        }
      }
      if (action.toLowerCase().startsWith('sts:')) {
        for (const r of w.roles.values()) if (resource === r.arn) resourcePolicy = r.trust;
      }
    }
    if (keyPolicy && !resourcePolicy) throw new Error('unreachable');
    const fullContext: Context = {
      'aws:PrincipalArn': role.arn,
      'aws:PrincipalAccount': role.account,
      'aws:SecureTransport': 'true',
      'aws:RequestedRegion': role.region,
      ...context,
    };
    return evaluate(
      { identity: role.identity, ...(resourcePolicy ? { resource: resourcePolicy } : {}), resourceAccount: owner ?? role.account, keyPolicy },
      { principal: { arn: role.arn, account: role.account }, action, resource, context: fullContext },
    );
  }

  /** May a service principal (e.g. `logs.us-east-1.amazonaws.com`) call `action` on a resource with a policy? */
  canService(service: string, action: string, resource: string, context: Context = {}): Evaluation {
    for (const w of this.worlds) {
      for (const k of w.keys.values()) {
        if (resource === k.arn) {
          return evaluate({ identity: [], resource: k.policy, resourceAccount: k.account, keyPolicy: true }, { principal: { service }, action, resource, context });
        }
      }
    }
    throw new Error(`no resource policy for ${resource}`);
  }
}
