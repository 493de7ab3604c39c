import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientScope } from '../../../handlers/adapters/aws-clients';
import { ec2AdaptersFor } from '../../../handlers/adapters/ec2-side-adapters';
import type { HandlerEnvironment } from '../../../handlers/config/env';
import { InvalidInput } from '../../../handlers/domain/errors';
import type { CaseTable, OpenCaseResult } from '../../../handlers/domain/ports';
import type { CaseRef } from '../../../handlers/domain/types';
import { triageConfigFrom } from '../../../handlers/composition/triage-config';
import { createTriageHandler } from '../../../handlers/triage';

const ENV: HandlerEnvironment = {
  CASE_TABLE_NAME: 'cases',
  EVIDENCE_BUCKET: 'evidence',
  // A multi-Region evidence key: cross-account targets outside the home region (us-east-1) are reachable.
  EVIDENCE_KEY_ARN: 'arn:aws:kms:us-east-1:999988887777:key/mrk-1111222233334444555566667777aaaa',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:999988887777:forensics',
  EVIDENCE_RETENTION_DAYS: 365,
  OBJECT_LOCK_MODE: 'COMPLIANCE',
  MIN_SEVERITY: 8,
  ACQUIRE_CONTAINER_HOSTS: 'true',
  MAX_WAIT_MINUTES: 60,
  COPY_CONCURRENCY: 2,
  TAG_PREFIX: 'forensics',
  DEFAULT_WORKSTATION: 'true',
  DEFAULT_REVOKE_MODE: 'role',
  WORKLOAD_ACCOUNTS: '111122223333,222233334444',
  WORKLOAD_REGIONS: 'us-east-1,eu-west-1',
};

const manualRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '222233334444',
  region: 'eu-west-1',
  reason: 'EDR alert',
  requestedBy: 'alice',
};

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);

/** A client scope whose clients are made for the region asked, recording which clients were asked for. */
function recordingClients(asked: string[] = []): ClientScope {
  return {
    options: {},
    client: (key, make) => {
      asked.push(key);
      return make();
    },
  };
}
/** The target-side adapters on the mocked clients (never the responder session, never the network). */
const mockedAdapters = (asked: string[] = []) => ({ adaptersFor: (t: CaseRef['target']) => ec2AdaptersFor(t, recordingClients(asked)) });

function openingCaseTable(opened: CaseRef[]): CaseTable {
  const refuse = async () => {
    throw new Error('not expected');
  };
  return {
    openCase: async (caseRef): Promise<OpenCaseResult> => {
      opened.push(caseRef);
      return { opened: true, caseRef };
    },
    appendFinding: refuse,
    getCase: refuse,
    updateCase: refuse,
    advanceCustody: refuse,
  };
}

describe('triage handler', () => {
  beforeEach(() => {
    for (const m of [ec2, asg, elb]) m.reset();
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: manualRequest.instanceId, State: { Name: 'running' }, VpcId: 'vpc-1' }] }],
    });
    ec2.on(DescribeInstanceAttributeCommand).resolves({});
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({});
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    asg.on(DescribeAutoScalingInstancesCommand).resolves({});
    elb.on(DescribeTargetGroupsCommand).resolves({});
  });

  it('reads the decision settings and case defaults from the handler environment', () => {
    // Act
    const config = triageConfigFrom(ENV);

    // Assess
    expect(config).toEqual({
      minSeverity: 8,
      acquireContainerHosts: true,
      workloadAccounts: ['111122223333', '222233334444'],
      workloadRegions: ['us-east-1', 'eu-west-1'],
      evidence: { irAccountId: '999988887777', evidenceKeyArn: ENV.EVIDENCE_KEY_ARN, homeRegion: 'us-east-1' },
      defaultOptions: { workstation: true, revoke: 'role' },
    });
  });

  it('triages the payload the state machine builds, with injected dependencies', async () => {
    // Prepare
    const opened: CaseRef[] = [];
    const handler = createTriageHandler({
      cases: openingCaseTable(opened),
      env: () => ENV,
      clock: () => new Date('2026-11-28T09:15:02Z'),
      ...mockedAdapters(),
    });

    // Act
    const result = await handler({
      event: manualRequest,
      executionArn: 'arn:aws:states:us-east-1:999988887777:execution:Acquisition:x',
      startedAt: '2026-11-28T09:15:00Z',
    });

    // Assess
    expect(result).toMatchObject({
      outcome: 'ACQUIRE',
      case: { caseId: '20261128T091500Z-i-0123456789abcdef0', options: { workstation: true, revoke: 'role' } },
    });
    expect(opened).toHaveLength(1);
  });

  it('describes the instance in the target region with the deployment tag prefix, into $.describe', async () => {
    // Prepare
    const asked: string[] = [];
    const handler = createTriageHandler({
      cases: openingCaseTable([]),
      env: () => ENV,
      clock: () => new Date('2026-11-28T09:15:02Z'),
      ...mockedAdapters(asked),
    });

    // Act
    const result = await handler({
      event: manualRequest,
      executionArn: 'arn:aws:states:us-east-1:999988887777:execution:Acquisition:x',
      startedAt: '2026-11-28T09:15:00Z',
    });

    // Assess
    expect(asked).toEqual(['ec2:eu-west-1', 'asg:eu-west-1', 'elbv2:eu-west-1']);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input.Filters?.[0]?.Name).toBe('tag:forensics:role');
    expect(result).toMatchObject({
      outcome: 'ACQUIRE',
      describe: { preIncident: { target: { accountId: '222233334444', region: 'eu-west-1', instanceId: manualRequest.instanceId } } },
    });
  });

  it('carries an instance that is gone as the failure to record, with the case it opened', async () => {
    // Prepare
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const opened: CaseRef[] = [];
    const handler = createTriageHandler({ cases: openingCaseTable(opened), env: () => ENV, ...mockedAdapters() });

    // Act
    const result = await handler({ event: manualRequest, executionArn: 'arn:aws:states:us-east-1:999988887777:execution:Acquisition:x', startedAt: '2026-11-28T09:15:00Z' });

    // Assess
    expect(opened).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'ACQUIRE', failure: { Error: 'InstanceNotFound' } });
  });

  it('logs its decision through the handler logger: one INFO line with the case id', async () => {
    // Prepare
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = createTriageHandler({ cases: openingCaseTable([]), env: () => ENV, clock: () => new Date('2026-11-28T09:15:02Z'), ...mockedAdapters() });

    // Act
    await handler({ event: manualRequest, executionArn: 'arn:aws:states:us-east-1:999988887777:execution:Acquisition:x', startedAt: '2026-11-28T09:15:00Z' });

    // Assess
    const logged = out.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    out.mockRestore();
    expect(logged).toEqual([
      expect.objectContaining({ level: 'INFO', step: 'triage', outcome: 'ACQUIRE', caseId: '20261128T091500Z-i-0123456789abcdef0' }),
    ]);
  });

  it.each([null, 'event', [1]])('refuses a payload that is not an object: %j', async (payload) => {
    // Prepare
    const opened: CaseRef[] = [];
    const handler = createTriageHandler({ cases: openingCaseTable(opened), env: () => ENV, ...mockedAdapters() });

    // Act
    const outcome = handler(payload);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidInput);
    expect(opened).toEqual([]);
  });
});
