import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { isMultiAccount, loadConfig } from './config';
import { FORWARDER_STACK_NAME, ForwarderStack } from './forwarder-stack';
import { REGIONAL_STACK_NAME, RegionalStack } from './regional-stack';
import { RESPONDER_STACK_NAME, ResponderStack } from './responder-stack';
import { IrStack } from './ir-stack';

/**
 * The IR account's CDK app. `cdk synth` runs this file (cdk.json "app"); tests and the local runner call
 * `buildApp()` to synthesize the same stack in-process, so the state machine definition the runner executes is
 * the one CloudFormation would deploy.
 *
 * cdk-nag (AwsSolutions) runs as a CDK policy-validation plugin: an unacknowledged error fails the synthesis,
 * and every acknowledgement sits on the construct it concerns, with its reason (see ir-stack.ts).
 */

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The `context` of cdk.json: feature flags and the `forensics:*` defaults, also when not run by the CLI. */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(PROJECT_ROOT, 'cdk.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { context?: Record<string, unknown> };
  return json.context ?? {};
}

export interface BuildAppOptions {
  /** Cloud assembly directory. @default the CLI's (CDK_OUTDIR) or a fresh temporary directory */
  readonly outdir?: string;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: IrStack;
  /** Multi-account mode: the stack for every workload account (infra/responder-stack.ts). */
  readonly responder?: ResponderStack;
  /** With forensics:findingSourceAccounts: the stack for the GuardDuty administrator account. */
  readonly forwarder?: ForwarderStack;
  /** With forensics:workloadRegions: the stack for every workload region but the home one (infra/regional-stack.ts). */
  readonly regional?: RegionalStack;
}

/**
 * Build the app. `context` overrides cdk.json and the command line (e.g. `{'forensics:minSeverity': 8}`, or
 * `{'aws:cdk:bundling-stacks': []}` to skip esbuild bundling when only the template is needed).
 * Call `app.synth()` on the result, or use `Template.fromStack(stack)` in tests.
 */
export function buildApp(context: Record<string, unknown> = {}, options: BuildAppOptions = {}): BuiltApp {
  const app = new App({
    // cdk.json first; under the CLI, CDK_CONTEXT_JSON (cdk.json + `-c` values) is applied over it by App itself.
    context: cdkJsonContext(),
    postCliContext: context,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const config = loadConfig(app);

  const stack = new IrStack(app, 'IrStack', {
    stackName: config.stackName,
    description: 'Forensic acquisition of compromised EC2 instances (IR account)',
    // Environment-agnostic on purpose: the same template (and state machine definition) wherever it is
    // synthesized, deployable to any account and region; account and region resolve at deploy time.
    config,
  });
  Tags.of(stack).add('project', 'forensic-acquisition');

  // Multi-account: deployed in other accounts, each with `cdk deploy <stack>` or as a
  // StackSet template (no assets); cdk-nag checks them like the IR stack.
  const responder = isMultiAccount(config)
    ? new ResponderStack(app, 'ResponderStack', {
        stackName: RESPONDER_STACK_NAME,
        description: 'Forensic acquisition: responder role for the IR account (workload account)',
        config,
      })
    : undefined;
  const forwarder =
    (config.findingSourceAccounts?.length ?? 0) > 0
      ? new ForwarderStack(app, 'ForwarderStack', {
          stackName: FORWARDER_STACK_NAME,
          description: 'Forensic acquisition: forwards GuardDuty findings to the IR account (GuardDuty administrator)',
          config,
        })
      : undefined;
  // The IR account's stack in every other workload region (evidence key replica, finding forwarding).
  const regional =
    (config.workloadRegions?.length ?? 0) > 0
      ? new RegionalStack(app, 'RegionalStack', {
          stackName: REGIONAL_STACK_NAME,
          description: 'Forensic acquisition: evidence key replica and finding forwarding (IR account, each non-home workload region)',
          config,
        })
      : undefined;
  for (const extra of [responder, forwarder, regional]) if (extra) Tags.of(extra).add('project', 'forensic-acquisition');

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, ...(responder ? { responder } : {}), ...(forwarder ? { forwarder } : {}), ...(regional ? { regional } : {}) };
}

// Run as the CDK app (`npx tsx infra/app.ts` from cdk.json), not when imported by tests or the runner.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildApp().app.synth();
}
