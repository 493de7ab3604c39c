import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, type Role } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import { type Credentials, type DoctorContext, responderRoleArn } from '../context';

/**
 * `responder.assume[<account>]`: the responder role of a workload account can be assumed with the deployment's
 * external id, and a harmless read works with its credentials (ec2:DescribeInstances, which every acquisition makes
 * first). Those credentials then serve the other per-account checks, so they see what the workflow would see.
 *
 * The responder role trusts only the workflow's own step roles (infra/responder-stack.ts), so on AWS this check
 * passes only for an identity that trust admits; any other identity gets AccessDenied, which is reported as a FAIL
 * naming sts:AssumeRole and the role — `forensics drill` then proves the same path through the workflow itself.
 * On an emulator AssumeRole succeeds for any role ARN (moto does not look the role up), so there the role is also
 * read with the assumed credentials: a deleted role is caught as it would be on AWS.
 */

export interface ResponderFacts {
  accountId: string;
  roleArn: string;
  /** Single-account mode: no responder role, the workflow acts with its own roles. */
  ownCredentials: boolean;
  assume?: Outcome<Credentials>;
  read?: Outcome<number>;
  /** Emulator only: the role as IAM holds it. */
  role?: Outcome<Role | undefined>;
  region: string;
}

export async function gatherResponder(ctx: DoctorContext, accountId: string): Promise<ResponderFacts> {
  const roleArn = responderRoleArn(ctx, accountId);
  const region = ctx.workloadRegions[0] ?? ctx.homeRegion;
  if (!ctx.multiAccount) return { accountId, roleArn, ownCredentials: true, region };
  const sts = new STSClient(ctx.client());
  let assume: Outcome<Credentials>;
  try {
    const externalId = ctx.config.responderExternalId;
    assume = await attempt('sts:AssumeRole', async () => {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'forensics-doctor', ...(externalId ? { ExternalId: externalId } : {}), DurationSeconds: 900 }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw Object.assign(new Error('AssumeRole returned no credentials'), { name: 'NoCredentials' });
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
    });
  } finally {
    sts.destroy();
  }
  if (!assume.ok) return { accountId, roleArn, ownCredentials: false, assume, region };
  const credentials = assume.value;
  const ec2 = new EC2Client(ctx.client(region, credentials));
  try {
    const read = await attempt('ec2:DescribeInstances', async () => {
      const out = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      return (out.Reservations ?? []).reduce((n, r) => n + (r.Instances?.length ?? 0), 0);
    });
    let role: Outcome<Role | undefined> | undefined;
    if (ctx.emulator) {
      const iam = new IAMClient(ctx.client(region, credentials));
      try {
        const roleName = roleArn.split('/').pop() as string;
        role = await attempt('iam:GetRole', async () => (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role);
      } finally {
        iam.destroy();
      }
    }
    return { accountId, roleArn, ownCredentials: false, assume, read, ...(role ? { role } : {}), region };
  } finally {
    ec2.destroy();
  }
}

export function responderCheckName(accountId: string): string {
  return `responder.assume[${accountId}]`;
}

export function evaluateResponder(facts: ResponderFacts, externalId: string | undefined, emulator: boolean): DoctorCheck {
  const name = responderCheckName(facts.accountId);
  if (facts.ownCredentials) {
    return pass(name, 'not applicable: single-account mode, the workflow\'s own step roles act in this account (no responder role)');
  }
  const withId = externalId ? ` with external id "${externalId}"` : ' (no external id: organisation mode)';
  if (!facts.assume?.ok) {
    const error = facts.assume?.error;
    if (!error) return fail(name, `${facts.roleArn} was not tried`);
    if (error.denied) {
      return fail(
        name,
        `cannot assume ${facts.roleArn}${withId}: ${error.name} — deploy the responder stack in ${facts.accountId} with the IR account, stack name and external id of this deployment; ` +
          'its trust admits only the workflow\'s step roles, so from another identity prove it with `forensics drill --account ' + facts.accountId + '`',
      );
    }
    return cannotRun(name, error, `credentials for ${facts.roleArn}`, emulator);
  }
  if (facts.role && !facts.role.ok) {
    return facts.role.error.notFound
      ? fail(name, `${facts.roleArn} does not exist — deploy the responder stack in account ${facts.accountId}`)
      : cannotRun(name, facts.role.error, facts.roleArn, emulator);
  }
  if (!facts.read?.ok) {
    return facts.read
      ? fail(name, `assumed ${facts.roleArn}, but ${facts.read.error.action} in ${facts.region} failed (${facts.read.error.name}): the role cannot describe the instances it must acquire — deploy the current responder stack (forensics:workloadRegions must list ${facts.region})`)
      : fail(name, `assumed ${facts.roleArn}, harmless read not tried`);
  }
  return pass(name, `assumed ${facts.roleArn}${withId}; ec2:DescribeInstances in ${facts.region} works`);
}

/** The credentials the per-account checks use: the responder's, or the caller's own in single-account mode. */
export function accountCredentials(facts: ResponderFacts): { usable: boolean; credentials?: Credentials } {
  if (facts.ownCredentials) return { usable: true };
  if (facts.assume?.ok && (!facts.role || facts.role.ok)) return { usable: true, credentials: facts.assume.value };
  return { usable: false };
}
