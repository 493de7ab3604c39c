import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeLocal, type LocalEnvironment, type RunLocalResult } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { addClientMiddleware, clearClientMiddleware } from '../support/aws-call-hooks';
import { EvidenceReader } from '../support/fault-kit';

/**
 * Concurrency and idempotency on the emulator: bursts of findings started at once against the real definition and
 * handlers. The case table's conditional writes must give exactly one case (and one set of snapshots) per instance.
 * A few milliseconds of latency per AWS call widen the race windows the way a real API would.
 */
let env: LocalEnvironment;
let reader: EvidenceReader;
const createSnapshotsCalls: string[] = [];

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  reader = new EvidenceReader(env);
  addClientMiddleware(async (call, next) => {
    await new Promise((r) => setTimeout(r, 5));
    if (call.command === 'CreateSnapshots') {
      createSnapshotsCalls.push(String((call.input.InstanceSpecification as { InstanceId?: string }).InstanceId));
    }
    return next();
  });
});

afterAll(async () => {
  clearClientMiddleware();
  await env?.stop();
});

const TYPES = ['CryptoCurrency:EC2/BitcoinTool.B!DNS', 'Backdoor:EC2/C&CActivity.B!DNS', 'Trojan:EC2/DNSDataExfiltration', 'UnauthorizedAccess:EC2/TorClient'];

function burst(victim: Victim, n: number, prefix: string): Promise<RunLocalResult[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      executeLocal(env, findingEventFor(victim, env, { id: `${prefix}${i}`, type: TYPES[i % TYPES.length] ?? 'x' })),
    ),
  );
}

describe('concurrent findings', () => {
  let victim: Victim;
  let results: RunLocalResult[];

  beforeAll(async () => {
    victim = await seedVictim(env, { lean: true });
    results = await burst(victim, 8, 'conc0burst');
  });

  it('8 findings at once for one instance: exactly one acquisition, the others DUPLICATE of the same case', async () => {
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 'SUCCEEDED')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'DUPLICATE')).toHaveLength(7);
    const caseIds = new Set(results.map((r) => r.caseId));
    expect(caseIds.size).toBe(1);
  });

  it('takes one set of snapshots and records every finding in the one case', async () => {
    const caseId = results[0]?.caseId ?? '';
    expect(createSnapshotsCalls.filter((id) => id === victim.instanceId)).toHaveLength(1);
    const { originals, copies } = await reader.snapshots(caseId);
    expect(originals.map((s) => s.volumeId).sort()).toEqual([...victim.volumeIds].sort());
    expect(copies).toHaveLength(victim.volumeIds.length);
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('CONTAINED');
    expect(new Set(item.findings.map((f) => f.id))).toEqual(new Set(Array.from({ length: 8 }, (_, i) => `conc0burst${i}`)));
    const custody = await reader.custody(caseId);
    expect(EvidenceReader.chainProblems(custody)).toEqual([]);
  });

  it('a replay after completion is a DUPLICATE and changes nothing', async () => {
    const caseId = results[0]?.caseId ?? '';
    const before = await reader.snapshots(caseId);
    const custodyBefore = (await reader.custody(caseId)).length;
    const replay = await executeLocal(env, findingEventFor(victim, env, { id: 'conc0burst0', type: TYPES[0] ?? 'x' }));
    expect(replay.status).toBe('DUPLICATE');
    expect(replay.caseId).toBe(caseId);
    const after = await reader.snapshots(caseId);
    expect(after.originals.length + after.copies.length).toBe(before.originals.length + before.copies.length);
    expect((await reader.caseItem(caseId)).status).toBe('CONTAINED');
    expect((await reader.custody(caseId)).length).toBeGreaterThanOrEqual(custodyBefore);
  });
});

describe('different instances at once', () => {
  it('never share a case: each gets its own case, snapshots and isolation', { timeout: 180_000 }, async () => {
    const victims = await Promise.all(Array.from({ length: 4 }, () => seedVictim(env, { lean: true })));
    const results = await Promise.all(
      victims.map((v, i) => executeLocal(env, findingEventFor(v, env, { id: `conc1multi${i}` }))),
    );
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(new Set(results.map((r) => r.caseId)).size).toBe(4);
    for (const [i, r] of results.entries()) {
      const v = victims[i] as Victim;
      expect(r.caseId).toMatch(new RegExp(`${v.instanceId}$`));
      const item = await reader.caseItem(r.caseId ?? '');
      expect(item.target.instanceId).toBe(v.instanceId);
      expect(item.findings.map((f) => f.id)).toEqual([`conc1multi${i}`]);
      const { originals } = await reader.snapshots(r.caseId ?? '');
      expect(originals.map((s) => s.volumeId).sort()).toEqual([...v.volumeIds].sort());
      expect(r.isolation.networkInterfaceIds).toEqual(v.networkInterfaceIds);
    }
  });
});
