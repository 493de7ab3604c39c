import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ForensicsConfig, parseConfig } from '../../infra/config';
import { UsageError } from '../commands/common';
import { parseContextArguments } from '../local/cdk-context';

/**
 * The deployment's settings as `cdk synth` reads them: cdk.json "context", then `-c key=value` overrides, through the
 * same schema (infra/config.ts). `doctor` compares what is deployed with these (severity threshold, retention,
 * accounts, regions, responder role and external id); `drill` reads the tag prefix and the responder settings.
 * A local deployment (`--endpoint`) was provisioned by run-local with its own `-c` context, which it recorded in its
 * stack (cli/local/local-stack.ts): that context comes between cdk.json and this command's `-c`, so the checks
 * compare the local deployment with the configuration it was built from. Reads only the zod schema: no aws-cdk-lib.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `-c key=value` (repeatable), exactly as `cdk synth -c` takes them (cli/local/cdk-context.ts); bad input exits 2. */
export function parseContextOverrides(pairs: readonly string[] | undefined, warn: (message: string) => void = () => undefined): Record<string, string> {
  try {
    return parseContextArguments(pairs ?? [], warn);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function cdkJsonContext(file = resolve(REPO_ROOT, 'cdk.json')): Record<string, unknown> {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> };
    return json.context ?? {};
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Validated settings; a bad value is a usage error naming the setting (exit 2). */
export function loadDeploymentConfig(overrides: Record<string, unknown> = {}, context = cdkJsonContext()): ForensicsConfig {
  try {
    return parseConfig({ ...context, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The settings of the deployment a command talks to: cdk.json, then (local deployment only) the context run-local
 * recorded, then `overrides` (the command's `-c`). The stack is found as every command finds it (--stack, then
 * FORENSICS_STACK, then the configured name); a stack without a record adds nothing.
 */
export async function deploymentSettings(
  options: { endpoint?: string; stack?: string; region?: string; profile?: string },
  overrides: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForensicsConfig> {
  const first = loadDeploymentConfig(overrides);
  if (!options.endpoint) return first;
  const [{ CloudFormationClient }, { localDeploymentContext }, { clientConfig, EMULATOR_DEFAULT_REGION }, { assertLoopbackEndpoint }] = await Promise.all([
    import('@aws-sdk/client-cloudformation'),
    import('../local/local-stack'),
    import('./discover'),
    import('../local/moto-server'),
  ]);
  try {
    assertLoopbackEndpoint(options.endpoint);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? EMULATOR_DEFAULT_REGION;
  const cfn = new CloudFormationClient(clientConfig({ endpoint: options.endpoint, region, ...(options.profile ? { profile: options.profile } : {}) }, undefined, env));
  let recorded: Record<string, string> = {};
  try {
    recorded = await localDeploymentContext(cfn, options.stack ?? env.FORENSICS_STACK ?? first.stackName);
  } catch {
    // No local deployment under that name: discovery reports it, with the fix, when the command looks for it.
  } finally {
    cfn.destroy();
  }
  return loadDeploymentConfig({ ...recorded, ...overrides });
}
