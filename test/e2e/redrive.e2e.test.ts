import { DescribeInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLocalRedrive } from '../../cli/local/local-redrive';
import { executeLocal, type LocalEnvironment, type RunLocalOptions } from '../../cli/local/local-runner';
import { prepareE2eEnvironment } from '../support/e2e-emulator';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { awsError, clearClientMiddleware } from '../support/aws-call-hooks';
import { MAX_AUTOMATIC_REDRIVES } from '../../handlers/domain/redrive';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { EvidenceReader } from '../support/fault-kit';

/**
 * A finding is not lost to a transient error that outlasts a step's retries: on the emulator, the synthesized
 * definition lets it through "Triage, open case and describe instance" (nothing changed yet), the execution fails
 * in that step, and the redrive function's decision redrives it — RedriveExecution emulated as Step Functions does it
 * (cli/local/local-redrive.ts: same name and start time, from the failed state with its input). What the case says is
 * read back through the SDK.
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

/** Every attempt of `state` fails with a 503 for the first `failures` invocations (across runs and redrives). */
function failing(state: string, failures: number): NonNullable<RunLocalOptions['wrapHandler']> {
  let calls = 0;
  return (name, handler) => async (input) => {
    if (name === state && calls++ < failures) throw awsError('ServiceUnavailable', 'Service Unavailable (injected)', 503);
    return handler(input);
  };
}

/**
 * Every attempt of `state` runs the real step (triage opens the case and describes the instance) and then fails with
 * a 503 for the first `failures` invocations: the step's response lost after it had acted.
 */
function failingAfter(state: string, failures: number): NonNullable<RunLocalOptions['wrapHandler']> {
  let calls = 0;
  return (name, handler) => async (input) => {
    const output = await handler(input);
    if (name === state && calls++ < failures) throw awsError('ServiceUnavailable', 'Service Unavailable (injected)', 503);
    return output;
  };
}

/** Attempts of one run of triage on ServiceUnavailable before the error is let through: 1 + 10 retries. */
const ATTEMPTS_PER_RUN = 11;

async function acquire(victim: Victim, inject: NonNullable<RunLocalOptions['wrapHandler']>) {
  const name = `redrive-${victim.instanceId}`;
  // `$$.Execution.StartTime` as triage receives it: a redrive keeps it.
  let startedAt = '';
  const wrapHandler: NonNullable<RunLocalOptions['wrapHandler']> = (state, handler) => {
    const injected = inject(state, handler);
    return async (input) => {
      if (state === ACQUISITION_STEPS.triage.state && !startedAt) startedAt = String((input as { startedAt?: string }).startedAt);
      return injected(input);
    };
  };
  const run = (redrive?: RunLocalOptions['redrive']) =>
    executeLocal(env, findingEventFor(victim, env), { executionName: name, wrapHandler, retryIntervalMs: 1, ...(redrive ? { redrive } : {}) });
  const first = await run();
  return { first, ...(await withLocalRedrive(env, name, startedAt, first, run)) };
}

describe('redrive of transient failures before containment (emulator)', () => {
  it('triage failing past its retries after it opened the case and described: fails there uncaught, is redriven once, completes', async () => {
    // Prepare
    const victim = await seedVictim(env, { lean: true });
    // Act
    const { first, result, redrives, outcomes } = await acquire(victim, failingAfter(ACQUISITION_STEPS.triage.state, ATTEMPTS_PER_RUN));
    // Assess: the first run stopped in the step itself (not a Fail state), with the transient error, nothing recorded.
    expect(first.status).toBe('FAILED');
    expect(first.stoppedIn?.name).toBe(ACQUISITION_STEPS.triage.state);
    expect(first.error?.name).toBe('ServiceUnavailable');
    expect(outcomes[0]).toMatchObject({ action: 'redrive', redriveNumber: 1 });
    expect(redrives).toBe(1);
    expect(result.status).toBe('SUCCEEDED');
    // One case, the one triage opened before the failure (same start time), contained.
    const item = await reader.caseItem(result.caseId ?? '');
    expect(item.status).toBe('CONTAINED');
    const protectedAttr = await reader.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }));
    expect(protectedAttr.DisableApiTermination?.Value).toBe(true);
  });

  it('past the redrive bound: the case triage had opened is found again, recorded through "Record failure", the instance released', async () => {
    // Prepare: triage opens the case and describes, then fails on every run, the first and each redrive.
    const victim = await seedVictim(env, { lean: true });
    // Act
    const { result, redrives, outcomes } = await acquire(victim, failingAfter(ACQUISITION_STEPS.triage.state, Number.POSITIVE_INFINITY));
    // Assess
    expect(redrives).toBe(MAX_AUTOMATIC_REDRIVES);
    expect(outcomes.at(-1)).toMatchObject({ action: 'record' });
    expect(result.status).toBe('FAILED');
    const caseId = outcomes.at(-1)?.action === 'record' ? (outcomes.at(-1) as { caseId: string }).caseId : '';
    expect(caseId).toMatch(new RegExp(`-${victim.instanceId}$`));
    const item = await reader.caseItem(caseId);
    expect(item.status).toBe('FAILED');
    expect(item.failure).toMatchObject({ step: 'describe-instance', error: 'ServiceUnavailable' });
    expect(item.details.lockReleased).toBe(true);
    const custody = (await reader.custody(caseId)).map((e) => e.record);
    expect(custody.find((r) => r.action === 'failure')).toMatchObject({ status: 'failed' });
    // Nothing was changed on the instance.
    const protectedAttr = await reader.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: victim.instanceId, Attribute: 'disableApiTermination' }));
    expect(protectedAttr.DisableApiTermination?.Value).toBe(false);
  });

  it('"Triage, open case and describe instance" failing before it opened the case is redriven, and opens exactly one case', async () => {
    const victim = await seedVictim(env, { lean: true });
    const { first, result, redrives } = await acquire(victim, failing(ACQUISITION_STEPS.triage.state, ATTEMPTS_PER_RUN));
    expect(first).toMatchObject({ status: 'FAILED', stoppedIn: { name: ACQUISITION_STEPS.triage.state }, error: { name: 'ServiceUnavailable' } });
    expect(redrives).toBe(1);
    expect(result.status).toBe('SUCCEEDED');
    expect((await reader.caseItem(result.caseId ?? '')).status).toBe('CONTAINED');
  });
});
