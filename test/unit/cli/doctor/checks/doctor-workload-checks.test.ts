import { DescribeInstancesCommand, DescribeLockedSnapshotsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeEventBusCommand, EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { evaluateForwarding, gatherForwarding } from '../../../../../cli/doctor/checks/finding-forwarding';
import { evaluateDetector, gatherDetector } from '../../../../../cli/doctor/checks/guardduty';
import { evaluateReplica, gatherReplica } from '../../../../../cli/doctor/checks/key-replica';
import { evaluateEndpoints, gatherEndpoints } from '../../../../../cli/doctor/checks/memory-capture';
import { evaluateQuota, gatherQuota } from '../../../../../cli/doctor/checks/quotas';
import { accountCredentials, evaluateResponder, gatherResponder } from '../../../../../cli/doctor/checks/responder';
import { evaluateLock, gatherLock } from '../../../../../cli/doctor/checks/snapshot-lock';
import { accessDenied, awsError, doctorContext, HOME, IR, WORKLOAD } from '../../../../support/doctor-test-kit';

/**
 * The per-account and per-region checks of `forensics doctor` (responder role, GuardDuty, SSM endpoints, finding
 * forwarding, snapshot lock, copy quota, key replica): pass, warn, fail, and a denied call. The memory tools snapshot:
 * doctor-memory-tools.test.ts.
 */

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const gd = mockClient(GuardDutyClient);
const events = mockClient(EventBridgeClient);
const quotas = mockClient(ServiceQuotasClient);
const kms = mockClient(KMSClient);

beforeEach(() => {
  for (const m of [sts, ec2, iam, gd, events, quotas, kms]) m.reset();
});

const multi = (emulator = false) =>
  doctorContext({ multiAccount: true, workloadAccounts: [WORKLOAD], emulator }, { 'forensics:workloadAccounts': [WORKLOAD], 'forensics:responderExternalId': 'ext-id-123' });
const creds = { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 900_000) };

describe('doctor: responder role', () => {
  it('PASS when the role is assumed with the external id and DescribeInstances works with its credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: creds });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0123456789abcdef0' }] }] });
    const facts = await gatherResponder(multi(), WORKLOAD);
    expect(evaluateResponder(facts, 'ext-id-123', false)).toMatchObject({ name: `responder.assume[${WORKLOAD}]`, status: 'PASS' });
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: `arn:aws:iam::${WORKLOAD}:role/ForensicsResponder`,
      ExternalId: 'ext-id-123',
      RoleSessionName: 'forensics-doctor',
    });
    expect(accountCredentials(facts)).toMatchObject({ usable: true, credentials: { accessKeyId: 'ASIAEXAMPLE' } });
  });

  it('PASS (not applicable) in single-account mode, with no call made', async () => {
    const facts = await gatherResponder(doctorContext(), IR);
    expect(evaluateResponder(facts, undefined, false)).toMatchObject({ status: 'PASS', detail: expect.stringContaining('not applicable') });
    expect(sts.calls()).toHaveLength(0);
  });

  it('FAIL naming sts:AssumeRole and the role when the assume is denied; its account is then not checked', async () => {
    sts.on(AssumeRoleCommand).rejects(awsError('AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${WORKLOAD}:role/ForensicsResponder`, 403));
    const facts = await gatherResponder(multi(), WORKLOAD);
    const check = evaluateResponder(facts, 'ext-id-123', false);
    expect(check.status).toBe('FAIL');
    expect(check.detail).toContain(`cannot assume arn:aws:iam::${WORKLOAD}:role/ForensicsResponder with external id "ext-id-123"`);
    expect(accountCredentials(facts).usable).toBe(false);
  });

  it('FAIL when the harmless read is denied to the assumed role', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: creds });
    ec2.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    expect(evaluateResponder(await gatherResponder(multi(), WORKLOAD), 'ext-id-123', false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('ec2:DescribeInstances') });
  });

  it('on an emulator, also reads the role: a deleted role FAILs although AssumeRole answered', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: creds });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'The role with name ForensicsResponder cannot be found.', 404));
    const facts = await gatherResponder(multi(true), WORKLOAD);
    expect(evaluateResponder(facts, 'ext-id-123', true)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('does not exist') });
  });
});

describe('doctor: GuardDuty detector', () => {
  const run = async () => evaluateDetector(await gatherDetector(doctorContext(), WORKLOAD, HOME), false);

  it('PASS with an enabled detector', async () => {
    gd.on(ListDetectorsCommand).resolves({ DetectorIds: ['d1'] });
    gd.on(GetDetectorCommand).resolves({ ServiceRole: 'r', Status: 'ENABLED', FindingPublishingFrequency: 'FIFTEEN_MINUTES' });
    expect(await run()).toMatchObject({ name: `guardduty.detector[${WORKLOAD}/${HOME}]`, status: 'PASS' });
  });

  it('FAIL with no detector or a disabled one', async () => {
    gd.on(ListDetectorsCommand).resolves({ DetectorIds: [] });
    expect(await run()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('no detector') });
    gd.on(ListDetectorsCommand).resolves({ DetectorIds: ['d1'] });
    gd.on(GetDetectorCommand).resolves({ ServiceRole: 'r', Status: 'DISABLED' });
    expect(await run()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('update-detector') });
  });

  it('FAIL naming guardduty:ListDetectors when it is denied', async () => {
    gd.on(ListDetectorsCommand).rejects(accessDenied('guardduty:ListDetectors'));
    expect(await run()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant guardduty:ListDetectors') });
  });
});

describe('doctor: SSM endpoints for memory capture', () => {
  const run = async () => evaluateEndpoints(await gatherEndpoints(doctorContext(), WORKLOAD, HOME), false);
  // The API answers "available" in lower case (the SDK's enum spells it "Available"): the check accepts both.
  const endpoint = (vpc: string, service: string) => ({ VpcEndpointId: `vpce-${service}`, VpcId: vpc, ServiceName: `com.amazonaws.${HOME}.${service}`, State: 'available' as 'Available' });

  it('PASS when every instance is in a VPC with ssm, ssmmessages and ec2messages endpoints', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', VpcId: 'vpc-a' }, { InstanceId: 'i-2', VpcId: 'vpc-a' }] }] });
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: ['ssm', 'ssmmessages', 'ec2messages'].map((s) => endpoint('vpc-a', s)) });
    expect(await run()).toMatchObject({ status: 'PASS', detail: expect.stringContaining('all 2 instance(s)') });
    expect(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters).toEqual([{ Name: 'vpc-id', Values: ['vpc-a'] }]);
  });

  it('WARN with the count of instances whose memory could not be captured', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', VpcId: 'vpc-a' }, { InstanceId: 'i-2', VpcId: 'vpc-b' }, { InstanceId: 'i-3', VpcId: 'vpc-b' }] }] });
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [...['ssm', 'ssmmessages', 'ec2messages'].map((s) => endpoint('vpc-a', s)), endpoint('vpc-b', 'ssm')] });
    expect(await run()).toMatchObject({ status: 'WARN', detail: expect.stringMatching(/^2 of 3 instance\(s\).*vpc-b \(2, no ssmmessages\/ec2messages\)/) });
  });

  it('PASS with no instances (nothing to capture), FAIL naming ec2:DescribeVpcEndpoints when denied', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    expect((await run()).status).toBe('PASS');
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', VpcId: 'vpc-a' }] }] });
    ec2.on(DescribeVpcEndpointsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    expect(await run()).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant ec2:DescribeVpcEndpoints') });
  });
});

describe('doctor: finding forwarding to the home bus', () => {
  const homeBus = `arn:aws:events:${HOME}:${IR}:event-bus/default`;
  const guardDutyRule = (state: 'ENABLED' | 'DISABLED') => ({ Name: 'forward', State: state, EventPattern: '{"source":["aws.guardduty"]}' });

  it('home region: PASS when the IR account receives its own findings; the bus policy must admit an administrator account', async () => {
    expect(evaluateForwarding(await gatherForwarding(doctorContext(), HOME), false).status).toBe('PASS');
    const ctx = doctorContext({}, { 'forensics:findingSourceAccounts': ['999988887777'] });
    events.on(DescribeEventBusCommand).resolves({ Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'events:PutEvents', Resource: homeBus }] }) });
    expect(evaluateForwarding(await gatherForwarding(ctx, HOME), false).status).toBe('PASS');
    events.on(DescribeEventBusCommand).resolves({});
    expect(evaluateForwarding(await gatherForwarding(ctx, HOME), false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('999988887777') });
  });

  it('another region: PASS with an enabled rule targeting the home bus, FAIL without one or when it is disabled', async () => {
    const region = 'us-west-2';
    events.on(ListRulesCommand).resolves({ Rules: [guardDutyRule('ENABLED')] });
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'HomeBus', Arn: homeBus }] });
    expect(evaluateForwarding(await gatherForwarding(doctorContext(), region), false)).toMatchObject({ name: `findings.forwarding[${region}]`, status: 'PASS' });
    events.on(ListRulesCommand).resolves({ Rules: [guardDutyRule('DISABLED')] });
    expect(evaluateForwarding(await gatherForwarding(doctorContext(), region), false).detail).toContain('enable-rule');
    events.on(ListRulesCommand).resolves({ Rules: [] });
    expect(evaluateForwarding(await gatherForwarding(doctorContext(), region), false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('never start an acquisition') });
  });

  it('FAIL naming events:ListRules when it is denied', async () => {
    events.on(ListRulesCommand).rejects(accessDenied('events:ListRules'));
    expect(evaluateForwarding(await gatherForwarding(doctorContext(), 'us-west-2'), false).detail).toContain('grant events:ListRules');
  });
});

describe('doctor: EBS Snapshot Lock', () => {
  it('PASS when the lock API answers in the region', async () => {
    ec2.on(DescribeLockedSnapshotsCommand).resolves({ Snapshots: [] });
    expect(evaluateLock(await gatherLock(doctorContext(), HOME), false)).toMatchObject({ name: `snapshot-lock[${HOME}]`, status: 'PASS' });
  });

  it('WARN when locking is configured off; on an emulator without the API', async () => {
    expect(evaluateLock(await gatherLock(doctorContext({}, { 'forensics:snapshotLockMode': 'none' }), HOME), false).status).toBe('WARN');
    ec2.on(DescribeLockedSnapshotsCommand).rejects(awsError('InvalidAction', 'The action DescribeLockedSnapshots is not valid for this web service.'));
    expect(evaluateLock(await gatherLock(doctorContext({ emulator: true }), HOME), true).status).toBe('WARN');
  });

  it('FAIL on AWS when the API is not available there, and when it is denied', async () => {
    ec2.on(DescribeLockedSnapshotsCommand).rejects(awsError('InvalidAction', 'The action DescribeLockedSnapshots is not valid for this web service.'));
    expect(evaluateLock(await gatherLock(doctorContext(), HOME), false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('not available') });
    ec2.on(DescribeLockedSnapshotsCommand).rejects(awsError('UnauthorizedOperation', 'not authorized', 403));
    expect(evaluateLock(await gatherLock(doctorContext(), HOME), false).detail).toContain('grant ec2:DescribeLockedSnapshots');
  });
});

describe('doctor: concurrent snapshot copy quota', () => {
  const quota = (value: number) => ({ QuotaName: 'Concurrent snapshot copies per destination Region', QuotaCode: 'L-EXAMPLE', Value: value, ServiceCode: 'ebs' });

  it('PASS when the quota covers forensics:copyConcurrency; falls back to the AWS default', async () => {
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [quota(20)] });
    expect(evaluateQuota(await gatherQuota(doctorContext(), HOME), false)).toMatchObject({ status: 'PASS', detail: expect.stringContaining('4 case(s)') });
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    quotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [quota(20)] });
    expect(evaluateQuota(await gatherQuota(doctorContext(), HOME), false).detail).toContain('AWS default');
  });

  it('FAIL when the quota is below the configured concurrency; WARN when no such quota is listed', async () => {
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [quota(3)] });
    expect(evaluateQuota(await gatherQuota(doctorContext(), HOME), false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('below forensics:copyConcurrency 5') });
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    quotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    expect(evaluateQuota(await gatherQuota(doctorContext(), HOME), false).status).toBe('WARN');
  });

  it('FAIL naming servicequotas:ListServiceQuotas when it is denied', async () => {
    quotas.on(ListServiceQuotasCommand).rejects(accessDenied('servicequotas:ListServiceQuotas'));
    expect(evaluateQuota(await gatherQuota(doctorContext(), HOME), false).detail).toContain('grant servicequotas:ListServiceQuotas');
  });
});

describe('doctor: evidence key replica in other regions', () => {
  const mrk = `arn:aws:kms:${HOME}:${IR}:key/mrk-1234abcd12ab34cd56ef1234567890ab`;

  it('single-Region key: PASS (not needed) in single-account mode, FAIL in multi-account mode; no replica looked up', async () => {
    // Prepare
    const single = `arn:aws:kms:${HOME}:${IR}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', MultiRegion: false, KeyState: 'Enabled' } });
    // Act
    const alone = evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', single), false);
    const cross = evaluateReplica(await gatherReplica(doctorContext({ multiAccount: true, workloadAccounts: [WORKLOAD] }), 'us-west-2', single), false);
    // Assess
    expect(alone).toMatchObject({ status: 'PASS', detail: expect.stringContaining('not needed: single account') });
    expect(cross).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('forensics:evidenceKeyMultiRegion=true') });
    // Only the primary was described (is it multi-Region?), in the home region: no replica lookup.
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId)).toEqual([single, single]);
  });

  it('a multi-Region key whose id has no mrk- prefix (as KMS reports it) is looked up in the region; FAIL naming kms:DescribeKey if the primary cannot be read', async () => {
    const plain = `arn:aws:kms:${HOME}:${IR}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    kms.on(DescribeKeyCommand, { KeyId: plain }).resolves({ KeyMetadata: { KeyId: 'k', MultiRegion: true, KeyState: 'Enabled' } });
    kms.on(DescribeKeyCommand, { KeyId: plain.replace(HOME, 'us-west-2') }).resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'Enabled' } });
    expect(evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', plain), false).status).toBe('PASS');
    kms.reset();
    kms.on(DescribeKeyCommand).rejects(accessDenied('kms:DescribeKey'));
    expect(evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', plain), false)).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('grant kms:DescribeKey') });
  });

  it('PASS with an enabled replica, FAIL without one, FAIL naming kms:DescribeKey when denied', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'mrk-1', KeyState: 'Enabled' } });
    expect(evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', mrk), false).status).toBe('PASS');
    expect(kms.commandCalls(DescribeKeyCommand)[0]!.args[0].input.KeyId).toBe(mrk.replace(HOME, 'us-west-2'));
    kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException', 'Key does not exist'));
    expect(evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', mrk), false).detail).toContain('replicate-key');
    kms.on(DescribeKeyCommand).rejects(accessDenied('kms:DescribeKey'));
    expect(evaluateReplica(await gatherReplica(doctorContext(), 'us-west-2', mrk), false).detail).toContain('grant kms:DescribeKey');
  });
});
