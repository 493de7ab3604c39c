import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ec2SecurityGroupAdapter } from '../../../../handlers/adapters/ec2-security-group-adapter';
import { ConfigurationError } from '../../../../handlers/domain/errors';
import type { LogEntry } from '../../../../handlers/domain/ports';
import type { AcquisitionState, DescribeResult } from '../../../../handlers/domain/types';
import { type ContainInstanceDeps, containInstance } from '../../../../handlers/use-cases/contain-instance';
import { ChainedCustodyLog } from '../../../../handlers/use-cases/custody-log';
import { recordContainment } from '../../../../handlers/use-cases/record-containment';
import type { RevokeIamPort } from '../../../../handlers/use-cases/revoke-credentials';
import type { PreservationReadPort } from '../../../../handlers/use-cases/verify-preservation';
import { READ_BACK_PENDING } from '../../../../handlers/domain/preservation';
import { FakeCaseTable, acquiredState, mockEvidenceBucket, steppingClock } from '../../../support/evidence-test-kit';

/** The acquired state with this product's groups already known in the VPC (no group is created). */
function state(options: AcquisitionState['case']['options'] = { workstation: false, revoke: 'instance' }): AcquisitionState & { describe: DescribeResult } {
  const s = acquiredState();
  const describe = { ...(s.describe as DescribeResult), isolationGroups: [{ vpcId: 'vpc-0aaa', transitionGroupId: 'sg-0trans', isolationGroupId: 'sg-0iso' }] };
  return { ...s, case: { ...s.case, options }, describe };
}

describe('containInstance (the "Isolate network" use case)', () => {
  let bucket: ReturnType<typeof mockEvidenceBucket>;
  let cases: FakeCaseTable;
  let switched: { eni: string; groups: string[] }[];
  let logged: LogEntry[];
  /** Every AWS-side call of the step in order: interface switches and preservation read-backs. */
  let calls: string[];

  beforeEach(() => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    switched = [];
    logged = [];
    calls = [];
  });
  afterEach(() => bucket.s3.restore());

  /** What "Record containment" (the next state) does with the result: the custody log and the case as it writes them. */
  async function recordNext(s: AcquisitionState, out: Awaited<ReturnType<typeof containInstance>>) {
    const clock = steppingClock();
    const custody = new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'record' }, sleep: async () => {} });
    await recordContainment({ cases, store: bucket.store, clock, custody }, s, out);
    return (cases.cases.get(s.case.caseId)?.custody ?? []).map((o) => JSON.parse(bucket.objects.get(o.key)?.body ?? '{}'));
  }

  function deps(overrides: Partial<ContainInstanceDeps> = {}): ContainInstanceDeps {
    const clock = steppingClock();
    const securityGroups = {
      setInterfaceGroups: async (eni: string, groups: string[]) => {
        await Promise.resolve();
        switched.push({ eni, groups });
        calls.push(`switch ${eni} ${groups.join(',')}`);
      },
    } as unknown as Ec2SecurityGroupAdapter;
    // The instance as EC2 reads it after the changes: protected, but still terminating on shutdown.
    const instances: PreservationReadPort = {
      describeAttribute: (async (_id: string, attribute: string) => {
        calls.push(`read ${attribute}`);
        return attribute === 'disableApiTermination' ? true : 'terminate';
      }) as PreservationReadPort['describeAttribute'],
      describeInstance: async () => {
        calls.push('read block devices');
        return { blockDevices: [{ deviceName: '/dev/xvda', volumeId: 'vol-0aaa', deleteOnTermination: false }] } as never;
      },
    };
    return {
      securityGroups,
      instances: () => instances,
      sleep: async () => {},
      iam: () => {
        throw new Error('not expected');
      },
      profiles: () => {
        throw new Error('not expected');
      },
      clock,
      log: (entry) => logged.push(entry),
      tagPrefix: 'forensics',
      containedTagKey: 'forensics:contained',
      defaultRevokeMode: 'instance',
      defaultQuarantineProfile: false,
      ...overrides,
    };
  }

  it('isolates the network, then returns a credential client that cannot be built as a failed action, which reaches the custody log', async () => {
    // Prepare
    const s = state();
    cases.seed(s.case);
    const noRole = () => {
      throw new ConfigurationError('RESPONDER_ROLE_NAME is not set');
    };

    // Act
    const out = await containInstance(deps({ iam: noRole as () => RevokeIamPort }), s);

    // Assess: transition then isolation group on the interface; containment kept; the failure named and recorded.
    expect(switched).toEqual([
      { eni: 'eni-0aaa', groups: ['sg-0trans'] },
      { eni: 'eni-0aaa', groups: ['sg-0iso'] },
    ]);
    expect(out.networkInterfaces.map((n) => n.networkInterfaceId)).toEqual(['eni-0aaa']);
    expect(out.credentials).toMatchObject({ mode: 'instance', status: 'failed', reason: 'ConfigurationError: RESPONDER_ROLE_NAME is not set' });
    expect(out.actions.at(-1)).toMatchObject({
      step: 'isolateNetwork',
      action: 'revoke-credentials',
      status: 'failed',
      request: { instanceId: s.case.target.instanceId, mode: 'instance' },
      result: { error: 'ConfigurationError: RESPONDER_ROLE_NAME is not set' },
    });
    const recorded = await recordNext(s, out);
    expect(recorded.some((r) => r.action === 'revoke-credentials' && r.status === 'failed')).toBe(true);
    expect(logged.some((l) => l.message === 'credential containment failed')).toBe(true);
  });

  it('records a quarantine profile client that cannot be built as a failed quarantine, after the credentials', async () => {
    // Prepare
    const s = state({ workstation: false, revoke: 'none', quarantineProfile: true });
    cases.seed(s.case);
    const noClient = () => {
      throw new ConfigurationError('no client');
    };

    // Act
    const out = await containInstance(deps({ profiles: noClient as ContainInstanceDeps['profiles'], quarantineProfileArn: 'arn:aws:iam::111122223333:instance-profile/q' }), s);

    // Assess
    expect(out.credentials).toMatchObject({ mode: 'none', status: 'skipped', quarantine: { status: 'failed', reason: 'ConfigurationError: no client', quarantineProfileArn: 'arn:aws:iam::111122223333:instance-profile/q' } });
    expect(out.actions.at(-1)).toMatchObject({ action: 'quarantine-instance-profile', status: 'failed', request: { instanceId: s.case.target.instanceId } });
  });

  it('returns every action in the order it happened, and "Record containment" writes exactly those after the path\'s earlier records', async () => {
    // Prepare
    const s = state({ workstation: false, revoke: 'none' });
    cases.seed(s.case);

    // Act: the containment, then the next state with it in the execution state.
    const out = await containInstance(deps(), s);
    const recorded = await recordNext(s, out);

    // Assess: the result is the only record until the next state, so the chain's tail is the result's actions.
    expect(out.networkInterfaces).toHaveLength(1);
    expect(out.actions.map((a) => a.action)).toContain('isolate-network-interface');
    expect(recorded.slice(-out.actions.length).map((r) => [r.step, r.action, r.status])).toEqual(out.actions.map((a) => [a.step, a.action, a.status]));
    expect(recorded.slice(0, 2).map((r) => r.action)).toEqual(['open-case', 'receive-finding']);
  });

  it('reads the preservation back only after the last interface is isolated, and records a mismatch as a failed preservation', async () => {
    // Prepare: the preserve step changed three attributes, none read back yet.
    const s = state({ workstation: false, revoke: 'none' });
    const pending = { status: 'applied' as const, detail: READ_BACK_PENDING, verified: false };
    s.acquisition = {
      ...(s.acquisition as NonNullable<AcquisitionState['acquisition']>),
      preservation: [
        { action: 'tag-instance', status: 'applied' },
        { action: 'enable-termination-protection', previous: false, ...pending },
        { action: 'shutdown-behavior-stop', previous: 'terminate', ...pending },
        { action: 'keep-volumes-on-termination', previous: [{ deviceName: '/dev/xvda', volumeId: 'vol-0aaa', deleteOnTermination: true }], ...pending },
      ],
    };
    cases.seed(s.case);

    // Act
    const out = await containInstance(deps(), s);

    // Assess: every read after the isolation switch (none on the path to containment).
    const lastSwitch = calls.lastIndexOf('switch eni-0aaa sg-0iso');
    const reads = calls.map((c, i) => [c, i] as const).filter(([c]) => c.startsWith('read '));
    // Once each, and the mismatching one at most three times (bounded re-reads).
    expect(reads.map(([c]) => c).sort()).toEqual([
      'read block devices',
      'read disableApiTermination',
      'read instanceInitiatedShutdownBehavior',
      'read instanceInitiatedShutdownBehavior',
      'read instanceInitiatedShutdownBehavior',
    ]);
    for (const [, i] of reads) expect(i).toBeGreaterThan(lastSwitch);
    // The read-backs replace the pending outcomes; the mismatch is a failed preservation.
    expect(out.preservation).toEqual([
      { action: 'enable-termination-protection', status: 'applied', previous: false, verified: true, readBack: { disableApiTermination: true } },
      {
        action: 'shutdown-behavior-stop',
        status: 'failed',
        previous: 'terminate',
        detail: 'read back 3 times after the change: still not instanceInitiatedShutdownBehavior=stop',
        verified: false,
        readBack: { instanceInitiatedShutdownBehavior: 'terminate' },
      },
      {
        action: 'keep-volumes-on-termination',
        status: 'applied',
        previous: [{ deviceName: '/dev/xvda', volumeId: 'vol-0aaa', deleteOnTermination: true }],
        verified: true,
        readBack: [{ deviceName: '/dev/xvda', volumeId: 'vol-0aaa', deleteOnTermination: false }],
      },
    ]);
    // In the custody log (a failed action of this step) and in the case's preservation as release reads it, once
    // "Record containment" wrote them.
    const recorded = await recordNext(s, out);
    expect(recorded.some((r) => r.step === 'isolateNetwork' && r.action === 'shutdown-behavior-stop' && r.status === 'failed')).toBe(true);
    const details = cases.cases.get(s.case.caseId)?.details as { preservation: { action: string; status: string }[] };
    expect(details.preservation.map((p) => [p.action, p.status])).toEqual([
      ['tag-instance', 'applied'],
      ['enable-termination-protection', 'applied'],
      ['shutdown-behavior-stop', 'failed'],
      ['keep-volumes-on-termination', 'applied'],
    ]);
  });
});
