import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

/**
 * The text cdk-nag reports for a CloudFormation value (`arn:<AWS::Partition>:ec2:...`, `<Table1234.Arn>`), so
 * an acknowledgement names exactly the finding it answers. Same flattening as cdk-nag's own.
 */
export function flattenReference(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (v['Fn::Sub'] !== undefined) return flattenReference(v['Fn::Sub']);
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (v['Fn::ImportValue'] !== undefined) return flattenReference(v['Fn::ImportValue']);
    if (v.Ref !== undefined) return `<${flattenReference(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * The wildcards CDK itself puts in a workflow's roles, acknowledged with their reasons: X-Ray on every function role,
 * execution logging and X-Ray on the state machine role, and `lambda:InvokeFunction` on each task's function and its
 * versions (`ARN:*`). Shared by the acquisition and the release workflows, so both say the same thing.
 */
export function acknowledgeWorkflowWildcards(
  stateMachineRole: iam.IRole,
  functions: { role: iam.IRole; function: IFunction; stateName: string }[],
  workflow: string,
): void {
  for (const fn of functions) {
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (active): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
        'permissions. Any other "*" on this role is a read-only Describe* call, acknowledged with its own reason.',
    });
  }
  Validations.of(stateMachineRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Step Functions execution logging (logs:CreateLogDelivery, PutResourcePolicy, Describe*, ...) and X-Ray ' +
      'tracing require Resource "*"; these APIs support no resource-level permissions.',
  });
  for (const fn of functions) {
    const flat = flattenReference(Stack.of(fn.function).resolve(fn.function.functionArn));
    Validations.of(stateMachineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat}:*]`,
      reason:
        `lambda:InvokeFunction on the ${workflow} "${fn.stateName}" function and its versions/aliases ` +
        '(ARN:*), as granted by the LambdaInvoke task; no other function.',
    });
  }
}
