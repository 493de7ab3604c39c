/**
 * The Lambda environment of each step's function, read from the synthesized IR template and resolved against a
 * deployment's stack outputs: what the local runner gives the handlers, so that what runs locally is configured
 * exactly as what `cdk deploy` would deploy from the same configuration ("run-local is not the deployment").
 *
 * A value in a function's `Environment.Variables` is a literal (a setting from cdk.json or `-c`), a pseudo parameter
 * (`AWS::AccountId`, …) or a reference to a resource of the stack (`Ref`, `Fn::GetAtt`, `Fn::Join` of those). A
 * reference is resolved through the template's Outputs: an output whose value is that reference names the resource,
 * and the deployment's value of that output is its physical name or ARN. A reference no output names is an error
 * naming the function and the variable, so a new resource in the environment cannot be silently left unresolved.
 */

export interface CfnTemplate {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface PseudoParameters {
  accountId: string;
  region: string;
  partition?: string;
  urlSuffix?: string;
}

/** Variables for the Lambda runtime itself, not the handlers' configuration: never set in the local process. */
export const RUNTIME_VARIABLES: readonly string[] = ['NODE_OPTIONS'];

export class UnresolvedEnvironment extends Error {
  override readonly name = 'UnresolvedEnvironment';
}

/** `Ref:Logical` or `GetAtt:Logical.Attribute`: a resource reference, spelled one way whatever the JSON form. */
function referenceKey(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length !== 1) return undefined;
  if (typeof obj.Ref === 'string') return `Ref:${obj.Ref}`;
  const getAtt = obj['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) return `GetAtt:${String(getAtt[0])}.${String(getAtt[1])}`;
  if (typeof getAtt === 'string') return `GetAtt:${getAtt}`;
  return undefined;
}

/**
 * The physical value of every reference an output names, from the deployment's output values. An output whose value
 * is a `Fn::Join` of references (e.g. the workstation subnets) gives each reference its part of the joined value.
 */
export function referencesFromOutputs(template: CfnTemplate, outputs: Readonly<Record<string, string>>): Map<string, string> {
  const refs = new Map<string, string>();
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    const value = outputs[key];
    if (value === undefined) continue;
    const direct = referenceKey(output.Value);
    if (direct) {
      refs.set(direct, value);
      continue;
    }
    const join = (output.Value as Record<string, unknown> | null)?.['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      const [separator, parts] = join as [string, unknown[]];
      const keys = parts.map(referenceKey);
      const values = separator === '' ? [value] : value.split(separator);
      if (keys.every((k): k is string => k !== undefined) && values.length === keys.length) {
        keys.forEach((k, i) => {
          refs.set(k, values[i] as string);
        });
      }
    }
  }
  return refs;
}

/** Resolves one environment value; `where` names it in the error. */
export function resolveValue(value: unknown, refs: ReadonlyMap<string, string>, pseudo: PseudoParameters, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const key = referenceKey(value);
  if (key) {
    switch (key) {
      case 'Ref:AWS::AccountId':
        return pseudo.accountId;
      case 'Ref:AWS::Region':
        return pseudo.region;
      case 'Ref:AWS::Partition':
        return pseudo.partition ?? 'aws';
      case 'Ref:AWS::URLSuffix':
        return pseudo.urlSuffix ?? 'amazonaws.com';
      default: {
        const found = refs.get(key);
        if (found === undefined) {
          throw new UnresolvedEnvironment(
            `${where}: ${JSON.stringify(value)} names a resource that no stack output names (add an output for it, and its emulator counterpart)`,
          );
        }
        return found;
      }
    }
  }
  const join = (value as Record<string, unknown> | null)?.['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map((part) => resolveValue(part, refs, pseudo, where)).join(join[0]);
  }
  throw new UnresolvedEnvironment(`${where}: unsupported intrinsic ${JSON.stringify(value).slice(0, 200)}`);
}

/** The resolved environment of one function of the template. */
export function functionEnvironment(
  template: CfnTemplate,
  logicalId: string,
  outputs: Readonly<Record<string, string>>,
  pseudo: PseudoParameters,
): Record<string, string> {
  const resource = template.Resources?.[logicalId];
  if (resource?.Type !== 'AWS::Lambda::Function') {
    throw new UnresolvedEnvironment(`${logicalId}: not a Lambda function of the template`);
  }
  const variables = ((resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const refs = referencesFromOutputs(template, outputs);
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, resolveValue(value, refs, pseudo, `${logicalId} ${name}`)]),
  );
}

/**
 * The one process environment of the local handlers, which run in one process: every function's variables (bar the
 * runtime's own). A variable two functions set differently cannot be given to both and is an error. A variable only
 * some functions have (the workstation step's forensic VPC, the isolate step's quarantine profile) is visible to
 * the others too, which read only what their own schema names.
 */
export function processEnvironment(functions: readonly { logicalId: string; variables: Readonly<Record<string, string>> }[]): Record<string, string> {
  const merged: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const { logicalId, variables } of functions) {
    for (const [name, value] of Object.entries(variables)) {
      if (RUNTIME_VARIABLES.includes(name)) continue;
      if (name in merged && merged[name] !== value) {
        throw new UnresolvedEnvironment(
          `${name}: ${from[name]} has ${JSON.stringify(merged[name])}, ${logicalId} has ${JSON.stringify(value)}; the local runner runs every handler in one process with one environment`,
        );
      }
      merged[name] = value;
      from[name] = logicalId;
    }
  }
  return merged;
}

/** The template's outputs the deployment has no value for (a local deployment must provide every one). */
export function missingOutputs(template: CfnTemplate, outputs: Readonly<Record<string, string>>): string[] {
  return Object.keys(template.Outputs ?? {}).filter((key) => outputs[key] === undefined);
}
