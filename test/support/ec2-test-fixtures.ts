import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingAdapter } from '../../handlers/adapters/auto-scaling-adapter';
import { Ec2FlowLogAdapter } from '../../handlers/adapters/ec2-flow-log-adapter';
import { Ec2InstanceAdapter } from '../../handlers/adapters/ec2-instance-adapter';
import { Ec2SecurityGroupAdapter } from '../../handlers/adapters/ec2-security-group-adapter';
import { Ec2SnapshotAdapter } from '../../handlers/adapters/ec2-snapshot-adapter';
import { TargetGroupAdapter } from '../../handlers/adapters/target-group-adapter';
import type { CaseRef, DescribeResult, PreIncidentState, Target } from '../../handlers/domain/types';

/** Shared fixtures for the EC2-side unit tests (clients are mocked by aws-sdk-client-mock in each test). */

export const REGION = 'eu-west-1';
export const INSTANCE_ID = 'i-0abc1234def567890';
export const VPC_ID = 'vpc-0aaa1111bbb22222c';
export const TARGET: Target = { accountId: '111122223333', region: REGION, instanceId: INSTANCE_ID };
export const EVIDENCE_KEY = 'arn:aws:kms:eu-west-1:999988887777:key/11111111-2222-3333-4444-555555555555';

export function adapters() {
  const ec2 = new EC2Client({ region: REGION });
  return {
    instances: new Ec2InstanceAdapter(ec2),
    snapshots: new Ec2SnapshotAdapter(ec2),
    securityGroups: new Ec2SecurityGroupAdapter(ec2),
    autoScaling: new AutoScalingAdapter(new AutoScalingClient({ region: REGION })),
    targetGroups: new TargetGroupAdapter(new ElasticLoadBalancingV2Client({ region: REGION })),
    flowLogs: new Ec2FlowLogAdapter(ec2),
  };
}

/** An error as the SDK surfaces an AWS error code: by its `name`. */
export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

/** A clock that advances one second per reading, from a fixed start. */
export function tickingClock(start = '2026-01-10T10:00:00.000Z', stepMs = 1000): () => Date {
  let t = Date.parse(start);
  return () => {
    const now = new Date(t);
    t += stepMs;
    return now;
  };
}

export const fixedClock = (at: string) => () => new Date(at);

export const CASE: CaseRef = {
  caseId: 'case-20260110-0001',
  target: TARGET,
  finding: { id: 'f0123456789abcdef0123456789abcdef', type: 'Backdoor:EC2/C&CActivity.B', severity: 8 },
  source: 'guardduty',
  options: { workstation: false, revoke: 'instance' },
  openedAt: '2026-01-10T09:59:00.000Z',
  executionArn: 'arn:aws:states:eu-west-1:999988887777:execution:acq:run-1',
};

export function preIncident(overrides: Partial<PreIncidentState> = {}): PreIncidentState {
  return {
    capturedAt: '2026-01-10T10:00:00.000Z',
    target: TARGET,
    instanceState: 'running',
    tags: { Name: 'web-1' },
    networkInterfaces: [
      {
        networkInterfaceId: 'eni-0000000000000000a',
        deviceIndex: 0,
        vpcId: VPC_ID,
        groups: [{ groupId: 'sg-0web' }],
      },
    ],
    volumes: [
      { volumeId: 'vol-root', deviceName: '/dev/xvda', sizeGiB: 8, encrypted: false, deleteOnTermination: true },
      { volumeId: 'vol-data', deviceName: '/dev/sdf', sizeGiB: 100, encrypted: true, deleteOnTermination: false },
    ],
    instanceStoreDevices: [],
    terminationProtection: false,
    shutdownBehavior: 'terminate',
    targetGroups: [],
    ...overrides,
  };
}

export function describeResult(
  pre: Partial<PreIncidentState> = {},
  isolationGroups: DescribeResult['isolationGroups'] = [{ vpcId: VPC_ID }],
): DescribeResult {
  return { preIncident: preIncident(pre), isolationGroups, actions: [] };
}
