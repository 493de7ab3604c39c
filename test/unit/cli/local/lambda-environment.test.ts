import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  functionEnvironment,
  missingOutputs,
  processEnvironment,
  referencesFromOutputs,
  UnresolvedEnvironment,
} from '../../../../cli/local/lambda-environment';

/**
 * The resolution of a synthesized function's environment against a deployment's outputs (cli/local/lambda-environment.ts),
 * on small templates shaped as CDK writes them.
 */
const template: CfnTemplate = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table' },
    Key: { Type: 'AWS::KMS::Key' },
    SubnetA: { Type: 'AWS::EC2::Subnet' },
    SubnetB: { Type: 'AWS::EC2::Subnet' },
    Orphan: { Type: 'AWS::SQS::Queue' },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            CASE_TABLE_NAME: { Ref: 'Table' },
            EVIDENCE_KEY_ARN: { 'Fn::GetAtt': ['Key', 'Arn'] },
            SUBNETS: { 'Fn::Join': [',', [{ Ref: 'SubnetA' }, { Ref: 'SubnetB' }]] },
            WORKLOAD_ACCOUNTS: { Ref: 'AWS::AccountId' },
            ARN_IN_PARTITION: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }]] },
            MIN_SEVERITY: '7',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      },
    },
    Queue: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { QUEUE: { Ref: 'Orphan' } } } } },
    Other: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { MIN_SEVERITY: '8' } } } },
  },
  Outputs: {
    CaseTableName: { Value: { Ref: 'Table' } },
    EvidenceKeyArn: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] } },
    SubnetIds: { Value: { 'Fn::Join': [',', [{ Ref: 'SubnetA' }, { Ref: 'SubnetB' }]] } },
  },
};
const outputs = { CaseTableName: 'forensics-cases', EvidenceKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k', SubnetIds: 'subnet-a,subnet-b' };
const pseudo = { accountId: '123456789012', region: 'us-east-1' };

describe('functionEnvironment', () => {
  it('resolves references through the outputs, joins, pseudo parameters; literals as they are', () => {
    // Prepare / Act
    const env = functionEnvironment(template, 'Fn', outputs, pseudo);
    // Assess
    expect(env).toEqual({
      CASE_TABLE_NAME: 'forensics-cases',
      EVIDENCE_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/k',
      SUBNETS: 'subnet-a,subnet-b',
      WORKLOAD_ACCOUNTS: '123456789012',
      ARN_IN_PARTITION: 'arn:aws:x:us-east-1',
      MIN_SEVERITY: '7',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('a joined output gives each reference its part', () => {
    const refs = referencesFromOutputs(template, outputs);
    expect(refs.get('Ref:SubnetA')).toBe('subnet-a');
    expect(refs.get('Ref:SubnetB')).toBe('subnet-b');
  });

  it('a reference no output names is an error naming the function and the variable', () => {
    expect(() => functionEnvironment(template, 'Queue', outputs, pseudo)).toThrow(UnresolvedEnvironment);
    expect(() => functionEnvironment(template, 'Queue', outputs, pseudo)).toThrow(/^Queue QUEUE: .*no stack output/);
  });

  it('an output the deployment lacks leaves its references unresolved, and is reported missing', () => {
    const partial = { CaseTableName: 'forensics-cases' };
    expect(missingOutputs(template, partial)).toEqual(['EvidenceKeyArn', 'SubnetIds']);
    expect(() => functionEnvironment(template, 'Fn', partial, pseudo)).toThrow(/^Fn EVIDENCE_KEY_ARN: /);
  });

  it('refuses what is not a function of the template', () => {
    expect(() => functionEnvironment(template, 'Table', outputs, pseudo)).toThrow(/not a Lambda function/);
  });
});

describe('processEnvironment', () => {
  it('merges the functions\' variables, without the runtime\'s own', () => {
    const merged = processEnvironment([
      { logicalId: 'A', variables: { X: '1', NODE_OPTIONS: '--enable-source-maps' } },
      { logicalId: 'B', variables: { X: '1', ONLY_B: 'b' } },
    ]);
    expect(merged).toEqual({ X: '1', ONLY_B: 'b' });
  });

  it('a variable two functions set differently is an error naming both', () => {
    expect(() =>
      processEnvironment([
        { logicalId: 'A', variables: { MIN_SEVERITY: '7' } },
        { logicalId: 'B', variables: { MIN_SEVERITY: '8' } },
      ]),
    ).toThrow(/^MIN_SEVERITY: A has "7", B has "8"/);
  });
});
