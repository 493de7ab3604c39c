import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2WorkstationAdapter } from '../../../../handlers/adapters/ec2-workstation-adapter';
import {
  NoEvidenceSnapshots,
  NoWorkstationSubnet,
  TooManyEvidenceVolumes,
  chooseWorkstationSubnet,
  planWorkstationVolumes,
} from '../../../../handlers/domain/workstation';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { type WorkstationDeps, launchWorkstation } from '../../../../handlers/use-cases/launch-workstation';
import { FakeCaseTable, caseRef, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const snap = (volumeId: string, deviceName: string | null, evidence: string | null, state = 'completed') => ({
  volumeId,
  deviceName,
  sizeGiB: 8,
  evidenceSnapshotId: evidence,
  evidenceState: evidence ? state : null,
});

describe('planWorkstationVolumes: original device order, evidence copies only', () => {
  it('root first, then drive letters (sdz before sdaa), partitions by number; devices /dev/sdf, /dev/sdg, …', () => {
    const plan = planWorkstationVolumes({
      rootDeviceName: '/dev/xvda',
      snapshots: [
        snap('vol-aa', '/dev/sdaa', 'snap-e-aa'),
        snap('vol-g', '/dev/sdg', 'snap-e-g'),
        snap('vol-root', '/dev/xvda', 'snap-e-root'),
        snap('vol-z', '/dev/sdz', 'snap-e-z'),
        snap('vol-f', 'xvdf', 'snap-e-f'),
      ],
    });
    expect(plan.map((p) => [p.sourceVolumeId, p.attachDevice])).toEqual([
      ['vol-root', '/dev/sdf'],
      ['vol-f', '/dev/sdg'],
      ['vol-g', '/dev/sdh'],
      ['vol-z', '/dev/sdi'],
      ['vol-aa', '/dev/sdj'],
    ]);
    expect(plan[0]?.evidenceSnapshotId).toBe('snap-e-root');
  });

  it('root device /dev/sda1 first even though "a1" sorts with other letters', () => {
    const plan = planWorkstationVolumes({ rootDeviceName: '/dev/sda1', snapshots: [snap('vol-b', '/dev/sdb', 'e-b'), snap('vol-r', '/dev/sda1', 'e-r')] });
    expect(plan.map((p) => p.sourceVolumeId)).toEqual(['vol-r', 'vol-b']);
  });

  it('uses only completed evidence copies; none at all is an error', () => {
    const plan = planWorkstationVolumes({ snapshots: [snap('vol-1', '/dev/sdf', 'e-1'), snap('vol-2', '/dev/sdg', 'e-2', 'error'), snap('vol-3', '/dev/sdh', null)] });
    expect(plan.map((p) => p.sourceVolumeId)).toEqual(['vol-1']);
    expect(() => planWorkstationVolumes({ snapshots: [snap('vol-3', '/dev/sdh', null)] })).toThrow(NoEvidenceSnapshots);
  });

  it('refuses more volumes than attachable devices', () => {
    const many = Array.from({ length: 22 }, (_, i) => snap(`vol-${i}`, `/dev/sd${String.fromCharCode(98 + (i % 25))}${i}`, `e-${i}`));
    expect(() => planWorkstationVolumes({ snapshots: many })).toThrow(TooManyEvidenceVolumes);
  });
});

describe('chooseWorkstationSubnet: availability zone selection', () => {
  const subnet = (id: string, az: string, free: number, state = 'available') => ({ subnetId: id, availabilityZone: az, availableIpAddressCount: free, state });

  it('the available subnet with the most free addresses; ties by AZ name', () => {
    expect(chooseWorkstationSubnet([subnet('subnet-a', 'eu-west-1a', 10), subnet('subnet-b', 'eu-west-1b', 200)]).subnetId).toBe('subnet-b');
    expect(chooseWorkstationSubnet([subnet('subnet-c', 'eu-west-1c', 50), subnet('subnet-a', 'eu-west-1a', 50)]).subnetId).toBe('subnet-a');
    expect(chooseWorkstationSubnet([subnet('subnet-a', 'eu-west-1a', 500, 'pending'), subnet('subnet-b', 'eu-west-1b', 3)]).subnetId).toBe('subnet-b');
  });

  it('no usable subnet is an error naming the subnets', () => {
    expect(() => chooseWorkstationSubnet([])).toThrow(NoWorkstationSubnet);
    expect(() => chooseWorkstationSubnet([subnet('subnet-a', 'eu-west-1a', 0)])).toThrow(/subnet-a: available, 0 free/);
  });
});

describe('launchWorkstation (EC2 mocked)', () => {
  const ec2 = mockClient(EC2Client);
  let cases: FakeCaseTable;
  let deps: WorkstationDeps;
  let sleeps: number;
  const ref = caseRef();
  const snapshots = [snap('vol-data', '/dev/sdf', 'snap-e-data'), snap('vol-root', '/dev/xvda', 'snap-e-root')];
  /** Volumes as EC2 reports them after creation; `attach` says what DescribeVolumes shows for the attachment. */
  let attachState: () => string;
  let attached: Set<string>;

  beforeEach(() => {
    ec2.reset();
    sleeps = 0;
    attached = new Set();
    attachState = () => 'attached';
    cases = new FakeCaseTable();
    cases.seed(ref);
    const bucket = mockEvidenceBucket();
    const clock = steppingClock();
    deps = {
      ec2: new Ec2WorkstationAdapter(new EC2Client({ region: 'eu-west-1' })),
      cases,
      store: bucket.store,
      custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: {}, sleep: async () => undefined }),
      clock,
      config: { region: 'eu-west-1', tagPrefix: 'forensics', evidenceKeyArn: KEY, subnetIds: ['subnet-a', 'subnet-b'], launchTemplateId: 'lt-0123', securityGroupId: 'sg-0ws' },
      wait: { polls: 4, intervalMs: 1, sleep: async () => void sleeps++ },
    };
    ec2.on(DescribeSubnetsCommand).resolves({
      Subnets: [
        { SubnetId: 'subnet-a', AvailabilityZone: 'eu-west-1a', State: 'available', AvailableIpAddressCount: 5 },
        { SubnetId: 'subnet-b', AvailabilityZone: 'eu-west-1b', State: 'available', AvailableIpAddressCount: 250 },
      ],
    });
    let n = 0;
    ec2.on(CreateVolumeCommand).callsFake(() => ({ VolumeId: `vol-ws${++n}`, State: 'creating' }));
    let launched = false;
    ec2.on(RunInstancesCommand).callsFake(() => {
      launched = true;
      return { Instances: [{ InstanceId: 'i-0ws' }] };
    });
    ec2.on(DescribeInstancesCommand).callsFake(() => ({
      Reservations: launched
        ? [{ Instances: [{ InstanceId: 'i-0ws', State: { Name: 'running' }, SubnetId: 'subnet-b', LaunchTime: new Date('2026-01-10T11:00:00Z'), MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' } }] }]
        : [],
    }));
    ec2.on(AttachVolumeCommand).callsFake((input: { VolumeId: string }) => {
      attached.add(input.VolumeId);
      return { State: 'attaching' };
    });
    ec2.on(DescribeVolumesCommand).callsFake((input: { Filters?: { Name: string; Values: string[] }[] }) => {
      const ids = input.Filters?.find((f) => f.Name === 'volume-id')?.Values ?? [];
      return {
        Volumes: ids.map((id) => ({
          VolumeId: id,
          AvailabilityZone: 'eu-west-1b',
          State: attached.has(id) ? 'in-use' : 'available',
          Attachments: attached.has(id) ? [{ InstanceId: 'i-0ws', Device: 'x', State: attachState() }] : [],
        })),
      };
    });
  });

  it('volumes in the chosen subnet AZ, encrypted with the evidence key, tagged; IMDSv2-only launch; attached in device order', async () => {
    const result = await launchWorkstation(deps, { caseRef: ref, snapshots, rootDeviceName: '/dev/xvda' });
    const creates = ec2.commandCalls(CreateVolumeCommand).map((c) => c.args[0].input);
    expect(creates.map((c) => [c.SnapshotId, c.AvailabilityZone, c.Encrypted, c.KmsKeyId])).toEqual([
      ['snap-e-root', 'eu-west-1b', true, KEY],
      ['snap-e-data', 'eu-west-1b', true, KEY],
    ]);
    expect(creates[0]?.TagSpecifications?.[0]?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'forensics:case-id', Value: ref.caseId },
        { Key: 'forensics:source-volume', Value: 'vol-root' },
        { Key: 'forensics:source-device', Value: '/dev/xvda' },
        { Key: 'forensics:attach-device', Value: '/dev/sdf' },
      ]),
    );
    const run = ec2.commandCalls(RunInstancesCommand)[0]!.args[0].input;
    expect(run.LaunchTemplate).toEqual({ LaunchTemplateId: 'lt-0123', Version: '$Default' });
    expect(run.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' });
    expect(run.NetworkInterfaces).toEqual([{ DeviceIndex: 0, SubnetId: 'subnet-b', Groups: ['sg-0ws'], AssociatePublicIpAddress: false, DeleteOnTermination: true }]);
    expect(run.KeyName).toBeUndefined();
    expect(run.TagSpecifications?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'forensics:source-of:vol-ws1', Value: 'vol-root' }, { Key: 'forensics:evidence-volumes', Value: '2' }]));
    expect(ec2.commandCalls(AttachVolumeCommand).map((c) => [c.args[0].input.VolumeId, c.args[0].input.Device])).toEqual([
      ['vol-ws1', '/dev/sdf'],
      ['vol-ws2', '/dev/sdg'],
    ]);
    expect(result).toMatchObject({ status: 'ready', instanceId: 'i-0ws', availabilityZone: 'eu-west-1b', allAttached: true });
    expect(result.volumes.map((v) => v.attachmentState)).toEqual(['attached', 'attached']);
    expect(result.record.key).toBe(`cases/${ref.caseId}/workstation-i-0ws.json`);
    const record = await cases.getCase(ref.caseId);
    expect(record?.evidence?.map((o) => o.key)).toContain(result.record.key);
    expect((record!.details.workstation as { instanceId: string }).instanceId).toBe('i-0ws');
    expect(record?.custody.length).toBeGreaterThanOrEqual(1);
  });

  it('waits (bounded) until the attachments are attached', async () => {
    let checks = 0;
    attachState = () => (++checks < 3 ? 'attaching' : 'attached');
    const result = await launchWorkstation(deps, { caseRef: ref, snapshots });
    expect(result.allAttached).toBe(true);
    expect(sleeps).toBeGreaterThanOrEqual(1);
  });

  it('gives up after the bounded wait with WorkstationNotAttached, recorded in custody and the case', async () => {
    attachState = () => 'attaching';
    await expect(launchWorkstation(deps, { caseRef: ref, snapshots })).rejects.toMatchObject({ name: 'WorkstationNotAttached' });
    expect(sleeps).toBe(3); // 4 polls, 3 pauses
    const record = await cases.getCase(ref.caseId);
    expect(record?.details.workstation).toMatchObject({ status: 'failed', error: 'WorkstationNotAttached' });
    expect(record?.custody.length).toBeGreaterThan(0);
  });

  it('a launch failure is thrown (the state machine catches it) after recording the volumes already created', async () => {
    ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity', $metadata: {} }));
    await expect(launchWorkstation(deps, { caseRef: ref, snapshots })).rejects.toMatchObject({ name: 'InsufficientInstanceCapacity' });
    expect(ec2.commandCalls(AttachVolumeCommand)).toHaveLength(0);
    const record = await cases.getCase(ref.caseId);
    expect(record?.details.workstation).toMatchObject({ status: 'failed', error: 'InsufficientInstanceCapacity' });
  });

  it('builds the workstation from home-region evidence of an instance in another region', async () => {
    // Prepare: the instance was in eu-central-1; its evidence snapshots were copied into the home region eu-west-1.
    const elsewhere = { ...ref, target: { ...ref.target, region: 'eu-central-1' } };
    const home = snapshots.map((s) => ({ ...s, evidenceRegion: 'eu-west-1' }));
    // Act
    const result = await launchWorkstation(deps, { caseRef: elsewhere, snapshots: home });
    // Assess
    expect(result).toMatchObject({ instanceId: 'i-0ws' });
    expect(ec2.commandCalls(CreateVolumeCommand).map((c) => c.args[0].input.SnapshotId).sort()).toEqual(['snap-e-data', 'snap-e-root']);
    // Evidence listed in another region than the forensic VPC's is refused before anything is created.
    ec2.resetHistory();
    await expect(
      launchWorkstation(deps, { caseRef: elsewhere, snapshots: snapshots.map((s) => ({ ...s, evidenceRegion: 'eu-central-1' })) }),
    ).rejects.toMatchObject({ name: 'WorkstationRegionMismatch' });
    expect(ec2.commandCalls(CreateVolumeCommand)).toHaveLength(0);
  });

  it('refuses evidence in another region than the forensic VPC', async () => {
    await expect(
      launchWorkstation(deps, { caseRef: { ...ref, target: { ...ref.target, region: 'us-east-2' } }, snapshots }),
    ).rejects.toMatchObject({ name: 'WorkstationRegionMismatch' });
    expect(ec2.commandCalls(CreateVolumeCommand)).toHaveLength(0);
  });
});

describe('notification: the workstation line', () => {
  const base = { case: { ...caseRef(), options: { workstation: true, revoke: 'instance' as const } } };
  it('says where to connect and where the mount report is', async () => {
    const { workstationLines } = await import('../../../../handlers/domain/notification-message');
    const lines = workstationLines({
      ...base,
      workstation: {
        status: 'ready', instanceId: 'i-0ws', launchTemplateId: 'lt-1', subnetId: 'subnet-b', availabilityZone: 'eu-west-1b', launchedAt: 'x',
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'enabled' },
        volumes: [{ sourceVolumeId: 'vol-root', sourceDeviceName: '/dev/xvda', evidenceSnapshotId: 'snap-e', sizeGiB: 8, volumeId: 'vol-ws', attachDevice: '/dev/sdf', attachmentState: 'attached' }],
        allAttached: true, analysisPrefix: 's3://b/cases/c/analysis/', record: { key: 'k', sha256: 'h' },
      },
    } as never).join('\n');
    expect(lines).toContain('aws ssm start-session --target i-0ws');
    expect(lines).toContain('/dev/sdf <- vol-root (/dev/xvda) from snap-e');
    expect(lines).toContain('s3://b/cases/c/analysis/');
  });
  it('points the shell at the home region, where the workstation and the evidence are, for an instance elsewhere', async () => {
    const { workstationLines } = await import('../../../../handlers/domain/notification-message');
    const lines = workstationLines({
      case: { ...base.case, target: { ...base.case.target, region: 'ap-southeast-2' } },
      evidence: { copies: [{ volumeId: 'vol-root', sourceSnapshotId: 'snap-o', evidenceSnapshotId: 'snap-e', kmsKeyId: KEY, state: 'completed', evidenceRegion: 'eu-west-1' }] },
      workstation: {
        status: 'ready', instanceId: 'i-0ws', launchTemplateId: 'lt-1', subnetId: 'subnet-b', availabilityZone: 'eu-west-1b', launchedAt: 'x',
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'enabled' },
        volumes: [], allAttached: true, analysisPrefix: 's3://b/cases/c/analysis/', record: { key: 'k', sha256: 'h' },
      },
    } as never).join('\n');
    expect(lines).toContain('aws ssm start-session --target i-0ws --region eu-west-1');
  });
  it('a failed workstation is reported, with the evidence sealed and how to retry', async () => {
    const { workstationLines } = await import('../../../../handlers/domain/notification-message');
    const lines = workstationLines({
      ...base,
      workstationFailure: { Error: 'InsufficientInstanceCapacity', Cause: JSON.stringify({ errorType: 'InsufficientInstanceCapacity', errorMessage: 'no m7i.large in eu-west-1b' }) },
    } as never).join('\n');
    expect(lines).toContain('FAILED (InsufficientInstanceCapacity: no m7i.large in eu-west-1b)');
    expect(lines).toContain('forensics workstation launch');
  });
});
