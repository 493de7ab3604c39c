import { describe, expect, it } from 'vitest';
import { localPhysical, resolveDeep } from '../../../../cli/local/local-controls';
import type { CfnTemplate } from '../../../../cli/local/lambda-environment';

/**
 * The local deployment's controls are read from the synthesized template (cli/local/local-controls.ts): a reference
 * an output names resolves to the deployment's value; a function, role, queue or log group no output names gets the
 * emulator's name; anything else cannot be resolved, and the whole value is then undefined (never half-resolved).
 */
const template: CfnTemplate = {
  Resources: {
    Machine: { Type: 'AWS::StepFunctions::StateMachine' },
    Topic: { Type: 'AWS::SNS::Topic' },
    Redrive: { Type: 'AWS::Lambda::Function' },
    Dlq: { Type: 'AWS::SQS::Queue' },
    Logs: { Type: 'AWS::Logs::LogGroup' },
    Vpc: { Type: 'AWS::EC2::VPC' },
  },
  Outputs: { StateMachineArn: { Value: { Ref: 'Machine' } }, TopicArn: { Value: { Ref: 'Topic' } } },
};
const outputs = { StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ForensicAcquisition', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' };
const ctx = { region: 'us-east-1', accountId: '123456789012' };
const physical = localPhysical(template, outputs, ctx, 'ForensicAcquisition');

describe('local controls from the template', () => {
  it('resolves a rule target as the stack would: output values, then emulator names by resource type', () => {
    // Prepare: the redrive rule's target, as CDK synthesizes it.
    const target = { Arn: { 'Fn::GetAtt': ['Redrive', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } }, Id: 'Target0' };
    // Act
    const resolved = resolveDeep([target], physical, ctx);
    // Assess
    expect(resolved).toEqual([
      {
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:ForensicAcquisition-Redrive',
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:ForensicAcquisition-Dlq' },
        Id: 'Target0',
      },
    ]);
  });

  it('resolves patterns and alarm actions through the outputs, pseudo parameters and joins', () => {
    expect(resolveDeep({ detail: { stateMachineArn: [{ Ref: 'Machine' }] } }, physical, ctx)).toEqual({ detail: { stateMachineArn: [outputs.StateMachineArn] } });
    expect(resolveDeep({ AlarmActions: [{ Ref: 'Topic' }] }, physical, ctx)).toEqual({ AlarmActions: [outputs.TopicArn] });
    expect(resolveDeep({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }]] }, physical, ctx)).toBe('arn:aws:events:us-east-1');
    expect(resolveDeep({ 'Fn::GetAtt': ['Logs', 'Arn'] }, physical, ctx)).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/forensics/ForensicAcquisition-Logs:*');
  });

  it('a reference to anything else is unresolved, and so is the value that holds it', () => {
    expect(resolveDeep({ Targets: [{ Arn: { Ref: 'Vpc' } }] }, physical, ctx)).toBeUndefined();
    expect(resolveDeep({ Arn: { Ref: 'Missing' } }, physical, ctx)).toBeUndefined();
  });
});
