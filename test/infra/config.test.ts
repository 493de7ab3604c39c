import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../infra/app';
import { ConfigError, type ForensicsConfig, loadConfig, parseConfig } from '../../infra/config';

const DEFAULTS: ForensicsConfig = {
  minSeverity: 7,
  evidenceRetentionDays: 365,
  objectLockMode: 'COMPLIANCE',
  notificationEmails: [],
  acquireContainerHosts: false,
  maxWaitMinutes: 1440,
  copyConcurrency: 5,
  tagPrefix: 'forensics',
  workstation: true,
  revokeMode: 'instance',
  quarantineProfile: false,
  workstationAmiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  workstationInstanceType: 'm7i.large',
  workloadAccounts: [],
  stackName: 'ForensicAcquisition',
  // Multi-account settings.
  responderRoleName: 'ForensicsResponder',
  responderExternalId: 'forensic-acquisition',
  findingSourceAccounts: [],
  workloadRegions: [],
  // Home region and organisation.
  excludedAccounts: [],
  evidenceKeyMultiRegion: false,
  snapshotLockMode: 'compliance',
  snapshotLockDays: 365,
  snapshotLockCoolOffHours: 24,
  removeIntermediateCopies: false,
  // Incident scope.
  scopeLookBackHours: 24,
  scopeMaxEvents: 5000,
  scopeMaxLogObjects: 500,
  scopeTimeCapSeconds: 600,
  // Memory capture.
  memoryCapture: true,
  memoryToolsSnapshots: {},
  memoryCaptureTimeoutMinutes: 30,
};

describe('infra config (cdk.json context)', () => {
  it('defaults every setting when the context is empty', () => {
    expect(parseConfig({})).toEqual(DEFAULTS);
  });

  it('cdk.json carries every setting, valid, at the documented defaults', () => {
    const context = cdkJsonContext();
    expect(parseConfig(context)).toEqual(DEFAULTS);
    for (const key of Object.keys(DEFAULTS)) expect(context).toHaveProperty(`forensics:${key}`);
  });

  it('reads the settings from an app context and ignores keys that are not ours', () => {
    const app = new App({
      context: { 'forensics:minSeverity': 8.5, '@aws-cdk/core:checkSecretUsage': true, 'aws:cdk:bundling-stacks': [] },
    });
    expect(loadConfig(app)).toEqual({ ...DEFAULTS, minSeverity: 8.5 });
  });

  it('accepts the string spelling that `cdk synth -c key=value` produces', () => {
    expect(
      parseConfig({
        'forensics:minSeverity': '8',
        'forensics:acquireContainerHosts': 'true',
        'forensics:workstation': 'false',
        'forensics:notificationEmails': 'ir@example.com, soc@example.com',
        'forensics:workloadAccounts': '["111111111111","222222222222"]',
        'forensics:evidenceRetentionDays': '3650',
      }),
    ).toEqual({
      ...DEFAULTS,
      minSeverity: 8,
      acquireContainerHosts: true,
      workstation: false,
      notificationEmails: ['ir@example.com', 'soc@example.com'],
      workloadAccounts: ['111111111111', '222222222222'],
      evidenceRetentionDays: 3650,
    });
  });

  it('reads the flow log buckets and the log bucket keys, in either spelling', () => {
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/mrk-0b1c2d3e4f5061728394a5b6c7d8e9f0';
    expect(parseConfig({ 'forensics:flowLogBuckets': 'central-flows/vpc, other-flows', 'forensics:logBucketKmsKeyArns': [key] })).toEqual({
      ...DEFAULTS,
      flowLogBuckets: ['central-flows/vpc', 'other-flows'],
      logBucketKmsKeyArns: [key],
    });
  });

  it('memory capture: the tools snapshots as JSON from the command line, the tool pinned', () => {
    // Prepare / Act
    const config = parseConfig({
      'forensics:memoryToolsSnapshots': '{"eu-west-1":"snap-0123456789abcdef0"}',
      'forensics:memoryToolVersion': '0.14.0',
      'forensics:memoryToolSha256': 'a'.repeat(64),
      'forensics:memoryCaptureTimeoutMinutes': '45',
    });
    // Assess
    expect(config).toMatchObject({
      memoryToolsSnapshots: { 'eu-west-1': 'snap-0123456789abcdef0' },
      memoryToolVersion: '0.14.0',
      memoryToolSha256: 'a'.repeat(64),
      memoryCaptureTimeoutMinutes: 45,
    });
  });

  it.each([
    [{ 'forensics:memoryToolsSnapshots': { 'eu-west-1': 'snap-0123456789abcdef0' }, 'forensics:memoryToolVersion': '0.14.0' }, 'cdk.json context forensics:memoryToolSha256: required when forensics:memoryToolsSnapshots names a tools snapshot'],
    [{ 'forensics:memoryToolsSnapshots': { 'eu-west-1': 'ami-1' } }, 'cdk.json context forensics:memoryToolsSnapshots[eu-west-1]: expected snapshot ids'],
    [{ 'forensics:memoryToolSha256': 'ABC' }, 'cdk.json context forensics:memoryToolSha256: expected 64 lowercase hex characters'],
    [{ 'forensics:memoryCaptureTimeoutMinutes': 4 }, 'cdk.json context forensics:memoryCaptureTimeoutMinutes: expected number ≥ 5'],
    [{ 'forensics:memoryCaptureTimeoutMinutes': 181 }, 'cdk.json context forensics:memoryCaptureTimeoutMinutes: expected number ≤ 180'],
  ])('memory settings: %j is refused naming the setting', (context, message) => {
    expect(() => parseConfig(context)).toThrow(message);
  });

  it.each([
    [{ 'forensics:minSeverity': 11 }, 'cdk.json context forensics:minSeverity: expected number ≤ 10'],
    [{ 'forensics:minSeverity': 0 }, 'cdk.json context forensics:minSeverity: expected number ≥ 1'],
    [{ 'forensics:minSeverity': 'high' }, 'cdk.json context forensics:minSeverity: expected a number'],
    [{ 'forensics:evidenceRetentionDays': 1.5 }, 'cdk.json context forensics:evidenceRetentionDays: expected a whole number'],
    [{ 'forensics:evidenceRetentionDays': 40000 }, 'cdk.json context forensics:evidenceRetentionDays: expected number ≤ 36500'],
    [{ 'forensics:objectLockMode': 'compliance' }, 'cdk.json context forensics:objectLockMode: expected "COMPLIANCE" or "GOVERNANCE"'],
    [{ 'forensics:notificationEmails': ['not-an-address'] }, 'cdk.json context forensics:notificationEmails[0]: expected e-mail addresses'],
    [{ 'forensics:acquireContainerHosts': 'yes' }, 'cdk.json context forensics:acquireContainerHosts: expected true or false'],
    [{ 'forensics:maxWaitMinutes': 20000 }, 'cdk.json context forensics:maxWaitMinutes: expected number ≤ 10080'],
    [{ 'forensics:copyConcurrency': 0 }, 'cdk.json context forensics:copyConcurrency: expected number ≥ 1'],
    [{ 'forensics:tagPrefix': 'aws:forensics' }, 'cdk.json context forensics:tagPrefix: the "aws:" prefix is reserved by AWS'],
    [{ 'forensics:tagPrefix': 'has space' }, 'cdk.json context forensics:tagPrefix: expected 1–40 characters'],
    [{ 'forensics:revokeMode': 'all' }, 'cdk.json context forensics:revokeMode: expected "instance", "role" or "none"'],
    [{ 'forensics:workloadAccounts': ['12345'] }, 'cdk.json context forensics:workloadAccounts[0]: expected 12-digit account ids'],
    [{ 'forensics:workloadAccounts': ['111111111111', '111111111111'] }, 'cdk.json context forensics:workloadAccounts: account ids must not repeat'],
    [{ 'forensics:stackName': '1stack' }, 'cdk.json context forensics:stackName: expected a CloudFormation stack name'],
    [{ 'forensics:stackName': `S${'x'.repeat(45)}` }, 'cdk.json context forensics:stackName: expected a CloudFormation stack name'],
    [{ 'forensics:minSeverty': 7 }, 'cdk.json context forensics:minSeverty: unknown setting'],
    [{ 'forensics:flowLogBuckets': ['flows/'] }, 'cdk.json context forensics:flowLogBuckets[0]: expected "bucket" or "bucket/prefix"'],
    [{ 'forensics:flowLogBuckets': 's3://flows' }, 'cdk.json context forensics:flowLogBuckets[0]: expected "bucket" or "bucket/prefix"'],
    [{ 'forensics:logBucketKmsKeyArns': ['alias/trail'] }, 'cdk.json context forensics:logBucketKmsKeyArns[0]: expected KMS key ARNs'],
  ])('rejects %j naming the setting', (context, message) => {
    expect(() => parseConfig(context)).toThrow(ConfigError);
    expect(() => parseConfig(context)).toThrow(message);
  });
});
