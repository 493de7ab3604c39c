import { GetDetectorCommand, type GetDetectorCommandOutput, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import type { Credentials, DoctorContext } from '../context';

/**
 * `guardduty.detector[<account>/<region>]`: GuardDuty runs where the instances are. Without an enabled detector there
 * is no finding, and without a finding no automatic acquisition (a region has at most one detector per account).
 */

export interface DetectorFacts {
  accountId: string;
  region: string;
  detectors: Outcome<string[]>;
  detector?: Outcome<GetDetectorCommandOutput>;
}

export async function gatherDetector(ctx: DoctorContext, accountId: string, region: string, credentials?: Credentials): Promise<DetectorFacts> {
  const gd = new GuardDutyClient(ctx.client(region, credentials));
  try {
    const detectors = await attempt('guardduty:ListDetectors', async () => (await gd.send(new ListDetectorsCommand({}))).DetectorIds ?? []);
    const id = detectors.ok ? detectors.value[0] : undefined;
    const detector = id ? await attempt('guardduty:GetDetector', () => gd.send(new GetDetectorCommand({ DetectorId: id }))) : undefined;
    return { accountId, region, detectors, ...(detector ? { detector } : {}) };
  } finally {
    gd.destroy();
  }
}

export function detectorCheckName(accountId: string, region: string): string {
  return `guardduty.detector[${accountId}/${region}]`;
}

export function evaluateDetector(facts: DetectorFacts, emulator: boolean): DoctorCheck {
  const name = detectorCheckName(facts.accountId, facts.region);
  const where = `account ${facts.accountId} in ${facts.region}`;
  if (!facts.detectors.ok) return cannotRun(name, facts.detectors.error, `the GuardDuty detectors of ${where}`, emulator);
  const id = facts.detectors.value[0];
  if (!id) return fail(name, `GuardDuty has no detector in ${where}: no finding, no automatic acquisition — enable GuardDuty there (or from the delegated administrator)`);
  if (!facts.detector?.ok) return facts.detector ? cannotRun(name, facts.detector.error, `detector ${id}`, emulator) : fail(name, `detector ${id} not read`);
  const status = facts.detector.value.Status;
  return status === 'ENABLED'
    ? pass(name, `detector ${id} is ENABLED (findings published every ${facts.detector.value.FindingPublishingFrequency ?? '?'})`)
    : fail(name, `detector ${id} in ${where} is ${status ?? 'not enabled'}: no finding, no automatic acquisition — aws guardduty update-detector --detector-id ${id} --enable`);
}
