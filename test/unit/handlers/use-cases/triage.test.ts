import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../../handlers/domain/errors';
import type { CaseRecord, CaseTable, OpenCaseResult } from '../../../../handlers/domain/ports';
import type { CaseRef, DescribeResult, FindingSummary } from '../../../../handlers/domain/types';
import { triage, type TriageConfig, type TriageInput } from '../../../../handlers/use-cases/triage';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely, deep inside
type Json = Record<string, any>;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/findings/${name}`, import.meta.url), 'utf8')) as Json;

const EXECUTION_ARN = 'arn:aws:states:us-east-1:999988887777:execution:Acquisition:6f0b5c1e';
const STARTED_AT = '2026-11-28T09:15:00.123Z';
const NOW = new Date('2026-11-28T09:15:01.500Z');

const CONFIG: TriageConfig = {
  minSeverity: 7,
  acquireContainerHosts: false,
  workloadAccounts: ['111122223333', '222233334444'],
  defaultOptions: { workstation: false, revoke: 'instance' },
};

/** A case table that records every call and answers openCase as told. */
class RecordingCaseTable implements CaseTable {
  readonly calls: { method: string; args: unknown[] }[] = [];
  constructor(
    private readonly open: (caseRef: CaseRef) => OpenCaseResult = (caseRef) => ({ opened: true, caseRef }),
    private readonly cases: Record<string, Partial<CaseRecord>> = {},
  ) {}

  async openCase(caseRef: CaseRef): Promise<OpenCaseResult> {
    this.calls.push({ method: 'openCase', args: [caseRef] });
    return this.open(caseRef);
  }
  async appendFinding(caseId: string, finding: FindingSummary, at: string): Promise<void> {
    this.calls.push({ method: 'appendFinding', args: [caseId, finding, at] });
  }
  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    this.calls.push({ method: 'getCase', args: [caseId] });
    return this.cases[caseId] as CaseRecord | undefined;
  }
  async updateCase(...args: unknown[]): Promise<void> {
    this.calls.push({ method: 'updateCase', args });
  }
  async advanceCustody(...args: unknown[]): Promise<void> {
    this.calls.push({ method: 'advanceCustody', args });
  }
}

/** What the describe use case returns (its own tests cover its content); triage passes it on as it is. */
const DESCRIBED: DescribeResult = {
  preIncident: {
    capturedAt: NOW.toISOString(),
    target: { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' },
    instanceState: 'running',
    tags: {},
    networkInterfaces: [],
    volumes: [],
    instanceStoreDevices: [],
    targetGroups: [],
  },
  isolationGroups: [],
  actions: [],
};
const describeOk = async () => DESCRIBED;

function run(
  event: unknown,
  cases = new RecordingCaseTable(),
  config: TriageConfig = CONFIG,
  input: Partial<TriageInput> = {},
  describe: (caseRef: CaseRef) => Promise<DescribeResult> = describeOk,
) {
  return triage({ event, executionArn: EXECUTION_ARN, startedAt: STARTED_AT, ...input }, { cases, config, clock: () => NOW, describe });
}

describe('triage: acquire', () => {
  it('opens a case for a HIGH instance finding, with the deployment default options', async () => {
    // Prepare
    const cases = new RecordingCaseTable();
    const event = fixture('eventbridge-instance-high.json');

    // Act
    const result = await run(event, cases);

    // Assess
    const expectedCase: CaseRef = {
      caseId: '20261128T091500Z-i-0123456789abcdef0',
      target: { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' },
      finding: {
        id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        type: 'Backdoor:EC2/C&CActivity.B',
        severity: 8,
        title: 'Backdoor:EC2/C&CActivity.B on an EC2 instance.',
        count: 1,
        updatedAt: '2026-11-28T09:14:30.000Z',
        firstSeenAt: '2026-11-28T09:10:00.000Z',
      },
      source: 'guardduty',
      options: { workstation: false, revoke: 'instance' },
      openedAt: NOW.toISOString(),
      executionArn: EXECUTION_ARN,
    };
    expect(result).toEqual({ outcome: 'ACQUIRE', case: expectedCase, rawEvent: event, describe: DESCRIBED });
    expect(cases.calls).toEqual([{ method: 'openCase', args: [expectedCase] }]);
  });

  it('opens a manual case with who asked, why, and the requested options over the defaults', async () => {
    // Prepare
    const cases = new RecordingCaseTable();
    const request = fixture('manual-request.json');
    const config = { ...CONFIG, defaultOptions: { workstation: false, revoke: 'none' as const } };

    // Act
    const result = await run({ ...request, options: { workstation: true } }, cases, config);

    // Assess
    expect(result).toMatchObject({
      outcome: 'ACQUIRE',
      case: {
        caseId: '20261128T091500Z-i-0ee55ff6677889900',
        source: 'manual',
        reason: request.reason,
        requestedBy: request.requestedBy,
        options: { workstation: true, revoke: 'none' },
        finding: { id: expect.stringMatching(/^manual-[0-9a-f]{16}$/), type: 'Manual', severity: 10 },
      },
    });
  });

  it('gives the same case id on a retry (it comes from the execution start, not the clock)', async () => {
    // Prepare
    const event = fixture('eventbridge-instance-high.json');

    // Act
    const first = await triage(
      { event, executionArn: EXECUTION_ARN, startedAt: STARTED_AT },
      { cases: new RecordingCaseTable(), config: CONFIG, clock: () => NOW, describe: describeOk },
    );
    const retry = await triage(
      { event, executionArn: EXECUTION_ARN, startedAt: STARTED_AT },
      { cases: new RecordingCaseTable(), config: CONFIG, clock: () => new Date('2026-11-28T09:20:00Z'), describe: describeOk },
    );

    // Assess
    expect(first.outcome === 'ACQUIRE' && retry.outcome === 'ACQUIRE').toBe(true);
    if (first.outcome !== 'ACQUIRE' || retry.outcome !== 'ACQUIRE') return;
    expect(retry.case.caseId).toBe(first.case.caseId);
  });

  it('acquires the first acquirable finding of get-findings output', async () => {
    // Prepare
    const cases = new RecordingCaseTable();

    // Act
    const result = await run(fixture('get-findings-pascal.json'), cases);

    // Assess
    expect(result).toMatchObject({
      outcome: 'ACQUIRE',
      case: { target: { instanceId: 'i-0bb22cc33dd44ee55' }, finding: { id: 'e5f60718293a4b5c6d7e8f90a1b2c3d4' } },
    });
    expect(cases.calls.map((c) => c.method)).toEqual(['openCase']);
  });

  it('continues its own acquisition when a retried step finds the case it opened itself', async () => {
    // Prepare
    const caseId = '20261128T091500Z-i-0123456789abcdef0';
    const cases = new RecordingCaseTable(() => ({ opened: false, existingCaseId: caseId }), {
      [caseId]: { caseId, executionArn: EXECUTION_ARN, openedAt: '2026-11-28T09:15:00.900Z' },
    });

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases);

    // Assess
    expect(result).toMatchObject({ outcome: 'ACQUIRE', case: { caseId, openedAt: '2026-11-28T09:15:00.900Z' } });
    expect(cases.calls.map((c) => c.method)).toEqual(['openCase', 'getCase']);
  });
});

describe('triage: describes the instance beside the case lock', () => {
  it('starts the describe before the case lock has answered, for the case it opens (one round trip, not two)', async () => {
    // Prepare: the lock answers only when released, after the describe has started.
    let releaseLock: () => void = () => undefined;
    const lockAnswered = new Promise<void>((resolve) => {
      releaseLock = resolve;
    });
    const cases = new RecordingCaseTable();
    const slowCases = Object.assign(Object.create(cases), {
      openCase: async (caseRef: CaseRef) => {
        await lockAnswered;
        return cases.openCase(caseRef);
      },
    }) as RecordingCaseTable;
    const described: CaseRef[] = [];
    const describe = async (caseRef: CaseRef) => {
      described.push(caseRef);
      releaseLock();
      return DESCRIBED;
    };

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), slowCases, CONFIG, {}, describe);

    // Assess
    expect(described.map((c) => c.caseId)).toEqual(['20261128T091500Z-i-0123456789abcdef0']);
    expect(described[0]?.target).toEqual({ accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' });
    expect(result).toMatchObject({ outcome: 'ACQUIRE', describe: DESCRIBED });
  });

  it('carries a describe that failed for good as the failure to record, once the case is open', async () => {
    // Prepare
    const cases = new RecordingCaseTable();
    const gone = Object.assign(new Error('i-0123456789abcdef0 does not exist'), { name: 'InstanceNotFound' });

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases, CONFIG, {}, async () => {
      throw gone;
    });

    // Assess: the case is open (its lock is held), and the failure reads as a Catch would have written it.
    expect(cases.calls.map((c) => c.method)).toEqual(['openCase']);
    expect(result).toMatchObject({ outcome: 'ACQUIRE', case: { caseId: '20261128T091500Z-i-0123456789abcdef0' } });
    expect(result).not.toHaveProperty('describe');
    if (result.outcome !== 'ACQUIRE') return;
    expect(result.failure?.Error).toBe('InstanceNotFound');
    expect(JSON.parse(result.failure?.Cause ?? '{}')).toEqual({ errorType: 'InstanceNotFound', errorMessage: 'i-0123456789abcdef0 does not exist' });
  });

  it('throws a transient describe error, so the state machine retries the whole step', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });

    // Act
    const result = run(fixture('eventbridge-instance-high.json'), new RecordingCaseTable(), CONFIG, {}, async () => {
      throw throttled;
    });

    // Assess
    await expect(result).rejects.toBe(throttled);
  });

  it('throws the lock error when the case could not be opened, whatever the describe did', async () => {
    // Prepare
    const lockError = Object.assign(new Error('try again'), { name: 'ProvisionedThroughputExceededException' });
    const cases = new RecordingCaseTable(() => {
      throw lockError;
    });

    // Act
    const result = run(fixture('eventbridge-instance-high.json'), cases);

    // Assess
    await expect(result).rejects.toBe(lockError);
  });

  it('drops the description, and any describe failure, of a duplicate', async () => {
    // Prepare
    const cases = new RecordingCaseTable(() => ({ opened: false, existingCaseId: '20261128T080000Z-i-0123456789abcdef0' }));

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases, CONFIG, {}, async () => {
      throw Object.assign(new Error('no'), { name: 'UnauthorizedOperation' });
    });

    // Assess
    expect(result).toEqual({
      outcome: 'DUPLICATE',
      caseId: '20261128T080000Z-i-0123456789abcdef0',
      target: { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' },
      finding: expect.objectContaining({ id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' }),
    });
  });

  it('describes nothing for an ignored finding', async () => {
    // Prepare
    const described: CaseRef[] = [];

    // Act
    const result = await run(fixture('sample-additionalinfo-boolean.json'), new RecordingCaseTable(), CONFIG, {}, async (c) => {
      described.push(c);
      return DESCRIBED;
    });

    // Assess
    expect(result.outcome).toBe('IGNORED');
    expect(described).toEqual([]);
  });
});

describe('triage: duplicate', () => {
  it('appends the finding to the open case of another execution and starts nothing', async () => {
    // Prepare
    const cases = new RecordingCaseTable(() => ({ opened: false, existingCaseId: '20261128T080000Z-i-0123456789abcdef0' }));

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases);

    // Assess
    expect(result).toEqual({
      outcome: 'DUPLICATE',
      caseId: '20261128T080000Z-i-0123456789abcdef0',
      target: { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' },
      finding: expect.objectContaining({ id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', count: 1 }),
    });
    expect(cases.calls.map((c) => c.method)).toEqual(['openCase', 'appendFinding']);
    expect(cases.calls[1]?.args).toEqual([
      '20261128T080000Z-i-0123456789abcdef0',
      expect.objectContaining({ id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' }),
      NOW.toISOString(),
    ]);
  });

  it('is a duplicate when another execution started in the same second opened the same case id', async () => {
    // Prepare
    const caseId = '20261128T091500Z-i-0123456789abcdef0';
    const cases = new RecordingCaseTable(() => ({ opened: false, existingCaseId: caseId }), {
      [caseId]: { caseId, executionArn: `${EXECUTION_ARN}-other`, openedAt: STARTED_AT },
    });

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases);

    // Assess
    expect(result).toMatchObject({ outcome: 'DUPLICATE', caseId });
    expect(cases.calls.map((c) => c.method)).toEqual(['openCase', 'getCase', 'appendFinding']);
  });
});

describe('triage: ignored', () => {
  it('ignores a sample finding without touching the case table', async () => {
    // Prepare
    const cases = new RecordingCaseTable();

    // Act
    const result = await run(fixture('sample-additionalinfo-boolean.json'), cases);

    // Assess
    expect(result).toEqual({
      outcome: 'IGNORED',
      reason: expect.stringMatching(/^sample finding/),
      finding: expect.objectContaining({ id: 'f60718293a4b5c6d7e8f90a1b2c3d4e5', severity: 8 }),
    });
    expect(cases.calls).toEqual([]);
  });

  it('ignores a finding about an account that is not a workload account', async () => {
    // Prepare
    const cases = new RecordingCaseTable();
    const config = { ...CONFIG, workloadAccounts: ['222233334444'] };

    // Act
    const result = await run(fixture('eventbridge-instance-high.json'), cases, config);

    // Assess
    expect(result).toMatchObject({ outcome: 'IGNORED', reason: expect.stringMatching(/not a workload account/) });
    expect(cases.calls).toEqual([]);
  });

  it('lists the reason of every finding when none of a batch is acquired', async () => {
    // Prepare
    const cases = new RecordingCaseTable();
    const output = fixture('get-findings-pascal.json');
    output.Findings[1].Service.Archived = true;

    // Act
    const result = await run(output, cases);

    // Assess
    expect(result).toEqual({
      outcome: 'IGNORED',
      reason:
        'none of the 2 findings is acquired: ' +
        '[0] d4e5f60718293a4b5c6d7e8f90a1b2c3: severity 2 (LOW) is below the minimum 7; ' +
        '[1] e5f60718293a4b5c6d7e8f90a1b2c3d4: archived finding (Findings[1].Service.Archived is true): it was closed in GuardDuty',
      finding: expect.objectContaining({ id: 'd4e5f60718293a4b5c6d7e8f90a1b2c3' }),
    });
    expect(cases.calls).toEqual([]);
  });
});

describe('triage: invalid input changes nothing', () => {
  it.each([
    ['malformed severity', () => {
      const e = fixture('eventbridge-instance-high.json');
      e.detail.severity = '8';
      return e;
    }, 'detail.severity'],
    ['a manual request without reason', () => {
      const r = fixture('manual-request.json');
      delete r.reason;
      return r;
    }, 'reason'],
    ['a batch whose second finding is malformed, after an acquirable one', () => {
      const o = fixture('get-findings-pascal.json');
      o.Findings.reverse();
      o.Findings[1].Resource.InstanceDetails.InstanceId = 'i-nope';
      o.Findings[1].Severity = 8;
      return o;
    }, 'Findings[1].Resource.InstanceDetails.InstanceId'],
    ['nothing at all', () => undefined, 'input'],
  ])('rejects %s with InvalidInput and no case table call', async (_, event, field) => {
    // Prepare
    const cases = new RecordingCaseTable();

    // Act
    const outcome = run(event(), cases);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidInput);
    await expect(outcome).rejects.toMatchObject({ field });
    expect(cases.calls).toEqual([]);
  });

  it.each([
    [{ executionArn: '' }, 'executionArn'],
    [{ executionArn: 'arn:aws:states:x\n' }, 'executionArn'],
    [{ startedAt: 'yesterday' }, 'startedAt'],
    [{ startedAt: undefined as unknown as string }, 'startedAt'],
  ])('rejects a broken execution context %j', async (input, field) => {
    // Prepare
    const cases = new RecordingCaseTable();

    // Act
    const outcome = run(fixture('eventbridge-instance-high.json'), cases, CONFIG, input);

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'InvalidInput', field });
    expect(cases.calls).toEqual([]);
  });
});
