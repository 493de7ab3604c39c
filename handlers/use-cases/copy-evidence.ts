import type { Ec2SnapshotAdapter, SnapshotStatus } from '../adapters/ec2-snapshot-adapter';
import {
  type RetryPolicy,
  isThrottlingError,
  mapSettledWithConcurrency,
  retryWithBackoff,
} from '../domain/concurrency';
import { errorMessage, errorName, errorSummary } from '../domain/errors';
import { nextCheckSeconds } from '../domain/poll-schedule';
import { evidenceKeyInRegion } from '../domain/evidence-regions';
import { type ChainSettings, type CopyEvidenceDeps, finalizeCompleted, homeRegionFor, isCrossAccount } from './evidence-chain';
import type {
  AcquisitionResult,
  CaseRef,
  EvidenceCopy,
  EvidenceProgress,
  ProgressState,
  SnapshotProgress,
} from '../domain/types';

export type { CopyEvidenceDeps } from './evidence-chain';

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 10_000 };
/** Marks a copy not requested yet because of account limits; the check step requests it again. */
export const DEFERRED_PREFIX = 'deferred:';

/**
 * Requests an evidence copy of every completed snapshot, encrypted with the evidence CMK: into the home region by the
 * IR account (same account), or first in the instance's region by the workload account (cross-account; see copySide). The copy is
 * what makes a snapshot of an unencrypted volume, or of one encrypted with the default `aws/ebs` key, shareable.
 *
 * Volumes whose snapshot errored or timed out get a `skipped` entry with the reason, so the gap stays visible.
 * Copies already made by an earlier attempt of this step are found by tag and not requested twice. Copy requests
 * run with bounded concurrency and retry limit errors with jittered backoff; a copy still refused for limits is
 * left `pending` without an id ("deferred") for the check step to request again, any other refusal is `error`.
 * Nothing here, or anywhere in this product, deletes a snapshot.
 */
export async function copyEvidence(
  deps: CopyEvidenceDeps,
  input: { caseRef: CaseRef; acquisition: AcquisitionResult; snapshotProgress: SnapshotProgress },
): Promise<EvidenceProgress> {
  const now = deps.clock().toISOString();
  const cross = isCrossAccount(deps.chain, input.caseRef.target);
  const side = copySide(deps, input.caseRef);
  const existing = await findExistingCopies({ ...deps, snapshots: side.copier }, input.caseRef.caseId, cross ? 'intermediate' : 'true');

  const copies: EvidenceCopy[] = input.snapshotProgress.volumes.map((v) => {
    if (v.state !== 'completed') {
      return {
        volumeId: v.volumeId,
        sourceSnapshotId: v.snapshotId,
        kmsKeyId: deps.evidenceKeyArn,
        state: 'skipped',
        stateMessage: `source snapshot ${v.state}${v.stateMessage ? `: ${v.stateMessage}` : ''}`,
      };
    }
    const found = existing.get(v.snapshotId);
    if (found && cross) {
      // The intermediate copy from an earlier attempt: the check step takes the chain on from there.
      return {
        volumeId: v.volumeId,
        sourceSnapshotId: v.snapshotId,
        kmsKeyId: deps.evidenceKeyArn,
        sourceAccountId: input.caseRef.target.accountId,
        sourceRegion: input.caseRef.target.region,
        stage: 'workload-copy',
        intermediate: {
          snapshotId: found.snapshotId,
          accountId: input.caseRef.target.accountId,
          region: input.caseRef.target.region,
          ...(side.key ? { kmsKeyId: side.key } : {}),
        },
        state: copyState(found.state) === 'error' ? 'error' : 'pending',
        ...(found.stateMessage ? { stateMessage: `intermediate copy: ${found.stateMessage}` } : {}),
      };
    }
    if (found) {
      return {
        volumeId: v.volumeId,
        sourceSnapshotId: v.snapshotId,
        evidenceSnapshotId: found.snapshotId,
        kmsKeyId: deps.evidenceKeyArn,
        sourceRegion: input.caseRef.target.region,
        evidenceRegion: side.region,
        state: copyState(found.state),
        ...(found.stateMessage ? { stateMessage: found.stateMessage } : {}),
        ...(found.state === 'completed' ? { completedAt: now } : {}),
      };
    }
    return {
      volumeId: v.volumeId,
      sourceSnapshotId: v.snapshotId,
      kmsKeyId: deps.evidenceKeyArn,
      state: 'pending',
      stateMessage: `${DEFERRED_PREFIX} not requested yet`,
    };
  });

  const requested = await finalizeCompleted(deps, input.caseRef, await requestCopies(deps, input.caseRef, copies));
  return progressOf(requested, {
    attempt: 0,
    firstCheckAt: now,
    checkedAt: now,
    sizes: sizesOf(input.acquisition),
  });
}

/**
 * Requests the copies that have no evidence snapshot yet (`pending` without id), bounded and retried. Returns the
 * list with those entries updated; other entries are returned as they are. Shared with the check step.
 */
export async function requestCopies(
  deps: CopyEvidenceDeps,
  caseRef: CaseRef,
  copies: EvidenceCopy[],
): Promise<EvidenceCopy[]> {
  const region = caseRef.target.region;
  const cross = isCrossAccount(deps.chain, caseRef.target);
  const todo = copies.filter((c) => c.state === 'pending' && !c.evidenceSnapshotId && !c.intermediate?.snapshotId && !c.stage);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const tag = (name: string) => `${deps.tagPrefix}:${name}`;
  const side = copySide(deps, caseRef);
  if (todo.length > 0 && !side.key) {
    // No key of the copy's region can be named (a single-Region key outside its region): nothing is sent to AWS,
    // which would refuse the copy anyway; triage ignores such targets, so this is the last line of defence.
    const refused = new Set(todo);
    return copies.map((c) => (refused.has(c) ? { ...c, state: 'error', stateMessage: `CopySnapshot not requested: ${side.keyProblem}` } : c));
  }
  const key = side.key as string;

  const results = await mapSettledWithConcurrency(todo, deps.concurrency, (c) =>
    retryWithBackoff(
      () =>
        side.copier.copySnapshot({
          sourceSnapshotId: c.sourceSnapshotId,
          sourceRegion: region,
          kmsKeyId: key,
          description: (cross
            ? `Forensic evidence case ${caseRef.caseId}: intermediate copy of ${c.sourceSnapshotId} (${c.volumeId}) for the IR account`
            : `Forensic evidence case ${caseRef.caseId}: copy of ${c.sourceSnapshotId} (${c.volumeId})`
          ).slice(0, 255),
          tags: {
            [tag('case-id')]: caseRef.caseId,
            [tag('source-volume')]: c.volumeId,
            [tag('source-snapshot')]: c.sourceSnapshotId,
            // Cross-account: marks the workload-side copy that the chain may remove once the IR copy completed.
            [tag('evidence')]: cross ? 'intermediate' : 'true',
          },
        }),
      policy,
    ),
  );

  const updated = new Map<EvidenceCopy, EvidenceCopy>();
  todo.forEach((c, i) => {
    const r = results[i] as PromiseSettledResult<string>;
    const requestedAt = deps.clock().toISOString();
    if (r.status === 'fulfilled') {
      const { stateMessage: _deferred, ...rest } = c;
      updated.set(
        c,
        cross
          ? {
              ...rest,
              state: 'pending',
              stage: 'workload-copy',
              sourceAccountId: caseRef.target.accountId,
              sourceRegion: region,
              intermediate: { snapshotId: r.value, accountId: caseRef.target.accountId, region, kmsKeyId: key, requestedAt },
            }
          : { ...rest, evidenceSnapshotId: r.value, sourceRegion: region, evidenceRegion: side.region, state: 'pending', requestedAt },
      );
    } else if (isThrottlingError(r.reason)) {
      updated.set(c, { ...c, state: 'pending', stateMessage: `${DEFERRED_PREFIX} ${errorSummary(r.reason)}` });
    } else {
      deps.log?.({ level: 'error', message: 'CopySnapshot refused', sourceSnapshotId: c.sourceSnapshotId, error: errorName(r.reason) });
      updated.set(c, { ...c, state: 'error', stateMessage: `CopySnapshot: ${errorSummary(r.reason)}` });
    }
  });
  return copies.map((c) => updated.get(c) ?? c);
}

/**
 * Who makes a case's first copy, in which region, under which key (handlers/domain/evidence-regions.ts):
 * - cross-account: the workload account (responder role) in the instance's region, under the evidence key of that
 *   region (the key itself in the home region, its multi-Region replica elsewhere);
 * - otherwise, with the chain (the handlers always pass it): the IR account itself, issuing the copy in the HOME region
 *   from the instance's region, under the home key — the evidence snapshot in one hop;
 * - without the chain (the original single-region behaviour): the target's side, in its region.
 * `key` is undefined, with `keyProblem`, when no key of the copy's region can be named.
 */
export function copySide(
  deps: Pick<CopyEvidenceDeps, 'snapshots' | 'chain' | 'evidenceKeyArn'>,
  caseRef: Pick<CaseRef, 'target'>,
): { copier: Ec2SnapshotAdapter; region: string; key?: string; keyProblem?: string } {
  const target = caseRef.target;
  const chain: ChainSettings | undefined = deps.chain;
  if (chain && chain.irAccountId !== target.accountId) {
    try {
      return { copier: deps.snapshots, region: target.region, key: evidenceKeyInRegion(deps.evidenceKeyArn, target.region) };
    } catch (err) {
      return { copier: deps.snapshots, region: target.region, keyProblem: errorMessage(err) };
    }
  }
  if (chain) return { copier: chain.irSnapshots, region: homeRegionFor(deps, target), key: deps.evidenceKeyArn };
  return { copier: deps.snapshots, region: target.region, key: deps.evidenceKeyArn };
}

/** Copies made for this case by an earlier attempt, by source snapshot id. A failed lookup only risks a duplicate. */
export async function findExistingCopies(
  deps: Pick<CopyEvidenceDeps, 'snapshots' | 'tagPrefix' | 'log'>,
  caseId: string,
  evidenceTag: 'true' | 'intermediate' = 'true',
): Promise<Map<string, SnapshotStatus>> {
  try {
    const found = await deps.snapshots.findByTags({
      [`${deps.tagPrefix}:case-id`]: caseId,
      [`${deps.tagPrefix}:evidence`]: evidenceTag,
    });
    const bySource = new Map<string, SnapshotStatus>();
    for (const s of found) {
      const source = s.tags[`${deps.tagPrefix}:source-snapshot`];
      if (source && (!bySource.has(source) || s.state !== 'error')) bySource.set(source, s);
    }
    return bySource;
  } catch (err) {
    if (isThrottlingError(err)) throw err;
    deps.log?.({ level: 'warn', message: 'lookup of existing evidence copies failed', error: errorName(err) });
    return new Map();
  }
}

export function copyState(state: string): ProgressState {
  if (state === 'completed') return 'completed';
  if (state === 'error' || state === 'recoverable') return 'error';
  return 'pending';
}

export function sizesOf(acquisition: AcquisitionResult | undefined): Map<string, number> {
  return new Map((acquisition?.snapshots ?? []).map((s) => [s.snapshotId, s.sizeGiB ?? 0]));
}

/** Builds the progress record shared by the copy and check steps. */
export function progressOf(
  copies: EvidenceCopy[],
  at: {
    attempt: number;
    firstCheckAt: string;
    checkedAt: string;
    sizes: Map<string, number>;
    elapsedSeconds?: number;
    progressPercent?: number;
  },
): EvidenceProgress {
  const pending = copies.filter((c) => c.state === 'pending');
  const allSettled = pending.length === 0;
  return {
    attempt: at.attempt,
    firstCheckAt: at.firstCheckAt,
    checkedAt: at.checkedAt,
    allSettled,
    nextCheckSeconds: allSettled
      ? 0
      : nextCheckSeconds({
          attempt: Math.max(1, at.attempt),
          elapsedSeconds: at.elapsedSeconds ?? 0,
          totalGiB: pending.reduce((sum, c) => sum + (at.sizes.get(c.sourceSnapshotId) ?? 0), 0),
          ...(at.progressPercent !== undefined ? { progressPercent: at.progressPercent } : {}),
        }),
    copies,
  };
}
