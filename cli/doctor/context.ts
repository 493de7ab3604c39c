import type { ForensicsConfig } from '../../infra/config';

/**
 * What every doctor check reads: the deployment's expected settings (cdk.json via infra/config.ts), the resources
 * found (flags, environment, stack outputs: cli/deployment/discover.ts), the accounts and regions to check, and how
 * to build an SDK client configuration for a region, optionally with other credentials (a workload account's).
 */

export interface DoctorResources {
  stateMachineArn?: string;
  releaseStateMachineArn?: string;
  bucket?: string;
  table?: string;
  keyArn?: string;
  topicArn?: string;
  workstationLaunchTemplateId?: string;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface ClientSettings {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials?: Credentials;
}

export interface DoctorContext {
  /** An emulator endpoint: APIs it does not implement are WARN instead of FAIL. */
  emulator: boolean;
  config: ForensicsConfig;
  stackName: string;
  /** The IR deployment's (home) region. */
  homeRegion: string;
  irAccountId: string;
  partition: string;
  resources: DoctorResources;
  /** The accounts whose instances may be acquired (single-account mode: the IR account). */
  workloadAccounts: readonly string[];
  /** The regions those instances run in (default: the home region). */
  workloadRegions: readonly string[];
  /** Responder role in every workload account (multi-account or organisation mode). */
  multiAccount: boolean;
  /** SDK client settings for `region` (default home), with `credentials` instead of the default chain. */
  client(region?: string, credentials?: Credentials): ClientSettings;
}

/** The responder role's ARN in an account. */
export function responderRoleArn(ctx: Pick<DoctorContext, 'partition' | 'config'>, accountId: string): string {
  return `arn:${ctx.partition}:iam::${accountId}:role/${ctx.config.responderRoleName ?? 'ForensicsResponder'}`;
}

/** The IR account's default event bus in the home region: where every finding must arrive. */
export function homeBusArn(ctx: Pick<DoctorContext, 'partition' | 'homeRegion' | 'irAccountId'>): string {
  return `arn:${ctx.partition}:events:${ctx.homeRegion}:${ctx.irAccountId}:event-bus/default`;
}

/** The name of the IR stack's GuardDuty rule (infra/ir-stack.ts: `${stackName}-guardduty-findings`). */
export function findingRuleName(stackName: string): string {
  return `${stackName}-guardduty-findings`;
}

/**
 * Names of the redrive rule and the alarms (infra/acquisition-recovery.ts `recoveryNames`, fixed from the stack name).
 * Restated so that doctor does not load aws-cdk-lib; test/unit/cli/doctor/checks/doctor-recovery.test.ts asserts the two agree.
 */
export function recoveryResourceNames(stackName: string): { rule: string; failedAlarm: string; redriveErrorsAlarm: string } {
  return {
    rule: `${stackName}-acquisition-stopped`,
    failedAlarm: `${stackName}-acquisition-failed`,
    redriveErrorsAlarm: `${stackName}-redrive-errors`,
  };
}
