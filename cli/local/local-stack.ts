import {
  type CloudFormationClient,
  CreateStackCommand,
  GetTemplateCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';

/**
 * Makes a local deployment discoverable the way a real one is: a CloudFormation stack in the emulator, named as
 * the configured stack (`forensics:stackName`), whose Outputs carry the names and ARNs of what run-local
 * provisioned under the IR stack's own output keys. Every CLI command then finds it with `--endpoint` alone,
 * through the one discovery path it uses on AWS (`DescribeStacks` outputs, cli/deployment/discover.ts).
 *
 * The stack's only resource is an `AWS::CloudFormation::WaitConditionHandle`, which creates nothing. Its template
 * Metadata records the CDK context given over cdk.json (`run-local -c …`), so a command that later runs one of the
 * deployment's workflows locally (`release --endpoint`) configures it as the acquisition was.
 */
export const LOCAL_DEPLOYMENT_METADATA = 'forensics:local-deployment';

export interface LocalStack {
  stackName: string;
  /** Output key → value; descriptions from the IR template's outputs when given. */
  outputs: Readonly<Record<string, string>>;
  descriptions?: Readonly<Record<string, string>>;
  /** CDK context over cdk.json (`-c key=value`), as strings. */
  context: Readonly<Record<string, string>>;
}

export function localStackTemplate(stack: LocalStack): string {
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Forensic acquisition, local deployment on an emulator (forensics run-local): outputs name what was provisioned',
    Metadata: { [LOCAL_DEPLOYMENT_METADATA]: { context: stack.context } },
    Resources: { LocalDeployment: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    Outputs: Object.fromEntries(
      Object.entries(stack.outputs).map(([key, value]) => [
        key,
        { Value: value, ...(stack.descriptions?.[key] ? { Description: stack.descriptions[key] } : {}) },
      ]),
    ),
  });
}

/** Creates the stack, or updates it when a previous run-local registered it (idempotent). */
export async function registerLocalStack(cfn: CloudFormationClient, stack: LocalStack): Promise<void> {
  const TemplateBody = localStackTemplate(stack);
  try {
    await cfn.send(new CreateStackCommand({ StackName: stack.stackName, TemplateBody }));
  } catch (err) {
    if ((err as Error).name !== 'AlreadyExistsException') throw err;
    try {
      await cfn.send(new UpdateStackCommand({ StackName: stack.stackName, TemplateBody }));
    } catch (update) {
      // CloudFormation's answer to an update that changes nothing.
      if (!/No updates are to be performed/i.test((update as Error).message ?? '')) throw update;
    }
  }
}

/** The CDK context a local deployment was provisioned with (empty for a stack run-local did not register). */
export async function localDeploymentContext(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stackName }));
  let template: { Metadata?: Record<string, { context?: unknown }> };
  try {
    template = JSON.parse(out.TemplateBody ?? '{}') as typeof template;
  } catch {
    return {};
  }
  const context = template.Metadata?.[LOCAL_DEPLOYMENT_METADATA]?.context;
  if (!context || typeof context !== 'object') return {};
  return Object.fromEntries(Object.entries(context as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
