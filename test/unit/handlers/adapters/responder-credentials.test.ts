import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ClientScope, createClientScope } from '../../../../handlers/adapters/aws-clients';
import { ec2Client } from '../../../../handlers/adapters/clients/ec2';
import { ec2AdaptersFor } from '../../../../handlers/adapters/ec2-side-adapters';
import {
  REFRESH_MARGIN_MS,
  ResponderCredentials,
  arnParts,
  responderSettingsFromEnv,
  sessionNameOf,
  workloadClientsFor,
} from '../../../../handlers/adapters/responder-credentials';
import { ConfigurationError } from '../../../../handlers/domain/errors';

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const IR = '999988887777';
const WORKLOAD = '111122223333';
const CASE_ID = '20260110T100000Z-i-0abc1234def567890';

let now: number;
const clock = () => new Date(now);
const responder = (roleName?: string) =>
  new ResponderCredentials(
    { ...(roleName ? { roleName } : {}), externalId: 'ext-1', irAccountId: IR, partition: 'aws-us-gov' },
    () => new STSClient({ region: 'us-gov-west-1' }),
    clock,
  );
const own: ClientScope = createClientScope({ credentials: async () => ({ accessKeyId: 'AKIAOWN', secretAccessKey: 'x' }) });

beforeEach(() => {
  sts.reset();
  ec2.reset();
  now = Date.parse('2026-01-10T10:00:00.000Z');
  let n = 0;
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: `ASIASESSION${++n}`,
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(now + 3_600_000),
    },
  }));
});

describe('responder credentials', () => {
  it('assumes the responder role in the target account, session name = case id, with the external id', async () => {
    const creds = await responder('ForensicsResponder').providerFor(WORKLOAD, CASE_ID)();
    expect(creds.accessKeyId).toBe('ASIASESSION1');
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: `arn:aws-us-gov:iam::${WORKLOAD}:role/ForensicsResponder`,
      RoleSessionName: CASE_ID,
      ExternalId: 'ext-1',
      DurationSeconds: 3600,
      // The workflow this session serves: the responder role grants containment calls to acquisition sessions only.
      Tags: [{ Key: 'forensics:workflow', Value: 'acquisition' }],
    });
  });

  it('a release session is its own session, tagged release (the only kind the responder role lets delete a deny policy)', async () => {
    // Prepare
    const r = responder('ForensicsResponder');
    // Act
    await r.providerFor(WORKLOAD, CASE_ID)();
    await r.providerFor(WORKLOAD, CASE_ID, 'release')();
    await r.providerFor(WORKLOAD, CASE_ID, 'release')();
    // Assess: two sessions (acquisition, release), the second cached; each tagged with its workflow.
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.Tags)).toEqual([
      [{ Key: 'forensics:workflow', Value: 'acquisition' }],
      [{ Key: 'forensics:workflow', Value: 'release' }],
    ]);
  });

  it('caches per account and case until shortly before expiry', async () => {
    const r = responder('ForensicsResponder');
    await r.providerFor(WORKLOAD, CASE_ID)();
    await r.providerFor(WORKLOAD, CASE_ID)();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    await r.providerFor(WORKLOAD, 'another-case')(); // another case: its own session (CloudTrail attribution)
    await r.providerFor('222233334444', CASE_ID)(); // another account
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(3);
    now += 3_600_000 - REFRESH_MARGIN_MS + 1; // inside the refresh margin
    const renewed = await r.providerFor(WORKLOAD, CASE_ID)();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(4);
    expect(renewed.accessKeyId).toBe('ASIASESSION4');
  });

  it('a failed AssumeRole is not cached', async () => {
    const r = responder('ForensicsResponder');
    sts.on(AssumeRoleCommand).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(r.providerFor(WORKLOAD, CASE_ID)()).rejects.toThrow('denied');
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIAOK', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 3_600_000) } });
    expect((await r.providerFor(WORKLOAD, CASE_ID)()).accessKeyId).toBe('ASIAOK');
  });

  it('single-account mode: no role configured and target = IR account → the Lambda\'s own credentials, no STS call', () => {
    const clients = workloadClientsFor({ accountId: IR }, CASE_ID, responder(), () => own);
    expect(clients).toBe(own);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('no role configured and a target in another account is a configuration error', () => {
    expect(() => workloadClientsFor({ accountId: WORKLOAD }, CASE_ID, responder(), () => own)).toThrow(ConfigurationError);
  });

  it('with a role configured the same assume-role path is used for the IR account too', () => {
    const clients = workloadClientsFor({ accountId: IR }, CASE_ID, responder('ForensicsResponder'), () => own);
    expect(clients).not.toBe(own);
  });

  it('ec2AdaptersFor signs the workload calls with the assumed session', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const r = responder('ForensicsResponder');
    const clients = workloadClientsFor({ accountId: WORKLOAD }, CASE_ID, r);
    const adapters = ec2AdaptersFor({ accountId: WORKLOAD, region: 'eu-west-1', instanceId: 'i-0abc1234def567890' }, clients);
    await adapters.instances.describeInstance('i-0abc1234def567890').catch(() => undefined);
    const client = ec2.commandCalls(DescribeInstancesCommand)[0]?.thisValue as EC2Client | undefined;
    expect(client).toBeDefined();
    if (client) {
      const creds = await (client.config.credentials as () => Promise<{ accessKeyId: string }>)();
      expect(creds.accessKeyId).toMatch(/^ASIASESSION/);
    }
    expect(await (ec2Client(clients, 'eu-west-1').config.credentials as () => Promise<{ accessKeyId: string }>)()).toMatchObject({
      accessKeyId: expect.stringMatching(/^ASIASESSION/),
    });
  });

  it('reads the settings from the environment; the IR account and partition come from the evidence key ARN', () => {
    expect(
      responderSettingsFromEnv({
        RESPONDER_ROLE_NAME: 'R',
        RESPONDER_EXTERNAL_ID: 'e',
        EVIDENCE_KEY_ARN: `arn:aws-cn:kms:cn-north-1:${IR}:key/abc`,
      }),
    ).toEqual({ roleName: 'R', externalId: 'e', irAccountId: IR, partition: 'aws-cn' });
    expect(responderSettingsFromEnv({ EVIDENCE_KEY_ARN: 'alias/x' })).toEqual({ partition: 'aws' });
    expect(arnParts('arn:aws:kms:eu-west-1:123456789012:key/x')).toEqual({ partition: 'aws', accountId: '123456789012' });
    expect(sessionNameOf('a b/c')).toBe('a-b-c');
  });
});
