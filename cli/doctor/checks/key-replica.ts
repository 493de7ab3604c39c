import { DescribeKeyCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { DoctorContext } from '../context';

/**
 * `key.replica[<region>]`, for each workload region other than the home region: the evidence copies made there are
 * re-encrypted with the evidence key, which a KMS key can only do in its own region — so the evidence key must be a
 * multi-Region key (`mrk-…`) with a replica in that region (DESIGN "Home region"). The deployment's key is not
 * multi-Region yet: then this reports "not configured" (WARN) rather than pretending.
 */

export interface ReplicaFacts {
  region: string;
  keyArn: string;
  replica?: Outcome<KeyMetadata | undefined>;
}

/** The same key's ARN in another region (multi-Region keys share their id). */
export function replicaArn(keyArn: string, region: string): string {
  const parts = keyArn.split(':');
  parts[3] = region;
  return parts.join(':');
}

export function isMultiRegionKeyArn(keyArn: string): boolean {
  return /:key\/mrk-[0-9a-f]+$/.test(keyArn);
}

export async function gatherReplica(ctx: DoctorContext, region: string, keyArn: string): Promise<ReplicaFacts> {
  if (!isMultiRegionKeyArn(keyArn)) return { region, keyArn };
  const kms = new KMSClient(ctx.client(region));
  try {
    const replica = await attempt('kms:DescribeKey', async () => (await kms.send(new DescribeKeyCommand({ KeyId: replicaArn(keyArn, region) }))).KeyMetadata);
    return { region, keyArn, replica };
  } finally {
    kms.destroy();
  }
}

export function evaluateReplica(facts: ReplicaFacts, emulator: boolean): DoctorCheck {
  const name = `key.replica[${facts.region}]`;
  if (!facts.replica) {
    return warn(name, `not configured: the evidence key is single-Region, so evidence copies of instances in ${facts.region} cannot be re-encrypted there — a multi-Region evidence key with a replica in ${facts.region} is needed`);
  }
  const arn = replicaArn(facts.keyArn, facts.region);
  if (!facts.replica.ok) {
    return facts.replica.error.notFound
      ? fail(name, `the evidence key has no replica in ${facts.region} — aws kms replicate-key --key-id ${facts.keyArn} --replica-region ${facts.region}`)
      : cannotRun(name, facts.replica.error, `the evidence key replica ${arn}`, emulator);
  }
  const state = facts.replica.value?.KeyState ?? 'unknown';
  return state === 'Enabled'
    ? pass(name, `replica ${arn} is Enabled`)
    : fail(name, `replica ${arn} is ${state}: evidence copies in ${facts.region} fail — enable it`);
}
