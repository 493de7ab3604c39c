import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../../handlers/domain/errors';
import {
  canonicalJson,
  manualFindingSummary,
  MAX_REASON_LENGTH,
  MAX_REQUESTED_BY_LENGTH,
  mergeOptions,
  parseManualRequest,
} from '../../../../handlers/domain/manual-request';
import type { CaseOptions } from '../../../../handlers/domain/types';

const valid = () => ({
  instanceId: 'i-0ee55ff6677889900',
  accountId: '111122223333',
  region: 'eu-west-1',
  reason: 'EDR alert 4711: reverse shell from the payments API host',
  requestedBy: 'alice@example.com',
});

const DEFAULTS: CaseOptions = { workstation: false, revoke: 'instance' };

function invalidInputOf(act: () => unknown): InvalidInput {
  try {
    act();
  } catch (err) {
    if (err instanceof InvalidInput) return err;
    throw err;
  }
  throw new Error('expected InvalidInput, nothing was thrown');
}

describe('parseManualRequest: accepted', () => {
  it('accepts a request without options, and one with every option', () => {
    // Prepare
    const withOptions = { ...valid(), options: { workstation: true, revoke: 'role' } };

    // Act
    const bare = parseManualRequest(valid());
    const full = parseManualRequest(withOptions);

    // Assess
    expect(bare).toEqual(valid());
    expect(full).toEqual(withOptions);
  });

  it.each([
    'alice',
    'alice@example.com',
    'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice',
    'arn:aws:iam::111122223333:user/ops/bob',
    'svc_ir+oncall=1,team.a',
  ])('accepts requestedBy %s', (requestedBy) => {
    // Act
    const parsed = parseManualRequest({ ...valid(), requestedBy });

    // Assess
    expect(parsed.requestedBy).toBe(requestedBy);
  });

  it('accepts a reason of exactly the maximum length, with any printable Unicode', () => {
    // Prepare
    const reason = `Verdacht auf Kompromittierung — ${'é'.repeat(MAX_REASON_LENGTH - 32)}`;

    // Act
    const parsed = parseManualRequest({ ...valid(), reason });

    // Assess
    expect(parsed.reason).toHaveLength(MAX_REASON_LENGTH);
  });
});

describe('parseManualRequest: refused, naming the field', () => {
  it.each(['instanceId', 'accountId', 'region', 'reason', 'requestedBy'])('%s missing → "%s: required"', (field) => {
    // Prepare
    const request: Record<string, unknown> = valid();
    delete request[field];

    // Act
    const error = invalidInputOf(() => parseManualRequest(request));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toBe(`${field}: required`);
  });

  it.each([
    ['instanceId', 'i-xyz', 'instanceId: expected an EC2 instance id (i- followed by 8 or 17 lowercase hex digits)'],
    ['instanceId', 'i-0123456789abcdef0 ', 'instanceId: expected an EC2 instance id (i- followed by 8 or 17 lowercase hex digits)'],
    ['instanceId', `i-${'0'.repeat(300)}`, 'instanceId: longer than 256 characters'],
    ['instanceId', 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0', 'instanceId: expected an EC2 instance id (i- followed by 8 or 17 lowercase hex digits)'],
    ['instanceId', 12345, 'instanceId: expected a string'],
    ['accountId', '11112222333', 'accountId: expected a 12-digit AWS account id'],
    ['accountId', 111122223333, 'accountId: expected a string'],
    ['region', 'Europe', 'region: expected an AWS region name such as us-east-1'],
    ['region', `us-${'a'.repeat(40)}-1`, 'region: expected an AWS region name such as us-east-1'],
    ['reason', '', 'reason: must not be empty'],
    ['reason', ' \u3000 ', 'reason: must not be empty'],
    ['reason', 'x'.repeat(MAX_REASON_LENGTH + 1), `reason: longer than ${MAX_REASON_LENGTH} characters`],
    ['reason', 'compromised\u0000', 'reason: contains control or invisible formatting characters'],
    ['reason', 'ok\nERROR forged log line', 'reason: contains control or invisible formatting characters'],
    ['reason', 'tab\tseparated', 'reason: contains control or invisible formatting characters'],
    ['reason', 'bell\u0007', 'reason: contains control or invisible formatting characters'],
    ['reason', 'escape \u001b[31mred', 'reason: contains control or invisible formatting characters'],
    ['reason', 'delete\u007f', 'reason: contains control or invisible formatting characters'],
    ['reason', 'bidi \u202etxt.exe', 'reason: contains control or invisible formatting characters'],
    ['reason', 'zero\u200bwidth', 'reason: contains control or invisible formatting characters'],
    ['requestedBy', 'alice; rm -rf /', expect.stringMatching(/^requestedBy: expected a user name/)],
    ['requestedBy', 'Alice Smith', expect.stringMatching(/^requestedBy: expected a user name/)],
    ['requestedBy', '<script>alert(1)</script>', expect.stringMatching(/^requestedBy: expected a user name/)],
    ['requestedBy', '"quoted"', expect.stringMatching(/^requestedBy: expected a user name/)],
    ['requestedBy', 'a'.repeat(MAX_REQUESTED_BY_LENGTH + 1), `requestedBy: longer than ${MAX_REQUESTED_BY_LENGTH} characters`],
    ['requestedBy', 'alice\r\n', 'requestedBy: contains control or invisible formatting characters'],
  ])('%s = %j', (field, value, message) => {
    // Prepare
    const request = { ...valid(), [field]: value };

    // Act
    const error = invalidInputOf(() => parseManualRequest(request));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toEqual(message);
  });

  it.each([
    [{ workstation: 'yes' }, 'options.workstation', 'options.workstation: expected a boolean'],
    [{ revoke: 'everything' }, 'options.revoke', 'options.revoke: expected one of "instance", "role", "none"'],
    [{ workstation: true, shell: '/bin/sh' }, 'options.shell', expect.stringMatching(/^options\.shell: unknown option/)],
    ['workstation', 'options', 'options: expected an object'],
    [null, 'options', 'options: expected an object'],
  ])('options %j', (options, field, message) => {
    // Act
    const error = invalidInputOf(() => parseManualRequest({ ...valid(), options }));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toEqual(message);
  });

  it('refuses an unknown key instead of dropping it', () => {
    // Act
    const typo = invalidInputOf(() => parseManualRequest({ ...valid(), option: { workstation: true } }));
    const proto = invalidInputOf(() => parseManualRequest(JSON.parse(`{"__proto__":{"admin":true},${JSON.stringify(valid()).slice(1)}`)));

    // Assess
    expect(typo.field).toBe('option');
    expect(typo.message).toMatch(/^option: unknown field/);
    expect(proto.field).toBe('__proto__');
  });

  it.each([null, 'i-0123456789abcdef0', [valid()]])('refuses %j as a request', (input) => {
    // Act
    const error = invalidInputOf(() => parseManualRequest(input));

    // Assess
    expect(error.field).toBe('input');
  });

  it('prefixes fields with where the request sits in the input', () => {
    // Act
    const error = invalidInputOf(() => parseManualRequest({ ...valid(), region: 'x' }, 'request'));

    // Assess
    expect(error.field).toBe('request.region');
  });
});

describe('manual finding and acquisition request', () => {
  it('derives the finding id from the request, whatever the key order', () => {
    // Prepare
    const request = parseManualRequest({ ...valid(), options: { revoke: 'none', workstation: false } });
    const reordered = parseManualRequest(
      JSON.parse('{"options":{"workstation":false,"revoke":"none"},"requestedBy":"alice@example.com","reason":"EDR alert 4711: reverse shell from the payments API host","region":"eu-west-1","accountId":"111122223333","instanceId":"i-0ee55ff6677889900"}'),
    );

    // Act
    const first = manualFindingSummary(request);
    const second = manualFindingSummary(reordered);
    const other = manualFindingSummary({ ...request, reason: 'another reason' });

    // Assess
    expect(first).toEqual({ id: expect.stringMatching(/^manual-[0-9a-f]{16}$/), type: 'Manual', severity: 10 });
    expect(second).toEqual(first);
    expect(other.id).not.toBe(first.id);
  });

  it('merges options field by field', () => {
    // Act
    const merged = [
      mergeOptions(DEFAULTS, undefined),
      mergeOptions(DEFAULTS, {}),
      mergeOptions(DEFAULTS, { revoke: 'none' }),
      mergeOptions({ workstation: true, revoke: 'role' }, { workstation: false }),
    ];

    // Assess
    expect(merged).toEqual([
      DEFAULTS,
      DEFAULTS,
      { workstation: false, revoke: 'none' },
      { workstation: false, revoke: 'role' },
    ]);
  });

  it('writes canonical JSON with sorted keys at every level', () => {
    // Act
    const text = canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 'x' }, u: undefined });

    // Assess
    expect(text).toBe('{"a":{"c":"x","d":[2,{"e":0,"f":1}]},"b":1}');
  });
});
