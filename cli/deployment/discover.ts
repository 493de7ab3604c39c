import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { IR_STACK_OUTPUTS } from './stack-outputs';
import { assertLoopbackEndpoint } from '../local/moto-server';
import { UsageError } from '../commands/common';

/**
 * Finds the deployment a command talks to: the state machine, evidence bucket, case table and evidence key.
 *
 * Precedence, per resource: the command-line flag, then the environment (`FORENSICS_STATE_MACHINE_ARN`,
 * `FORENSICS_BUCKET`, `FORENSICS_TABLE`, `FORENSICS_KEY_ARN`, `FORENSICS_RELEASE_STATE_MACHINE_ARN`), then the
 * outputs of the IR CloudFormation stack
 * (`--stack NAME`, default `FORENSICS_STACK`, then cdk.json `forensics:stackName`, then `ForensicAcquisition`).
 * The stack is only read when a resource the command needs is missing. Credentials come from the SDK's default
 * chain; `--profile` selects a shared-config profile (credentials and region, like the AWS CLI). `--endpoint`
 * points every client at a local emulator and accepts loopback addresses only; without a region (flag, AWS_REGION,
 * profile) it means us-east-1, where `run-local` deploys. A local deployment is found like a real one: `run-local`
 * registers it in the emulator as a stack with the same outputs (cli/local/local-stack.ts).
 */

export type DeploymentResource = 'stateMachineArn' | 'bucket' | 'table' | 'keyArn' | 'releaseStateMachineArn';

export interface DeploymentOptions {
  stack?: string;
  profile?: string;
  /** The region of the IR deployment (the SDK's default region when absent). */
  region?: string;
  endpoint?: string;
  stateMachineArn?: string;
  bucket?: string;
  table?: string;
  keyArn?: string;
  releaseStateMachineArn?: string;
}

export interface Deployment {
  stackName: string;
  region?: string;
  profile?: string;
  endpoint?: string;
  stateMachineArn?: string;
  bucket?: string;
  table?: string;
  keyArn?: string;
  /** The release state machine (`forensics release`). */
  releaseStateMachineArn?: string;
  /** Where each resource came from. */
  sources: Partial<Record<DeploymentResource, 'flag' | 'env' | 'stack'>>;
}

export const RESOURCE_ENV: Record<DeploymentResource, string> = {
  stateMachineArn: 'FORENSICS_STATE_MACHINE_ARN',
  bucket: 'FORENSICS_BUCKET',
  table: 'FORENSICS_TABLE',
  keyArn: 'FORENSICS_KEY_ARN',
  releaseStateMachineArn: 'FORENSICS_RELEASE_STATE_MACHINE_ARN',
};

export const RESOURCE_FLAG: Record<DeploymentResource, string> = {
  stateMachineArn: '--state-machine-arn',
  bucket: '--bucket',
  table: '--table',
  keyArn: '--key-arn',
  releaseStateMachineArn: '--release-state-machine-arn',
};

const RESOURCE_OUTPUT: Record<DeploymentResource, string> = {
  stateMachineArn: IR_STACK_OUTPUTS.stateMachineArn,
  bucket: IR_STACK_OUTPUTS.evidenceBucketName,
  table: IR_STACK_OUTPUTS.caseTableName,
  keyArn: IR_STACK_OUTPUTS.evidenceKeyArn,
  releaseStateMachineArn: IR_STACK_OUTPUTS.releaseStateMachineArn,
};

export const FALLBACK_STACK_NAME = 'ForensicAcquisition';

/** The region of a local deployment (cli/local/emulator-resources.ts EMULATOR_REGION, moto's default). */
export const EMULATOR_DEFAULT_REGION = 'us-east-1';

/** The project's stack name: cdk.json `forensics:stackName`, or ForensicAcquisition. */
export function defaultStackName(): string {
  try {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const cdk = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
    const name = cdk.context?.['forensics:stackName'];
    return typeof name === 'string' && name.length > 0 ? name : FALLBACK_STACK_NAME;
  } catch {
    return FALLBACK_STACK_NAME;
  }
}

/** Client configuration for any SDK client of this deployment; `region` overrides the deployment's region. */
export function clientConfig(
  deployment: Pick<Deployment, 'region' | 'profile' | 'endpoint'>,
  region?: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const r = region ?? deployment.region;
  const config: ReturnType<typeof clientConfig> = {};
  if (r) config.region = r;
  if (deployment.profile) config.profile = deployment.profile;
  if (deployment.endpoint) {
    config.endpoint = deployment.endpoint;
    // An emulator accepts any key; without one configured, do not go looking for real credentials.
    if (!deployment.profile && !env.AWS_ACCESS_KEY_ID) {
      config.credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    }
  }
  return config;
}

/** S3 needs path-style addressing on an emulator endpoint. */
export function s3Config(deployment: Pick<Deployment, 'region' | 'profile' | 'endpoint'>, env: NodeJS.ProcessEnv = process.env) {
  return { ...clientConfig(deployment, undefined, env), ...(deployment.endpoint ? { forcePathStyle: true } : {}) };
}

export async function resolveDeployment(
  options: DeploymentOptions,
  need: readonly DeploymentResource[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Deployment> {
  if (options.endpoint) {
    try {
      assertLoopbackEndpoint(options.endpoint);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  // On an emulator with no region configured, the region `run-local` deploys to (the SDK would refuse to guess).
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (options.endpoint && !options.profile ? EMULATOR_DEFAULT_REGION : undefined);
  const deployment: Deployment = {
    stackName: options.stack ?? env.FORENSICS_STACK ?? defaultStackName(),
    ...(region ? { region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    sources: {},
  };
  const all: DeploymentResource[] = ['stateMachineArn', 'bucket', 'table', 'keyArn', 'releaseStateMachineArn'];
  for (const resource of all) {
    const flag = options[resource];
    const fromEnv = env[RESOURCE_ENV[resource]];
    if (flag) {
      deployment[resource] = flag;
      deployment.sources[resource] = 'flag';
    } else if (fromEnv) {
      deployment[resource] = fromEnv;
      deployment.sources[resource] = 'env';
    }
  }
  const missing = need.filter((r) => !deployment[r]);
  if (missing.length === 0) return deployment;

  const outputs = await stackOutputs(deployment, missing);
  for (const resource of all) {
    if (deployment[resource]) continue;
    const value = outputs[RESOURCE_OUTPUT[resource]];
    if (value) {
      deployment[resource] = value;
      deployment.sources[resource] = 'stack';
    }
  }
  const still = need.filter((r) => !deployment[r]);
  if (still.length > 0) {
    throw new UsageError(
      `stack ${deployment.stackName} has no output ${still.map((r) => RESOURCE_OUTPUT[r]).join(', ')}; ${howToPass(still)}`,
    );
  }
  return deployment;
}

function howToPass(missing: readonly DeploymentResource[]): string {
  if (missing.length === 0) return 'check --stack, --region and --endpoint';
  return `pass ${missing.map((r) => RESOURCE_FLAG[r]).join(', ')} or set ${missing.map((r) => RESOURCE_ENV[r]).join(', ')}`;
}

/**
 * Every output of the deployment's stack (the emulator's local deployment included: run-local registers it as a
 * stack). `missing` names what the caller was looking for, for the error message.
 */
export async function stackOutputs(deployment: Deployment, missing: readonly DeploymentResource[] = []): Promise<Record<string, string>> {
  const cfn = new CloudFormationClient(clientConfig(deployment));
  const where = deployment.region ? ` in ${deployment.region}` : '';
  let stacks: DescribeStacksCommandOutput;
  try {
    stacks = await cfn.send(new DescribeStacksCommand({ StackName: deployment.stackName }));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const name = (err as Error).name;
    if (/does not exist/i.test(message) || name === 'ValidationError') {
      throw new UsageError(
        `cannot find the deployment: stack ${deployment.stackName} does not exist${where}; use --stack NAME, or ${howToPass(missing)}`,
      );
    }
    throw new UsageError(
      `cannot find the deployment: reading stack ${deployment.stackName}${where} failed (${name}: ${message}); use --profile/--region, or ${howToPass(missing)}`,
    );
  } finally {
    cfn.destroy();
  }
  const out: Record<string, string> = {};
  for (const o of stacks.Stacks?.[0]?.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
  }
  return out;
}
