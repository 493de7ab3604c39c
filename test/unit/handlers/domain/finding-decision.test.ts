import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../../handlers/domain/errors';
import {
  DEFAULT_DECISION_CONFIG,
  decide,
  type DecisionConfig,
  severityBand,
} from '../../../../handlers/domain/finding-decision';
import { type GuardDutyItem, normalize, type NormalizedFinding } from '../../../../handlers/domain/finding-normalizer';
import type { Decision } from '../../../../handlers/domain/types';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely, deep inside
type Json = Record<string, any>;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/findings/${name}`, import.meta.url), 'utf8')) as Json;

/** The EventBridge HIGH instance fixture, changed by `change` (which receives `detail`). */
function event(change: (detail: Json) => void = () => {}, name = 'eventbridge-instance-high.json'): Json {
  const input = fixture(name);
  change(input.detail as Json);
  return input;
}

function decideOne(input: unknown, config: Partial<DecisionConfig> = {}): Decision {
  const items = normalize(input);
  expect(items).toHaveLength(1);
  return decide(items[0] as NormalizedFinding, { ...DEFAULT_DECISION_CONFIG, ...config });
}

function invalidInputOf(act: () => unknown): InvalidInput {
  try {
    act();
  } catch (err) {
    if (err instanceof InvalidInput) return err;
    throw err;
  }
  throw new Error('expected InvalidInput, nothing was thrown');
}

function reasonOf(decision: Decision): string {
  if (decision.decision !== 'ignore') throw new Error(`expected ignore, got ${JSON.stringify(decision)}`);
  return decision.reason;
}

const HIGH_TARGET = { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0123456789abcdef0' };

describe('decide: instance findings', () => {
  it('acquires a HIGH instance finding, targeting the finding account and region, not the envelope', () => {
    // Prepare
    const input = event();

    // Act
    const decision = decideOne(input);

    // Assess
    expect(decision).toEqual({
      decision: 'acquire',
      target: HIGH_TARGET,
      finding: {
        id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        type: 'Backdoor:EC2/C&CActivity.B',
        severity: 8,
        title: 'Backdoor:EC2/C&CActivity.B on an EC2 instance.',
        count: 1,
        updatedAt: '2026-11-28T09:14:30.000Z',
        firstSeenAt: '2026-11-28T09:10:00.000Z',
      },
    });
    expect(input.account).not.toBe(HIGH_TARGET.accountId);
    expect(input.region).not.toBe(HIGH_TARGET.region);
  });

  it('acquires a CRITICAL finding about an instance with an 8-digit id in GovCloud', () => {
    // Act
    const decision = decideOne(fixture('eventbridge-instance-critical.json'));

    // Assess
    expect(decision).toMatchObject({
      decision: 'acquire',
      target: { accountId: '222233334444', region: 'us-gov-west-1', instanceId: 'i-0a1b2c3d' },
      finding: { severity: 9 },
    });
  });

  it.each([
    [7.0, 'acquire'],
    [8.9, 'acquire'],
    [9.0, 'acquire'],
    [10, 'acquire'],
    [6.9, 'ignore'],
    [4, 'ignore'],
    [0, 'ignore'],
  ])('severity %s with the default minimum → %s', (severity, expected) => {
    // Act
    const decision = decideOne(event((d) => (d.severity = severity)));

    // Assess
    expect(decision.decision).toBe(expected);
  });

  it('says why a finding below the minimum is ignored', () => {
    // Act
    const reason = reasonOf(decideOne(event((d) => (d.severity = 5.5))));

    // Assess
    expect(reason).toBe('severity 5.5 (MEDIUM) is below the minimum 7');
  });

  it('follows a configured minimum', () => {
    // Act
    const decision = decideOne(event((d) => (d.severity = 5)), { minSeverity: 5 });

    // Assess
    expect(decision.decision).toBe('acquire');
  });

  it.each([
    ['missing instanceDetails', (d: Json) => delete d.resource.instanceDetails],
    ['null instanceDetails', (d: Json) => (d.resource.instanceDetails = null)],
    ['missing instanceId', (d: Json) => delete d.resource.instanceDetails.instanceId],
    ['a volume id', (d: Json) => (d.resource.instanceDetails.instanceId = 'vol-0123456789abcdef0')],
    ['uppercase hex', (d: Json) => (d.resource.instanceDetails.instanceId = 'i-0123456789ABCDEF0')],
    ['12 hex digits', (d: Json) => (d.resource.instanceDetails.instanceId = 'i-000000000000')],
    ['a shell injection', (d: Json) => (d.resource.instanceDetails.instanceId = 'i-0123456789abcdef0;reboot')],
    ['an empty string', (d: Json) => (d.resource.instanceDetails.instanceId = '')],
  ])('refuses an Instance finding with %s, naming the field', (_, change) => {
    // Act
    const error = invalidInputOf(() => decideOne(event(change)));

    // Assess
    expect(error.field).toBe('detail.resource.instanceDetails.instanceId');
  });
});

describe('decide: sample findings', () => {
  it.each([
    ['additionalInfo.sample true', 'sample-additionalinfo-boolean.json', /detail\.service\.additionalInfo\.sample is true/],
    ['additionalInfo.sample "true"', 'sample-additionalinfo-string.json', /service\.additionalInfo\.sample is true/],
    ['only additionalInfo.Value JSON (SDK/CLI)', 'sample-additionalinfo-value-pascal.json', /JSON in Service\.AdditionalInfo\.Value/],
    ['a top-level sample flag', 'sample-top-level.json', /^sample finding \(sample is true\)/],
  ])('ignores a sample marked by %s', (_, name, reason) => {
    // Act
    const decision = decideOne(fixture(name));

    // Assess
    expect(reasonOf(decision)).toMatch(reason);
    expect(reasonOf(decision)).toMatch(/^sample finding/);
  });

  it.each([
    ['"TRUE"', (d: Json) => (d.service.additionalInfo.sample = 'TRUE')],
    ['value JSON with sample "true"', (d: Json) => (d.service.additionalInfo.value = '{"sample":"true"}')],
    ['value as an object', (d: Json) => (d.service.additionalInfo.value = { sample: true })],
    ['both flags (2025 EventBridge)', (d: Json) => (d.service.additionalInfo = { sample: true, value: '{"sample":true}', type: 'default' })],
  ])('ignores a sample marked with %s', (_, change) => {
    // Act
    const decision = decideOne(event(change));

    // Assess
    expect(reasonOf(decision)).toMatch(/^sample finding/);
  });

  it.each([
    ['sample false', (d: Json) => (d.service.additionalInfo.sample = false)],
    ['sample "false"', (d: Json) => (d.service.additionalInfo.sample = 'false')],
    ['sample null', (d: Json) => (d.service.additionalInfo.sample = null)],
    ['no additionalInfo', (d: Json) => delete d.service.additionalInfo],
    ['no service', (d: Json) => delete d.service],
    ['value that is not JSON', (d: Json) => (d.service.additionalInfo.value = 'sample:true')],
    ['value JSON with sample false', (d: Json) => (d.service.additionalInfo.value = '{"sample":false}')],
    ['value JSON with a nested sample only', (d: Json) => (d.service.additionalInfo.value = '{"agent":{"sample":true}}')],
    [
      'value JSON whose strings mention sample',
      (d: Json) => (d.service.additionalInfo.value = JSON.stringify({ domain: '"sample":true.evil.example' })),
    ],
  ])('acquires a live finding with %s', (_, change) => {
    // Act
    const decision = decideOne(event(change));

    // Assess
    expect(decision.decision).toBe('acquire');
  });

  it('cannot be made to look like a sample by attacker-controlled text', () => {
    // Prepare: tags, title and domains are attacker-influenced; GuardDuty's sample placeholders are not markers.
    const input = event((d) => {
      d.resource.instanceDetails.tags = [
        { key: 'sample', value: 'true' },
        { key: 'GeneratedFindingInstaceTag1', value: 'GeneratedFindingInstaceValue1' },
      ];
      d.title = 'GeneratedFindingTitle [SAMPLE] "sample": true';
      d.service.action = { actionType: 'DNS_REQUEST', dnsRequestAction: { domain: 'sample.true.generatedfinding.example' } };
      d.service.additionalInfo = { domain: 'x"sample":true', threatListName: 'GeneratedFindingThreatListName' };
    });

    // Act
    const decision = decideOne(input);

    // Assess
    expect(decision.decision).toBe('acquire');
  });

  it('refuses a sample flag that is neither true nor false', () => {
    // Act
    const flag = invalidInputOf(() => decideOne(event((d) => (d.service.additionalInfo.sample = 'yes'))));
    const topLevel = invalidInputOf(() => decideOne({ ...fixture('finding-camel-bare.json'), sample: 1 }));
    const inValue = invalidInputOf(() => decideOne(event((d) => (d.service.additionalInfo.value = '{"sample":"maybe"}'))));

    // Assess
    expect(flag.field).toBe('detail.service.additionalInfo.sample');
    expect(topLevel.field).toBe('sample');
    expect(inValue.field).toBe('detail.service.additionalInfo.value');
  });

  it('ignores GuardDuty canary test findings', () => {
    // Act
    const reason = reasonOf(decideOne(event((d) => (d.type = 'Canary:EC2/Stateless.IntegTest'))));

    // Assess
    expect(reason).toMatch(/test finding/);
  });
});

describe('decide: archived findings', () => {
  it.each([true, 'true', 'True'])('ignores archived = %j', (archived) => {
    // Act
    const reason = reasonOf(decideOne(event((d) => (d.service.archived = archived))));

    // Assess
    expect(reason).toMatch(/^archived finding \(detail\.service\.archived is true\)/);
  });

  it('refuses an archived flag that is neither true nor false', () => {
    // Act
    const error = invalidInputOf(() => decideOne(event((d) => (d.service.archived = 'maybe'))));

    // Assess
    expect(error.field).toBe('detail.service.archived');
  });
});

describe('decide: what the finding is about', () => {
  it('acquires the instance named by an InstanceCredentialExfiltration finding', () => {
    // Act
    const decision = decideOne(fixture('credential-exfiltration-outside-aws.json'));

    // Assess
    expect(decision).toMatchObject({
      decision: 'acquire',
      target: { accountId: '111122223333', region: 'eu-central-2', instanceId: 'i-0dd44ee55ff667788' },
      finding: { type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS' },
    });
  });

  it.each([
    'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
    'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration',
  ])('acquires for the %s type too', (type) => {
    // Act
    const decision = decideOne(event((d) => (d.type = type), 'credential-exfiltration-outside-aws.json'));

    // Assess
    expect(decision.decision).toBe('acquire');
  });

  it('ignores a credential exfiltration finding that names no instance, saying what to do', () => {
    // Act
    const reason = reasonOf(
      decideOne(event((d) => delete d.resource.instanceDetails, 'credential-exfiltration-outside-aws.json')),
    );

    // Assess
    expect(reason).toMatch(/names no instance/);
    expect(reason).toMatch(/manually/);
  });

  it('refuses a credential exfiltration finding whose instance id is malformed', () => {
    // Act
    const error = invalidInputOf(() =>
      decideOne(
        event((d) => (d.resource.instanceDetails.instanceId = 'i-xyz'), 'credential-exfiltration-outside-aws.json'),
      ),
    );

    // Assess
    expect(error.field).toBe('detail.resource.instanceDetails.instanceId');
  });

  it('ignores other access key findings even when they carry instanceDetails', () => {
    // Act
    const reason = reasonOf(decideOne(fixture('accesskey-anomalous-with-instance-details.json')));

    // Assess
    expect(reason).toMatch(/^finding about an access key \(CredentialAccess:IAMUser\/AnomalousBehavior\)/);
  });

  it.each([
    ['S3Bucket', 'finding about an S3Bucket resource, not an EC2 instance'],
    ['Lambda', 'finding about a Lambda resource, not an EC2 instance'],
    ['RDSLimitlessDB', 'finding about an RDSLimitlessDB resource, not an EC2 instance'],
    ['instance', 'finding about an instance resource, not an EC2 instance'],
  ])('ignores a finding about resource type %s that carries instanceDetails', (resourceType, expected) => {
    // Act
    const reason = reasonOf(decideOne(event((d) => (d.resource.resourceType = resourceType))));

    // Assess
    expect(reason).toBe(expected);
  });

  it.each(['EKSCluster', 'ECSCluster', 'Container'])(
    'acquires the host named by a runtime finding about %s only when container hosts are acquired',
    (resourceType) => {
      // Prepare
      const input = () => event((d) => (d.resource.resourceType = resourceType));

      // Act
      const off = decideOne(input());
      const on = decideOne(input(), { acquireContainerHosts: true });

      // Assess
      expect(reasonOf(off)).toMatch(/names host instance i-0123456789abcdef0, but acquiring container hosts is not enabled/);
      expect(on).toMatchObject({ decision: 'acquire', target: HIGH_TARGET });
    },
  );

  it('acquires the node of the EKS runtime fixture (PascalCase) when enabled', () => {
    // Act
    const decision = decideOne(fixture('eks-runtime-host-pascal.json'), { acquireContainerHosts: true });

    // Assess
    expect(decision).toMatchObject({
      decision: 'acquire',
      target: { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0cc33dd44ee55ff66' },
    });
  });

  it('does not require a well-formed host id while container hosts are not acquired', () => {
    // Prepare
    const input = () =>
      event((d) => {
        d.resource.resourceType = 'Container';
        d.resource.instanceDetails.instanceId = 'GeneratedFindingInstanceId';
      });

    // Act
    const off = decideOne(input());
    const on = invalidInputOf(() => decideOne(input(), { acquireContainerHosts: true }));

    // Assess
    expect(reasonOf(off)).toMatch(/^runtime finding about a Container resource: it names host instance, but/);
    expect(on.field).toBe('detail.resource.instanceDetails.instanceId');
  });

  it('ignores a cluster finding that names no host, even with container hosts on', () => {
    // Act
    const decision = decideOne(
      event((d) => {
        d.resource.resourceType = 'EKSCluster';
        delete d.resource.instanceDetails;
      }),
      { acquireContainerHosts: true },
    );

    // Assess
    expect(reasonOf(decision)).toBe('finding about an EKSCluster resource names no host instance');
  });

  it('applies the severity minimum to container hosts and credential findings too', () => {
    // Act
    const host = decideOne(
      event((d) => {
        d.resource.resourceType = 'ECSCluster';
        d.severity = 5;
      }),
      { acquireContainerHosts: true },
    );
    const credentials = decideOne(event((d) => (d.severity = 5), 'credential-exfiltration-outside-aws.json'));

    // Assess
    expect(reasonOf(host)).toMatch(/below the minimum/);
    expect(reasonOf(credentials)).toMatch(/below the minimum/);
  });
});

describe('decide: workload accounts', () => {
  it('acquires in a workload account', () => {
    // Act
    const decision = decideOne(event(), { workloadAccounts: ['999999999999', '111122223333'] });

    // Assess
    expect(decision.decision).toBe('acquire');
  });

  it('ignores an account outside the list, even when the envelope account is in it', () => {
    // Prepare
    const input = event();

    // Act
    const decision = decideOne(input, { workloadAccounts: [input.account as string] });

    // Assess
    expect(reasonOf(decision)).toBe('account 111122223333 is not a workload account of this deployment');
  });

  it('ignores every account when the list is empty, any account when there is none', () => {
    // Act
    const none = decideOne(event(), { workloadAccounts: [] });
    const any = decideOne(event(), { workloadAccounts: undefined });

    // Assess
    expect(none.decision).toBe('ignore');
    expect(any.decision).toBe('acquire');
  });
});

describe('decide: manual requests', () => {
  it('acquires the requested instance as a severity-10 Manual finding', () => {
    // Act
    const decision = decideOne(fixture('manual-request.json'));

    // Assess
    expect(decision).toEqual({
      decision: 'acquire',
      target: { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0ee55ff6677889900' },
      finding: { id: expect.stringMatching(/^manual-[0-9a-f]{16}$/), type: 'Manual', severity: 10 },
    });
  });

  it('ignores a manual request for an account that is not a workload account', () => {
    // Act
    const decision = decideOne(fixture('manual-request.json'), { workloadAccounts: ['444455556666'] });

    // Assess
    expect(reasonOf(decision)).toMatch(/not a workload account/);
  });
});

describe('decide: identity checks (the decision does not trust its caller)', () => {
  /** A normalized item built by hand, bypassing the normalizer's own checks. */
  function handBuilt(change: (finding: Json) => void): GuardDutyItem {
    const finding = fixture('finding-camel-bare.json');
    change(finding);
    return { source: 'guardduty', origin: { shape: 'finding', path: '', casing: 'camel' }, finding } as GuardDutyItem;
  }

  it.each([
    ['id', 'a'.repeat(129), 'id: longer than 128 characters'],
    ['id', '../../etc/passwd', 'id: expected a finding id of letters, digits, "-" and "_"'],
    ['type', 'Backdoor:EC2/X\u0000', 'type: contains control or invisible formatting characters'],
    ['type', 'Backdoor:EC2/X\nINFO forged log line', 'type: contains control or invisible formatting characters'],
    ['type', `Backdoor:EC2/${'A'.repeat(300)}`, 'type: longer than 256 characters'],
    ['type', 'Backdoor EC2', 'type: expected a GuardDuty finding type such as Backdoor:EC2/C&CActivity.B (printable, no spaces)'],
    ['severity', '8', 'severity: expected a number between 0 and 10'],
    ['severity', Number.NaN, 'severity: expected a number between 0 and 10'],
    ['severity', Number.POSITIVE_INFINITY, 'severity: expected a number between 0 and 10'],
    ['accountId', '00000000000', 'accountId: expected a 12-digit AWS account id'],
    ['accountId', '1111222233334', 'accountId: expected a 12-digit AWS account id'],
    ['accountId', '1'.repeat(300), 'accountId: longer than 256 characters'],
    ['accountId', undefined, 'accountId: required'],
    ['region', 'US-EAST-1', 'region: expected an AWS region name such as us-east-1'],
    ['region', 'us-east-1\u202e', 'region: contains control or invisible formatting characters'],
  ])('refuses %s = %j', (key, value, message) => {
    // Prepare
    const item = handBuilt((f) => (f[key] = value));

    // Act
    const error = invalidInputOf(() => decide(item, DEFAULT_DECISION_CONFIG));

    // Assess
    expect(error.message).toBe(message);
  });

  it.each(['us-east-1', 'eu-central-2', 'us-gov-west-1', 'cn-northwest-1', 'us-iso-east-1', 'ap-southeast-7', 'eusc-de-east-1'])(
    'accepts the region %s',
    (region) => {
      // Act
      const decision = decide(handBuilt((f) => (f.region = region)), DEFAULT_DECISION_CONFIG);

      // Assess
      expect(decision).toMatchObject({ decision: 'acquire', target: { region } });
    },
  );

  it.each(['us-east-1a', 'useast1', 'us-east', '', ' us-east-1', '../us-east-1', 'us-east-1/..'])(
    'refuses the region %j',
    (region) => {
      // Act
      const error = invalidInputOf(() => decide(handBuilt((f) => (f.region = region)), DEFAULT_DECISION_CONFIG));

      // Assess
      expect(error.field).toBe('region');
    },
  );

  it('cleans a title rather than refusing the finding over it (titles quote attacker data)', () => {
    // Prepare
    const item = handBuilt((f) => (f.title = `Evil\u0000title\u202e with\nnewline ${'x'.repeat(400)}`));

    // Act
    const decision = decide(item, DEFAULT_DECISION_CONFIG);

    // Assess
    expect(decision.decision).toBe('acquire');
    const title = decision.finding.title ?? '';
    expect(title).toMatch(/^Evil title with newline x+…$/);
    expect(title.length).toBeLessThanOrEqual(256);
  });

  it('does not change the finding it decides on', () => {
    // Prepare
    const item = normalize(fixture('get-findings-pascal.json'))[1] as NormalizedFinding;
    const before = structuredClone(item);

    // Act
    decide(item, DEFAULT_DECISION_CONFIG);

    // Assess
    expect(item).toEqual(before);
  });
});

describe('severityBand', () => {
  it.each([
    [0, 'LOW'],
    [3.9, 'LOW'],
    [4, 'MEDIUM'],
    [6.9, 'MEDIUM'],
    [7, 'HIGH'],
    [8.9, 'HIGH'],
    [9, 'CRITICAL'],
    [10, 'CRITICAL'],
  ])('%s is %s', (severity, band) => {
    // Act
    const actual = severityBand(severity);

    // Assess
    expect(actual).toBe(band);
  });
});
