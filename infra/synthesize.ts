import type { CfnElement } from 'aws-cdk-lib';
import { ACQUISITION_STEP_NAMES, ACQUISITION_STEPS } from '../workflows/acquisition-steps';
import { RELEASE_STEP_NAMES, RELEASE_STEPS } from '../workflows/release-steps';
import { buildApp } from './app';
import type { ForensicsConfig } from './config';

/** A step's Lambda function in the template: which workflow and state it implements, and its logical id. */
export interface StepFunctionResource {
  readonly workflow: 'acquisition' | 'release';
  readonly step: string;
  /** The state name in the console graph (and the key of the local runner's handlers). */
  readonly state: string;
  readonly logicalId: string;
}

export interface SynthesizedIrStack {
  readonly template: Record<string, unknown>;
  /** The configuration the stack was built from (cdk.json context with `context` over it, validated). */
  readonly config: ForensicsConfig;
  /** Every step's function, so a reader of the template knows which Lambda function runs which state. */
  readonly functions: readonly StepFunctionResource[];
}

/**
 * The IR stack's CloudFormation template, synthesized in-process — for the local runner, the definition tests
 * and the benchmark, which need the exact state machine definition CDK deploys but not the Lambda bundles.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`): handlers run from source locally, and no esbuild run is
 * needed to read the template. cdk-nag still runs, so a template that would fail `cdk synth` fails here too.
 * Each state machine's `DefinitionString` is a Fn::Join that workflows/render-definition.ts turns into ASL.
 *
 * Synthesizes the IR stack with `context` over cdk.json's (as `cdk synth -c key=value` does) and returns the
 * template with the configuration it was built from and the logical id of every step's function.
 */
export function synthesizeIrStack(context: Record<string, unknown> = {}): SynthesizedIrStack {
  const { app, stack } = buildApp({ 'aws:cdk:bundling-stacks': [], ...context });
  const assembly = app.synth();
  const logicalId = (fn: { function: { node: { defaultChild?: unknown } } }) =>
    stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
  const functions: StepFunctionResource[] = [
    ...ACQUISITION_STEP_NAMES.map((step) => ({
      workflow: 'acquisition' as const,
      step,
      state: ACQUISITION_STEPS[step].state,
      logicalId: logicalId(stack.functions[step]),
    })),
    ...RELEASE_STEP_NAMES.map((step) => ({
      workflow: 'release' as const,
      step,
      state: RELEASE_STEPS[step].state,
      logicalId: logicalId(stack.release.functions[step]),
    })),
  ];
  return {
    template: assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>,
    config: stack.config,
    functions,
  };
}
