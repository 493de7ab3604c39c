import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuiltApp, buildApp } from '../../infra/app';

/**
 * Synthesize the IR app in-process, as `cdk synth` would (cdk.json context, cdk-nag plugin), with esbuild
 * bundling skipped: these tests are about the template, and skipping keeps each synthesis to a few seconds.
 */
export interface Synthesized extends BuiltApp {
  readonly json: CfnTemplate;
  readonly template: Template;
  /** CDK's policy validation report (cdk-nag's findings land here). */
  readonly report: ValidationReport;
  readonly outdir: string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}
export interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: { ruleName: string; severity: string }[] }[];
}

/**
 * Synthesized apps, one per context. A synthesis with cdk-nag costs seconds of CPU, and most infra test files
 * synthesize the default configuration: the infra project runs its files in one module context per worker
 * (vitest.config.ts, `isolate: false`), so each configuration is synthesized once per worker, not once per file.
 * The result is shared: treat it as read-only (assertions only; no construct added after synthesis).
 */
const synthesized = new Map<string, Synthesized>();

export function synth(context: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));
  const cached = synthesized.get(key);
  if (cached) return cached;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ir-stack-test-'));
  const built = buildApp({ 'aws:cdk:bundling-stacks': [], ...context }, { outdir });
  const assembly = built.app.synth();
  const json = assembly.getStackArtifact(built.stack.artifactId).template as CfnTemplate;
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  const result: Synthesized = { ...built, json, template: Template.fromJSON(json), report, outdir };
  synthesized.set(key, result);
  return result;
}

export function resourcesOfType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '123456789012' } as const;

/**
 * A state machine's DefinitionString as ASL (the acquisition's unless another logical-id part is given): Fn::Join over literal text and references, each reference replaced
 * by a placeholder ARN of the right service (so asl-validator's ARN check is meaningful).
 */
export function renderAsl(json: CfnTemplate, logicalIdContains = 'AcquisitionStateMachine'): Record<string, unknown> {
  // The template holds the acquisition and the release state machines: pick one by logical id.
  const machines = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').filter(([id]) => id.includes(logicalIdContains));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition = machines[0]![1].Properties?.DefinitionString;
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    const ref = v.Ref ?? (Array.isArray(v['Fn::GetAtt']) ? (v['Fn::GetAtt'] as string[])[0] : undefined);
    if (ref === 'AWS::Partition') return PLACEHOLDER.partition;
    if (ref === 'AWS::Region') return PLACEHOLDER.region;
    if (ref === 'AWS::AccountId') return PLACEHOLDER.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (typeof ref === 'string') {
      const type = json.Resources[ref]?.Type;
      if (type === 'AWS::Lambda::Function') {
        return `arn:aws:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:${ref}`;
      }
      return `arn:aws:placeholder:${PLACEHOLDER.region}:${PLACEHOLDER.account}:${ref}`;
    }
    throw new Error(`unsupported intrinsic in DefinitionString: ${JSON.stringify(value).slice(0, 200)}`);
  };
  return JSON.parse(resolve(definition)) as Record<string, unknown>;
}

/** asl-validator, typed by test/support/asl-validator.d.ts. */
export { default as aslValidator } from 'asl-validator';
