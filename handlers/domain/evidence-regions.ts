/**
 * Where evidence is made and under which key ("one IR home region"). Pure: no SDK, no I/O.
 *
 * AWS rules this module encodes (the emulator enforces none of them):
 * - A KMS key is regional: a call that names a key must be made in the key's region. `CopySnapshot` is issued in the
 *   DESTINATION region (with `SourceRegion`), so its `KmsKeyId` must be a key of the destination region.
 * - A multi-Region key (key id `mrk-…`) has a replica in other regions with the SAME key id and account; the replica's
 *   ARN differs only in the region. A single-Region key has no counterpart elsewhere.
 * - Snapshots encrypted with the default `aws/ebs` key cannot be shared: the workload account must first copy them
 *   under a customer key that the IR account may use — in the source region, so (cross-account, outside the home
 *   region) the replica of the evidence key.
 *
 * The evidence always lands in the HOME region (the region of the evidence key, where the IR stack runs):
 * - same account, any region: one hop, `CopySnapshot` in the home region from the source region, home key;
 * - other account: the workload account copies in the source region under the evidence key's copy there (the key
 *   itself in the home region, its replica elsewhere), shares that copy with the IR account, and the IR account
 *   copies it into the home region under the home key.
 */

const KEY_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/;

export interface KeyArnParts {
  partition: string;
  region: string;
  accountId: string;
  keyId: string;
}

/** The parts of a KMS key ARN; undefined for an alias, a bare key id or anything else. */
export function keyArnParts(arn: string | undefined): KeyArnParts | undefined {
  const m = KEY_ARN.exec(arn ?? '');
  return m ? { partition: m[1] as string, region: m[2] as string, accountId: m[3] as string, keyId: m[4] as string } : undefined;
}

/** The region a key ARN names (undefined when it is not a key ARN). */
export function regionOfKeyArn(arn: string | undefined): string | undefined {
  return keyArnParts(arn)?.region;
}

/** Multi-Region keys carry the `mrk-` prefix in their key id, in every region. */
export function isMultiRegionKeyArn(arn: string | undefined): boolean {
  return keyArnParts(arn)?.keyId.startsWith('mrk-') ?? false;
}

/** Thrown (or recorded) when no key usable in a region can be derived from the evidence key. */
export class EvidenceKeyNotInRegion extends Error {
  override readonly name = 'EvidenceKeyNotInRegion';
}

/**
 * The ARN of the evidence key usable in `region`: the key itself in its own region; the replica's ARN elsewhere (same
 * partition, account and key id). Throws `EvidenceKeyNotInRegion` when the key is single-Region (or not an ARN) and
 * `region` is another region: no key of that region may be named then.
 */
export function evidenceKeyInRegion(evidenceKeyArn: string, region: string): string {
  const parts = keyArnParts(evidenceKeyArn);
  if (!parts) {
    throw new EvidenceKeyNotInRegion(`the evidence key is not given as a key ARN (${evidenceKeyArn.slice(0, 80)}): its region is unknown`);
  }
  if (parts.region === region) return evidenceKeyArn;
  if (!parts.keyId.startsWith('mrk-')) {
    throw new EvidenceKeyNotInRegion(
      `the evidence key ${evidenceKeyArn} is a single-Region key of ${parts.region}: nothing can be encrypted with it in ${region} ` +
        '(a multi-Region evidence key with a replica there is needed: forensics:evidenceKeyMultiRegion, docs/organisation-deployment.md)',
    );
  }
  return `arn:${parts.partition}:kms:${region}:${parts.accountId}:key/${parts.keyId}`;
}

/** True when `keyArn` is the evidence key or one of its replicas (same partition, account and multi-Region key id). */
export function isEvidenceKeyOrReplica(keyArn: string | undefined, evidenceKeyArn: string): boolean {
  if (keyArn === evidenceKeyArn) return true;
  const a = keyArnParts(keyArn);
  const e = keyArnParts(evidenceKeyArn);
  return Boolean(a && e?.keyId.startsWith('mrk-') && a.keyId === e.keyId && a.accountId === e.accountId && a.partition === e.partition);
}

/** The home region: the evidence key's region, else the fallback (the Lambda's own region). */
export function homeRegionOf(evidenceKeyArn: string, fallback: string | undefined): string | undefined {
  return regionOfKeyArn(evidenceKeyArn) ?? fallback;
}

/** One copy of the chain: who makes it, where, from where, under which key. */
export interface EvidenceHopPlan {
  /** `workload-copy`: the workload account's re-encryption copy; `ir-copy`: the IR-owned evidence snapshot. */
  kind: 'workload-copy' | 'ir-copy';
  /** The account that issues CopySnapshot (and owns the copy). */
  accountId: string;
  /** Where CopySnapshot is issued: the copy's region. */
  region: string;
  /** The region of the snapshot copied. */
  sourceRegion: string;
  /** The key of `region` the copy is encrypted with. */
  kmsKeyId: string;
}

export interface EvidenceRoute {
  crossAccount: boolean;
  crossRegion: boolean;
  homeRegion: string;
  /** The copies, in order; the last one is the evidence snapshot (IR account, home region, home key). */
  hops: EvidenceHopPlan[];
}

/**
 * The copies that bring a target's snapshots into the home region as IR-owned evidence. Throws
 * `EvidenceKeyNotInRegion` for a cross-account target outside the home region when the key is single-Region.
 */
export function evidenceRoute(
  target: { accountId: string; region: string },
  evidence: { irAccountId: string; evidenceKeyArn: string; homeRegion: string },
): EvidenceRoute {
  const crossAccount = target.accountId !== evidence.irAccountId;
  const crossRegion = target.region !== evidence.homeRegion;
  const irCopy: EvidenceHopPlan = {
    kind: 'ir-copy',
    accountId: evidence.irAccountId,
    region: evidence.homeRegion,
    sourceRegion: target.region,
    kmsKeyId: evidenceKeyInRegion(evidence.evidenceKeyArn, evidence.homeRegion),
  };
  if (!crossAccount) return { crossAccount, crossRegion, homeRegion: evidence.homeRegion, hops: [irCopy] };
  const workloadCopy: EvidenceHopPlan = {
    kind: 'workload-copy',
    accountId: target.accountId,
    region: target.region,
    sourceRegion: target.region,
    kmsKeyId: evidenceKeyInRegion(evidence.evidenceKeyArn, target.region),
  };
  return { crossAccount, crossRegion, homeRegion: evidence.homeRegion, hops: [workloadCopy, irCopy] };
}

/**
 * Why a target cannot be acquired by this deployment's evidence key, or undefined when it can: decided at triage, so
 * a finding the chain could not complete is ignored with this reason instead of failing midway.
 */
export function unreachableReason(
  target: { accountId: string; region: string },
  evidence: { irAccountId: string; evidenceKeyArn: string; homeRegion: string },
): string | undefined {
  try {
    evidenceRoute(target, evidence);
    return undefined;
  } catch (err) {
    if (err instanceof EvidenceKeyNotInRegion) {
      return `account ${target.accountId} in ${target.region} cannot be acquired by this deployment: ${err.message}`;
    }
    throw err;
  }
}
