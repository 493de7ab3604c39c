/**
 * Turns the state machine definition CDK synthesized into plain ASL JSON: the template's DefinitionString is a
 * Fn::Join over literal text and references (function ARNs, the partition...). Each reference is replaced by a
 * placeholder ARN, so the local runner, the definition tests and the benchmark execute exactly the definition
 * that would be deployed.
 */
export interface RenderContext {
  region: string;
  accountId: string;
  partition?: string;
}

type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

export class DefinitionNotFound extends Error {
  override readonly name = 'DefinitionNotFound';
}

function resolveIntrinsic(value: unknown, template: Template, ctx: RenderContext): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Ref' in obj) {
      const ref = String(obj.Ref);
      if (ref === 'AWS::Partition') return ctx.partition ?? 'aws';
      if (ref === 'AWS::Region') return ctx.region;
      if (ref === 'AWS::AccountId') return ctx.accountId;
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
      return placeholderFor(ref, template, ctx);
    }
    if ('Fn::GetAtt' in obj) {
      const [logicalId] = obj['Fn::GetAtt'] as [string, string];
      return placeholderFor(logicalId, template, ctx);
    }
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveIntrinsic(p, template, ctx)).join(sep);
    }
  }
  throw new DefinitionNotFound(`unsupported intrinsic in definition: ${JSON.stringify(value).slice(0, 200)}`);
}

function placeholderFor(logicalId: string, template: Template, ctx: RenderContext): string {
  const resource = template.Resources?.[logicalId];
  const partition = ctx.partition ?? 'aws';
  switch (resource?.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${ctx.region}:${ctx.accountId}:function:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${ctx.region}:${ctx.accountId}:${logicalId}`;
    case 'AWS::DynamoDB::Table':
      return logicalId;
    default:
      return `arn:${partition}:placeholder:${ctx.region}:${ctx.accountId}:${logicalId}`;
  }
}

/** Finds the (single, or named) state machine in a synthesized template and returns its ASL. */
export function renderDefinition(
  template: Template,
  ctx: RenderContext,
  logicalIdContains?: string,
): Record<string, unknown> {
  const machines = Object.entries(template.Resources ?? {}).filter(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && (!logicalIdContains || id.includes(logicalIdContains)),
  );
  const [entry] = machines;
  if (!entry || machines.length > 1) {
    throw new DefinitionNotFound(`expected one state machine, found ${machines.length}`);
  }
  const definition = entry[1].Properties?.DefinitionString;
  return JSON.parse(resolveIntrinsic(definition, template, ctx)) as Record<string, unknown>;
}
