import { describe, expect, it } from 'vitest';
import { combineAccess } from '../../../../handlers/domain/resource-access';
import { evaluateResourcePolicy, instanceRolePrincipal } from '../../../../handlers/domain/resource-policy';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app/web-role`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/web-role/i-0abc`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db-AbCdEf`;
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const WHO = instanceRolePrincipal(ROLE, 'i-0abc')!;

const policy = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** The key policy KMS applies when a key is created by the API without one ("Enable IAM User Permissions"). */
const DEFAULT_KEY_POLICY = policy({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' });

describe('instanceRolePrincipal', () => {
  it('names the EC2 session after the instance, without the role path', () => {
    expect(WHO).toEqual({ roleArn: ROLE, sessionArn: SESSION, accountId: ACCOUNT, partition: 'aws' });
    expect(instanceRolePrincipal('arn:aws:iam::111122223333:user/bob', 'i-0abc')).toBeUndefined();
  });
});

describe('evaluateResourcePolicy', () => {
  it.each([
    ['the role ARN', { AWS: ROLE }],
    ['the session ARN in a list', { AWS: ['arn:aws:iam::999999999999:root', SESSION] }],
    ['everyone ("*")', '*'],
    ['everyone ({"AWS": "*"})', { AWS: '*' }],
  ])('an Allow naming %s allows, unconditionally', (_label, Principal) => {
    // Act
    const v = evaluateResourcePolicy(policy({ Effect: 'Allow', Principal, Action: 'secretsmanager:GetSecretValue', Resource: '*' }), WHO, 'secretsmanager:GetSecretValue', SECRET);
    // Assess
    expect(v).toEqual({ decision: 'allow', allow: 'unconditional', delegatesToIam: 'none', conditionalDenies: [] });
  });

  it.each([ROOT, ACCOUNT])('an Allow to the account (%s) only delegates to IAM', (principal) => {
    // Act
    const v = evaluateResourcePolicy(policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'kms:*', Resource: '*' }), WHO, 'kms:Decrypt', KEY);
    // Assess
    expect(v).toMatchObject({ decision: 'not-mentioned', allow: 'none', delegatesToIam: 'unconditional' });
  });

  it('an unconditional Deny wins over an Allow; service and other principals never match', () => {
    // Prepare
    const doc = policy(
      { Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'secretsmanager:*', Resource: '*' },
      { Effect: 'Deny', Principal: { AWS: ROOT }, Action: 'secretsmanager:Get*', Resource: '*' },
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: '*', Resource: '*' },
    );
    // Act / Assess
    expect(evaluateResourcePolicy(doc, WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('explicit-deny');
    expect(evaluateResourcePolicy(doc, WHO, 'secretsmanager:DescribeSecret', SECRET).decision).toBe('allow');
    expect(evaluateResourcePolicy(policy({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: '*', Resource: '*' }), WHO, 'kms:Decrypt', KEY).decision).toBe('not-mentioned');
  });

  it('matches actions case-insensitively with wildcards, NotAction, Resource and NotResource', () => {
    // Prepare
    const allow = (extra: Record<string, unknown>) => policy({ Effect: 'Allow', Principal: '*', ...extra });
    // Act / Assess
    expect(evaluateResourcePolicy(allow({ Action: 'SecretsManager:get?ecret*', Resource: '*' }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('allow');
    expect(evaluateResourcePolicy(allow({ NotAction: 'secretsmanager:GetSecretValue', Resource: '*' }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('not-mentioned');
    expect(evaluateResourcePolicy(allow({ NotAction: 'secretsmanager:Delete*', Resource: '*' }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('allow');
    expect(evaluateResourcePolicy(allow({ Action: '*', Resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:other-*` }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('not-mentioned');
    expect(evaluateResourcePolicy(allow({ Action: '*', NotResource: SECRET }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('not-mentioned');
    expect(evaluateResourcePolicy(allow({ Action: '*', NotResource: 'arn:aws:s3:::*' }), WHO, 'secretsmanager:GetSecretValue', SECRET).decision).toBe('allow');
  });

  it('a bucket: an Allow on part of it counts, a Deny must cover every object', () => {
    // Prepare
    const objects = 'arn:aws:s3:::app-data/*';
    const part = 'arn:aws:s3:::app-data/reports/*';
    // Act / Assess
    expect(evaluateResourcePolicy(policy({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 's3:GetObject', Resource: part }), WHO, 's3:GetObject', objects).decision).toBe('allow');
    expect(evaluateResourcePolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: part }), WHO, 's3:GetObject', objects).decision).toBe('not-mentioned');
    expect(evaluateResourcePolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::app-data', objects] }), WHO, 's3:GetObject', objects).decision).toBe('explicit-deny');
    expect(evaluateResourcePolicy(policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::app-data-backup/*' }), WHO, 's3:GetObject', objects).decision).toBe('not-mentioned');
  });

  it('conditions: an Allow with one is conditional; a Deny with one is not applied, and named', () => {
    // Prepare
    const doc = policy(
      { Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } },
      { Sid: 'DenyOutsideVpce', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*', Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } },
      { Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    );
    // Act
    const v = evaluateResourcePolicy(doc, WHO, 'secretsmanager:GetSecretValue', SECRET);
    // Assess
    expect(v).toEqual({ decision: 'allow', allow: 'conditional', delegatesToIam: 'none', conditionalDenies: ['DenyOutsideVpce', 'statement 3'] });
  });

  it('NotPrincipal: a Deny to everyone but the role exempts the role; to everyone but another role applies', () => {
    // Prepare
    const deny = (who: string) => policy({ Effect: 'Deny', NotPrincipal: { AWS: [who] }, Action: '*', Resource: '*' });
    // Act / Assess
    expect(evaluateResourcePolicy(deny(ROLE), WHO, 'kms:Decrypt', KEY).decision).toBe('not-mentioned');
    expect(evaluateResourcePolicy(deny(`arn:aws:iam::${ACCOUNT}:role/admin`), WHO, 'kms:Decrypt', KEY).decision).toBe('explicit-deny');
  });

  it('reads a single statement object, and throws on text that is not JSON', () => {
    expect(evaluateResourcePolicy({ Statement: { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' } }, WHO, 'kms:Decrypt', KEY).decision).toBe('allow');
    expect(() => evaluateResourcePolicy('{not json', WHO, 'kms:Decrypt', KEY)).toThrow();
  });
});

describe('combineAccess', () => {
  const secret = (identity: string[], document: string | null, denied: string[] = []) =>
    combineAccess({
      kind: 'secret',
      resourceArn: SECRET,
      actions: ['secretsmanager:GetSecretValue'],
      identity: { allowed: identity, explicitlyDenied: denied },
      policy: document === null ? { status: 'none' } : { status: 'read', document },
      principal: WHO,
    });
  const key = (identity: string[], document: string, status: 'read' | 'unread' = 'read') =>
    combineAccess({
      kind: 'kms-key',
      resourceArn: KEY,
      actions: ['kms:Decrypt'],
      identity: { allowed: identity, explicitlyDenied: [] },
      policy: status === 'read' ? { status, document } : { status, reason: 'AccessDeniedException' },
      principal: WHO,
    });
  const GET = 'secretsmanager:GetSecretValue';

  it('secret, same account: identity OR resource policy allows, unless an explicit deny', () => {
    const allowRole = policy({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: GET, Resource: '*' });
    const denyAll = policy({ Effect: 'Deny', Principal: '*', Action: GET, Resource: '*' });
    expect(secret([GET], null)).toMatchObject({ readable: true, basis: 'identity-policy', possibly: false, notes: [] });
    expect(secret([], allowRole)).toMatchObject({ readable: true, basis: 'resource-policy', allowedActions: [GET] });
    expect(secret([GET], allowRole)).toMatchObject({ readable: true, basis: 'both' });
    expect(secret([GET], denyAll)).toMatchObject({ readable: false, allowedActions: [] });
    // An explicit deny in the identity policies (the simulation's explicitDeny) beats the resource policy's allow.
    expect(secret([], allowRole, [GET])).toMatchObject({ readable: false });
    expect(secret([], null)).toMatchObject({ readable: false });
  });

  it('secret: a conditional Allow is possibly readable; a conditional Deny keeps the item, both recorded', () => {
    // Act
    const possibly = secret([], policy({ Effect: 'Allow', Principal: '*', Action: GET, Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }));
    const kept = secret([GET], policy({ Sid: 'OnlyFromVpce', Effect: 'Deny', Principal: '*', Action: GET, Resource: '*', Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } }));
    // Assess
    expect(possibly).toMatchObject({ readable: true, basis: 'resource-policy', possibly: true, notes: [expect.stringContaining('possibly readable')] });
    expect(kept).toMatchObject({ readable: true, basis: 'identity-policy', possibly: false, notes: [expect.stringContaining('"OnlyFromVpce" has a Condition')] });
  });

  it('KMS: the identity policy alone is not enough; the key policy must name the role or enable IAM policies', () => {
    // Prepare: a key policy for administrators only (no root delegation, not the role).
    const adminsOnly = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }, Action: 'kms:*', Resource: '*' });
    const usersStatement = policy({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*' });
    // Act / Assess
    expect(key(['kms:Decrypt'], adminsOnly)).toMatchObject({ readable: false, notes: [expect.stringContaining('neither names the role nor enables IAM policies')] });
    expect(key(['kms:Decrypt'], DEFAULT_KEY_POLICY)).toMatchObject({ readable: true, basis: 'identity-policy' });
    expect(key([], DEFAULT_KEY_POLICY)).toMatchObject({ readable: false });
    expect(key([], usersStatement)).toMatchObject({ readable: true, basis: 'resource-policy' });
    expect(key(['kms:Decrypt'], policy(JSON.parse(DEFAULT_KEY_POLICY).Statement[0], JSON.parse(usersStatement).Statement[0]))).toMatchObject({ readable: true, basis: 'both' });
  });

  it('a policy not read keeps the identity answer and says so; an unparseable one too', () => {
    expect(key(['kms:Decrypt'], '', 'unread')).toMatchObject({ readable: true, basis: 'identity-policy', notes: [expect.stringContaining('not read (AccessDeniedException)')] });
    expect(secret([GET], '{oops')).toMatchObject({ readable: true, basis: 'identity-policy', notes: [expect.stringContaining('not valid JSON')] });
  });
});
