import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeleteSubnetCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteInstanceProfileCommand, DeleteRoleCommand, DeleteRolePolicyCommand, GetRoleCommand, IAMClient, ListRolePoliciesCommand, RemoveRoleFromInstanceProfileCommand } from '@aws-sdk/client-iam';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectLegalHoldCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { removeCanary } from '../../../../cli/drill/canary';
import { cleanDrills } from '../../../../cli/drill/drill-clean';
import { type DrillReport, drillSucceeded, renderDrillReport, timeToEndOf } from '../../../../cli/drill/drill-report';
import { validateDrillOptions } from '../../../../cli/drill/run-drill';
import { caseIdOf, historyTransitions, StepFunctionsRunner, stepTimings } from '../../../../cli/drill/workflow-runner';

/**
 * The drill's parts that do not need an emulator: timings from an execution's history, the Step Functions path (the
 * one AWS takes), the canary's removal (only what carries the drill's tag), and `drill clean` once retention passed.
 */

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBClient);
beforeEach(() => {
  for (const m of [ec2, iam, sfn, s3, ddb]) m.reset();
});

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const io = { out: () => undefined, err: () => undefined };

describe('timings from an execution', () => {
  const history: HistoryEvent[] = [
    { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
    { id: 2, type: 'TaskStateEntered', timestamp: at(10), stateEnteredEventDetails: { name: 'Triage, open case and describe instance' } },
    { id: 3, type: 'TaskStateExited', timestamp: at(110), stateExitedEventDetails: { name: 'Triage, open case and describe instance' } },
    { id: 4, type: 'TaskStateEntered', timestamp: at(110), stateEnteredEventDetails: { name: 'Isolate network' } },
    { id: 5, type: 'TaskStateExited', timestamp: at(2_110), stateExitedEventDetails: { name: 'Isolate network' } },
    { id: 6, type: 'WaitStateEntered', timestamp: at(2_110), stateEnteredEventDetails: { name: 'Wait for snapshots' } },
    { id: 7, type: 'WaitStateExited', timestamp: at(17_110), stateExitedEventDetails: { name: 'Wait for snapshots' } },
    { id: 8, type: 'WaitStateEntered', timestamp: at(17_110), stateEnteredEventDetails: { name: 'Wait for snapshots' } },
    { id: 9, type: 'WaitStateExited', timestamp: at(32_110), stateExitedEventDetails: { name: 'Wait for snapshots' } },
    { id: 10, type: 'TaskStateEntered', timestamp: at(32_110), stateEnteredEventDetails: { name: 'Seal evidence' } },
    { id: 11, type: 'TaskStateExited', timestamp: at(35_000), stateExitedEventDetails: { name: 'Seal evidence' } },
    { id: 12, type: 'ExecutionSucceeded', timestamp: at(35_500), executionSucceededEventDetails: { output: '{}' } },
  ];

  it('one timing per visit, from the execution\'s start; containment and sealing at the end of their states', () => {
    const h = historyTransitions(history);
    expect(h).toMatchObject({ startedAt: T0, stoppedAt: T0 + 35_500 });
    const steps = stepTimings(h.transitions, h.startedAt as number);
    expect(steps).toEqual([
      { state: 'Triage, open case and describe instance', startMs: 10, durationMs: 100 },
      { state: 'Isolate network', startMs: 110, durationMs: 2_000 },
      { state: 'Wait for snapshots', startMs: 2_110, durationMs: 15_000 },
      { state: 'Wait for snapshots', startMs: 17_110, durationMs: 15_000 },
      { state: 'Seal evidence', startMs: 32_110, durationMs: 2_890 },
    ]);
    const run = { executionArn: 'x', status: 'SUCCEEDED', startedAt: T0, stoppedAt: T0 + 35_500, steps };
    expect(timeToEndOf(run, 'Isolate network')).toBe(2_110);
    expect(timeToEndOf(run, 'Seal evidence')).toBe(35_000);
    expect(timeToEndOf(run, 'Launch forensic workstation')).toBeNull();
  });

  it('on AWS: StartExecution with the manual request, then the figures from GetExecutionHistory', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:Acq:drill-1', startDate: at(0) });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: 'arn:x',
      stateMachineArn: 'arn:m',
      status: 'SUCCEEDED',
      startDate: at(0),
      output: JSON.stringify({ case: { caseId: '20260301T100000Z-i-0123456789abcdef0' } }),
    });
    const runner = new StepFunctionsRunner(new SFNClient({ region: 'eu-west-1' }), { acquisition: 'arn:acq', release: 'arn:rel' }, io, { timeoutMs: 60_000, pollIntervalMs: 1 });
    const request = { instanceId: 'i-0123456789abcdef0', accountId: '111122223333', region: 'eu-west-1', reason: 'forensics drill d', requestedBy: 'alice', options: { drill: { retentionDays: 1 } } };
    const run = await runner.acquire(request, 'drill-1');
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: 'arn:acq', name: 'drill-1', input: JSON.stringify(request) });
    expect(run.status).toBe('SUCCEEDED');
    expect(timeToEndOf(run, 'Isolate network')).toBe(2_110);
    expect(caseIdOf(run)).toBe('20260301T100000Z-i-0123456789abcdef0');
  });
});

describe('drill report and options', () => {
  const report = (over: Partial<DrillReport> = {}): DrillReport => ({
    drillId: 'd',
    caseId: 'c',
    status: 'SUCCEEDED',
    timeToContainmentMs: 2_110,
    timeToSealedMs: 35_000,
    verify: 'PASS',
    released: true,
    canaryTerminated: true,
    account: '111122223333',
    region: 'eu-west-1',
    canaryInstanceId: 'i-1',
    executionArn: 'arn:x',
    releaseExecutionArn: 'arn:y',
    steps: [{ state: 'Isolate network', startMs: 110, durationMs: 2_000 }],
    releaseSteps: [],
    verifyCounts: { PASS: 10, FAIL: 0, WARN: 0, SKIP: 0 },
    cleanedUp: ['instance i-1'],
    retained: [],
    errors: [],
    ...over,
  });

  it('succeeds only when everything did', () => {
    expect(drillSucceeded(report(), false)).toBe(true);
    expect(drillSucceeded(report({ verify: 'FAIL' }), false)).toBe(false);
    expect(drillSucceeded(report({ released: false }), false)).toBe(false);
    expect(drillSucceeded(report({ canaryTerminated: false }), false)).toBe(false);
    expect(drillSucceeded(report({ canaryTerminated: false }), true)).toBe(true);
    expect(drillSucceeded(report({ errors: ['x'] }), false)).toBe(false);
    expect(renderDrillReport(report()).slice(0, 3)).toEqual([
      'Drill d: SUCCEEDED in account 111122223333, eu-west-1 (canary i-1)',
      '  case                 c',
      '  time to containment  2.110 s',
    ]);
  });

  it('refuses bad arguments naming the flag', () => {
    const ok = { account: '111122223333', canaryRegion: 'eu-west-1' };
    expect(() => validateDrillOptions(ok)).not.toThrow();
    expect(() => validateDrillOptions({ ...ok, account: '1' })).toThrow(/^--account/);
    expect(() => validateDrillOptions({ ...ok, canaryRegion: 'europe' })).toThrow(/^--region/);
    expect(() => validateDrillOptions({ ...ok, retentionDays: 31 })).toThrow(/^--retention-days/);
    expect(() => validateDrillOptions({ ...ok, instanceType: 'big' })).toThrow(/^--instance-type/);
  });
});

describe('canary removal', () => {
  const settings = { tagPrefix: 'forensics', instanceType: 't3.nano', amiParameter: 'p', pollMs: 1, waitMs: 1_000 };
  const tag = [{ Key: 'forensics:drill', Value: 'd-1' }];
  const clients = () => ({ ec2: new EC2Client({ region: 'eu-west-1' }), iam: new IAMClient({ region: 'eu-west-1' }), ssm: new SSMClient({ region: 'eu-west-1' }) });

  it('removes the canary (termination protection off first), its volumes, groups, subnet, VPC, profile and role', async () => {
    let terminated = false;
    ec2.on(DescribeInstancesCommand).callsFake(() => ({ Reservations: [{ Instances: [{ InstanceId: 'i-1', Tags: tag, State: { Name: terminated ? 'terminated' : 'running' } }] }] }));
    ec2.on(TerminateInstancesCommand).callsFake(() => {
      terminated = true;
      return {};
    });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: 'vol-1', State: 'available' }] });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-1', Tags: tag }] });
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-default', GroupName: 'default' }, { GroupId: 'sg-iso', GroupName: 'forensics-isolation' }] });
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-1', Tags: tag }] });
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x', CreateDate: new Date(), Tags: tag } });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['forensics-deny-i-1'] });
    const out = await removeCanary(clients(), { drillId: 'd-1', instanceId: 'i-1', vpcId: 'vpc-1', roleName: 'r', profileName: 'r' }, settings, () => undefined);
    expect(out.errors).toEqual([]);
    expect(out.terminated).toBe(true);
    const order = ec2.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('ModifyInstanceAttributeCommand')).toBeLessThan(order.indexOf('TerminateInstancesCommand'));
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({ InstanceId: 'i-1', DisableApiTermination: { Value: false } });
    expect(ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input.VolumeId)).toEqual(['vol-1']);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand).map((c) => c.args[0].input.GroupId)).toEqual(['sg-iso']);
    expect(ec2.commandCalls(DeleteSubnetCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DeleteVpcCommand)[0]!.args[0].input.VpcId).toBe('vpc-1');
    expect(iam.commandCalls(RemoveRoleFromInstanceProfileCommand)).toHaveLength(1);
    expect(iam.commandCalls(DeleteInstanceProfileCommand)).toHaveLength(1);
    expect(iam.commandCalls(DeleteRolePolicyCommand)[0]!.args[0].input.PolicyName).toBe('forensics-deny-i-1');
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
  });

  it('touches nothing that lacks this drill\'s tag', async () => {
    const other = [{ Key: 'forensics:drill', Value: 'another-drill' }];
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', Tags: [{ Key: 'Name', Value: 'prod' }], State: { Name: 'running' } }] }] });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-1', Tags: other }] });
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x', CreateDate: new Date(), Tags: [] } });
    const out = await removeCanary(clients(), { drillId: 'd-1', instanceId: 'i-1', vpcId: 'vpc-1', roleName: 'r', profileName: 'r' }, settings, () => undefined);
    expect(out.terminated).toBe(false);
    expect(out.errors[0]).toContain('tag missing');
    for (const cmd of [ModifyInstanceAttributeCommand, TerminateInstancesCommand, DeleteVolumeCommand, DeleteSecurityGroupCommand, DeleteSubnetCommand, DeleteVpcCommand]) {
      expect(ec2.commandCalls(cmd as never), cmd.name).toHaveLength(0);
    }
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });
});

describe('drill clean', () => {
  const NOW = new Date('2026-03-05T00:00:00.000Z');
  const target = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
  const caseItem = (caseId: string, options: Record<string, unknown>, status = 'RELEASED') =>
    marshall({ pk: `CASE#${caseId}`, sk: 'CASE', caseId, status, target, details: { options } });
  // The one method of the SDK's streaming body that the clean reads.
  const body = (text: string) => ({ transformToString: async () => text });
  const deps = () => ({
    s3: new S3Client({ region: 'eu-west-1' }),
    ddb: new DynamoDBClient({ region: 'eu-west-1' }),
    bucket: 'evidence',
    table: 'cases',
    tagPrefix: 'forensics',
    snapshotClients: () => [new EC2Client({ region: 'eu-west-1' })],
    now: NOW,
    olderThanMinutes: 60,
    log: () => undefined,
  });

  it('once retention has passed: lifts each legal hold, deletes every version, the drill snapshots, then the case items', async () => {
    const caseId = '20260301T100000Z-i-0123456789abcdef0';
    ddb.on(ScanCommand).resolves({ Items: [caseItem(caseId, { workstation: false, revoke: 'instance', drill: { retentionDays: 1 } })] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ caseId, drill: { retentionDays: 1 } })) as never });
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: `cases/${caseId}/manifest.json`, VersionId: 'v1' }, { Key: `cases/${caseId}/custody/000001-triage.json`, VersionId: 'v2' }] });
    s3.on(HeadObjectCommand).resolves({
      ObjectLockMode: 'COMPLIANCE',
      LastModified: new Date('2026-03-01T10:00:00Z'),
      ObjectLockRetainUntilDate: new Date('2026-03-02T10:00:00Z'),
      ObjectLockLegalHoldStatus: 'ON',
    });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-1' }, { SnapshotId: 'snap-2' }] });
    const report = await cleanDrills(deps());
    expect(report.errors).toEqual([]);
    expect(s3.commandCalls(PutObjectLegalHoldCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'evidence', Key: `cases/${caseId}/manifest.json`, VersionId: 'v1', LegalHold: { Status: 'OFF' } },
      { Bucket: 'evidence', Key: `cases/${caseId}/custody/000001-triage.json`, VersionId: 'v2', LegalHold: { Status: 'OFF' } },
    ]);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.VersionId)).toEqual(['v1', 'v2']);
    // Only snapshots carrying both the case id and the drill tag are listed.
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]!.args[0].input.Filters).toEqual([
      { Name: 'tag:forensics:case-id', Values: [caseId] },
      { Name: 'tag-key', Values: ['forensics:drill'] },
    ]);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-1', 'snap-2']);
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input.Key?.pk?.S)).toEqual([`TARGET#111122223333#eu-west-1#i-0123456789abcdef0`, `CASE#${caseId}`]);
  });

  it('keeps a case with any version still under retention, and deletes nothing of it', async () => {
    const caseId = '20260304T100000Z-i-0123456789abcdef0';
    ddb.on(ScanCommand).resolves({ Items: [caseItem(caseId, { drill: { retentionDays: 1 } })] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ drill: { retentionDays: 1 } })) as never });
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: `cases/${caseId}/manifest.json`, VersionId: 'v1' }] });
    s3.on(HeadObjectCommand).resolves({ LastModified: new Date('2026-03-04T10:00:00Z'), ObjectLockRetainUntilDate: new Date('2026-03-05T10:00:00Z'), ObjectLockLegalHoldStatus: 'ON' });
    const report = await cleanDrills(deps());
    expect(report.retained[0]).toContain('under retention until 2026-03-05T10:00:00.000Z');
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectLegalHoldCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  it('leaves alone a case whose manifest does not say drill, and never reads real cases (the scan filters on the drill option)', async () => {
    const caseId = '20260301T100000Z-i-0123456789abcdef0';
    ddb.on(ScanCommand).resolves({ Items: [caseItem(caseId, { drill: { retentionDays: 1 } })] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ caseId })) as never });
    const report = await cleanDrills(deps());
    expect(report.errors[0]).toContain('its manifest does not');
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    expect(ddb.commandCalls(ScanCommand)[0]!.args[0].input.FilterExpression).toBe('#sk = :case AND attribute_exists(#details.#options.#drill)');
  });

  it('never touches a case with a version whose own retention is longer than any drill\'s (real evidence), whatever the table says', async () => {
    // Prepare: the table marks the case as a drill, the manifest too, but one version carries a 365-day retention.
    const caseId = '20250301T100000Z-i-0123456789abcdef0';
    ddb.on(ScanCommand).resolves({ Items: [caseItem(caseId, { drill: { retentionDays: 1 } })] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ caseId, drill: { retentionDays: 1 } })) as never });
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: `cases/${caseId}/manifest.json`, VersionId: 'v1' }, { Key: `cases/${caseId}/instance.json`, VersionId: 'v2' }] });
    s3.on(HeadObjectCommand, { VersionId: 'v1' }).resolves({ LastModified: new Date('2025-03-01T10:00:00Z'), ObjectLockRetainUntilDate: new Date('2025-03-02T10:00:00Z'), ObjectLockLegalHoldStatus: 'ON' });
    s3.on(HeadObjectCommand, { VersionId: 'v2' }).resolves({ LastModified: new Date('2025-03-01T10:00:00Z'), ObjectLockRetainUntilDate: new Date('2026-03-01T10:00:00Z'), ObjectLockLegalHoldStatus: 'ON' });
    // Act
    const report = await cleanDrills(deps());
    // Assess: nothing lifted or deleted, not even the 1-day version; the case is named.
    expect(report.errors[0]).toMatch(/instance\.json version v2 carries a retention until 2026-03-01T10:00:00\.000Z, not a drill's/);
    expect(s3.commandCalls(PutObjectLegalHoldCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  it('without the caller\'s own s3:PutObjectLegalHold the objects stay and the report names the permissions (no error, nothing else removed)', async () => {
    // Prepare
    const caseId = '20260301T100000Z-i-0123456789abcdef0';
    ddb.on(ScanCommand).resolves({ Items: [caseItem(caseId, { drill: { retentionDays: 1 } })] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ caseId, drill: { retentionDays: 1 } })) as never });
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: `cases/${caseId}/manifest.json`, VersionId: 'v1' }] });
    s3.on(HeadObjectCommand).resolves({ LastModified: new Date('2026-03-01T10:00:00Z'), ObjectLockRetainUntilDate: new Date('2026-03-02T10:00:00Z'), ObjectLockLegalHoldStatus: 'ON' });
    s3.on(PutObjectLegalHoldCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    // Act
    const report = await cleanDrills(deps());
    // Assess
    expect(report.errors).toEqual([]);
    expect(report.retained[0]).toMatch(/needs s3:PutObjectLegalHold and s3:DeleteObjectVersion .* \(denied: AccessDenied\)/);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });
});
