import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { clientConfig, type Deployment, type DeploymentOptions, type DeploymentResource, resolveDeployment, stackOutputs } from '../deployment/discover';
import { type LocalEnvironment, openLocalDeployment } from './local-runner';
import { localDeploymentContext } from './local-stack';

/**
 * The local deployment behind `--endpoint URL`, opened to run one of its workflows in the local runner (moto's Step
 * Functions stores state machines but does not execute them). It is discovered exactly as a deployment on AWS is
 * (flags, environment, then the stack outputs run-local registered in the emulator); the handlers get the environment
 * resolved from every output, with the context the deployment was provisioned with. Nothing is created.
 */
export async function openLocalDeploymentAt(
  options: DeploymentOptions & { endpoint: string },
  required: readonly DeploymentResource[],
): Promise<{ deployment: Deployment; env: LocalEnvironment }> {
  const deployment = await resolveDeployment(options, required);
  return { deployment, env: await openResolvedLocalDeployment(deployment, options.endpoint) };
}

/** The same, for a deployment already resolved (the drill resolves it for other uses first). */
export async function openResolvedLocalDeployment(deployment: Deployment, endpoint: string): Promise<LocalEnvironment> {
  const outputs = await stackOutputs(deployment);
  const cfn = new CloudFormationClient(clientConfig(deployment));
  let context: Record<string, string>;
  try {
    context = await localDeploymentContext(cfn, deployment.stackName);
  } finally {
    cfn.destroy();
  }
  return openLocalDeployment({
    endpoint,
    ...(deployment.region ? { region: deployment.region } : {}),
    stackName: deployment.stackName,
    outputs,
    context,
    // As on AWS, the handlers' own logs are not the command's output (CloudWatch there).
    handlerLogs: 'silent',
  });
}
