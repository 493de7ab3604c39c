import { type CloudWatchLogsClient, FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';

export interface FlowLogRecord {
  timestamp: number;
  message: string;
  logStreamName: string | null;
  eventId: string | null;
}

/**
 * The records of a VPC flow log delivered to CloudWatch Logs, read-only: `logs:FilterLogEvents` on the ENIs' streams
 * (a flow log names each stream after the ENI) over the window, paged by `nextToken`. Which flow logs cover the
 * instance "Preserve and snapshot" looked up (ec2-flow-log-adapter.ts): this side needs no EC2 client.
 */
export class FlowLogRecordsAdapter {
  constructor(private readonly logs: CloudWatchLogsClient) {}

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
