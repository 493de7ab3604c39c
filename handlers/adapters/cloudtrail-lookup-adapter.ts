import { type CloudTrailClient, LookupEventsCommand, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { type CloudTrailRecord, parseCloudTrailEvent } from '../domain/cloudtrail-record';
import { type Sleep, realSleep, retryWithBackoff } from '../domain/concurrency';
import { errorSummary } from '../domain/errors';
import type { ScopeGap, ScopeWindow } from '../domain/scope-documents';

/** LookupEvents allows one lookup attribute per call and at most 50 events per page. */
const PAGE_SIZE = 50;
/** CloudTrail's documented LookupEvents limit: 2 requests per second, per account and region. */
export const LOOKUP_EVENTS_MIN_INTERVAL_MS = 500;

/** One event as LookupEvents returns it: its CloudTrail record, and the `Resources` CloudTrail listed for it. */
export interface LookedUpEvent {
  record: CloudTrailRecord;
  resources: { type: string | null; name: string }[];
}

export interface LookupBounds {
  /** Events kept at most for this lookup; reaching it is recorded as a `limit` gap. */
  maxEvents: number;
  /** Epoch milliseconds after which no further page is requested (the step's time cap), recorded as a gap. */
  deadline: number;
}

export interface LookupResult {
  events: LookedUpEvent[];
  /** Where this lookup is incomplete (a bound reached, a call that failed after its retries). */
  gaps: ScopeGap[];
}

/**
 * CloudTrail `LookupEvents` in one account and region (management events of the last 90 days). One adapter per
 * account and region: its requests are paced to CloudTrail's 2 per second there (the limit is the account's, shared
 * with every other caller, so throttling is still retried, with backoff and jitter). Pages by `NextToken`; stops at
 * the event bound or the deadline, and says so.
 */
export class CloudTrailLookupAdapter {
  private nextSlot = 0;

  constructor(
    private readonly client: CloudTrailClient,
    readonly region: string,
    private readonly options: { now?: () => number; sleep?: Sleep; random?: () => number } = {},
  ) {}

  /** Waits for this account-and-region's next request slot (one every 500 ms). */
  private async pace(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const wait = this.nextSlot - now;
    this.nextSlot = Math.max(now, this.nextSlot) + LOOKUP_EVENTS_MIN_INTERVAL_MS;
    if (wait > 0) await (this.options.sleep ?? realSleep)(wait);
  }

  async lookup(attribute: { key: 'Username' | 'AccessKeyId'; value: string }, window: ScopeWindow, bounds: LookupBounds): Promise<LookupResult> {
    const events: LookedUpEvent[] = [];
    const gaps: ScopeGap[] = [];
    const now = this.options.now ?? Date.now;
    const what = `${attribute.key}=${attribute.value}`;
    let token: string | undefined;
    do {
      if (now() >= bounds.deadline) {
        gaps.push({ source: 'lookup-events', region: this.region, kind: 'limit', detail: `${what}: time cap reached after ${events.length} events` });
        break;
      }
      let page: LookupEventsCommandOutput;
      try {
        page = await retryWithBackoff(
          async () => {
            await this.pace();
            return this.client.send(
              new LookupEventsCommand({
                LookupAttributes: [{ AttributeKey: attribute.key, AttributeValue: attribute.value }],
                StartTime: new Date(window.from),
                EndTime: new Date(window.to),
                MaxResults: PAGE_SIZE,
                ...(token ? { NextToken: token } : {}),
              }),
            );
          },
          { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000, ...(this.options.sleep ? { sleep: this.options.sleep } : {}), ...(this.options.random ? { random: this.options.random } : {}) },
        );
      } catch (err) {
        gaps.push({ source: 'lookup-events', region: this.region, kind: 'error', detail: `${what}: ${errorSummary(err)} (after ${events.length} events)` });
        break;
      }
      const pageEvents = page.Events ?? [];
      let cut = false;
      for (const [i, e] of pageEvents.entries()) {
        if (events.length >= bounds.maxEvents) {
          cut = i < pageEvents.length;
          break;
        }
        const record = parseCloudTrailEvent(e.CloudTrailEvent);
        if (!record) continue;
        events.push({
          record,
          resources: (e.Resources ?? []).flatMap((r) => (r.ResourceName ? [{ type: r.ResourceType ?? null, name: r.ResourceName }] : [])),
        });
      }
      token = page.NextToken;
      if (events.length >= bounds.maxEvents && (cut || token)) {
        gaps.push({ source: 'lookup-events', region: this.region, kind: 'limit', detail: `${what}: event bound ${bounds.maxEvents} reached, later events not read` });
        break;
      }
    } while (token);
    return { events, gaps };
  }
}
