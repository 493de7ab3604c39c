import { ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, ServiceQuotasClient, type ServiceQuota } from '@aws-sdk/client-service-quotas';
import { attempt, cannotRun, type DoctorCheck, type Outcome, pass, warn, fail } from '../check';
import type { DoctorContext } from '../context';

/**
 * `quota.snapshot-copies[<region>]`: the account's EBS quota on concurrent snapshot copies bounds an incident — each
 * case requests up to forensics:copyConcurrency copies at once, and a copy over the quota is rejected (then retried,
 * slowing every case). The quota is found by name in Service Quotas (applied value, else the AWS default), so no
 * quota code is hard-wired.
 */

const QUOTA_NAME = /concurrent snapshot copies/i;
const MAX_PAGES = 10;

export interface QuotaFacts {
  region: string;
  concurrency: number;
  applied: Outcome<ServiceQuota[]>;
  defaults?: Outcome<ServiceQuota[]>;
}

async function listAll(client: ServiceQuotasClient, defaults: boolean): Promise<ServiceQuota[]> {
  const found: ServiceQuota[] = [];
  let NextToken: string | undefined;
  let pages = 0;
  do {
    const out = defaults
      ? await client.send(new ListAWSDefaultServiceQuotasCommand({ ServiceCode: 'ebs', NextToken, MaxResults: 100 }))
      : await client.send(new ListServiceQuotasCommand({ ServiceCode: 'ebs', NextToken, MaxResults: 100 }));
    found.push(...(out.Quotas ?? []));
    NextToken = out.NextToken;
  } while (NextToken && ++pages < MAX_PAGES);
  return found;
}

export async function gatherQuota(ctx: DoctorContext, region: string): Promise<QuotaFacts> {
  const client = new ServiceQuotasClient(ctx.client(region));
  try {
    const applied = await attempt('servicequotas:ListServiceQuotas', () => listAll(client, false));
    const hasIt = applied.ok && applied.value.some((q) => QUOTA_NAME.test(q.QuotaName ?? ''));
    const defaults = applied.ok && !hasIt ? await attempt('servicequotas:ListAWSDefaultServiceQuotas', () => listAll(client, true)) : undefined;
    return { region, concurrency: ctx.config.copyConcurrency, applied, ...(defaults ? { defaults } : {}) };
  } finally {
    client.destroy();
  }
}

export function evaluateQuota(facts: QuotaFacts, emulator: boolean): DoctorCheck {
  const name = `quota.snapshot-copies[${facts.region}]`;
  if (!facts.applied.ok) return cannotRun(name, facts.applied.error, `the EBS quotas in ${facts.region}`, emulator);
  let quota = facts.applied.value.find((q) => QUOTA_NAME.test(q.QuotaName ?? ''));
  let source = 'applied';
  if (!quota && facts.defaults) {
    if (!facts.defaults.ok) return cannotRun(name, facts.defaults.error, `the default EBS quotas in ${facts.region}`, emulator);
    quota = facts.defaults.value.find((q) => QUOTA_NAME.test(q.QuotaName ?? ''));
    source = 'AWS default';
  }
  if (quota?.Value === undefined) {
    return warn(name, `Service Quotas lists no "concurrent snapshot copies" quota for EBS in ${facts.region}: forensics:copyConcurrency ${facts.concurrency} could not be compared — check the EBS quotas page`);
  }
  const value = quota.Value;
  if (value < facts.concurrency) {
    return fail(name, `${quota.QuotaName} is ${value} (${source}), below forensics:copyConcurrency ${facts.concurrency}: copies of one case would be rejected — request an increase (${quota.QuotaCode ?? 'Service Quotas'}) or lower copyConcurrency`);
  }
  return pass(name, `${quota.QuotaName} is ${value} (${source}) for ${facts.concurrency} copies per case: ${Math.floor(value / facts.concurrency)} case(s) can copy at once`);
}
