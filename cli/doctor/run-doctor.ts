import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ForensicsConfig } from '../../infra/config';
import { isMultiAccount } from '../../infra/config';
import { mapLimit } from '../commands/evidence-reader';
import { UsageError } from '../commands/common';
import { clientConfig, type Deployment, type DeploymentOptions, resolveDeployment } from '../deployment/discover';
import { IR_STACK_OUTPUTS } from '../deployment/stack-outputs';
import { attempt, type DoctorCheck, fail, pass, warn } from './check';
import type { Credentials, DoctorContext, DoctorResources } from './context';
import { evaluateTable, gatherTable } from './checks/case-table';
import { evaluateBucket, gatherBucket } from './checks/evidence-bucket';
import { evaluateKey, gatherKey } from './checks/evidence-key';
import { evaluateForwarding, gatherForwarding } from './checks/finding-forwarding';
import { evaluateRule, gatherRule } from './checks/finding-rule';
import { evaluateDetector, gatherDetector, detectorCheckName } from './checks/guardduty';
import { evaluateReplica, gatherReplica } from './checks/key-replica';
import { endpointsCheckName, evaluateEndpoints, evaluateToolsShare, evaluateToolsSnapshot, gatherEndpoints, gatherToolsSnapshot } from './checks/memory-capture';
import { evaluateQuota, gatherQuota } from './checks/quotas';
import { evaluateRecovery, gatherRecovery } from './checks/recovery';
import { accountCredentials, evaluateResponder, gatherResponder, responderCheckName } from './checks/responder';
import { evaluateLock, gatherLock } from './checks/snapshot-lock';
import { evaluateStack, gatherStack, stackOutputs } from './checks/stack';
import { evaluateMachines, gatherMachines } from './checks/state-machines';
import { evaluateTopic, gatherTopic } from './checks/topic';
import { evaluateWorkstation, gatherWorkstation } from './checks/workstation';

/**
 * `forensics doctor`: every check, in the order a responder reads them — who is asking, the stack, the stores (bucket,
 * key, table), the workflow (state machines, rule, topic, workstation), then each workload account (responder role)
 * and each account and region (GuardDuty, SSM endpoints), then each region (forwarding, snapshot lock, copy quota, key
 * replica, memory tools). Read-only: Describe/Get/List calls and one sts:AssumeRole per workload account.
 */

/** The emulator's region when nothing else names one (run-local provisions there). */
const EMULATOR_DEFAULT_REGION = 'us-east-1';
const PARALLEL = 4;

export interface DoctorRunOptions extends DeploymentOptions {
  /** Restrict the per-account checks to these accounts (organisation mode has no list to read). */
  accounts?: readonly string[];
}

export async function runDoctorChecks(options: DoctorRunOptions, config: ForensicsConfig, env: NodeJS.ProcessEnv = process.env): Promise<DoctorCheck[]> {
  const deployment = await findDeployment({ ...options, stack: options.stack ?? env.FORENSICS_STACK ?? config.stackName }, env);
  const homeRegion = deployment.region ?? regionOf(deployment.stateMachineArn) ?? regionOf(deployment.keyArn) ?? (deployment.endpoint ? EMULATOR_DEFAULT_REGION : undefined);
  if (!homeRegion) throw new UsageError('--region: the IR deployment\'s region is unknown; pass --region or set AWS_REGION');
  deployment.region = homeRegion;
  const emulator = Boolean(deployment.endpoint);
  const checks: DoctorCheck[] = [];

  // ── Who is asking ──
  const sts = new STSClient(clientConfig(deployment, homeRegion, env));
  const identity = await attempt('sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
  sts.destroy();
  const keyAccount = accountOf(deployment.keyArn);
  const callerAccount = identity.ok ? identity.value.Account : undefined;
  const irAccountId = keyAccount ?? callerAccount ?? '';
  const partition = (identity.ok ? identity.value.Arn : deployment.keyArn)?.split(':')[1] ?? 'aws';
  if (!identity.ok) checks.push(fail('identity', `no usable credentials: ${identity.error.name}: ${identity.error.message.slice(0, 160)} — configure credentials or pass --profile`));
  else if (keyAccount && callerAccount !== keyAccount) {
    checks.push(warn('identity', `running as ${identity.value.Arn} in account ${callerAccount}, but the deployment is in account ${keyAccount}: cross-account reads may be denied — run doctor in the IR account`));
  } else checks.push(pass('identity', `running as ${identity.value.Arn} in the IR account ${irAccountId}, home region ${homeRegion}`));

  // ── The stack ──
  const stackFacts = await gatherStack(clientConfig(deployment, homeRegion, env), deployment.stackName, homeRegion);
  checks.push(evaluateStack(stackFacts, emulator));
  const outputs = stackOutputs(stackFacts);
  const resources: DoctorResources = {
    ...pick('stateMachineArn', deployment.stateMachineArn ?? outputs[IR_STACK_OUTPUTS.stateMachineArn]),
    ...pick('releaseStateMachineArn', deployment.releaseStateMachineArn ?? outputs[IR_STACK_OUTPUTS.releaseStateMachineArn]),
    ...pick('bucket', deployment.bucket ?? outputs[IR_STACK_OUTPUTS.evidenceBucketName]),
    ...pick('table', deployment.table ?? outputs[IR_STACK_OUTPUTS.caseTableName]),
    ...pick('keyArn', deployment.keyArn ?? outputs[IR_STACK_OUTPUTS.evidenceKeyArn]),
    ...pick('topicArn', env.FORENSICS_TOPIC_ARN ?? outputs[IR_STACK_OUTPUTS.topicArn]),
    ...pick('workstationLaunchTemplateId', outputs[IR_STACK_OUTPUTS.workstationLaunchTemplateId]),
  };

  const multiAccount = isMultiAccount(config);
  const listed = config.workloadAccounts.length > 0 ? [...config.workloadAccounts] : multiAccount ? [] : [irAccountId];
  const workloadAccounts = options.accounts && options.accounts.length > 0 ? [...options.accounts] : listed;
  const workloadRegions = (config.workloadRegions ?? []).length > 0 ? [...(config.workloadRegions ?? [])] : [homeRegion];
  const ctx: DoctorContext = {
    emulator,
    config,
    stackName: deployment.stackName,
    homeRegion,
    irAccountId,
    partition,
    resources,
    workloadAccounts,
    workloadRegions,
    multiAccount,
    client: (region?: string, credentials?: Credentials) => {
      const base = clientConfig(deployment, region ?? homeRegion, env);
      if (!credentials) return base;
      const { profile: _profile, ...rest } = base;
      return { ...rest, credentials };
    },
  };

  // ── The stores and the workflow ──
  const [bucket, key, table, machines, rule, recovery, topic, workstation] = await Promise.all([
    resources.bucket ? gatherBucket(ctx, resources.bucket) : undefined,
    resources.keyArn ? gatherKey(ctx, resources.keyArn) : undefined,
    resources.table ? gatherTable(ctx, resources.table) : undefined,
    gatherMachines(ctx),
    gatherRule(ctx),
    gatherRecovery(ctx),
    gatherTopic(ctx),
    gatherWorkstation(ctx),
  ]);
  checks.push(
    ...(bucket
      ? evaluateBucket(bucket, { ...pick('keyArn', resources.keyArn), objectLockMode: config.objectLockMode, retentionDays: config.evidenceRetentionDays }, emulator)
      : [fail('bucket.object-lock', 'the evidence bucket is unknown: no EvidenceBucketName stack output — deploy the stack or pass --bucket')]),
    ...(key
      ? evaluateKey(key, { irAccountId, partition, workloadAccounts, multiAccount, ...pick('organizationId', config.organizationId) }, emulator)
      : [fail('key.enabled', 'the evidence key is unknown: no EvidenceKeyArn stack output — deploy the stack or pass --key-arn')]),
    ...(table ? evaluateTable(table, emulator) : [fail('table.pitr', 'the case table is unknown: no CaseTableName stack output — deploy the stack or pass --table')]),
    ...evaluateMachines(machines, emulator),
    ...evaluateRule(rule, config.minSeverity, emulator),
    ...evaluateRecovery(recovery, emulator),
    evaluateTopic(topic, emulator),
    ...evaluateWorkstation(workstation, emulator),
  );

  // ── Each workload account, then each account and region ──
  if (workloadAccounts.length === 0) {
    checks.push(warn('workload.accounts', `organisation mode (${config.organizationId ?? '?'}) without an account list: pass --account ID (repeatable) to check the responder role, GuardDuty and SSM endpoints of member accounts`));
  }
  const responders = await mapLimit(workloadAccounts, PARALLEL, (a) => gatherResponder(ctx, a));
  const externalId = config.responderExternalId || undefined;
  for (const r of responders) checks.push(evaluateResponder(r, externalId, emulator));
  const pairs = responders.flatMap((r) => workloadRegions.map((region) => ({ r, region })));
  const perPair = await mapLimit(pairs, PARALLEL, async ({ r, region }): Promise<DoctorCheck[]> => {
    const access = accountCredentials(r);
    if (!access.usable) {
      const why = `not checked: no credentials in account ${r.accountId} (see ${responderCheckName(r.accountId)})`;
      return [fail(detectorCheckName(r.accountId, region), why), fail(endpointsCheckName(r.accountId, region), why)];
    }
    const [detector, endpoints] = await Promise.all([
      gatherDetector(ctx, r.accountId, region, access.credentials),
      gatherEndpoints(ctx, r.accountId, region, access.credentials),
    ]);
    return [evaluateDetector(detector, emulator), evaluateEndpoints(endpoints, emulator)];
  });
  checks.push(...perPair.flat());

  // ── Each region (IR account) ──
  const perRegion = await mapLimit(workloadRegions, PARALLEL, async (region): Promise<DoctorCheck[]> => {
    const [forwarding, lock, quota, replica, tools] = await Promise.all([
      gatherForwarding(ctx, region),
      gatherLock(ctx, region),
      gatherQuota(ctx, region),
      region !== homeRegion && resources.keyArn ? gatherReplica(ctx, region, resources.keyArn) : undefined,
      gatherToolsSnapshot(ctx, region),
    ]);
    return [
      evaluateForwarding(forwarding, emulator),
      evaluateLock(lock, emulator),
      evaluateQuota(quota, emulator),
      ...(replica ? [evaluateReplica(replica, emulator)] : []),
      evaluateToolsSnapshot(tools, emulator),
      ...[evaluateToolsShare(tools, emulator)].filter((c): c is DoctorCheck => c !== undefined),
    ];
  });
  checks.push(...perRegion.flat());
  return checks;
}

/** The deployment as every command finds it (cli/deployment/discover.ts); a missing stack is a check, not an error. */
async function findDeployment(options: DeploymentOptions, env: NodeJS.ProcessEnv): Promise<Deployment> {
  try {
    return await resolveDeployment(options, ['stateMachineArn', 'bucket', 'table', 'keyArn', 'releaseStateMachineArn'], env);
  } catch (err) {
    if (!(err instanceof UsageError) || /--endpoint/.test(err.message)) throw err;
    return resolveDeployment(options, [], env);
  }
}

function pick<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string };
}

function regionOf(arn: string | undefined): string | undefined {
  const region = arn?.split(':')[3];
  return region ? region : undefined;
}

function accountOf(arn: string | undefined): string | undefined {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn ?? '')?.[1];
}
