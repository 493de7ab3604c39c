import * as iam from 'aws-cdk-lib/aws-iam';
import { type ForensicsConfig, isMultiAccount, multiAccountOf } from './config';

/**
 * The evidence key policy's statements for the workload accounts, shared by the primary key (infra/multi-account.ts,
 * home region) and each of its multi-Region replicas (infra/regional-stack.ts, one per workload region): key policies
 * are not replicated, so every region's copy must state the same rules itself.
 *
 * Workload accounts may use the key ONLY through EC2 in THAT key's region (`kms:ViaService = ec2.<region>`: the
 * re-encryption copy of their snapshots), create grants only for AWS resources (EBS's own grant for the copy), and only
 * from their responder role — the listed accounts, or any account of the organisation (aws:PrincipalOrgID).
 * Empty in single-account mode (no other account uses the key).
 */
export function workloadKeyStatements(config: ForensicsConfig, partition: string, ec2Service: string): iam.PolicyStatement[] {
  if (!isMultiAccount(config)) return [];
  const m = multiAccountOf(config);
  const orgId = m.organizationId;
  const principals = orgId ? [new iam.AnyPrincipal()] : config.workloadAccounts.map((a) => new iam.AccountPrincipal(a));
  const fromResponder = orgId
    ? {
        StringEquals: { 'kms:ViaService': ec2Service, 'aws:PrincipalOrgID': orgId },
        ArnLike: { 'aws:PrincipalArn': `arn:${partition}:iam::*:role/${m.responderRoleName}` },
      }
    : {
        StringEquals: { 'kms:ViaService': ec2Service, 'kms:CallerAccount': [...config.workloadAccounts] },
        ArnEquals: { 'aws:PrincipalArn': config.workloadAccounts.map((a) => `arn:${partition}:iam::${a}:role/${m.responderRoleName}`) },
      };
  return [
    new iam.PolicyStatement({
      sid: 'WorkloadAccountsCopySnapshotsViaEc2',
      principals,
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      resources: ['*'],
      conditions: fromResponder,
    }),
    new iam.PolicyStatement({
      sid: 'WorkloadAccountsGrantToEbsOnly',
      principals,
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { ...fromResponder, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  ];
}
