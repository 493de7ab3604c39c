import type { Ec2SnapshotAdapter, SnapshotStatus } from '../adapters/ec2-snapshot-adapter';
import {
  type RetryPolicy,
  isThrottlingError,
  mapSettledWithConcurrency,
  retryWithBackoff,
} from '../domain/concurrency';
import { errorMessage, errorName, errorSummary } from '../domain/errors';
import { regionOfKeyArn } from '../domain/evidence-regions';
import type { Clock, Log } from '../domain/ports';
import type { CaseRef, EvidenceCopy, EvidenceLock, Target } from '../domain/types';

/**
 * The cross-account evidence chain and the snapshot lock, ending in the HOME region, driven by the two existing loop steps
 * ("Copy snapshots with evidence key" requests the first copy; each "Check evidence copies" poll advances every
 * volume as far as it can go), so that the chain adds no state transition:
 *
 *   workload-copy  CopySnapshot in the workload account (responder role), in the instance's region, re-encrypted
 *        │         with the IR evidence CMK of that region (the key in the home region, its multi-Region replica
 *        │         elsewhere; the key policies let workload accounts use them only through EC2); State+StateMessage
 *   shared         ModifySnapshotAttribute createVolumePermission add <IR account> (responder role)
 *        │
 *   ir-copy        CopySnapshot issued in the HOME region by the IR account (the Lambda's own role) of the shared
 *        │         copy (SourceRegion = its region), encrypted with the home evidence key: an IR-owned snapshot in the
 *        │         home region the workload account cannot delete; waited on State+StateMessage
 *   locked         LockSnapshot (compliance by default) by the IR account; an unavailable API is recorded, not fatal;
 *                  then, optionally, the intermediate copy is removed (recorded either way)
 *
 * In single-account mode (target account = IR account) the first copy is already IR-owned: the chain is
 * copy → lock, the copy issued in the home region from the instance's region (one hop, home key). Original snapshots are never deleted: the only delete is of the recorded intermediate copy, after
 * the IR copy completed, and the adapter refuses any other id.
 */
/** What the copy steps need (the copy and check use cases and this chain). */
export interface CopyEvidenceDeps {
  snapshots: Ec2SnapshotAdapter;
  clock: Clock;
  tagPrefix: string;
  /** The evidence CMK every copy is encrypted with. */
  evidenceKeyArn: string;
  /** CopySnapshot requests in flight at once (EBS limits concurrent copies per account and region). */
  concurrency: number;
  /** Retries on limit and throttling errors inside the Lambda; tests shorten the delays. */
  retry?: Partial<RetryPolicy>;
  log?: Log;
  /**
   * The cross-account chain and the snapshot lock (see evidence-chain.ts). Absent: the
   * single-account copy without lock, as before. The handlers always pass it.
   */
  chain?: ChainSettings;
}

export interface ChainSettings {
  /** EC2 in the HOME region with the IR account's own credentials: the IR-owned evidence copy and its lock. */
  irSnapshots: Ec2SnapshotAdapter;
  irAccountId: string;
  /** The home region (where `irSnapshots` calls go). Default: the evidence key's region. */
  homeRegion?: string;
  /** Undefined: no lock is attempted and no `lock` is recorded. */
  lock?: { mode: 'compliance' | 'governance'; durationDays: number; coolOffHours: number };
  /** Delete the intermediate copy once the IR copy completed. Default: retained (and recorded as retained). */
  removeIntermediate: boolean;
}

/** Errors that mean "this API does not exist here" (older partitions, emulators): the lock is skipped. */
export const LOCK_UNSUPPORTED_ERRORS = [
  'InvalidAction',
  'UnsupportedOperation',
  'UnknownOperationException',
  'NotImplemented',
  'NotImplementedError',
  'InvalidRequest',
];

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 10_000 };

export function isCrossAccount(chain: ChainSettings | undefined, target: Pick<Target, 'accountId'>): chain is ChainSettings {
  return chain !== undefined && chain.irAccountId !== target.accountId;
}

/** Where the evidence snapshots of a case land: the chain's home region, else the evidence key's, else the target's. */
export function homeRegionFor(deps: { evidenceKeyArn: string; chain?: ChainSettings }, target: Pick<Target, 'region'>): string {
  return deps.chain?.homeRegion ?? regionOfKeyArn(deps.evidenceKeyArn) ?? target.region;
}

const keyArn = (id: string) => /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\//.test(id);
/** Same rule as for the IR copy: a completed copy not under the evidence key is not the evidence we promised. */
export function wrongKey(s: SnapshotStatus, evidenceKeyArn: string): string | undefined {
  const wrong =
    s.encrypted === false ||
    (s.kmsKeyId !== undefined && keyArn(s.kmsKeyId) && keyArn(evidenceKeyArn) && s.kmsKeyId !== evidenceKeyArn);
  return wrong ? `not encrypted with the evidence key (encrypted=${String(s.encrypted)}, key=${s.kmsKeyId ?? 'none'})` : undefined;
}

function withoutMessage(c: EvidenceCopy): EvidenceCopy {
  const { stateMessage: _ignored, ...rest } = c;
  return rest;
}

/**
 * One poll of the workload side: describe the intermediate copies in flight, share each completed one with the IR
 * account, and request the IR-owned copy of every shared one (bounded concurrency, limit errors retried and else
 * deferred to the next poll). Copies at other stages are returned unchanged.
 */
export async function advanceWorkloadSide(
  deps: CopyEvidenceDeps & { chain: ChainSettings },
  caseRef: CaseRef,
  copies: EvidenceCopy[],
  now: Date,
  graceSeconds: number,
): Promise<EvidenceCopy[]> {
  const at = now.toISOString();
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const { chain } = deps;

  // 1. Intermediate copies in flight (workload account, responder role).
  const inFlight = copies.filter((c) => c.state === 'pending' && c.stage === 'workload-copy' && c.intermediate?.snapshotId);
  const described = inFlight.length
    ? await deps.snapshots.describeSnapshots(inFlight.map((c) => c.intermediate?.snapshotId as string))
    : [];
  const byId = new Map(described.map((s) => [s.snapshotId, s]));

  const afterDescribe = copies.map((c): EvidenceCopy => {
    if (!inFlight.includes(c) || !c.intermediate?.snapshotId) return c;
    const s = byId.get(c.intermediate.snapshotId);
    if (!s) {
      const since = c.intermediate.requestedAt ? (now.getTime() - Date.parse(c.intermediate.requestedAt)) / 1000 : Infinity;
      return since < graceSeconds
        ? c
        : { ...c, state: 'error', stateMessage: `intermediate copy ${c.intermediate.snapshotId} not found in account ${c.intermediate.accountId}` };
    }
    if (s.state === 'error' || s.state === 'recoverable') {
      // A key the workload account may not use (key policy, disabled key) surfaces only here.
      return { ...c, state: 'error', stateMessage: `intermediate copy ${s.state}: ${s.stateMessage ?? 'no StateMessage'}` };
    }
    if (s.state !== 'completed') return c;
    // Judged against the key of ITS region (the evidence key's replica outside the home region). This is also the
    // guard that only a copy under that customer key is ever shared: a snapshot under the default aws/ebs key (or any
    // other key) cannot be shared with the IR account on AWS, and is not attempted.
    const keyProblem = wrongKey(s, c.intermediate.kmsKeyId ?? deps.evidenceKeyArn);
    if (keyProblem) return { ...c, state: 'error', stateMessage: `intermediate copy ${keyProblem.replace('the evidence key', 'the evidence key of its region')}` };
    return { ...withoutMessage(c), intermediate: { ...c.intermediate, completedAt: c.intermediate.completedAt ?? at } };
  });

  // 2. Share every completed intermediate copy with the IR account (responder role).
  const toShare = afterDescribe.filter((c) => c.state === 'pending' && c.stage === 'workload-copy' && c.intermediate?.completedAt);
  const shared = await mapSettledWithConcurrency(toShare, deps.concurrency, (c) =>
    retryWithBackoff(() => deps.snapshots.shareWith(c.intermediate?.snapshotId as string, chain.irAccountId), policy),
  );
  const afterShare = new Map<EvidenceCopy, EvidenceCopy>();
  toShare.forEach((c, i) => {
    const r = shared[i] as PromiseSettledResult<void>;
    const intermediate = c.intermediate as NonNullable<EvidenceCopy['intermediate']>;
    if (r.status === 'fulfilled') {
      afterShare.set(c, { ...c, stage: 'shared', intermediate: { ...intermediate, sharedWith: chain.irAccountId, sharedAt: at } });
    } else if (isThrottlingError(r.reason)) {
      afterShare.set(c, { ...c, stateMessage: `share deferred: ${errorName(r.reason)}` });
    } else {
      afterShare.set(c, { ...c, state: 'error', stateMessage: `ModifySnapshotAttribute (share with ${chain.irAccountId}): ${errorSummary(r.reason)}` });
    }
  });
  const afterSharing = afterDescribe.map((c) => afterShare.get(c) ?? c);

  // 3. Request the IR-owned copy of every shared copy (IR account, own credentials). Copies made by an earlier
  //    attempt are found by tag first, so a retried step does not copy twice.
  const toCopy = afterSharing.filter((c) => c.state === 'pending' && c.stage === 'shared' && !c.evidenceSnapshotId);
  if (toCopy.length === 0) return afterSharing;
  const existing = await findIrCopies(deps, caseRef.caseId);
  const tag = (name: string) => `${deps.tagPrefix}:${name}`;
  const home = homeRegionFor(deps, caseRef.target);
  const requested = await mapSettledWithConcurrency(toCopy, deps.concurrency, async (c) => {
    const found = existing.get(c.sourceSnapshotId);
    if (found) return found.snapshotId;
    return retryWithBackoff(
      () =>
        // Issued in the home region (irSnapshots) with SourceRegion = the shared copy's region: the home key.
        chain.irSnapshots.copySnapshot({
          sourceSnapshotId: c.intermediate?.snapshotId as string,
          sourceRegion: c.intermediate?.region ?? caseRef.target.region,
          kmsKeyId: deps.evidenceKeyArn,
          description: `Forensic evidence case ${caseRef.caseId}: ${c.sourceSnapshotId} (${c.volumeId}) of account ${caseRef.target.accountId}`.slice(0, 255),
          tags: {
            [tag('case-id')]: caseRef.caseId,
            [tag('source-account')]: caseRef.target.accountId,
            [tag('source-volume')]: c.volumeId,
            [tag('source-snapshot')]: c.sourceSnapshotId,
            [tag('intermediate-snapshot')]: c.intermediate?.snapshotId as string,
            [tag('evidence')]: 'true',
          },
        }),
      policy,
    );
  });
  const afterCopy = new Map<EvidenceCopy, EvidenceCopy>();
  toCopy.forEach((c, i) => {
    const r = requested[i] as PromiseSettledResult<string>;
    if (r.status === 'fulfilled') {
      afterCopy.set(c, { ...withoutMessage(c), stage: 'ir-copy', evidenceSnapshotId: r.value, evidenceRegion: home, requestedAt: deps.clock().toISOString() });
    } else if (isThrottlingError(r.reason)) {
      afterCopy.set(c, { ...c, stateMessage: `IR copy deferred: ${errorSummary(r.reason)}` });
    } else {
      deps.log?.({ level: 'error', message: 'IR CopySnapshot refused', sourceSnapshotId: c.sourceSnapshotId, error: errorName(r.reason) });
      afterCopy.set(c, { ...c, state: 'error', stateMessage: `CopySnapshot in the IR account: ${errorSummary(r.reason)}` });
    }
  });
  return afterSharing.map((c) => afterCopy.get(c) ?? c);
}

async function findIrCopies(deps: CopyEvidenceDeps & { chain: ChainSettings }, caseId: string): Promise<Map<string, SnapshotStatus>> {
  try {
    const found = await deps.chain.irSnapshots.findByTags({
      [`${deps.tagPrefix}:case-id`]: caseId,
      [`${deps.tagPrefix}:evidence`]: 'true',
    });
    const bySource = new Map<string, SnapshotStatus>();
    for (const s of found) {
      const source = s.tags[`${deps.tagPrefix}:source-snapshot`];
      if (source && s.state !== 'error') bySource.set(source, s);
    }
    return bySource;
  } catch (err) {
    if (isThrottlingError(err)) throw err;
    deps.log?.({ level: 'warn', message: 'lookup of existing IR copies failed', error: errorName(err) });
    return new Map();
  }
}

/**
 * For every evidence snapshot that completed and has no lock record yet: lock it (IR account), then, cross-account,
 * remove or retain the intermediate copy. Never fails the step: what happened is recorded on the copy.
 */
export async function finalizeCompleted(deps: CopyEvidenceDeps, caseRef: CaseRef, copies: EvidenceCopy[]): Promise<EvidenceCopy[]> {
  const chain = deps.chain;
  if (!chain) return copies;
  const cross = isCrossAccount(chain, caseRef.target);
  const todo = copies.filter((c) => c.state === 'completed' && c.evidenceSnapshotId && !c.lock && c.stage !== 'locked');
  if (todo.length === 0) return copies;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const done = await mapSettledWithConcurrency(todo, deps.concurrency, async (c): Promise<EvidenceCopy> => {
    const lock = await lockEvidence(chain, c.evidenceSnapshotId as string, deps.clock(), policy);
    let next: EvidenceCopy = { ...c, stage: 'locked', ...(lock ? { lock } : {}) };
    if (cross && c.intermediate?.snapshotId) next = await removeIntermediate(deps, next, policy);
    return next;
  });
  const byCopy = new Map(todo.map((c, i) => [c, done[i] as PromiseSettledResult<EvidenceCopy>]));
  return copies.map((c) => {
    const r = byCopy.get(c);
    if (!r) return c;
    return r.status === 'fulfilled' ? r.value : { ...c, stage: 'locked', lock: { status: 'failed', reason: errorSummary(r.reason) } };
  });
}

async function lockEvidence(chain: ChainSettings, snapshotId: string, now: Date, policy: RetryPolicy): Promise<EvidenceLock | undefined> {
  const settings = chain.lock;
  if (!settings) return undefined;
  const base = {
    mode: settings.mode,
    durationDays: settings.durationDays,
    ...(settings.mode === 'compliance' ? { coolOffHours: settings.coolOffHours } : {}),
  };
  try {
    const out = await retryWithBackoff(() => chain.irSnapshots.lock({ snapshotId, ...settings }), policy);
    const lockedAt = out.lockCreatedOn ?? now.toISOString();
    return {
      status: 'locked',
      ...base,
      lockedAt,
      lockedUntil: out.lockExpiresOn ?? new Date(Date.parse(lockedAt) + settings.durationDays * 86_400_000).toISOString(),
      ...(out.lockState ? { lockState: out.lockState } : {}),
      ...(out.coolOffPeriodExpiresOn ? { coolOffUntil: out.coolOffPeriodExpiresOn } : {}),
    };
  } catch (err) {
    const name = errorName(err);
    // An endpoint without the action (emulators answer an HTML 500 that the SDK cannot deserialize) counts too.
    const unsupported =
      LOCK_UNSUPPORTED_ERRORS.includes(name) ||
      /not (yet )?implemented|unsupported|unknown action|Deserialization error/i.test(errorMessage(err));
    return { status: unsupported ? 'unsupported' : 'failed', ...base, reason: `LockSnapshot: ${errorSummary(err)}`.slice(0, 500) };
  }
}

async function removeIntermediate(deps: CopyEvidenceDeps, c: EvidenceCopy, policy: RetryPolicy): Promise<EvidenceCopy> {
  const intermediate = c.intermediate as NonNullable<EvidenceCopy['intermediate']>;
  const at = deps.clock().toISOString();
  if (!deps.chain?.removeIntermediate) {
    return { ...c, intermediate: { ...intermediate, removal: { status: 'retained', reason: 'REMOVE_INTERMEDIATE_COPIES is not true' } } };
  }
  try {
    await retryWithBackoff(
      () =>
        deps.snapshots.deleteIntermediateCopy({
          intermediateSnapshotId: intermediate.snapshotId as string,
          originalSnapshotId: c.sourceSnapshotId,
          ...(c.evidenceSnapshotId ? { evidenceSnapshotId: c.evidenceSnapshotId } : {}),
        }),
      policy,
    );
    return { ...c, intermediate: { ...intermediate, removal: { status: 'removed', at } } };
  } catch (err) {
    return { ...c, intermediate: { ...intermediate, removal: { status: 'failed', at, reason: errorSummary(err) } } };
  }
}
