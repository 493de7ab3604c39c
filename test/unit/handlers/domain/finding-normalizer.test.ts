import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../../handlers/domain/errors';
import {
  camelCaseKey,
  fieldPath,
  type GuardDutyItem,
  MAX_DEPTH,
  MAX_FINDINGS,
  normalize,
} from '../../../../handlers/domain/finding-normalizer';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/findings/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** The InvalidInput a call throws (fails the test when it throws nothing or something else). */
function invalidInputOf(act: () => unknown): InvalidInput {
  try {
    act();
  } catch (err) {
    if (err instanceof InvalidInput) return err;
    throw err;
  }
  throw new Error('expected InvalidInput, nothing was thrown');
}

function onlyFinding(input: unknown): GuardDutyItem {
  const items = normalize(input);
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item?.source !== 'guardduty') throw new Error('expected a GuardDuty finding');
  return item;
}

describe('camelCaseKey', () => {
  it.each([
    ['InstanceId', 'instanceId'],
    ['Id', 'id'],
    ['ID', 'id'],
    ['Key', 'key'],
    ['Value', 'value'],
    ['IPV6Addresses', 'ipv6Addresses'],
    ['Ipv6Addresses', 'ipv6Addresses'],
    ['IpAddressV4', 'ipAddressV4'],
    ['S3BucketDetails', 's3BucketDetails'],
    ['EksClusterDetails', 'eksClusterDetails'],
    ['IAMInstanceProfile', 'iamInstanceProfile'],
    ['RDSLimitlessDB', 'rdsLimitlessDB'],
    ['EC2Instance', 'ec2Instance'],
    ['instanceId', 'instanceId'],
    ['detail-type', 'detail-type'],
    ['AWS::EC2::Instance', 'AWS::EC2::Instance'],
    ['', ''],
  ])('%s → %s', (key, expected) => {
    // Act
    const converted = camelCaseKey(key);

    // Assess
    expect(converted).toBe(expected);
  });
});

describe('normalize: accepted shapes', () => {
  it('takes the finding of an EventBridge event from detail, not the envelope', () => {
    // Prepare
    const event = fixture('eventbridge-instance-high.json');

    // Act
    const item = onlyFinding(event);

    // Assess
    expect(item.origin).toEqual({ shape: 'eventbridge', path: 'detail', casing: 'camel' });
    expect(item.finding.accountId).toBe('111122223333');
    expect(item.finding.region).toBe('eu-central-2');
    expect(event.account).toBe('444455556666');
    expect(item.finding.resource.instanceDetails?.instanceId).toBe('i-0123456789abcdef0');
  });

  it('accepts a bare camelCase finding as it is', () => {
    // Prepare
    const finding = fixture('finding-camel-bare.json');

    // Act
    const item = onlyFinding(finding);

    // Assess
    expect(item.origin).toEqual({ shape: 'finding', path: '', casing: 'camel' });
    expect(item.finding).toEqual(finding);
  });

  it('converts get-findings PascalCase output, every finding, keys recursively', () => {
    // Prepare
    const output = fixture('get-findings-pascal.json');

    // Act
    const items = normalize(output) as GuardDutyItem[];

    // Assess
    expect(items.map((i) => i.origin)).toEqual([
      { shape: 'get-findings', path: 'Findings[0]', casing: 'pascal' },
      { shape: 'get-findings', path: 'Findings[1]', casing: 'pascal' },
    ]);
    const second = items[1]?.finding;
    expect(second?.id).toBe('e5f60718293a4b5c6d7e8f90a1b2c3d4');
    expect(second?.severity).toBe(8);
    expect(second?.resource.resourceType).toBe('Instance');
    expect(second?.resource.instanceDetails?.instanceId).toBe('i-0bb22cc33dd44ee55');
    const details = second?.resource.instanceDetails as Record<string, unknown>;
    expect(details.tags).toEqual([{ key: 'Name', value: 'web-1' }]);
    expect(details.networkInterfaces).toEqual([expect.objectContaining({ ipv6Addresses: [], publicIp: '203.0.113.25' })]);
    expect(second?.service?.additionalInfo).toEqual({ value: expect.any(String), type: 'default' });
  });

  it('accepts get-findings output in camelCase (findings) and a plain array of findings', () => {
    // Prepare
    const finding = fixture('finding-camel-bare.json');

    // Act
    const wrapped = normalize({ findings: [finding] });
    const listed = normalize([finding, finding]);

    // Assess
    expect(wrapped.map((i) => i.origin.path)).toEqual(['findings[0]']);
    expect(listed.map((i) => i.origin)).toEqual([
      { shape: 'finding-list', path: '[0]', casing: 'camel' },
      { shape: 'finding-list', path: '[1]', casing: 'camel' },
    ]);
  });

  it('returns a manual request validated', () => {
    // Prepare
    const request = fixture('manual-request.json');

    // Act
    const items = normalize(request);

    // Assess
    expect(items).toEqual([{ source: 'manual', origin: { shape: 'manual', path: '', casing: 'camel' }, request }]);
  });

  it('keeps keys that are data, not field names, as they are', () => {
    // Prepare
    const pascal = {
      Id: 'abc123',
      Type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
      Severity: 8,
      AccountId: '111122223333',
      Region: 'us-east-1',
      Resource: { ResourceType: 'AccessKey' },
      Service: { Action: { AwsApiCallAction: { AffectedResources: { 'AWS::EC2::Instance': 'i-0123456789abcdef0' } } } },
    };

    // Act
    const item = onlyFinding(pascal);

    // Assess
    expect(item.finding.service).toEqual({
      action: { awsApiCallAction: { affectedResources: { 'AWS::EC2::Instance': 'i-0123456789abcdef0' } } },
    });
  });

  it('does not change its input', () => {
    // Prepare
    const output = fixture('get-findings-pascal.json');
    const before = structuredClone(output);

    // Act
    normalize(output);

    // Assess
    expect(output).toEqual(before);
  });

  it('keeps a __proto__ key as data, without touching any prototype', () => {
    // Prepare
    const input = JSON.parse(
      '{"id":"abc","type":"Backdoor:EC2/Spambot","severity":8,"accountId":"111122223333","region":"us-east-1",' +
        '"resource":{"resourceType":"Instance","instanceDetails":{"__proto__":{"polluted":true},"instanceId":"i-0123456789abcdef0"}}}',
    ) as unknown;

    // Act
    const item = onlyFinding(input);

    // Assess
    const details = item.finding.resource.instanceDetails as Record<string, unknown>;
    expect(Object.getPrototypeOf(details)).toBe(Object.prototype);
    expect(Object.hasOwn(details, '__proto__')).toBe(true);
    expect((details as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('tolerates keys differing only in case outside the fields it reads (workload labels)', () => {
    // Prepare
    const finding = fixture('finding-camel-bare.json');
    const resource = finding.resource as Record<string, unknown>;
    resource.kubernetesDetails = { labels: { App: 'a', app: 'b' } };

    // Act
    const item = onlyFinding(finding);

    // Assess
    expect(item.finding.resource.kubernetesDetails).toEqual({ labels: { app: 'a' } });
  });
});

describe('normalize: malformed input', () => {
  const event = () => fixture('eventbridge-instance-high.json');
  const detailOf = (e: Record<string, unknown>) => e.detail as Record<string, unknown>;

  it('names the field and the problem: detail.severity', () => {
    // Prepare
    const input = event();
    detailOf(input).severity = 'HIGH';

    // Act
    const error = invalidInputOf(() => normalize(input));

    // Assess
    expect(error.field).toBe('detail.severity');
    expect(error.message).toBe('detail.severity: expected a number between 0 and 10');
  });

  it('names fields of PascalCase input as they are written: Findings[1].AccountId', () => {
    // Prepare
    const input = fixture('get-findings-pascal.json');
    const second = (input.Findings as Record<string, unknown>[])[1] as Record<string, unknown>;
    second.AccountId = '00000000000';

    // Act
    const error = invalidInputOf(() => normalize(input));

    // Assess
    expect(error.field).toBe('Findings[1].AccountId');
  });

  it.each([
    ['null', null, 'input'],
    ['a string', 'i-0123456789abcdef0', 'input'],
    ['a number', 7, 'input'],
    ['an empty object', {}, 'input'],
    ['an empty array', [], 'input'],
    ['an unknown object', { hello: 'world' }, 'input'],
    ['an SNS envelope', { Records: [{ Sns: { Message: '{}' } }] }, 'input'],
  ])('refuses %s', (_, input, field) => {
    // Act
    const error = invalidInputOf(() => normalize(input));

    // Assess
    expect(error.field).toBe(field);
  });

  it.each([
    ['another source', { source: 'aws.securityhub' }, 'source'],
    ['another detail-type', { 'detail-type': 'GuardDuty Malware Protection Object Scan Result' }, 'detail-type'],
    ['a detail that is a string', { detail: '{"id":"x"}' }, 'detail'],
    ['no detail', { detail: undefined }, 'detail'],
  ])('refuses an EventBridge event with %s', (_, change, field) => {
    // Prepare
    const input = { ...event(), ...change };

    // Act
    const error = invalidInputOf(() => normalize(JSON.parse(JSON.stringify(input))));

    // Assess
    expect(error.field).toBe(field);
  });

  it.each([
    ['id', 42, 'detail.id'],
    ['type', undefined, 'detail.type'],
    ['severity', 11, 'detail.severity'],
    ['severity', -0.1, 'detail.severity'],
    ['accountId', 111122223333, 'detail.accountId'],
    ['region', 'us-east-1a', 'detail.region'],
    ['resource', undefined, 'detail.resource'],
    ['resource', 'Instance', 'detail.resource'],
    ['service', 'guardduty', 'detail.service'],
  ])('refuses detail.%s = %j', (key, value, field) => {
    // Prepare
    const input = event();
    detailOf(input)[key] = value;

    // Act
    const error = invalidInputOf(() => normalize(JSON.parse(JSON.stringify(input))));

    // Assess
    expect(error.field).toBe(field);
  });

  it('refuses an instance id that is not a string, and instanceDetails that is not an object', () => {
    // Prepare
    const numeric = event();
    const resource = detailOf(numeric).resource as Record<string, Record<string, unknown>>;
    (resource.instanceDetails as Record<string, unknown>).instanceId = 1234;
    const flat = event();
    (detailOf(flat).resource as Record<string, unknown>).instanceDetails = 'i-0123456789abcdef0';

    // Act
    const numericError = invalidInputOf(() => normalize(numeric));
    const flatError = invalidInputOf(() => normalize(flat));

    // Assess
    expect(numericError.field).toBe('detail.resource.instanceDetails.instanceId');
    expect(flatError.field).toBe('detail.resource.instanceDetails');
  });

  it('refuses a field given twice with different case among the fields it reads', () => {
    // Prepare
    const finding = { ...fixture('finding-camel-bare.json'), Severity: 2 };

    // Act
    const error = invalidInputOf(() => normalize(finding));

    // Assess
    expect(error.field).toBe('Severity');
    expect(error.message).toContain('given twice');
  });

  it('refuses get-findings output that is empty, not a list, duplicated or too long', () => {
    // Prepare
    const finding = fixture('finding-camel-bare.json');
    const tooMany = { Findings: Array.from({ length: MAX_FINDINGS + 1 }, () => finding) };

    // Act
    const errors = [
      invalidInputOf(() => normalize({ Findings: [] })),
      invalidInputOf(() => normalize({ Findings: {} })),
      invalidInputOf(() => normalize({ Findings: [finding], findings: [finding] })),
      invalidInputOf(() => normalize(tooMany)),
      invalidInputOf(() => normalize({ Findings: [finding, 'oops'] })),
    ];

    // Assess
    expect(errors.map((e) => e.field)).toEqual(['Findings', 'Findings', 'Findings', 'Findings', 'Findings[1]']);
  });

  it('refuses input nested deeper than it can safely walk', () => {
    // Prepare
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { x: deep };
    const finding = { ...fixture('finding-camel-bare.json'), extra: deep };

    // Act
    const error = invalidInputOf(() => normalize(finding));

    // Assess
    expect(error.field.startsWith('extra.x.x')).toBe(true);
    expect(error.message).toContain('nested deeper');
  });

  it('quotes a key with unusual characters in the path so the message stays on one line', () => {
    // Prepare
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { 'bad\nkey': deep };
    const finding = { ...fixture('finding-camel-bare.json'), extra: deep };

    // Act
    const error = invalidInputOf(() => normalize(finding));

    // Assess
    expect(error.message).not.toMatch(/[\n\r]/);
    expect(error.field).toContain('["bad?nkey"]'.replace('?', '\\'));
  });
});

describe('fieldPath', () => {
  it('writes a camelCase path in the casing and place of the input', () => {
    // Act
    const paths = [
      fieldPath({ shape: 'eventbridge', path: 'detail', casing: 'camel' }, 'resource.instanceDetails.instanceId'),
      fieldPath({ shape: 'get-findings', path: 'Findings[3]', casing: 'pascal' }, 'service.additionalInfo.value'),
      fieldPath({ shape: 'finding', path: '', casing: 'camel' }, 'severity'),
    ];

    // Assess
    expect(paths).toEqual([
      'detail.resource.instanceDetails.instanceId',
      'Findings[3].Service.AdditionalInfo.Value',
      'severity',
    ]);
  });
});
