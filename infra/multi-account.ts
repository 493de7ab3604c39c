import type { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { AcquisitionStep } from '../workflows/acquisition-steps';
import type { ReleaseStep } from '../workflows/release-steps';
import { type ForensicsConfig, isMultiAccount, multiAccountOf } from './config';
import type { ForensicFunction } from './constructs/forensic-function';
import { allowOn, type StepPermission } from './constructs/step-permissions';
import { workflowSessionTagKey } from './constructs/tag-protection';
import { workloadKeyStatements } from './evidence-key-policy';
import { inWorkloadRegions } from './regional-permissions';

/**
 * The IR side of multi-account mode, kept out of ir-stack.ts so the IR stack only calls
 * `configureIrMultiAccount` and names its step roles with `workflowRoleName`:
 *
 * - the acquisition steps that act on the instance assume the responder role in the finding's account;
 * - the evidence key lets the workload accounts use it only through EC2 (snapshot copies), grants only for AWS
 *   resources, and only from their responder role;
 * - the IR copy and the snapshot lock (IR account) for the evidence steps;
 * - the default event bus accepts GuardDuty findings from the configured source account(s) only.
 */

/** The steps whose calls on the instance go through the responder role (and so need an exact, known role ARN). */
export const RESPONDER_STEPS = {
  // Triage describes the instance while it opens the case.
  triage: 'triage',
  preserveAndSnapshot: 'preserve',
  isolateNetwork: 'isolate',
  startMemoryCapture: 'memory',
  scopeIncident: 'scope',
  checkSnapshots: 'check-snapshots',
  copyEvidence: 'copy-evidence',
  checkEvidenceCopies: 'check-copies',
  // Ends a memory capture a failure interrupted (ENIs back to isolation, full deny).
  recordFailure: 'record-failure',
} as const satisfies Partial<Record<AcquisitionStep, string>>;

export type ResponderStep = keyof typeof RESPONDER_STEPS;

export function isResponderStep(step: string): step is ResponderStep {
  return Object.hasOwn(RESPONDER_STEPS, step);
}

/**
 * The release steps whose calls on the instance go through the responder role: "Release containment" puts the ENIs
 * back, deletes the deny policies, leaves standby and registers targets in the workload account (release-adapters.ts).
 */
export const RELEASE_RESPONDER_STEPS = {
  releaseContainment: 'release',
} as const satisfies Partial<Record<ReleaseStep, string>>;

export type ReleaseResponderStep = keyof typeof RELEASE_RESPONDER_STEPS;

export function isReleaseResponderStep(step: string): step is ReleaseResponderStep {
  return Object.hasOwn(RELEASE_RESPONDER_STEPS, step);
}

/** Every step (acquisition or release) whose role the responder role trusts. */
export type TrustedStep = ResponderStep | ReleaseResponderStep;

/**
 * The fixed name of a step's role: `<stackName>-<step>` (≤ 45 + 1 + 15 characters). IAM names are global to the
 * account, so a second IR deployment in the same account (another region) needs another `forensics:stackName`.
 */
export function workflowRoleName(stackName: string, step: TrustedStep): string {
  return `${stackName}-${isReleaseResponderStep(step) ? RELEASE_RESPONDER_STEPS[step] : RESPONDER_STEPS[step]}`;
}

/** Every IR workflow role a responder role trusts: the six acquisition steps, then the release step. */
export function workflowRoleNames(stackName: string): string[] {
  const steps: TrustedStep[] = [...(Object.keys(RESPONDER_STEPS) as ResponderStep[]), ...(Object.keys(RELEASE_RESPONDER_STEPS) as ReleaseResponderStep[])];
  return steps.map((step) => workflowRoleName(stackName, step));
}

/** The fixed role name of a step in multi-account mode; undefined (generated name) in single-account mode. */
export function stepRoleName(config: ForensicsConfig, step: string): string | undefined {
  return isMultiAccount(config) && (isResponderStep(step) || isReleaseResponderStep(step)) ? workflowRoleName(config.stackName, step) : undefined;
}

/** The environment the handlers need for multi-account mode and the snapshot lock. */
export function multiAccountEnvironment(config: ForensicsConfig): {
  RESPONDER_ROLE_NAME?: string;
  RESPONDER_EXTERNAL_ID?: string;
  SNAPSHOT_LOCK_MODE: string;
  SNAPSHOT_LOCK_DAYS: string;
  SNAPSHOT_LOCK_COOL_OFF_HOURS: string;
  REMOVE_INTERMEDIATE_COPIES: string;
} {
  const m = multiAccountOf(config);
  return {
    // Single-account mode: no responder role, the Lambdas' own credentials (handlers/adapters/responder-credentials.ts).
    ...(isMultiAccount(config) ? { RESPONDER_ROLE_NAME: m.responderRoleName } : {}),
    // Organisation mode may go without an external id (forensics:responderExternalId = ""): none is presented then.
    ...(isMultiAccount(config) && m.responderExternalId ? { RESPONDER_EXTERNAL_ID: m.responderExternalId } : {}),
    SNAPSHOT_LOCK_MODE: m.snapshotLockMode,
    SNAPSHOT_LOCK_DAYS: String(m.snapshotLockDays),
    SNAPSHOT_LOCK_COOL_OFF_HOURS: String(m.snapshotLockCoolOffHours),
    REMOVE_INTERMEDIATE_COPIES: String(m.removeIntermediateCopies),
  };
}

export interface IrMultiAccountProps {
  readonly config: ForensicsConfig;
  readonly functions: Record<AcquisitionStep, ForensicFunction>;
  readonly evidenceKey: kms.Key;
  /** ir-stack.ts's flattenReference (cdk-nag's spelling of a resource). */
  readonly flatten: (value: unknown) => string;
}

export function configureIrMultiAccount(stack: Stack, props: IrMultiAccountProps): void {
  const { config, functions: f, evidenceKey, flatten } = props;
  const m = multiAccountOf(config);
  const prefix = config.tagPrefix;
  const ec2Service = `ec2.${stack.region}.amazonaws.com`;
  const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
  const anyKeyInAccount = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
  // The IR copy reads snapshots of every workload region (infra/regional-permissions.ts).
  const inRegions = inWorkloadRegions(stack, config.workloadRegions ?? []);
  const allow = (step: AcquisitionStep, s: StepPermission) => allowOn(f[step].role, inRegions(s), flatten);

  // ── Both modes: lock the evidence snapshots (IR account); the check step also requests copies. ──
  for (const step of ['copyEvidence', 'checkEvidenceCopies'] as const) {
    allow(step, {
      sid: `${step === 'copyEvidence' ? 'CopyEvidence' : 'CheckEvidenceCopies'}LockEvidenceSnapshots`,
      why: 'LockSnapshot (EBS Snapshot Lock, compliance mode by default) on the IR-owned evidence snapshots only: ' +
        `those tagged ${prefix}:evidence=true at creation by this workflow's CopySnapshot.`,
      actions: ['ec2:LockSnapshot'],
      resources: [snapshots],
      conditions: { StringEquals: { [`aws:ResourceTag/${prefix}:evidence`]: 'true' } },
    });
  }
  allow('checkEvidenceCopies', {
    sid: 'CheckEvidenceCopiesCopySnapshot',
    why: 'CopySnapshot: the IR-owned copy of the snapshot the workload account shared (cross-account), and copies ' +
      'deferred by account copy limits (single-account). Snapshot ARNs carry no account id.',
    actions: ['ec2:CopySnapshot'],
    resources: [snapshots],
  });
  allow('checkEvidenceCopies', {
    sid: 'CheckEvidenceCopiesTagCopiesAtCreation',
    why: 'CopySnapshot TagSpecifications (case metadata): tagging allowed only as part of the copy.',
    actions: ['ec2:CreateTags'],
    resources: [snapshots],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
  });
  allow('checkEvidenceCopies', {
    sid: 'CheckEvidenceCopiesUseEvidenceKeyViaEc2',
    why: 'CopySnapshot with the evidence key (source and copy are both under it): through EC2 only.',
    actions: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
    resources: [evidenceKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': ec2Service } },
  });
  allow('checkEvidenceCopies', {
    sid: 'CheckEvidenceCopiesGrantEvidenceKeyToEbs',
    why: 'CopySnapshot: EBS creates a grant on the evidence key for the copy; only grants for AWS resources.',
    actions: ['kms:CreateGrant'],
    resources: [evidenceKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': ec2Service }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  });
  allow('checkEvidenceCopies', {
    sid: 'CheckEvidenceCopiesReadSourceKeysViaEc2',
    why: 'Single-account deferred copies: EBS decrypts the source snapshot (aws/ebs or a customer key of this ' +
      'account) as the caller; only through EC2 in this region, grants only for AWS resources.',
    actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom', 'kms:CreateGrant'],
    resources: [anyKeyInAccount],
    conditions: { StringEquals: { 'kms:ViaService': ec2Service }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  });

  // ── Finding forwarding: the default bus accepts GuardDuty findings from the configured account(s) only. ──
  if (m.findingSourceAccounts.length > 0) {
    new events.CfnEventBusPolicy(stack, 'FindingSourceBusPolicy', {
      eventBusName: 'default',
      statementId: 'AcceptGuardDutyFindingsFromAdministrator',
      statement: {
        Sid: 'AcceptGuardDutyFindingsFromAdministrator',
        Effect: 'Allow',
        Principal: { AWS: m.findingSourceAccounts.map((a) => `arn:${stack.partition}:iam::${a}:root`) },
        Action: 'events:PutEvents',
        Resource: stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        Condition: { StringEquals: { 'events:source': 'aws.guardduty', 'events:detail-type': 'GuardDuty Finding' } },
      },
    });
  }

  if (!isMultiAccount(config)) return;

  // ── Workflow roles may assume only the responder role, only in the configured accounts (or organisation). ──
  for (const step of Object.keys(RESPONDER_STEPS) as ResponderStep[]) {
    allow(step, assumeResponderRole(stack, config, 'AssumeResponderRole'));
    allow(step, tagResponderSession(stack, config, 'TagResponderSession', 'acquisition'));
  }

  // ── Evidence key: workload accounts may use it only through EC2, for snapshot copies, from the responder role. ──
  // The same statements go into every replica's key policy (infra/evidence-key-policy.ts, infra/regional-stack.ts).
  for (const statement of workloadKeyStatements(config, stack.partition, ec2Service)) evidenceKey.addToResourcePolicy(statement);
}

/** sts:AssumeRole of the responder role, only in the listed workload accounts, or in the organisation's accounts. */
function assumeResponderRole(stack: Stack, config: ForensicsConfig, sid: string): StepPermission {
  const m = multiAccountOf(config);
  const orgId = m.organizationId;
  return {
    sid,
    why: `sts:AssumeRole of the responder role "${m.responderRoleName}" in the case's account (session name = case ` +
      `id)${orgId ? `; any account of organisation ${orgId} (aws:ResourceOrgID)` : ', only in the listed workload accounts'}.`,
    actions: ['sts:AssumeRole'],
    resources: orgId
      ? [`arn:${stack.partition}:iam::*:role/${m.responderRoleName}`]
      : config.workloadAccounts.map((a) => `arn:${stack.partition}:iam::${a}:role/${m.responderRoleName}`),
    ...(orgId ? { conditions: { StringEquals: { 'aws:ResourceOrgID': orgId } } } : {}),
  };
}

/**
 * sts:TagSession on the same role: the session carries `<prefix>:workflow` = acquisition or release, and the
 * responder role grants its containment and release IAM calls by that tag (infra/responder-stack.ts), so neither
 * workflow's session holds the other's. Only that key, only this value.
 */
function tagResponderSession(stack: Stack, config: ForensicsConfig, sid: string, workflow: 'acquisition' | 'release'): StepPermission {
  const assume = assumeResponderRole(stack, config, sid);
  const key = workflowSessionTagKey(config.tagPrefix);
  return {
    sid,
    why: `sts:TagSession: the responder session is tagged ${key}=${workflow} (the responder role grants by it); that key only.`,
    actions: ['sts:TagSession'],
    resources: assume.resources,
    conditions: {
      ...(assume.conditions ?? {}),
      StringEquals: { ...(assume.conditions?.StringEquals ?? {}), [`aws:RequestTag/${key}`]: workflow },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [key] },
    },
  };
}

export interface ReleaseMultiAccountProps {
  readonly config: ForensicsConfig;
  readonly functions: Record<ReleaseStep, { role: iam.Role }>;
  /** ir-stack.ts's flattenReference (cdk-nag's spelling of a resource). */
  readonly flatten: (value: unknown) => string;
}

/**
 * Release in multi-account mode: "Release containment" acts in the case's account through the responder role
 * (handlers/release-containment.ts → release-adapters.ts → responder-credentials.ts, session name = case id), so its
 * role (fixed name `<stackName>-release`, see `stepRoleName`) may assume that role, and nothing else in the workload
 * account: infra/release-workflow.ts leaves out its own EC2/IAM/Auto Scaling/ELB permissions in this mode.
 */
export function configureReleaseMultiAccount(stack: Stack, props: ReleaseMultiAccountProps): void {
  if (!isMultiAccount(props.config)) return;
  for (const step of Object.keys(RELEASE_RESPONDER_STEPS) as ReleaseResponderStep[]) {
    const role = props.functions[step].role;
    allowOn(role, assumeResponderRole(stack, props.config, 'ReleaseAssumeResponderRole'), props.flatten);
    allowOn(role, tagResponderSession(stack, props.config, 'ReleaseTagResponderSession', 'release'), props.flatten);
  }
}
