import { DescribeIamInstanceProfileAssociationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelease } from '../../cli/commands/release';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, executeLocalRelease, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { seedVictim, type Victim } from '../../cli/local/seed-victim';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';

/**
 * The quarantine instance profile end to end on moto: a manual acquisition with `options.quarantineProfile` swaps the
 * instance's profile for the no-permission quarantine profile (Replace; Associate when it had none), and release puts
 * the original back (Replace; Disassociate when there was none). Every assertion reads EC2 through the SDK.
 */
let env: LocalEnvironment;
let ec2: EC2Client;
let withProfile: Victim;
let withoutProfile: Victim;
let first: RunLocalResult;
let second: RunLocalResult;
let originalProfileArn: string | undefined;

async function profileOf(instanceId: string): Promise<string | undefined> {
  const out = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
  return (out.IamInstanceProfileAssociations ?? []).find((a) => a.InstanceId === instanceId && a.State === 'associated')?.IamInstanceProfile?.Arn;
}

const manual = (victim: Victim, reason: string) => ({
  instanceId: victim.instanceId,
  accountId: env.accountId,
  region: env.region,
  reason,
  requestedBy: 'e2e-responder',
  options: { workstation: false, quarantineProfile: true },
});

beforeAll(async () => {
  // The deployment setting that creates the profile (`cdk deploy -c forensics:quarantineProfile=true`).
  env = await prepareE2eEnvironment({ handlerLogs: 'silent', context: { 'forensics:quarantineProfile': 'true' } });
  ec2 = new EC2Client(emulatorClientConfig(env));
  withProfile = await seedVictim(env);
  withoutProfile = await seedVictim(env, { lean: true });
  originalProfileArn = await profileOf(withProfile.instanceId);
  first = await executeLocal(env, manual(withProfile, 'e2e: quarantine profile, instance with a profile'));
  second = await executeLocal(env, manual(withoutProfile, 'e2e: quarantine profile, instance without a profile'));
});

afterAll(async () => {
  await env?.stop();
});

describe('quarantine instance profile (emulator)', () => {
  it('acquisition replaces the instance profile with the quarantine profile, recorded in the case', async () => {
    expect(originalProfileArn).toMatch(/:instance-profile\//);
    expect(first.status).toBe('SUCCEEDED');
    const quarantine = env.handlerEnv.QUARANTINE_PROFILE_ARN;
    expect(quarantine).toMatch(/:instance-profile\/forensics-quarantine$/);
    expect(await profileOf(withProfile.instanceId)).toBe(quarantine);

    const cases = new DynamoCaseTable(new DynamoDBClient(emulatorClientConfig(env)), env.handlerEnv.CASE_TABLE_NAME, () => new Date());
    const record = await cases.getCase(first.caseId ?? '');
    const credentials = (record!.details.containment as { credentials?: Record<string, unknown> }).credentials;
    expect(credentials).toMatchObject({
      status: 'applied',
      quarantine: { status: 'applied', method: 'replace', quarantineProfileArn: quarantine, previous: { instanceProfileArn: originalProfileArn } },
    });
  });

  it('an instance without a profile gets the quarantine profile associated', async () => {
    expect(second.status).toBe('SUCCEEDED');
    expect(await profileOf(withoutProfile.instanceId)).toBe(env.handlerEnv.QUARANTINE_PROFILE_ARN);
  });

  it('release (state machine) puts the original profile back', async () => {
    const released = await executeLocalRelease(env, { caseId: first.caseId ?? '', reason: 'e2e: cleared', requestedBy: 'e2e' });
    expect(released.error).toBeUndefined();
    expect(released.status).toBe('SUCCEEDED');
    expect(await profileOf(withProfile.instanceId)).toBe(originalProfileArn);
  });

  it('release (CLI) of the instance that had none removes the quarantine profile', async () => {
    const released = await runRelease(second.caseId ?? '', {
      reason: 'e2e: cleared',
      endpoint: env.endpoint,
      table: env.handlerEnv.CASE_TABLE_NAME,
      bucket: env.handlerEnv.EVIDENCE_BUCKET,
      requestedBy: 'e2e',
    });
    expect(released.status).toBe('RELEASED');
    expect(released.actions.find((a) => a.action === 'restore-instance-profile')).toMatchObject({ status: 'succeeded', request: { method: 'disassociate' } });
    expect(await profileOf(withoutProfile.instanceId)).toBeUndefined();
  });
});
