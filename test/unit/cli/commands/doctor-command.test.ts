import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../../cli/commands/doctor';
import type { Io } from '../../../../cli/commands/common';
import { accessDenied, BUCKET, HOME, IR, KEY_ARN, MACHINE_ARN, RELEASE_ARN } from '../../../support/doctor-test-kit';

/**
 * `forensics doctor` as a command: the JSON contract of DESIGN.md (`{"checks":[{"name","status","detail"}]}`), the exit
 * code, and the rule that an identity allowed nothing gets FAILs naming what it lacks — never a PASS for a check that
 * had to read something.
 */

const clients = [CloudFormationClient, CloudWatchClient, DynamoDBClient, EC2Client, EventBridgeClient, GuardDutyClient, IAMClient, KMSClient, S3Client, ServiceQuotasClient, SFNClient, SNSClient, SSMClient].map((c) =>
  mockClient(c as never),
);
const sts = mockClient(STSClient);

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

const flags = { region: HOME, bucket: BUCKET, table: 'cases', keyArn: KEY_ARN, stateMachineArn: MACHINE_ARN, releaseStateMachineArn: RELEASE_ARN };

beforeEach(() => {
  sts.reset();
  for (const m of clients) {
    m.reset();
    // Every call of every service is refused.
    m.onAnyCommand().rejects(accessDenied('*'));
  }
  sts.on(GetCallerIdentityCommand).resolves({ Account: IR, Arn: `arn:aws:sts::${IR}:assumed-role/readonly/me`, UserId: 'x' });
});

describe('forensics doctor (command)', () => {
  it('an identity allowed nothing: exit 1, JSON per the contract, every check that reads something FAILs naming the action', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await runDoctor({ ...flags, output: 'json' }, io, {});

    // Assess
    expect(code).toBe(1);
    expect(io.stdout).toHaveLength(1);
    const report = JSON.parse(io.stdout[0] as string) as { checks: { name: string; status: string; detail: string }[] };
    for (const c of report.checks) expect(Object.keys(c).sort()).toEqual(['detail', 'name', 'status']);
    const passed = report.checks.filter((c) => c.status === 'PASS').map((c) => c.name);
    // Only statements about the configuration pass: who is asking, single-account mode, home-region delivery.
    expect(passed).toEqual(['identity', `responder.assume[${IR}]`, `findings.forwarding[${HOME}]`]);
    const failed = report.checks.filter((c) => c.status === 'FAIL');
    expect(failed.length).toBeGreaterThan(20);
    for (const c of failed) expect(c.detail, c.name).toMatch(/was denied|not checked|unknown/);
    expect(failed.find((c) => c.name === 'key.rotation')?.detail).toContain('grant kms:GetKeyRotationStatus');
    // The one check about a feature not built is honest about it.
    expect(report.checks.find((c) => c.name === `memory.tools-snapshot[${HOME}]`)?.status).toBe('WARN');
    expect(io.stderr.at(-1)).toMatch(/^doctor: 3 passed, \d+ warnings, \d+ failed$/);
  });

  it('text output: one line per check, PASS|WARN|FAIL <check>: <detail>', async () => {
    const io = capture();
    await runDoctor(flags, io, {});
    expect(io.stdout.length).toBeGreaterThan(25);
    for (const line of io.stdout) expect(line).toMatch(/^(PASS|WARN|FAIL) [a-z0-9.\-[\]/]+: \S/);
  });

  it('bad arguments are usage errors (exit 2) before any AWS call', async () => {
    const io = capture();
    expect(await runDoctor({ ...flags, output: 'yaml' }, io, {})).toBe(2);
    expect(await runDoctor({ ...flags, account: ['12345'] }, io, {})).toBe(2);
    expect(await runDoctor({ ...flags, context: ['forensics:minSeverity=11'] }, io, {})).toBe(2);
    expect(io.stderr.join('\n')).toContain('forensics:minSeverity');
    expect(sts.calls()).toHaveLength(0);
  });
});
