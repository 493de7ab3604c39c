/**
 * The IR stack's CloudFormation output keys, as `infra/ir-stack.ts` exports them in `IR_STACK_OUTPUTS`. Repeated
 * here so that the CLI does not load aws-cdk-lib at start-up; `test/unit/cli/commands/cli-arguments.test.ts` asserts the two
 * stay equal.
 */
export const IR_STACK_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  evidenceBucketName: 'EvidenceBucketName',
  caseTableName: 'CaseTableName',
  evidenceKeyArn: 'EvidenceKeyArn',
  topicArn: 'TopicArn',
  releaseStateMachineArn: 'ReleaseStateMachineArn',
  workstationLaunchTemplateId: 'WorkstationLaunchTemplateId',
  workstationSubnetIds: 'WorkstationSubnetIds',
  workstationSecurityGroupId: 'WorkstationSecurityGroupId',
} as const;

/** Output of the quarantine profile, present only when `forensics:quarantineProfile` deploys one (infra/quarantine-profile.ts). */
export const QUARANTINE_PROFILE_OUTPUT = 'QuarantineProfileArn';
