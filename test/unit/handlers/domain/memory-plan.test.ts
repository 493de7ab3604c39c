import { describe, expect, it } from 'vitest';
import type { MemoryPlan } from '../../../../handlers/domain/memory-capture';
import { type MemoryFacts, type MemorySettings, memoryVolumeSizeGiB, planMemoryCapture, skipBySettings } from '../../../../handlers/domain/memory-plan';

const NOW = '2026-01-10T10:00:00.000Z';
const REGION = 'eu-west-1';
const SHA = 'a'.repeat(64);

const settings = (over: Partial<MemorySettings> = {}): MemorySettings => ({
  region: REGION,
  enabled: true,
  toolsSnapshots: { [REGION]: 'snap-0123456789abcdef0' },
  toolVersion: '0.14.0',
  toolSha256: SHA,
  timeoutMinutes: 30,
  revokeMode: 'instance',
  quarantineProfile: false,
  ...over,
});

const endpoint = (service: string, vpcId = 'vpc-1', groups = ['sg-ep']) => ({
  vpcId,
  serviceName: `com.amazonaws.${REGION}.${service}`,
  state: 'available',
  securityGroupIds: groups,
});

const facts = (over: Partial<MemoryFacts> = {}): MemoryFacts => ({
  instanceState: 'running',
  availabilityZone: 'eu-west-1a',
  vpcIds: ['vpc-1'],
  endpoints: [endpoint('ssm'), endpoint('ssmmessages', 'vpc-1', ['sg-ep', 'sg-ep2']), endpoint('ec2messages')],
  ssm: { pingStatus: 'Online', platformType: 'Linux' },
  memoryMiB: 8192,
  architectures: ['x86_64'],
  toolsSnapshot: { sizeGiB: 1, state: 'completed' },
  ...over,
});

const skipReason = (plan: MemoryPlan) => (plan.decision === 'skip' ? plan.reason : 'capture');

describe('planMemoryCapture', () => {
  it('plans a capture with the endpoint groups, the volume size, the tool and the timeout', () => {
    // Prepare / Act
    const plan = planMemoryCapture(facts(), settings(), NOW);
    // Assess
    expect(plan).toEqual({
      decision: 'capture',
      toolsSnapshotId: 'snap-0123456789abcdef0',
      tool: { name: 'avml', version: '0.14.0', sha256: SHA },
      availabilityZone: 'eu-west-1a',
      volumeSizeGiB: Math.ceil((8192 * 1.1) / 1024) + 1,
      memoryMiB: 8192,
      endpoints: [{ vpcId: 'vpc-1', securityGroupIds: ['sg-ep', 'sg-ep2'] }],
      platform: 'linux',
      architecture: 'x86_64',
      timeoutSeconds: 1800,
      plannedAt: NOW,
    });
  });

  it.each([
    ['disabled by the deployment', settings({ enabled: false }), facts(), 'disabled'],
    ['disabled by the case', settings({ caseOption: false }), facts(), 'disabled'],
    ['no tools snapshot for the region', settings({ toolsSnapshots: { 'us-east-1': 'snap-0123456789abcdef0' } }), facts(), 'not-configured-for-region'],
    ['no tool hash configured', settings({ toolSha256: undefined }), facts(), 'not-configured-for-region'],
    ['quarantine profile requested', settings({ quarantineProfile: true }), facts(), 'quarantine-profile'],
    ['facts call failed', settings(), facts({ error: 'DescribeVpcEndpoints: AccessDenied' }), 'facts-unavailable'],
    ['instance stopped', settings(), facts({ instanceState: 'stopped' }), 'instance-not-running'],
    ['tools snapshot missing', settings(), facts({ toolsSnapshot: null }), 'not-configured-for-region'],
    ['tools snapshot pending', settings(), facts({ toolsSnapshot: { sizeGiB: 1, state: 'pending' } }), 'not-configured-for-region'],
    ['not SSM-managed', settings(), facts({ ssm: null }), 'not-ssm-managed'],
    ['agent offline', settings(), facts({ ssm: { pingStatus: 'ConnectionLost', platformType: 'Linux' } }), 'not-ssm-managed'],
    ['Windows', settings(), facts({ ssm: { pingStatus: 'Online', platformType: 'Windows' } }), 'windows'],
    ['unsupported architecture', settings(), facts({ architectures: ['i386'] }), 'unsupported-architecture'],
    ['no endpoints at all', settings(), facts({ endpoints: [] }), 'no-ssm-endpoints'],
    ['only some endpoints', settings(), facts({ endpoints: [endpoint('ssm'), endpoint('ec2messages')] }), 'no-ssm-endpoints'],
    ['an endpoint not available', settings(), facts({ endpoints: [endpoint('ssm'), endpoint('ssmmessages'), { ...endpoint('ec2messages'), state: 'pending' }] }), 'no-ssm-endpoints'],
    ['endpoints in another VPC only', settings(), facts({ endpoints: ['ssm', 'ssmmessages', 'ec2messages'].map((s) => endpoint(s, 'vpc-2')) }), 'no-ssm-endpoints'],
    ['no memory size', settings(), facts({ memoryMiB: undefined }), 'facts-unavailable'],
    ['tools snapshot tagged with another tool', settings(), facts({ toolsSnapshot: { sizeGiB: 1, state: 'completed', tags: { 'forensics:tool-sha256': 'f'.repeat(64) } } }), 'not-configured-for-region'],
  ] as const)('skips: %s', (_name, s, f, reason) => {
    // Act
    const plan = planMemoryCapture(f, s, NOW);
    // Assess
    expect(skipReason(plan)).toBe(reason);
    expect(plan.decision === 'skip' && plan.detail.length > 0).toBe(true);
  });

  it('skips when no facts could be read at all, and decides by settings before any read', () => {
    expect(skipReason(planMemoryCapture(undefined, settings(), NOW))).toBe('facts-unavailable');
    expect(skipBySettings(settings({ enabled: false }), NOW)).toMatchObject({ decision: 'skip', reason: 'disabled' });
    expect(skipBySettings(settings(), NOW)).toBeUndefined();
  });

  it('a tools snapshot tagged with the configured tool, or shared (no tags visible), is used', () => {
    expect(planMemoryCapture(facts({ toolsSnapshot: { sizeGiB: 1, state: 'completed', tags: { 'forensics:tool-sha256': SHA } } }), settings(), NOW).decision).toBe('capture');
    expect(planMemoryCapture(facts({ toolsSnapshot: { sizeGiB: 1, state: 'completed', tags: {} } }), settings(), NOW).decision).toBe('capture');
  });

  it('revoke mode none is no reason to skip; arm64 is supported', () => {
    const plan = planMemoryCapture(facts({ architectures: ['arm64'] }), settings({ revokeMode: 'none' }), NOW);
    expect(plan).toMatchObject({ decision: 'capture', architecture: 'arm64' });
  });

  it('sizes the volume as ceil(memory * 1.1 / 1024) + 1 GiB, never below the tools snapshot', () => {
    expect(memoryVolumeSizeGiB(1024, 1)).toBe(3);
    expect(memoryVolumeSizeGiB(16384, 1)).toBe(19);
    expect(memoryVolumeSizeGiB(512, 8)).toBe(8);
    expect(planMemoryCapture(facts({ memoryMiB: 512, toolsSnapshot: { sizeGiB: 8, state: 'completed' } }), settings(), NOW)).toMatchObject({ volumeSizeGiB: 8 });
  });
});
