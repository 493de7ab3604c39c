import { describe, expect, it } from 'vitest';
import { conditionHolds, evaluate, type Statement } from '../support/policy-evaluator';

/**
 * The evaluator behind test/infra/policy-evaluation.test.ts, checked against the documented rules it implements
 * (IAM User Guide: condition operators, multivalued context keys, policy evaluation logic), so that a test that
 * passes there passes for AWS's reasons.
 */
describe('condition semantics', () => {
  it('a missing key: positive operators false, negated operators true, IfExists true', () => {
    expect(conditionHolds('StringEquals', { k: 'a' }, {})).toBe(false);
    expect(conditionHolds('StringNotEquals', { k: 'a' }, {})).toBe(true);
    expect(conditionHolds('StringEqualsIfExists', { k: 'a' }, {})).toBe(true);
    expect(conditionHolds('Null', { k: 'true' }, {})).toBe(true);
    expect(conditionHolds('Null', { k: 'false' }, { k: 'x' })).toBe(true);
  });

  it('set operators: ForAllValues holds for no values at all (the Null pitfall), ForAnyValue does not', () => {
    expect(conditionHolds('ForAllValues:StringLike', { 'aws:TagKeys': ['p:*'] }, {})).toBe(true);
    expect(conditionHolds('ForAllValues:StringLike', { 'aws:TagKeys': ['p:*'] }, { 'aws:TagKeys': [] })).toBe(true);
    expect(conditionHolds('ForAnyValue:StringEquals', { 'aws:TagKeys': ['p:a'] }, {})).toBe(false);
    expect(conditionHolds('ForAllValues:StringLike', { 'aws:TagKeys': ['p:*'] }, { 'aws:TagKeys': ['p:a', 'q'] })).toBe(false);
    expect(conditionHolds('ForAnyValue:StringEqualsIgnoreCase', { 'aws:TagKeys': ['p:a'] }, { 'aws:TagKeys': ['x', 'P:A'] })).toBe(true);
    expect(conditionHolds('ForAllValues:StringNotEqualsIgnoreCase', { 'aws:TagKeys': ['p:a', 'p:b'] }, { 'aws:TagKeys': ['p:c', 'P:B'] })).toBe(false);
  });

  it('values are ORed, keys ANDed; context keys match case-insensitively; unsupported operators throw', () => {
    expect(conditionHolds('StringEquals', { k: ['a', 'b'], j: 'c' }, { K: 'b', j: 'c' })).toBe(true);
    expect(conditionHolds('StringEquals', { k: ['a', 'b'], j: 'c' }, { k: 'b', j: 'd' })).toBe(false);
    expect(() => conditionHolds('DateGreaterThan', { k: '2020' }, { k: '2021' })).toThrow('not supported');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
    expect(() => conditionHolds('StringEquals', { k: '${aws:username}' }, { k: 'x' })).toThrow('policy variables');
  });
});

describe('evaluation', () => {
  const allow = (action: string, resource = '*'): Statement => ({ Effect: 'Allow', Action: action, Resource: resource });
  const principal = { arn: 'arn:aws:iam::111111111111:role/r', account: '111111111111' };

  it('an explicit deny anywhere wins over any allow', () => {
    const deny: Statement = { Sid: 'D', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' };
    expect(
      evaluate({ identity: [allow('s3:*')], resource: [deny], resourceAccount: '111111111111' }, { principal, action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }),
    ).toEqual({ decision: 'ExplicitDeny', by: ['D'] });
  });

  it('same account: the identity policy suffices; across accounts the resource policy must name the principal or its account', () => {
    const request = { principal, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' };
    expect(evaluate({ identity: [allow('s3:GetObject')], resource: [], resourceAccount: '111111111111' }, request).decision).toBe('Allow');
    expect(evaluate({ identity: [allow('s3:GetObject')], resource: [], resourceAccount: '222222222222' }, request).decision).toBe('ImplicitDeny');
    const trustAccount: Statement = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 's3:GetObject', Resource: '*' };
    expect(evaluate({ identity: [allow('s3:GetObject')], resource: [trustAccount], resourceAccount: '222222222222' }, request).decision).toBe('Allow');
    expect(evaluate({ identity: [], resource: [trustAccount], resourceAccount: '222222222222' }, request).decision).toBe('ImplicitDeny');
  });

  it('KMS: the key policy is always required; its account-root statement delegates to IAM policies', () => {
    const root: Statement = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' };
    const request = { principal, action: 'kms:Decrypt', resource: 'arn:aws:kms:eu-west-1:111111111111:key/k' };
    expect(evaluate({ identity: [allow('kms:Decrypt')], resource: [root], resourceAccount: '111111111111', keyPolicy: true }, request).decision).toBe('Allow');
    expect(evaluate({ identity: [], resource: [root], resourceAccount: '111111111111', keyPolicy: true }, request).decision).toBe('ImplicitDeny');
    expect(evaluate({ identity: [allow('kms:Decrypt')], resource: [], resourceAccount: '111111111111', keyPolicy: true }, request).decision).toBe('ImplicitDeny');
  });

  it('NotAction / NotResource, and action names case-insensitively', () => {
    const st: Statement = { Effect: 'Allow', NotAction: 'iam:*', NotResource: 'arn:aws:s3:::secret/*' };
    const can = (action: string, resource: string) =>
      evaluate({ identity: [st], resourceAccount: '111111111111' }, { principal, action, resource }).decision;
    expect(can('S3:GETOBJECT', 'arn:aws:s3:::b/k')).toBe('Allow');
    expect(can('iam:PassRole', 'arn:aws:s3:::b/k')).toBe('ImplicitDeny');
    expect(can('s3:GetObject', 'arn:aws:s3:::secret/k')).toBe('ImplicitDeny');
  });
});
