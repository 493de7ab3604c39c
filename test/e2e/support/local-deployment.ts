import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { WorkstationEnvironment } from '../../../handlers/config/workstation-env';
import { IR_STACK_OUTPUTS } from '../../../cli/deployment/stack-outputs';
import { findingPatternJson, localStateMachineArn } from '../../../cli/local/emulator-deployment';
import { emulatorClientConfig, type EmulatorContext } from '../../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../../cli/local/local-runner';

/**
 * What the e2e tests of `doctor` and `drill` add around a run-local deployment, each as the real deployment has it:
 * - the IR stack with its outputs (how every CLI command finds the deployment by `--endpoint` alone), registered as a
 *   CloudFormation stack whose only resource is a wait-condition handle, its outputs the emulator's resources;
 * - multi-account mode: a workload account with the responder role (trust as infra/responder-stack.ts: the IR account,
 *   the external id), its GuardDuty detector per region, the key policy statement that lets it use the evidence key
 *   through EC2 (infra/multi-account.ts), and the regional forwarding rule (DESIGN "Home region": a rule in each other
 *   region targeting the home bus).
 */

export async function registerLocalStack(env: LocalEnvironment, stackName = 'ForensicAcquisition'): Promise<void> {
  const cfn = new CloudFormationClient(emulatorClientConfig(env));
  try {
    try {
      const found = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      if (found.Stacks?.length) return;
    } catch {
      // absent: create below
    }
    const h = env.handlerEnv as LocalEnvironment['handlerEnv'] & WorkstationEnvironment;
    const outputs: Record<string, string> = {
      [IR_STACK_OUTPUTS.stateMachineArn]: localStateMachineArn(env, 'acquisition'),
      [IR_STACK_OUTPUTS.releaseStateMachineArn]: localStateMachineArn(env, 'release'),
      [IR_STACK_OUTPUTS.evidenceBucketName]: h.EVIDENCE_BUCKET,
      [IR_STACK_OUTPUTS.caseTableName]: h.CASE_TABLE_NAME,
      [IR_STACK_OUTPUTS.evidenceKeyArn]: h.EVIDENCE_KEY_ARN,
      [IR_STACK_OUTPUTS.topicArn]: h.TOPIC_ARN,
      [IR_STACK_OUTPUTS.workstationLaunchTemplateId]: h.WORKSTATION_LAUNCH_TEMPLATE_ID,
      [IR_STACK_OUTPUTS.workstationSubnetIds]: h.WORKSTATION_SUBNET_IDS,
      [IR_STACK_OUTPUTS.workstationSecurityGroupId]: h.WORKSTATION_SECURITY_GROUP_ID,
    };
    await cfn.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({
          Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
          Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
        }),
      }),
    );
  } finally {
    cfn.destroy();
  }
}

/** Credentials of another emulated account (moto maps an assumed role's credentials to the role's account). */
export async function accountContext(env: LocalEnvironment, accountId: string, region = env.region): Promise<EmulatorContext> {
  const sts = new STSClient(emulatorClientConfig(env));
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/e2e-admin`, RoleSessionName: 'e2e-setup' }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('moto returned no credentials');
    return { endpoint: env.endpoint, region, accountId, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) } };
  } finally {
    sts.destroy();
  }
}

export interface WorkloadSetup {
  accountId: string;
  regions: readonly string[];
  roleName: string;
  externalId: string;
}

export async function provisionWorkloadAccount(env: LocalEnvironment, w: WorkloadSetup): Promise<void> {
  const ctx = await accountContext(env, w.accountId);
  const iam = new IAMClient(emulatorClientConfig(ctx));
  try {
    try {
      await iam.send(new GetRoleCommand({ RoleName: w.roleName }));
    } catch {
      await iam.send(
        new CreateRoleCommand({
          RoleName: w.roleName,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${env.accountId}:root` },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'sts:ExternalId': w.externalId } },
              },
            ],
          }),
        }),
      );
    }
  } finally {
    iam.destroy();
  }
  for (const region of w.regions) {
    const gd = new GuardDutyClient(emulatorClientConfig({ ...ctx, region }));
    try {
      if (((await gd.send(new ListDetectorsCommand({}))).DetectorIds ?? []).length === 0) await gd.send(new CreateDetectorCommand({ Enable: true }));
    } finally {
      gd.destroy();
    }
  }
  // The IR key policy of multi-account mode: the workload account may use the key through EC2 only.
  const kms = new KMSClient(emulatorClientConfig(env));
  try {
    const keyId = env.handlerEnv.EVIDENCE_KEY_ARN;
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '{}') as { Statement: unknown[] };
    policy.Statement = [
      ...policy.Statement.filter((s) => (s as { Sid?: string }).Sid !== 'WorkloadAccountsCopySnapshotsViaEc2'),
      {
        Sid: 'WorkloadAccountsCopySnapshotsViaEc2',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${w.accountId}:root` },
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `ec2.${env.region}.amazonaws.com`, 'kms:CallerAccount': [w.accountId] } },
      },
    ];
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
  } finally {
    kms.destroy();
  }
}

/** The regional forwarder in `region` (IR account): GuardDuty findings there go to the home region's default bus. */
export async function provisionRegionalForwarder(env: LocalEnvironment, region: string, ruleName = 'forensics-forward-findings'): Promise<void> {
  const events = new EventBridgeClient(emulatorClientConfig({ ...env, region }));
  try {
    await events.send(new PutRuleCommand({ Name: ruleName, EventPattern: await findingPatternJson(Number(env.handlerEnv.MIN_SEVERITY)), State: 'ENABLED' }));
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        Targets: [{ Id: 'HomeBus', Arn: `arn:aws:events:${env.region}:${env.accountId}:event-bus/default`, RoleArn: `arn:aws:iam::${env.accountId}:role/forensics-forwarder` }],
      }),
    );
  } finally {
    events.destroy();
  }
}
