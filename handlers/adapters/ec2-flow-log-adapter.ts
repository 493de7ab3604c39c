import { DescribeFlowLogsCommand, type DescribeFlowLogsCommandOutput, type EC2Client } from '@aws-sdk/client-ec2';
import type { FlowLogSource } from '../domain/types';

/** DescribeFlowLogs page size (AWS accepts 5–1000). */
const PAGE_SIZE = 100;

/**
 * The VPC flow logs of the instance's network interfaces, read-only: `ec2:DescribeFlowLogs` filtered on
 * `resource-id` = the ENIs, their subnets and VPCs, paged by `NextToken` up to `max` flow logs (then `truncated`).
 * Kinesis Data Firehose destinations are not readable by the scope and are not returned. Read by "Preserve and
 * snapshot" (beside CreateSnapshots), so that the scope step, which reads the records, bundles no EC2 client.
 */
export class Ec2FlowLogAdapter {
  constructor(private readonly ec2: EC2Client) {}

  async flowLogsOf(resourceIds: readonly string[], max: number): Promise<{ sources: FlowLogSource[]; truncated: boolean }> {
    const sources: FlowLogSource[] = [];
    let token: string | undefined;
    do {
      const page: DescribeFlowLogsCommandOutput = await this.ec2.send(
        new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [...resourceIds] }], MaxResults: PAGE_SIZE, ...(token ? { NextToken: token } : {}) }),
      );
      for (const f of page.FlowLogs ?? []) {
        if (!f.FlowLogId || !f.ResourceId) continue;
        const type = f.LogDestinationType ?? 'cloud-watch-logs';
        if (type !== 's3' && type !== 'cloud-watch-logs') continue;
        sources.push({
          flowLogId: f.FlowLogId,
          resourceId: f.ResourceId,
          destinationType: type,
          destination: f.LogDestination ?? null,
          logGroupName: f.LogGroupName ?? null,
          hiveCompatible: f.DestinationOptions?.HiveCompatiblePartitions === true,
          perHour: f.DestinationOptions?.PerHourPartition === true,
        });
      }
      token = page.NextToken;
    } while (token && sources.length < max);
    return { sources: sources.slice(0, max), truncated: sources.length > max || Boolean(token) };
  }
}
