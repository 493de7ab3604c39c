import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ForensicsConfig, parseConfig } from '../../infra/config';
import { UsageError } from '../commands/common';

/**
 * The deployment's settings as `cdk synth` reads them: cdk.json "context", then `-c key=value` overrides, through the
 * same schema (infra/config.ts). `doctor` compares what is deployed with these (severity threshold, retention,
 * accounts, regions, responder role and external id); `drill` reads the tag prefix and the responder settings.
 * Reads only the zod schema: no aws-cdk-lib at CLI start-up.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `-c key=value` pairs (repeatable), as `cdk synth -c` takes them. */
export function parseContextOverrides(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`-c ${pair}: expected key=value, e.g. -c forensics:minSeverity=8`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
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
