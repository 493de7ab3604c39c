import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { emulatorClientConfig, type EmulatorContext } from '../../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../../cli/local/local-runner';

/**
 * What the e2e tests of `doctor` add around a run-local deployment (which run-local itself registers as the IR stack
 * and provisions with the template's controls, cli/local/local-controls.ts): for multi-account mode, a workload
 * account with the responder role (trust as infra/responder-stack.ts: the IR account, the external id), its GuardDuty
 * detector per region, and the key policy statement that lets it use the evidence key through EC2
 * (infra/multi-account.ts) — what the responder stack and a multi-account IR stack deploy, which run-local does not.
 */

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
