import {
  AlreadyExistsException,
  CloudFormationClient,
  CloudFormationServiceException,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveDeployment } from '../../../../cli/deployment/discover';
import { localDeploymentContext, localStackTemplate, registerLocalStack } from '../../../../cli/local/local-stack';

/**
 * Registering a local deployment as a CloudFormation stack, and finding it with --endpoint alone,
 * against CloudFormation's own rules: CreateStack on an existing name fails with AlreadyExistsException, and an
 * UpdateStack that changes nothing fails with ValidationError "No updates are to be performed.".
 */
const cfn = mockClient(CloudFormationClient);
afterEach(() => cfn.reset());

const stack = {
  stackName: 'ForensicAcquisition',
  outputs: { CaseTableName: 'forensics-cases', EvidenceBucketName: 'forensics-evidence-123456789012-us-east-1' },
  descriptions: { CaseTableName: 'Case table' },
  context: { 'forensics:workstation': 'false' },
};

describe('localStackTemplate', () => {
  it('one resource that creates nothing, the outputs as literal values, the context in the metadata', () => {
    const template = JSON.parse(localStackTemplate(stack)) as Record<string, Record<string, unknown>>;
    expect(template.Resources).toEqual({ LocalDeployment: { Type: 'AWS::CloudFormation::WaitConditionHandle' } });
    expect(template.Outputs).toEqual({
      CaseTableName: { Value: 'forensics-cases', Description: 'Case table' },
      EvidenceBucketName: { Value: 'forensics-evidence-123456789012-us-east-1' },
    });
    expect(template.Metadata).toEqual({ 'forensics:local-deployment': { context: { 'forensics:workstation': 'false' } } });
  });
});

describe('registerLocalStack', () => {
  it('creates the stack', async () => {
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await registerLocalStack(new CloudFormationClient({ region: 'us-east-1' }), stack);
    expect(cfn.commandCalls(CreateStackCommand)[0]?.args[0].input).toEqual({ StackName: 'ForensicAcquisition', TemplateBody: localStackTemplate(stack) });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  it('updates it when a previous run registered it; an update that changes nothing is fine', async () => {
    cfn.on(CreateStackCommand).rejects(new AlreadyExistsException({ message: 'Stack [ForensicAcquisition] already exists', $metadata: {} }));
    cfn.on(UpdateStackCommand).rejects(
      new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', message: 'No updates are to be performed.', $metadata: {} }),
    );
    await registerLocalStack(new CloudFormationClient({ region: 'us-east-1' }), stack);
    expect(cfn.commandCalls(UpdateStackCommand)[0]?.args[0].input.TemplateBody).toBe(localStackTemplate(stack));
  });

  it('any other failure is not hidden', async () => {
    cfn.on(CreateStackCommand).rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
    cfn.on(UpdateStackCommand).rejects(
      new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', message: 'Stack is in UPDATE_IN_PROGRESS state', $metadata: {} }),
    );
    await expect(registerLocalStack(new CloudFormationClient({ region: 'us-east-1' }), stack)).rejects.toThrow(/UPDATE_IN_PROGRESS/);
  });
});

describe('localDeploymentContext', () => {
  it('reads the context back from the template; none for a stack run-local did not register', async () => {
    cfn.on(GetTemplateCommand, { StackName: 'ForensicAcquisition' }).resolves({ TemplateBody: localStackTemplate(stack) });
    cfn.on(GetTemplateCommand, { StackName: 'Other' }).resolves({ TemplateBody: '{"Resources":{}}' });
    const client = new CloudFormationClient({ region: 'us-east-1' });
    expect(await localDeploymentContext(client, 'ForensicAcquisition')).toEqual({ 'forensics:workstation': 'false' });
    expect(await localDeploymentContext(client, 'Other')).toEqual({});
  });
});

describe('resolveDeployment with --endpoint alone', () => {
  it('reads the stack outputs in us-east-1 (where run-local deploys) when no region is configured', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'ForensicAcquisition', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'CaseTableName', OutputValue: 'forensics-cases' }] }],
    });
    const deployment = await resolveDeployment({ endpoint: 'http://127.0.0.1:5000', stack: 'ForensicAcquisition' }, ['table'], {});
    expect(deployment).toMatchObject({ region: 'us-east-1', table: 'forensics-cases', sources: { table: 'stack' } });
    expect(await cfn.commandCalls(DescribeStacksCommand)[0]?.thisValue.config.region()).toBe('us-east-1');
  });

  it('a configured region wins; against AWS (no endpoint) no region is invented', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
    expect((await resolveDeployment({ endpoint: 'http://127.0.0.1:5000', table: 't' }, ['table'], { AWS_REGION: 'eu-west-1' })).region).toBe('eu-west-1');
    expect((await resolveDeployment({ table: 't' }, ['table'], {})).region).toBeUndefined();
    expect((await resolveDeployment({ endpoint: 'http://127.0.0.1:5000', profile: 'lab', table: 't' }, ['table'], {})).region).toBeUndefined();
  });
});
