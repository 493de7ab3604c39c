import { DescribeKeyCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import type { DoctorContext } from '../context';

/**
 * `key.replica[<region>]`, for each workload region other than the home region (infra/regional-stack.ts):
 * - multi-Region evidence key (`mrk-…`, forensics:evidenceKeyMultiRegion): its replica must exist in that region,
 *   Enabled — the responder role encrypts the intermediate copy there with it before sharing it;
 * - single-Region key, multi-account or organisation mode: FAIL — a member account's snapshot in that region cannot
 *   be shared under its `aws/ebs` key, and the intermediate copy has no evidence key there to be encrypted with
 *   (docs/organisation-deployment.md);
 * - single-Region key, single account: PASS — one copy, straight into the home region under the home key.
 */

export interface ReplicaFacts {
  region: string;
  keyArn: string;
  /** Multi-account or organisation mode: cross-account acquisitions in this region need the replica. */
  crossAccount: boolean;
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
  const base = { region, keyArn, crossAccount: ctx.multiAccount };
  if (!isMultiRegionKeyArn(keyArn)) {
    // An ARN without `mrk-` may still be a key KMS reports as multi-Region (an emulator's ids): ask the primary.
    const home = new KMSClient(ctx.client());
    try {
      const primary = await attempt('kms:DescribeKey', async () => (await home.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata);
      if (!primary.ok) return { ...base, replica: primary };
      if (primary.value?.MultiRegion !== true) return base;
    } finally {
      home.destroy();
    }
  }
  const kms = new KMSClient(ctx.client(region));
  try {
    const replica = await attempt('kms:DescribeKey', async () => (await kms.send(new DescribeKeyCommand({ KeyId: replicaArn(keyArn, region) }))).KeyMetadata);
    return { region, keyArn, crossAccount: ctx.multiAccount, replica };
  } finally {
    kms.destroy();
  }
}

export function evaluateReplica(facts: ReplicaFacts, emulator: boolean): DoctorCheck {
  const name = `key.replica[${facts.region}]`;
  if (!facts.replica) {
    return facts.crossAccount
      ? fail(name, `the evidence key is single-Region: snapshots of member accounts in ${facts.region} cannot be shared with the IR account — set forensics:evidenceKeyMultiRegion=true and deploy the regional stack in ${facts.region} (docs/organisation-deployment.md)`)
      : pass(name, `not needed: single account, evidence of ${facts.region} is copied straight into ${facts.keyArn.split(':')[3]} under the home key`);
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
