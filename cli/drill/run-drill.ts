import { randomBytes } from 'node:crypto';
import { CreateTagsCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { newCaseId } from '../../handlers/domain/case-id';
import { drillTagKey, MAX_DRILL_RETENTION_DAYS } from '../../handlers/domain/drill';
import { InvalidInput } from '../../handlers/domain/errors';
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from '../../handlers/domain/identifier-formats';
import { type ManualRequest, parseManualRequest } from '../../handlers/domain/manual-request';
import type { ForensicsConfig } from '../../infra/config';
import { verifyCase } from '../commands/case-verify';
import { type Io, UsageError } from '../commands/common';
import { clientConfig, type DeploymentOptions, resolveDeployment } from '../deployment/discover';
import type { RunLocalOptions } from '../local/local-runner';
import { CANARY_AMI_PARAMETER, type Canary, type CanaryClients, type CanarySettings, launchCanary, removeCanary } from './canary';
import { CONTAINMENT_STATE, type DrillReport, SEALED_STATE, timeToEndOf } from './drill-report';
import { caseIdOf, LocalWorkflowRunner, StepFunctionsRunner, type WorkflowRun, type WorkflowRunner } from './workflow-runner';

/**
 * `forensics drill --account A --region R`: a real end-to-end exercise in the user's own account. It launches a tagged
 * canary (canary.ts), starts an acquisition of it as a drill case (a manual request with `options.drill`), follows
 * it, runs `case verify` on it, releases it, terminates the canary and removes what it created that is not evidence,
 * then reports the measured figures. Against AWS the workflows run as deployed (StartExecution); against an emulator
 * the local runner executes the same definitions. Everything else is one code path.
 *
 * The canary is created with credentials for account A: the default chain when it is A's, else `--canary-profile`.
 * The case, the verification and the release use the deployment's credentials (the IR account), as a responder would.
 */

export interface DrillRunOptions extends DeploymentOptions {
  account: string;
  /** The canary's region (the deployment's region is `deploymentRegion`). */
  canaryRegion: string;
  deploymentRegion?: string;
  keepCanary?: boolean;
  retentionDays?: number;
  instanceType?: string;
  canaryProfile?: string;
  /** Minutes to wait for each workflow on AWS (default 60). */
  timeoutMinutes?: number;
  /** Tests: milliseconds between EC2 polls, and a wrapper around the local runner's step handlers. */
  pollMs?: number;
  wrapHandler?: RunLocalOptions['wrapHandler'];
}

export function validateDrillOptions(o: DrillRunOptions): void {
  if (!ACCOUNT_ID_PATTERN.test(o.account ?? '')) throw new UsageError('--account: expected a 12-digit account id');
  if (!REGION_PATTERN.test(o.canaryRegion ?? '')) throw new UsageError('--region: expected a region name such as eu-west-1');
  const days = o.retentionDays ?? 1;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DRILL_RETENTION_DAYS) throw new UsageError(`--retention-days: expected a whole number of days from 1 to ${MAX_DRILL_RETENTION_DAYS}`);
  if (o.instanceType !== undefined && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(o.instanceType)) throw new UsageError('--instance-type: expected an EC2 instance type such as t3.nano');
}

export function newDrillId(at: Date): string {
  return `${at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}-${randomBytes(2).toString('hex')}`;
}

async function identity(config: ReturnType<typeof clientConfig>): Promise<{ account: string; arn: string }> {
  const sts = new STSClient(config);
  try {
    const id = await sts.send(new GetCallerIdentityCommand({}));
    return { account: id.Account ?? '', arn: id.Arn ?? '' };
  } finally {
    sts.destroy();
  }
}

export async function runDrill(o: DrillRunOptions, config: ForensicsConfig, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<DrillReport> {
  validateDrillOptions(o);
  const { account, canaryRegion, deploymentRegion, keepCanary = false, retentionDays = 1, instanceType = 't3.nano', canaryProfile, timeoutMinutes = 60 } = o;
  const emulator = Boolean(o.endpoint);
  const need = emulator ? (['bucket', 'table', 'keyArn'] as const) : (['stateMachineArn', 'releaseStateMachineArn', 'bucket', 'table', 'keyArn'] as const);
  const deployment = await resolveDeployment(
    { ...o, stack: o.stack ?? env.FORENSICS_STACK ?? config.stackName, ...(deploymentRegion ? { region: deploymentRegion } : {}) },
    [...need],
    env,
  );
  deployment.region ??= deployment.stateMachineArn?.split(':')[3] ?? deployment.keyArn?.split(':')[3] ?? (emulator ? 'us-east-1' : undefined);
  if (!deployment.region) throw new UsageError('--deployment-region: the IR deployment\'s region is unknown; pass it or set AWS_REGION');

  // ── Who acts: the responder (deployment credentials) and the canary's account ──
  const responder = await identity(clientConfig(deployment, deployment.region, env));
  const canaryBase = canaryProfile ? { ...deployment, profile: canaryProfile } : deployment;
  const canaryConfig = clientConfig(canaryBase, canaryRegion, env);
  const canaryIdentity = canaryProfile ? await identity(canaryConfig) : responder;
  if (canaryIdentity.account !== account) {
    throw new UsageError(
      `--account ${account}: the ${canaryProfile ? `profile ${canaryProfile}` : 'current'} credentials are for account ${canaryIdentity.account || 'unknown'}; pass --canary-profile with credentials for ${account}`,
    );
  }

  const drillId = newDrillId(new Date());
  const tagPrefix = config.tagPrefix;
  const settings: CanarySettings = {
    tagPrefix,
    instanceType,
    amiParameter: CANARY_AMI_PARAMETER,
    pollMs: o.pollMs ?? (emulator ? 100 : 5_000),
    waitMs: emulator ? 60_000 : 15 * 60_000,
  };
  const clients: CanaryClients = { ec2: new EC2Client(canaryConfig), iam: new IAMClient(canaryConfig), ssm: new SSMClient(canaryConfig) };
  const report: DrillReport = {
    drillId,
    caseId: null,
    status: 'NOT_STARTED',
    timeToContainmentMs: null,
    timeToSealedMs: null,
    verify: 'FAIL',
    released: false,
    canaryTerminated: false,
    account,
    region: canaryRegion,
    canaryInstanceId: null,
    executionArn: null,
    releaseExecutionArn: null,
    steps: [],
    releaseSteps: [],
    verifyCounts: null,
    cleanedUp: [],
    retained: [],
    errors: [],
  };
  const log = (line: string) => io.err(line);
  let canary: Canary | undefined;
  let local: import('../local/local-runner').LocalEnvironment | undefined;
  const sfn = emulator ? undefined : new SFNClient(clientConfig(deployment, deployment.region, env));
  try {
    canary = await launchCanary(clients, drillId, canaryRegion, settings, log);
    report.canaryInstanceId = canary.instanceId;

    let runner: WorkflowRunner;
    if (emulator) {
      // The local deployment run-local registered (found by --endpoint, like every command): its outputs and the
      // context it was provisioned with configure the local runner, as `release --endpoint` does. Nothing is created.
      const { openResolvedLocalDeployment } = await import('../local/open-local-deployment');
      local = await openResolvedLocalDeployment(deployment, o.endpoint as string);
      runner = new LocalWorkflowRunner(local, io, o.wrapHandler);
    } else {
      runner = new StepFunctionsRunner(
        sfn as SFNClient,
        { acquisition: deployment.stateMachineArn as string, release: deployment.releaseStateMachineArn as string },
        io,
        { timeoutMs: timeoutMinutes * 60_000, pollIntervalMs: 5_000 },
      );
    }

    // ── Acquire the canary as a drill case ──
    let request: ManualRequest;
    try {
      request = parseManualRequest({
        instanceId: canary.instanceId,
        accountId: account,
        region: canaryRegion,
        reason: `forensics drill ${drillId}`,
        requestedBy: responder.arn || 'forensics-drill',
        options: { drill: { retentionDays }, workstation: false },
      });
    } catch (err) {
      throw err instanceof InvalidInput ? new UsageError(err.message) : err;
    }
    const acquisition: WorkflowRun = await runner.acquire(request, `drill-${drillId}`);
    report.executionArn = acquisition.executionArn;
    report.status = acquisition.status;
    report.steps = acquisition.steps;
    report.timeToContainmentMs = timeToEndOf(acquisition, CONTAINMENT_STATE);
    report.timeToSealedMs = timeToEndOf(acquisition, SEALED_STATE);
    if (acquisition.error) report.errors.push(`acquisition ${acquisition.status}: ${acquisition.error.name}${acquisition.error.cause ? `: ${acquisition.error.cause.slice(0, 300)}` : ''}`);
    const caseId = caseIdOf(acquisition) ?? (emulator ? undefined : newCaseId({ instanceId: canary.instanceId }, new Date(acquisition.startedAt)));
    report.caseId = caseId ?? null;

    if (caseId) {
      // ── Verify, as a responder would ──
      const verified = await verifyCase(deployment, caseId, new Date());
      report.verify = verified.result;
      report.verifyCounts = verified.counts;
      log(`drill: case verify ${verified.result} (${verified.counts.PASS} passed, ${verified.counts.FAIL} failed, ${verified.counts.WARN} warnings)`);
      if (verified.result === 'FAIL') {
        for (const c of verified.checks.filter((x) => x.status === 'FAIL').slice(0, 5)) report.errors.push(`verify ${c.check} ${c.subject}: ${c.detail}`);
      }
      // The drill's snapshots carry its tag too, so that `drill clean` removes only what a drill left.
      const tagged = await tagCaseSnapshots([clients.ec2, new EC2Client(clientConfig(deployment, canaryRegion, env))], caseId, tagPrefix, drillId);
      // ── Release ──
      const release = await runner.release({ caseId, reason: `forensics drill ${drillId}: exercise over`, requestedBy: responder.arn || 'forensics-drill' }, `drill-release-${drillId}`);
      report.releaseExecutionArn = release.executionArn;
      report.releaseSteps = release.steps;
      report.released = release.status === 'SUCCEEDED';
      if (!report.released) report.errors.push(`release ${release.status}: ${release.error?.name ?? ''}${release.error?.cause ? `: ${release.error.cause.slice(0, 300)}` : ''}`);
      const until = new Date(Date.now() + retentionDays * 86_400_000).toISOString();
      report.retained.push(
        `evidence of drill case ${caseId}: s3://${deployment.bucket}/cases/${caseId}/ (Object Lock ${config.objectLockMode} until about ${until}, legal hold ON) and ${tagged.length} snapshot(s) tagged ${drillTagKey(tagPrefix)}=${drillId} — removed by \`forensics drill clean\` after that`,
      );
    }
  } catch (err) {
    report.errors.push(`${(err as Error).name}: ${(err as Error).message}`);
    if (err instanceof UsageError) throw err;
  } finally {
    if (canary && !keepCanary) {
      const removal = await removeCanary(clients, canary, settings, log);
      report.cleanedUp.push(...removal.removed);
      report.errors.push(...removal.errors);
      report.canaryTerminated = removal.terminated && (await isTerminated(clients.ec2, canary.instanceId));
    } else if (canary) {
      report.retained.push(`canary ${canary.instanceId} with ${canary.vpcId}, role ${canary.roleName} (--keep-canary): removed by \`forensics drill clean\``);
    }
    for (const c of [clients.ec2, clients.iam, clients.ssm, sfn]) c?.destroy();
  }
  return report;
}

/** DescribeInstances, read back after the removal: the report's `canaryTerminated` is what EC2 says. */
async function isTerminated(ec2: EC2Client, instanceId: string): Promise<boolean> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'terminated';
  } catch {
    return false;
  }
}

/** Tags the case's snapshots (originals in the workload account, evidence copies in the IR account) with the drill id. */
async function tagCaseSnapshots(ec2s: EC2Client[], caseId: string, tagPrefix: string, drillId: string): Promise<string[]> {
  const ids = new Set<string>();
  try {
    for (const ec2 of ec2s) {
      const snaps = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${tagPrefix}:case-id`, Values: [caseId] }] }))).Snapshots ?? [];
      const mine = snaps.map((s) => s.SnapshotId as string).filter((id) => id && !ids.has(id));
      if (mine.length > 0) await ec2.send(new CreateTagsCommand({ Resources: mine, Tags: [{ Key: drillTagKey(tagPrefix), Value: drillId }] }));
      for (const id of mine) ids.add(id);
    }
  } finally {
    ec2s[1]?.destroy();
  }
  return [...ids];
}

