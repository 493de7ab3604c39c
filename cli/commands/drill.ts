import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { REGION_PATTERN } from '../../handlers/domain/identifier-formats';
import { clientConfig, type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { deploymentSettings, parseContextOverrides } from '../deployment/deployment-config';
import { CANARY_AMI_PARAMETER, type CanaryClients } from '../drill/canary';
import { cleanDrills, type CleanReport } from '../drill/drill-clean';
import { type DrillReport, drillSucceeded, renderDrillReport } from '../drill/drill-report';
import { type DrillRunOptions, runDrill } from '../drill/run-drill';
import { EXIT_FAILED, EXIT_OK, type Io, parseOutputFormat, runCommand, UsageError } from './common';

/**
 * `forensics drill --account A --region R [--keep-canary] [--output json]` (cli/drill/run-drill.ts) and
 * `forensics drill clean` (cli/drill/drill-clean.ts). JSON (DESIGN.md contract): `{"caseId","status",
 * "timeToContainmentMs","timeToSealedMs","verify","released","canaryTerminated"}` plus the steps and the clean-up;
 * exit 0 only when everything succeeded.
 */

export interface DrillCommandOptions extends DeploymentOptions {
  account?: string;
  /** The canary's region (`--region`). */
  region?: string;
  deploymentRegion?: string;
  keepCanary?: boolean;
  retentionDays?: string | number;
  instanceType?: string;
  canaryProfile?: string;
  timeout?: string | number;
  output?: string;
  context?: string[];
  contextOverrides?: Record<string, unknown>;
  /** Tests only (not a flag). */
  testHooks?: Pick<DrillRunOptions, 'pollMs' | 'wrapHandler'>;
}

function numberOption(value: string | number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number`);
  return n;
}

export async function runDrillCommand(options: DrillCommandOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let report: DrillReport | undefined;
  const code = await runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    if (!options.account) throw new UsageError("--account: required (the account the canary is launched in)");
    if (!options.region) throw new UsageError("--region: required (the region the canary is launched in)");
    const config = await deploymentSettings({ ...options, region: options.deploymentRegion }, { ...parseContextOverrides(options.context, (w) => io.err(`forensics: warning: ${w}`)), ...(options.contextOverrides ?? {}) }, env);
    const { output: _o, context: _c, contextOverrides: _co, testHooks, region, retentionDays, timeout, account, deploymentRegion, ...deploymentOptions } = options;
    const retention = numberOption(retentionDays, '--retention-days');
    const minutes = numberOption(timeout, '--timeout');
    report = await runDrill(
      {
        ...deploymentOptions,
        account,
        canaryRegion: region,
        ...(deploymentRegion ? { deploymentRegion } : {}),
        ...(retention !== undefined ? { retentionDays: retention } : {}),
        ...(minutes !== undefined ? { timeoutMinutes: minutes } : {}),
        ...(testHooks ?? {}),
      },
      config,
      io,
      env,
    );
    if (format === 'json') io.out(JSON.stringify(report));
    else for (const line of renderDrillReport(report)) io.out(line);
    return drillSucceeded(report, Boolean(options.keepCanary)) ? EXIT_OK : EXIT_FAILED;
  });
  return code;
}

export interface DrillCleanOptions extends DeploymentOptions {
  /** Region searched for left-over canaries (default: the deployment's). */
  region?: string;
  deploymentRegion?: string;
  canaryProfile?: string;
  olderThan?: string | number;
  output?: string;
  context?: string[];
  contextOverrides?: Record<string, unknown>;
  now?: Date;
}

export async function runDrillCleanCommand(options: DrillCleanOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    if (options.region !== undefined && !REGION_PATTERN.test(options.region)) throw new UsageError('--region: expected a region name such as eu-west-1');
    const olderThanMinutes = numberOption(options.olderThan, '--older-than') ?? 60;
    if (olderThanMinutes < 0) throw new UsageError('--older-than: expected minutes, 0 or more');
    const config = await deploymentSettings({ ...options, region: options.deploymentRegion }, { ...parseContextOverrides(options.context, (w) => io.err(`forensics: warning: ${w}`)), ...(options.contextOverrides ?? {}) }, env);
    const { output: _o, context: _c, contextOverrides: _co, region, deploymentRegion, canaryProfile, olderThan: _ot, now, ...rest } = options;
    const deployment = await resolveDeployment(
      { ...rest, stack: rest.stack ?? env.FORENSICS_STACK ?? config.stackName, ...(deploymentRegion ? { region: deploymentRegion } : {}) },
      ['bucket', 'table'],
      env,
    );
    deployment.region ??= deployment.endpoint ? 'us-east-1' : undefined;
    const canaryRegion = region ?? deployment.region;
    if (!canaryRegion) throw new UsageError('--region: the region to clean is unknown; pass --region');
    const canaryConfig = clientConfig(canaryProfile ? { ...deployment, profile: canaryProfile } : deployment, canaryRegion, env);
    const canary: CanaryClients = { ec2: new EC2Client(canaryConfig), iam: new IAMClient(canaryConfig), ssm: new SSMClient(canaryConfig) };
    const s3 = new S3Client(s3Config(deployment, env));
    const ddb = new DynamoDBClient(clientConfig(deployment, undefined, env));
    const extra: EC2Client[] = [];
    let report: CleanReport;
    try {
      report = await cleanDrills({
        s3,
        ddb,
        bucket: deployment.bucket as string,
        table: deployment.table as string,
        tagPrefix: config.tagPrefix,
        snapshotClients: (r) => {
          const ir = new EC2Client(clientConfig(deployment, r, env));
          extra.push(ir);
          return canaryProfile && r === canaryRegion ? [ir, canary.ec2] : [ir];
        },
        canary: {
          clients: canary,
          settings: { tagPrefix: config.tagPrefix, instanceType: 't3.nano', amiParameter: CANARY_AMI_PARAMETER, pollMs: deployment.endpoint ? 100 : 5_000, waitMs: deployment.endpoint ? 60_000 : 15 * 60_000 },
          region: canaryRegion,
        },
        now: now ?? new Date(),
        olderThanMinutes,
        log: (l) => io.err(l),
      });
    } finally {
      for (const c of [s3, ddb, canary.ec2, canary.iam, canary.ssm, ...extra]) c.destroy();
    }
    if (format === 'json') io.out(JSON.stringify(report));
    else {
      io.out('Removed:');
      for (const r of report.removed.length ? report.removed : ['nothing']) io.out(`  - ${r}`);
      io.out('Retained:');
      for (const r of report.retained.length ? report.retained : ['nothing']) io.out(`  - ${r}`);
      if (report.errors.length) {
        io.out('Errors:');
        for (const e of report.errors) io.out(`  - ${e}`);
      }
    }
    return report.errors.length === 0 ? EXIT_OK : EXIT_FAILED;
  });
}
