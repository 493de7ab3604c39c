import { Annotations, type Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { AcquisitionStep } from '../workflows/acquisition-steps';
import { type ForensicsConfig, isMultiAccount } from './config';
import type { ForensicFunction } from './constructs/forensic-function';
import { allowOn } from './constructs/step-permissions';

/**
 * The IR stack's part of "one IR home region for the whole organisation", kept out of ir-stack.ts:
 *
 * - the Lambda environment: organisation mode (`ORGANIZATION_ID`: any account of the organisation is a workload
 *   account; IAM enforces the boundary — the step roles may assume responder roles only where aws:ResourceOrgID is
 *   the organisation, infra/multi-account.ts), the exclude list and the workload regions (triage ignores the rest);
 * - the home bus accepts GuardDuty findings from the organisation only (aws:PrincipalOrgID): the regional stacks and
 *   the delegated administrator's forwarders put them there from every region;
 * - the IR copy into the home region reads the intermediate copies under the evidence key's replicas: the check step
 *   may use those replicas through EC2 (the replicas' own key policies give this account, i.e. IAM, the control).
 */

/** The Lambda environment of organisation mode, exclusions and workload regions (handlers/config/env.ts). */
export function homeRegionEnvironment(config: ForensicsConfig): {
  ORGANIZATION_ID?: string;
  EXCLUDED_ACCOUNTS?: string;
  WORKLOAD_REGIONS?: string;
} {
  return {
    ...(config.organizationId ? { ORGANIZATION_ID: config.organizationId } : {}),
    ...((config.excludedAccounts?.length ?? 0) > 0 ? { EXCLUDED_ACCOUNTS: (config.excludedAccounts ?? []).join(',') } : {}),
    // Unset: the home region only (the handlers take it from the evidence key's ARN).
    ...((config.workloadRegions?.length ?? 0) > 0 ? { WORKLOAD_REGIONS: (config.workloadRegions ?? []).join(',') } : {}),
  };
}

export interface HomeRegionProps {
  readonly config: ForensicsConfig;
  readonly functions: Record<AcquisitionStep, ForensicFunction>;
  readonly evidenceKey: kms.Key;
  readonly flatten: (value: unknown) => string;
}

export function configureHomeRegion(stack: Stack, props: HomeRegionProps): void {
  const { config, evidenceKey, flatten } = props;
  const regions = config.workloadRegions ?? [];

  // ── The home bus accepts GuardDuty findings from the organisation's accounts, from any region. ──
  if (config.organizationId) {
    new events.CfnEventBusPolicy(stack, 'OrganizationFindingsBusPolicy', {
      eventBusName: 'default',
      statementId: 'AcceptGuardDutyFindingsFromOrganization',
      statement: {
        Sid: 'AcceptGuardDutyFindingsFromOrganization',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        Condition: {
          StringEquals: {
            'aws:PrincipalOrgID': config.organizationId,
            'events:source': 'aws.guardduty',
            'events:detail-type': 'GuardDuty Finding',
          },
        },
      },
    });
  }

  // ── The IR copy (home region) of an intermediate copy under the evidence key's replica in its region. ──
  if (config.evidenceKeyMultiRegion && isMultiAccount(config) && regions.length > 0) {
    const replicas = regions.map((region) =>
      stack.formatArn({ service: 'kms', region, resource: 'key', resourceName: evidenceKey.keyId }),
    );
    const viaEc2 = [...new Set([`ec2.${stack.region}.amazonaws.com`, ...regions.map((r) => `ec2.${r}.amazonaws.com`)])];
    const role = props.functions.checkEvidenceCopies.role;
    allowOn(
      role,
      {
        sid: 'CheckEvidenceCopiesUseEvidenceKeyReplicasViaEc2',
        why: 'CopySnapshot into the home region of a shared intermediate copy encrypted with the evidence key\'s ' +
          'replica in the instance\'s region: EBS decrypts it with that replica as the caller; only these replicas ' +
          '(this account, the evidence key\'s id, the workload regions), only through EC2.',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom', 'kms:GenerateDataKeyWithoutPlaintext'],
        resources: replicas,
        conditions: { StringEquals: { 'kms:ViaService': viaEc2 } },
      },
      flatten,
    );
    allowOn(
      role,
      {
        sid: 'CheckEvidenceCopiesGrantEvidenceKeyReplicasToEbs',
        why: 'The same copy: EBS creates a grant on the replica for it; only grants for AWS resources, through EC2.',
        actions: ['kms:CreateGrant'],
        resources: replicas,
        conditions: { StringEquals: { 'kms:ViaService': viaEc2 }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      },
      flatten,
    );
  }

  // A workload account's copy outside the home region needs a key of that region: the evidence key's replica.
  if (isMultiAccount(config) && !config.evidenceKeyMultiRegion && regions.length > 0) {
    Annotations.of(stack).addWarningV2(
      'forensics:single-region-evidence-key',
      `forensics:workloadRegions lists ${regions.join(', ')} but the evidence key is single-Region ` +
        '(forensics:evidenceKeyMultiRegion=false): findings about another account outside the home region are ignored ' +
        'at triage with that reason. New deployments: set forensics:evidenceKeyMultiRegion=true; existing ones: ' +
        'docs/organisation-deployment.md, "Existing deployments".',
    );
  }
}
