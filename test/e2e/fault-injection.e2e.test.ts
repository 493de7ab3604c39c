import { ModifyInstanceAttributeCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executeLocal, type LocalEnvironment, type RunLocalOptions } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { type AwsCallMiddleware, addClientMiddleware, awsError, clearClientMiddleware } from '../support/aws-call-hooks';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { EvidenceReader, SnapshotRewriter } from '../support/fault-kit';

/**
 * Fault injection on the emulator: the synthesized definition and the real handlers, with faults injected through
 * the call middleware of test/support/aws-call-hooks.ts (before the call reaches moto, exactly as AWS would
 * answer) or, for a Lambda-level fault, by wrapping one Task's handler in the local runner. After each run the case
 * item, the custody log and the snapshots are read back through the SDK: they must say what happened, and nothing
 * already acquired may be missing or unsealed.
 */
let env: LocalEnvironment;
let reader: EvidenceReader;

beforeAll(async () => {
  env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
  reader = new EvidenceReader(env);
});

afterAll(async () => {
  clearClientMiddleware();
  await env?.stop();
});

afterEach(() => {
  clearClientMiddleware();
});

async function run(victim: Victim, options: RunLocalOptions = {}) {
  return executeLocal(env, findingEventFor(victim, env), options);
}

/** Custody log intact (chain, one version per record, legal hold on every record) and its record actions. */
async function custodyOf(caseId: string) {
  const entries = await reader.custody(caseId);
  expect(EvidenceReader.chainProblems(entries)).toEqual([]);
  return entries.map((e) => e.record);
}

/** Every original snapshot of every volume still exists, and so does every evidence copy listed. */
async function expectAcquiredStillThere(caseId: string, victim: Victim, evidenceIds: (string | null)[]) {
  const { originals, copies } = await reader.snapshots(caseId);
  expect(originals.map((s) => s.volumeId).sort()).toEqual([...victim.volumeIds].sort());
  for (const id of evidenceIds.filter((x): x is string => Boolean(x))) {
    expect(copies.map((c) => c.snapshotId)).toContain(id);
  }
}

describe('fault injection', () => {
  it('absorbs throttling on every call type (SDK retries, then the state machine Retry)', async () => {
    const victim = await seedVictim(env, { lean: true });
    // The first attempt of every call type is throttled (each service's own error name): the SDK retries it.
    const seen = new Map<string, number>();
    const throttleName: Record<string, string> = { EC2: 'RequestLimitExceeded', S3: 'SlowDown', DynamoDB: 'ThrottlingException' };
    const throttle: AwsCallMiddleware = async (call, next) => {
      const key = `${call.service}:${call.command}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n === 1) throw awsError(throttleName[call.service] ?? 'ThrottlingException', 'Rate exceeded (injected)', call.service === 'S3' ? 503 : 400);
      return next();
    };
    addClientMiddleware(throttle);
    const retried: string[] = [];
    // Throttling that outlasts the SDK's retries reaches the state machine as the handler's error, by its AWS
    // name (preserve-and-snapshot rethrows throttling as is): once for "Preserve and snapshot", before it runs.
    // (Injected at the Task rather than as 5 throttled attempts, which would only add the SDK's backoff time.)
    let preserveThrottled = false;
    const result = await run(victim, {
      onProgress: (e) => e.kind === 'retried' && retried.push(e.state),
      wrapHandler: (state, handler) => async (input) => {
        if (state === ACQUISITION_STEPS.preserveAndSnapshot.state && !preserveThrottled) {
          preserveThrottled = true;
          throw awsError('RequestLimitExceeded', 'Request limit exceeded (injected, after the SDK retries)');
        }
        return handler(input);
      },
    });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(retried).toContain(ACQUISITION_STEPS.preserveAndSnapshot.state);
    // Every call type of a full acquisition was throttled at least once.
    for (const key of ['DynamoDB:TransactWriteItems', 'EC2:DescribeInstances', 'EC2:CreateSnapshots', 'EC2:ModifyNetworkInterfaceAttribute', 'EC2:DescribeSnapshots', 'EC2:CopySnapshot', 'S3:PutObject', 'DynamoDB:UpdateItem', 'SNS:Publish']) {
      expect(seen.get(key), key).toBeGreaterThan(1);
    }
    const caseId = result.caseId ?? '';
    expect((await reader.caseItem(caseId)).status).toBe('CONTAINED');
    const custody = await custodyOf(caseId);
    expect(custody.map((r) => r.action)).toContain('close');
    // One CreateSnapshots took effect despite the retries: one snapshot per volume, no duplicates.
    await expectAcquiredStillThere(caseId, victim, result.snapshots.map((s) => s.evidenceSnapshotId));
    expect((await reader.snapshots(caseId)).originals).toHaveLength(victim.volumeIds.length);
  });

  it('a snapshot that ends in error: the others are copied and sealed, the case records the failed volume', async () => {
    const victim = await seedVictim(env, { lean: true });
    const failedVolume = victim.volumeIds[1] ?? '';
    const rewriter = new SnapshotRewriter((s, kind) => {
      if (kind === 'original' && s.VolumeId === failedVolume) {
        s.State = 'error';
        s.StateMessage = 'Snapshot creation failed (injected)';
      }
    });
    addClientMiddleware(rewriter.middleware);
    const result = await run(victim);

    expect(result.status).toBe('SUCCEEDED');
    const caseId = result.caseId ?? '';
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('CONTAINED');
    const copies = new Map(result.snapshots.map((s) => [s.volumeId, s.evidenceSnapshotId]));
    expect(copies.get(failedVolume)).toBeNull();
    for (const v of victim.volumeIds.filter((id) => id !== failedVolume)) expect(copies.get(v), v).toMatch(/^snap-/);
    const custody = await custodyOf(caseId);
    const failedCheck = custody.find((r) => r.step === 'check-snapshots' && r.status === 'failed');
    expect(JSON.stringify(failedCheck)).toContain('Snapshot creation failed (injected)');
    expect(JSON.stringify(failedCheck)).toContain(failedVolume);
    const skippedCopy = custody.find((r) => r.step === 'copy-evidence' && r.status === 'skipped');
    expect(JSON.stringify(skippedCopy)).toContain(failedVolume);
    // The manifest is sealed and lists the failed volume's snapshot state.
    const manifest = await reader.body(result.manifest?.key ?? '');
    expect(manifest).toContain(failedVolume);
    expect(manifest).toContain('error');
    expect((await reader.s3.send(new HeadObjectCommand({ Bucket: reader.bucket, Key: result.manifest?.key }))).ObjectLockLegalHoldStatus).toBe('ON');
    await expectAcquiredStillThere(caseId, victim, [...copies.values()]);
  });

  it('a copy whose StateMessage says the key is not accessible is an error for that volume only', async () => {
    const victim = await seedVictim(env, { lean: true });
    const badVolume = victim.volumeIds[0] ?? '';
    let badCopy: string | undefined;
    const rewriter = new SnapshotRewriter((s, kind, self) => {
      if (kind !== 'copy') return;
      const source = self.copies.get(s.SnapshotId ?? '');
      if (source && self.originals.get(source) === badVolume) {
        badCopy = s.SnapshotId;
        s.State = 'error';
        s.StateMessage = 'Given key ID is not accessible';
      }
    });
    addClientMiddleware(rewriter.middleware);
    const result = await run(victim);

    expect(result.status).toBe('SUCCEEDED');
    const caseId = result.caseId ?? '';
    expect(badCopy).toMatch(/^snap-/);
    const custody = await custodyOf(caseId);
    const failedCopy = custody.find((r) => r.step === 'copy-evidence' && r.status === 'failed');
    expect(JSON.stringify(failedCopy)).toContain('Given key ID is not accessible');
    expect(JSON.stringify(failedCopy)).toContain(badVolume);
    const good = custody.filter((r) => r.step === 'copy-evidence' && r.status === 'succeeded');
    expect(good).toHaveLength(victim.volumeIds.length - 1);
    expect((await reader.caseItem(caseId)).status).toBe('CONTAINED');
    // The original snapshot of the volume whose copy failed is still there: the evidence can be copied again.
    await expectAcquiredStillThere(caseId, victim, result.snapshots.map((s) => s.evidenceSnapshotId));
  });

  it('the instance terminated after isolation: snapshots already taken are copied and sealed anyway', async () => {
    const victim = await seedVictim(env, { lean: true });
    const result = await run(victim, {
      wrapHandler: (state, handler) => async (input) => {
        const output = await handler(input);
        if (state === ACQUISITION_STEPS.isolateNetwork.state) {
          // Someone with the rights to do so lifts termination protection and terminates the instance.
          await reader.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: victim.instanceId, DisableApiTermination: { Value: false } }));
          await reader.ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim.instanceId] }));
        }
        return output;
      },
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    const caseId = result.caseId ?? '';
    expect((await reader.caseItem(caseId)).status).toBe('CONTAINED');
    await custodyOf(caseId);
    expect(result.snapshots.every((s) => s.evidenceSnapshotId)).toBe(true);
    await expectAcquiredStillThere(caseId, victim, result.snapshots.map((s) => s.evidenceSnapshotId));
  });

  it('the instance terminated between describe and snapshot: FAILED, recorded, nothing claimed', async () => {
    const victim = await seedVictim(env, { lean: true });
    const result = await run(victim, {
      wrapHandler: (state, handler) => async (input) => {
        const output = await handler(input);
        if (state === ACQUISITION_STEPS.triage.state) {
          await reader.ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim.instanceId] }));
        }
        return output;
      },
    });
    expect(result.status).toBe('FAILED');
    const caseId = result.caseId ?? '';
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('FAILED');
    expect(item.failure?.step).toBe('preserve-and-snapshot');
    expect(item.failure?.error).toBe('SnapshotFailed');
    expect((item.details.secured as { snapshots: unknown[] }).snapshots).toEqual([]);
    const custody = await custodyOf(caseId);
    const failure = custody.find((r) => r.action === 'failure');
    expect(failure?.status).toBe('failed');
    expect(JSON.stringify(failure)).toContain('SnapshotFailed');
  });

  it('the evidence bucket refusing the manifest write: FAILED at sealing, everything acquired still there and held', async () => {
    const victim = await seedVictim(env, { lean: true });
    addClientMiddleware(async (call, next) => {
      if (call.command === 'PutObject' && String(call.input.Key).endsWith('/manifest.json')) {
        throw awsError('AccessDenied', 'Access Denied', 403);
      }
      return next();
    });
    const result = await run(victim);
    expect(result.status).toBe('FAILED');
    const caseId = result.caseId ?? '';
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('FAILED');
    expect(item.failure).toMatchObject({ step: 'seal-evidence', error: 'AccessDenied' });
    const secured = item.details.secured as { snapshots: unknown[]; evidenceSnapshots: { evidenceSnapshotId: string }[] };
    expect(secured.snapshots).toHaveLength(victim.volumeIds.length);
    expect(secured.evidenceSnapshots).toHaveLength(victim.volumeIds.length);
    const custody = await custodyOf(caseId);
    expect(custody.at(-1)?.action).toBe('failure');
    expect(custody.some((r) => r.step === 'isolateNetwork' && r.action === 'isolate-network-interface')).toBe(true);
    await expectAcquiredStillThere(caseId, victim, secured.evidenceSnapshots.map((e) => e.evidenceSnapshotId));
    // The raw finding and the pre-incident state were written at containment, under legal hold.
    expect(await reader.legalHold(`cases/${caseId}/instance.json`)).toBe('ON');
  });

  it('SNS down: the acquisition completes and the failure to notify is recorded in the case and the custody log', async () => {
    const victim = await seedVictim(env, { lean: true });
    addClientMiddleware(async (call, next) => {
      if (call.service === 'SNS') throw awsError('InternalError', 'SNS is unavailable (injected)', 500);
      return next();
    });
    const result = await run(victim);
    expect(result.status).toBe('SUCCEEDED');
    const caseId = result.caseId ?? '';
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('CONTAINED');
    expect(item.details.notification).toMatchObject({ notified: false, error: 'InternalError' });
    const custody = await custodyOf(caseId);
    const notify = custody.find((r) => r.action === 'notify-responders');
    expect(notify?.status).toBe('failed');
    expect(custody.at(-1)?.action).toBe('close');
    expect(await reader.legalHold(result.manifest?.key ?? '')).toBe('ON');
    await expectAcquiredStillThere(caseId, victim, result.snapshots.map((s) => s.evidenceSnapshotId));
  });

  it('a Lambda timeout (the copy step hangs): FAILED with Sandbox.Timedout, snapshots and containment kept', async () => {
    // The Lambda service ends an invocation that runs past its timeout and Step Functions fails the Task with
    // `Sandbox.Timedout`; the copy step is run again twice (it finds its earlier copies by tag), then the failure is
    // recorded. Locally the copy handler hangs on every attempt and the wrapper fails the Task with that error after
    // 200 ms, as the service would after the function's timeout.
    const victim = await seedVictim(env, { lean: true });
    const timedOut = Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
    let attempts = 0;
    const result = await run(victim, {
      wrapHandler: (state, handler) =>
        state === ACQUISITION_STEPS.copyEvidence.state
          ? () => {
              attempts += 1;
              return new Promise((_, reject) => setTimeout(() => reject(timedOut), 200));
            }
          : handler,
    });
    expect(attempts).toBe(3);
    expect(result.status).toBe('FAILED');
    const caseId = result.caseId ?? '';
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('FAILED');
    expect(item.failure).toMatchObject({ step: 'copy-evidence', error: 'Sandbox.Timedout' });
    const secured = item.details.secured as { snapshots: unknown[]; isolatedNetworkInterfaces: string[] };
    expect(secured.snapshots).toHaveLength(victim.volumeIds.length);
    expect(secured.isolatedNetworkInterfaces).toEqual(victim.networkInterfaceIds);
    const custody = await custodyOf(caseId);
    expect(JSON.stringify(custody.find((r) => r.action === 'failure'))).toContain('Sandbox.Timedout');
    await expectAcquiredStillThere(caseId, victim, []);
  });

  it('a Lambda timeout once in the copy step: run again, SUCCEEDED, one evidence copy per volume (none twice)', async () => {
    // Prepare: the first attempt really copies, then times out as the service would end it; the retry finds the copies.
    const victim = await seedVictim(env, { lean: true });
    const timedOut = Object.assign(new Error('Task timed out after 300.00 seconds'), { name: 'Sandbox.Timedout' });
    let attempts = 0;
    // Act
    const result = await run(victim, {
      wrapHandler: (state, handler) =>
        state === ACQUISITION_STEPS.copyEvidence.state
          ? async (input) => {
              attempts += 1;
              const out = await handler(input);
              if (attempts === 1) throw timedOut;
              return out;
            }
          : handler,
    });
    // Assess: read back through the SDK
    expect(attempts).toBe(2);
    expect(result.status).toBe('SUCCEEDED');
    const { originals, copies } = await reader.snapshots(result.caseId ?? '');
    expect(originals.map((o) => o.volumeId).sort()).toEqual([...victim.volumeIds].sort());
    expect(copies).toHaveLength(victim.volumeIds.length);
  });
});
