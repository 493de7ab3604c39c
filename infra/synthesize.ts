import { buildApp } from './app';

/**
 * The IR stack's CloudFormation template, synthesized in-process — for the local runner, the definition tests
 * and the benchmark, which need the exact state machine definition CDK deploys but not the Lambda bundles.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`): handlers run from source locally, and no esbuild run is
 * needed to read the template. cdk-nag still runs, so a template that would fail `cdk synth` fails here too.
 * The state machine is the one `AWS::StepFunctions::StateMachine` resource; its `DefinitionString` is a
 * Fn::Join that workflows/render-definition.ts turns into ASL.
 */
export function synthesizeIrTemplate(context: Record<string, unknown> = {}): Record<string, unknown> {
  const { app, stack } = buildApp({ 'aws:cdk:bundling-stacks': [], ...context });
  const assembly = app.synth();
  return assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>;
}
