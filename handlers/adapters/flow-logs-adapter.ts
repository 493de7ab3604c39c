import { type CloudWatchLogsClient, FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeFlowLogsCommand, type DescribeFlowLogsCommandOutput, type EC2Client } from '@aws-sdk/client-ec2';

/** A flow log that covers one of the instance's ENIs (or their subnet or VPC). */
export interface FlowLogSource {
  flowLogId: string;
  resourceId: string;
  destinationType: 's3' | 'cloud-watch-logs';
  /** S3: the destination bucket ARN, with its optional prefix (`arn:aws:s3:::bucket/prefix`); CWL: the group ARN. */
  destination: string | null;
  logGroupName: string | null;
  /** S3 destination options: Hive-compatible folder names, per-hour folders (DescribeFlowLogs `DestinationOptions`). */
  hiveCompatible: boolean;
  perHour: boolean;
}

export interface FlowLogRecord {
  timestamp: number;
  message: string;
  logStreamName: string | null;
  eventId: string | null;
}

/**
 * VPC flow logs of the instance's network interfaces, read-only: `ec2:DescribeFlowLogs` (filter `resource-id` = the
 * ENIs, their subnet and VPC), and for a CloudWatch Logs destination `logs:FilterLogEvents` on the ENI's stream (a
 * flow log names each stream after the ENI) over the window, paged by `nextToken`. Kinesis Data Firehose
 * destinations are not readable here and are not returned.
 */
export class FlowLogsAdapter {
  constructor(
    private readonly ec2: EC2Client,
    private readonly logs: CloudWatchLogsClient,
  ) {}

  async flowLogsOf(resourceIds: readonly string[]): Promise<FlowLogSource[]> {
    const out: FlowLogSource[] = [];
    let token: string | undefined;
    do {
      const page: DescribeFlowLogsCommandOutput = await this.ec2.send(
        new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [...resourceIds] }], MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
      );
      for (const f of page.FlowLogs ?? []) {
        if (!f.FlowLogId || !f.ResourceId) continue;
        const type = f.LogDestinationType ?? 'cloud-watch-logs';
        if (type !== 's3' && type !== 'cloud-watch-logs') continue;
        out.push({
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
    } while (token);
    return out;
  }

  /** The records of `streams` in `logGroupName` over [from, to], up to `max` (then `truncated`). */
  async records(logGroupName: string, streams: readonly string[], from: Date, to: Date, max: number): Promise<{ records: FlowLogRecord[]; truncated: boolean }> {
    const records: FlowLogRecord[] = [];
    let token: string | undefined;
    do {
      const page: FilterLogEventsCommandOutput = await this.logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          logStreamNames: [...streams],
          startTime: from.getTime(),
          endTime: to.getTime(),
          limit: Math.min(10000, Math.max(1, max - records.length)),
          ...(token ? { nextToken: token } : {}),
        }),
      );
      for (const e of page.events ?? []) {
        if (e.timestamp === undefined || e.message === undefined) continue;
        records.push({ timestamp: e.timestamp, message: e.message, logStreamName: e.logStreamName ?? null, eventId: e.eventId ?? null });
      }
      token = page.nextToken;
    } while (token && records.length < max);
    return { records: records.slice(0, max), truncated: records.length > max || Boolean(token) };
  }
}
