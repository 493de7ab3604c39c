import { DescribeFlowLogsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2FlowLogAdapter } from '../../../../handlers/adapters/ec2-flow-log-adapter';

const ec2 = mockClient(EC2Client);
const adapter = () => new Ec2FlowLogAdapter(new EC2Client({ region: 'eu-west-1' }));

describe('Ec2FlowLogAdapter', () => {
  beforeEach(() => ec2.reset());

  it('finds the flow logs of the ENIs, their subnets and VPCs with readable destinations, and their S3 options', async () => {
    // Prepare
    ec2.on(DescribeFlowLogsCommand).resolves({
      FlowLogs: [
        { FlowLogId: 'fl-1', ResourceId: 'eni-1', LogDestinationType: 'cloud-watch-logs', LogGroupName: 'vpc-flow', LogDestination: 'arn:aws:logs:eu-west-1:111122223333:log-group:vpc-flow' },
        {
          FlowLogId: 'fl-2',
          ResourceId: 'vpc-1',
          LogDestinationType: 's3',
          LogDestination: 'arn:aws:s3:::flow-bucket/prefix',
          DestinationOptions: { FileFormat: 'plain-text', HiveCompatiblePartitions: true, PerHourPartition: true },
        },
        { FlowLogId: 'fl-3', ResourceId: 'eni-1', LogDestinationType: 'kinesis-data-firehose', LogDestination: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/x' },
      ],
    });

    // Act
    const found = await adapter().flowLogsOf(['eni-1', 'subnet-1', 'vpc-1'], 50);

    // Assess: one filter on resource-id (AWS: "the ID of the VPC, subnet, or network interface"); Firehose left out.
    expect(ec2.commandCalls(DescribeFlowLogsCommand)[0]?.args[0].input).toEqual({ Filter: [{ Name: 'resource-id', Values: ['eni-1', 'subnet-1', 'vpc-1'] }], MaxResults: 100 });
    expect(found).toEqual({
      sources: [
        { flowLogId: 'fl-1', resourceId: 'eni-1', destinationType: 'cloud-watch-logs', destination: 'arn:aws:logs:eu-west-1:111122223333:log-group:vpc-flow', logGroupName: 'vpc-flow', hiveCompatible: false, perHour: false },
        { flowLogId: 'fl-2', resourceId: 'vpc-1', destinationType: 's3', destination: 'arn:aws:s3:::flow-bucket/prefix', logGroupName: null, hiveCompatible: true, perHour: true },
      ],
      truncated: false,
    });
  });

  it('pages by NextToken, and stops at the bound, saying it was truncated', async () => {
    // Prepare: two pages of two flow logs each, then a third page never asked for.
    const page = (ids: string[], next?: string) => ({ FlowLogs: ids.map((id) => ({ FlowLogId: id, ResourceId: 'vpc-1', LogDestinationType: 'cloud-watch-logs' as const, LogGroupName: 'g' })), ...(next ? { NextToken: next } : {}) });
    ec2.on(DescribeFlowLogsCommand).resolvesOnce(page(['fl-1', 'fl-2'], 't2')).resolvesOnce(page(['fl-3', 'fl-4'], 't3')).resolves(page(['fl-5']));

    // Act
    const all = await adapter().flowLogsOf(['vpc-1'], 10);
    ec2.reset();
    ec2.on(DescribeFlowLogsCommand).resolvesOnce(page(['fl-1', 'fl-2'], 't2')).resolvesOnce(page(['fl-3', 'fl-4'], 't3')).resolves(page(['fl-5']));
    const bounded = await adapter().flowLogsOf(['vpc-1'], 3);

    // Assess
    expect(all.sources.map((s) => s.flowLogId)).toEqual(['fl-1', 'fl-2', 'fl-3', 'fl-4', 'fl-5']);
    expect(all.truncated).toBe(false);
    expect(bounded.sources.map((s) => s.flowLogId)).toEqual(['fl-1', 'fl-2', 'fl-3']);
    expect(bounded.truncated).toBe(true);
    expect(ec2.commandCalls(DescribeFlowLogsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 't2']);
  });
});
