import type { SnapshotStatus } from '../adapters/ec2-snapshot-adapter';
import { isPollBudgetSpent, isTimedOut, nextCheckSeconds, slowestProgress, stalledChecks, untilCap, withinPollBudget } from '../domain/poll-schedule';
import type { AcquisitionResult, CaseRef, EvidenceCopy, EvidenceProgress } from '../domain/types';
import { NOT_FOUND_GRACE_SECONDS } from './check-snapshots';
import { type CopyEvidenceDeps, copyState, progressOf, requestCopies, sizesOf } from './copy-evidence';
import { advanceWorkloadSide, finalizeCompleted, isCrossAccount } from './evidence-chain';

export interface CheckEvidenceCopiesDeps extends CopyEvidenceDeps {
  maxWaitMinutes: number;
  /** Checks the state machine allows in this loop (its Choice rule; Task payload). Undefined: no count limit known. */
  maxPolls?: number;
}

const seconds = (from: string, to: Date) => Math.max(0, (to.getTime() - Date.parse(from)) / 1000);

/** Key ARNs compare reliably; an alias (or alias ARN) cannot be compared with the key id EC2 reports. */
const isKeyArn = (id: string) => /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\//.test(id);

/**
 * One poll of the evidence copies. A copy is judged on `State` AND `StateMessage`: a copy whose key cannot be used
 * (key disabled, grant or key policy missing) surfaces only as `error` with the reason in StateMessage. A completed
 * copy that is not encrypted with the evidence key is an error too: it would not be the evidence we promised.
 * Deferred copies (refused for account limits by an earlier step) are requested again; once the time cap has
 * passed (or at the last check the state machine's poll bound allows), copies still pending become `timeout`.
 * Settled copies are not described again.
 *
 * With `deps.chain` (the handlers always pass it) each poll also advances the cross-account chain and locks the
 * evidence snapshots that completed (see evidence-chain.ts): no extra state, no extra transition.
 */
export async function checkEvidenceCopies(
  deps: CheckEvidenceCopiesDeps,
  input: { caseRef: CaseRef; evidence: EvidenceProgress; acquisition?: AcquisitionResult },
): Promise<EvidenceProgress> {
  const now = deps.clock();
  const checkedAt = now.toISOString();
  const attempt = input.evidence.attempt + 1;
  const firstCheckAt = input.evidence.firstCheckAt;
  const timeCapReached = isTimedOut(seconds(firstCheckAt, now), deps.maxWaitMinutes);
  const timedOut = timeCapReached || isPollBudgetSpent(attempt, deps.maxPolls);
  const timeoutNote = timeCapReached ? `${deps.maxWaitMinutes} minutes` : `${attempt} checks (the most the execution's history allows)`;

  const inFlight = input.evidence.copies.filter((c) => c.state === 'pending' && c.evidenceSnapshotId);
  // The evidence snapshot is the IR-owned copy in the home region, described with the IR account's own credentials
  // there (with the chain, which the handlers always pass; without it, the original single-region side).
  const cross = isCrossAccount(deps.chain, input.caseRef.target);
  const evidenceSide = deps.chain ? deps.chain.irSnapshots : deps.snapshots;
  const [described, requested] = await Promise.all([
    inFlight.length
      ? evidenceSide.describeSnapshots(inFlight.map((c) => c.evidenceSnapshotId as string))
      : Promise.resolve<SnapshotStatus[]>([]),
    // Past the cap nothing new is requested: deferred copies time out with the rest.
    timedOut ? Promise.resolve(input.evidence.copies) : requestCopies(deps, input.caseRef, input.evidence.copies),
  ]);
  const byId = new Map(described.map((s) => [s.snapshotId, s]));

  const checked: EvidenceCopy[] = requested.map((c) => {
    if (c.state !== 'pending' || !c.evidenceSnapshotId || !inFlight.includes(c)) {
      return timedOut && c.state === 'pending' ? timeout(c, timeoutNote) : c;
    }
    const s = byId.get(c.evidenceSnapshotId);
    let next: EvidenceCopy;
    if (!s) {
      const since = c.requestedAt ? seconds(c.requestedAt, now) : Number.POSITIVE_INFINITY;
      next =
        since < NOT_FOUND_GRACE_SECONDS
          ? c
          : { ...c, state: 'error', stateMessage: 'evidence copy not found (DescribeSnapshots does not list it)' };
    } else {
      const state = copyState(s.state);
      next = { ...withoutMessage(c), state, ...(s.stateMessage ? { stateMessage: s.stateMessage } : {}) };
      if (state === 'error' && !s.stateMessage) next.stateMessage = `copy state ${s.state}`;
      if (state === 'completed') {
        const wrongKey =
          s.encrypted === false ||
          (s.kmsKeyId !== undefined && isKeyArn(s.kmsKeyId) && isKeyArn(deps.evidenceKeyArn) && s.kmsKeyId !== deps.evidenceKeyArn);
        next = wrongKey
          ? {
              ...next,
              state: 'error',
              stateMessage: `copy is not encrypted with the evidence key (encrypted=${String(s.encrypted)}, key=${s.kmsKeyId ?? 'none'})`,
            }
          : { ...next, completedAt: checkedAt };
      }
    }
    return timedOut && next.state === 'pending' ? timeout(next, timeoutNote) : next;
  });
  // The rest of the chain: workload-side copies → share → IR copy (cross-account), then lock what completed.
  const advanced =
    cross && deps.chain && !timedOut
      ? await advanceWorkloadSide({ ...deps, chain: deps.chain }, input.caseRef, checked, now, NOT_FOUND_GRACE_SECONDS)
      : checked;
  const copies = await finalizeCompleted(deps, input.caseRef, advanced);

  const sizes = sizesOf(input.acquisition);
  for (const s of described) if (s.sizeGiB !== undefined) sizes.set(s.snapshotId, s.sizeGiB);
  const slowest = slowestProgress(
    copies.filter((c) => c.state === 'pending' && c.evidenceSnapshotId).map((c) => byId.get(c.evidenceSnapshotId as string)?.progress),
  );
  const elapsed = seconds(firstCheckAt, now);
  const progress = progressOf(copies, { attempt, firstCheckAt, checkedAt, sizes, elapsedSeconds: elapsed, progressPercent: slowest });
  if (progress.allSettled) return progress;
  const stalled = stalledChecks(input.evidence, slowest);
  const pendingGiB = copies.filter((c) => c.state === 'pending').reduce((sum, c) => sum + (sizes.get(c.sourceSnapshotId) ?? 0), 0);
  const scheduled =
    stalled > 0
      ? nextCheckSeconds({ attempt, elapsedSeconds: elapsed, totalGiB: pendingGiB, progressPercent: slowest, stalledChecks: stalled })
      : progress.nextCheckSeconds;
  const budgeted =
    deps.maxPolls === undefined ? scheduled : withinPollBudget(scheduled, attempt, elapsed, { maxPolls: deps.maxPolls, maxWaitMinutes: deps.maxWaitMinutes });
  return {
    ...progress,
    nextCheckSeconds: untilCap(budgeted, elapsed, deps.maxWaitMinutes),
    ...(slowest !== undefined ? { slowestProgress: slowest, stalledChecks: stalled } : {}),
  };
}

function withoutMessage(c: EvidenceCopy): EvidenceCopy {
  const { stateMessage: _ignored, ...rest } = c;
  return rest;
}

function timeout(c: EvidenceCopy, after: string): EvidenceCopy {
  return { ...c, state: 'timeout', stateMessage: `still pending after ${after}${c.stateMessage ? ` (${c.stateMessage})` : ''}` };
}
