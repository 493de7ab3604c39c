import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultReleaseExecutionName, runReleaseCommand } from '../../../../cli/commands/release';
import { parseReleaseRequest } from '../../../../handlers/domain/release-request';

/** `forensics release` starts the release state machine; the input is validated before any AWS call. */
const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ForensicRelease';
const CASE = '20260101T120000Z-i-0123456789abcdef0';
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

beforeEach(() => {
  sfn.reset();
  sts.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:x`, startDate: new Date(0) });
});
afterEach(() => {
  sfn.reset();
  sts.reset();
});

describe('forensics release (state machine)', () => {
  it('starts the release state machine with the validated request and prints the ARN and console URL', async () => {
    const t = io();
    const code = await runReleaseCommand(CASE, { reason: 'cleared', requestedBy: 'alice', releaseStateMachineArn: ARN }, t.io);
    expect(code, t.err.join('\n')).toBe(0);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.stateMachineArn).toBe(ARN);
    expect(JSON.parse(input.input ?? '')).toEqual({ caseId: CASE, reason: 'cleared', requestedBy: 'alice' });
    expect(input.name).toMatch(/^release-20260101T120000Z-i-0123456789abcdef0-\d{8}T\d{6}Z$/);
    expect(t.out[0]).toMatch(/^Started arn:aws:states:eu-west-1:111122223333:execution:/);
    expect(t.out[1]).toMatch(/^Console https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\/home/);
  });

  it('defaults --requested-by to the caller identity', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/IR/bob' });
    const t = io();
    expect(await runReleaseCommand(CASE, { reason: 'cleared', releaseStateMachineArn: ARN, output: 'json' }, t.io)).toBe(0);
    const sent = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input ?? '');
    expect(sent.requestedBy).toBe('arn:aws:sts::111122223333:assumed-role/IR/bob');
    expect(JSON.parse(t.out[0]!)).toMatchObject({ executionArn: expect.stringContaining(':execution:'), request: sent });
  });

  it.each([
    ['a malformed case id', 'not-a-case', { reason: 'x' }, '<caseId>'],
    ['an empty reason', CASE, { reason: '  ' }, '--reason'],
    ['a reason with control characters', CASE, { reason: 'ok\u001b[31m' }, '--reason'],
    ['a requester with spaces', CASE, { reason: 'x', requestedBy: 'a b' }, '--requested-by'],
  ])('refuses %s with exit 2, before any AWS call', async (_what, caseId, opts, flag) => {
    const t = io();
    expect(await runReleaseCommand(caseId, { ...opts, releaseStateMachineArn: ARN }, t.io)).toBe(2);
    expect(t.err.join('\n')).toContain(flag);
    expect(sfn.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it('--local without --endpoint is a usage error; --endpoint must be loopback', async () => {
    const t = io();
    expect(await runReleaseCommand(CASE, { reason: 'x', local: true }, t.io)).toBe(2);
    expect(t.err[0]).toContain('--local');
    expect(await runReleaseCommand(CASE, { reason: 'x', endpoint: 'http://10.0.0.1:5000' }, t.io)).toBe(2);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('--wait follows the execution and exits 1 with the refusal by name', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'ExecutionStarted', timestamp: new Date(0) },
        { id: 2, type: 'TaskStateEntered', timestamp: new Date(1000), stateEnteredEventDetails: { name: 'Validate release request' } },
        { id: 3, type: 'ExecutionFailed', timestamp: new Date(2000), executionFailedEventDetails: { error: 'CaseAlreadyReleased' } },
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'CaseAlreadyReleased', cause: 'case was already released' });
    const t = io();
    const code = await runReleaseCommand(CASE, { reason: 'x', requestedBy: 'alice', releaseStateMachineArn: ARN, wait: true, pollIntervalMs: 1 }, t.io);
    expect(code).toBe(1);
    expect(t.err.join('\n')).toContain('entered  Validate release request');
    expect(t.out.at(-1)).toContain('FAILED CaseAlreadyReleased');
  });

  it('--wait exits 0 when the release succeeded', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 1, type: 'ExecutionSucceeded', timestamp: new Date(0) }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', output: '{"release":{"status":"RELEASED"}}' });
    const t = io();
    expect(await runReleaseCommand(CASE, { reason: 'x', requestedBy: 'alice', releaseStateMachineArn: ARN, wait: true, pollIntervalMs: 1 }, t.io)).toBe(0);
  });
});

describe('release request', () => {
  it('is strict and names the field', () => {
    expect(parseReleaseRequest({ caseId: CASE, reason: 'r', requestedBy: 'a' })).toEqual({ caseId: CASE, reason: 'r', requestedBy: 'a' });
    expect(() => parseReleaseRequest({ caseId: CASE, reason: 'r', requestedBy: 'a', extra: 1 })).toThrow(/extra: unknown field/);
    expect(() => parseReleaseRequest({ caseId: CASE, reason: 'r' })).toThrow(/requestedBy: required/);
    expect(() => parseReleaseRequest('x')).toThrow(/input: expected a JSON object/);
  });

  it('execution names fit Step Functions (≤ 80 characters)', () => {
    expect(defaultReleaseExecutionName(CASE, new Date('2026-01-02T03:04:05.678Z'))).toBe(`release-${CASE}-20260102T030405Z`);
    expect(defaultReleaseExecutionName(CASE, new Date()).length).toBeLessThanOrEqual(80);
  });
});
