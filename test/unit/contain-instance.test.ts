import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ec2SecurityGroupAdapter } from '../../handlers/adapters/ec2-security-group-adapter';
import { ConfigurationError } from '../../handlers/domain/errors';
import type { LogEntry } from '../../handlers/domain/ports';
import type { AcquisitionState, DescribeResult } from '../../handlers/domain/types';
import { type ContainInstanceDeps, containInstance } from '../../handlers/use-cases/contain-instance';
import { ChainedCustodyLog } from '../../handlers/use-cases/custody-log';
import type { RevokeIamPort } from '../../handlers/use-cases/revoke-credentials';
import { FakeCaseTable, acquiredState, mockEvidenceBucket, steppingClock } from '../support/evidence-test-kit';

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

  beforeEach(() => {
    bucket = mockEvidenceBucket();
    cases = new FakeCaseTable();
    switched = [];
    logged = [];
  });
  afterEach(() => bucket.s3.restore());

  function deps(overrides: Partial<ContainInstanceDeps> = {}): ContainInstanceDeps {
    const clock = steppingClock();
    const securityGroups = {
      setInterfaceGroups: async (eni: string, groups: string[]) => {
        switched.push({ eni, groups });
      },
    } as unknown as Ec2SecurityGroupAdapter;
    return {
      securityGroups,
      iam: () => {
        throw new Error('not expected');
      },
      profiles: () => {
        throw new Error('not expected');
      },
      evidence: () => ({
        cases,
        store: bucket.store,
        clock,
        custody: new ChainedCustodyLog({ cases, store: bucket.store, clock, actor: { functionName: 'isolate' }, sleep: async () => {} }),
      }),
      clock,
      log: (entry) => logged.push(entry),
      tagPrefix: 'forensics',
      containedTagKey: 'forensics:contained',
      defaultRevokeMode: 'instance',
      defaultQuarantineProfile: false,
      ...overrides,
    };
  }

  it('isolates the network, then records a credential client that cannot be built as a failed action, in the custody log too', async () => {
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
    expect(out.recording).toBeUndefined();
    const recorded = (cases.cases.get(s.case.caseId)?.custody ?? []).map((o) => JSON.parse(bucket.objects.get(o.key)?.body ?? '{}'));
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

  it('returns the containment with `recording` when the custody records cannot be written (the seal step writes them later)', async () => {
    // Prepare: the case is not in the table, so recording fails.
    const s = state({ workstation: false, revoke: 'none' });

    // Act
    const out = await containInstance(deps(), s);

    // Assess
    expect(out.networkInterfaces).toHaveLength(1);
    expect(out.recording?.error).toMatch(/^CaseNotFound: /);
    expect(logged.some((l) => l.message === 'containment recorded late')).toBe(true);
  });
});
