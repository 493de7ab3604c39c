import { memorySection, snapshotLineage } from './manifest';
import type { ManifestMemory } from './memory-capture';
import { preservationOf } from './preservation';
import type { AcquisitionState, CustodyAction, StepFailure } from './types';

/**
 * Pure decisions of the evidence side: which custody records a step still owes, where the case's evidence objects
 * live, which step failed and what was already secured. No I/O, so every branch is unit-tested directly.
 */

/** Step names as they appear in custody records and in the case's failure (the handlers' file names). */
export const STEP = {
  triage: 'triage',
  describeInstance: 'describe-instance',
  preserveAndSnapshot: 'preserve-and-snapshot',
  isolateNetwork: 'isolate-network',
  scopeIncident: 'scope-incident',
  checkSnapshots: 'check-snapshots',
  copyEvidence: 'copy-evidence',
  checkEvidenceCopies: 'check-evidence-copies',
  sealEvidence: 'seal-evidence',
  notify: 'notify',
  closeCase: 'close-case',
  recordFailure: 'record-failure',
} as const;

export type StepName = (typeof STEP)[keyof typeof STEP];

export function instanceKey(caseId: string): string {
  return `cases/${caseId}/instance.json`;
}

/** Finding ids are hex for GuardDuty; anything else (manual ids) is made key-safe, never dropped. */
export function rawFindingKey(caseId: string, findingId: string): string {
  const safe = findingId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 200) || 'finding';
  return `cases/${caseId}/finding-${safe}.json`;
}

/**
 * The custody records that the path to containment deferred so that nothing slowed it down, in the order the
 * actions happened: case opened and finding received, the describe step's actions, the preservation and snapshot
 * actions, then the containment actions. Whatever part of the state exists is included (the failure recorder
 * calls this with a partial state).
 */
export function pendingCustodyActions(state: AcquisitionState): CustodyAction[] {
  const c = state.case;
  const opened: CustodyAction[] = [
    {
      step: STEP.triage,
      action: 'open-case',
      status: 'succeeded',
      performedAt: c.openedAt,
      request: {
        source: c.source,
        target: c.target,
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        ...(c.requestedBy !== undefined ? { requestedBy: c.requestedBy } : {}),
        options: c.options,
      },
      result: { caseId: c.caseId, executionArn: c.executionArn, status: 'ACQUIRING' },
    },
    {
      step: STEP.triage,
      action: 'receive-finding',
      status: 'succeeded',
      performedAt: c.openedAt,
      request: { finding: c.finding },
      result: { rawFindingKey: rawFindingKey(c.caseId, c.finding.id) },
    },
  ];
  return [
    ...opened,
    ...(state.describe?.actions ?? []),
    ...(state.acquisition?.actions ?? []),
    ...(state.containment?.actions ?? []),
  ];
}

function copyStatus(state: string): CustodyAction['status'] {
  if (state === 'completed') return 'succeeded';
  if (state === 'skipped') return 'skipped';
  return 'failed';
}

/**
 * Custody records of the wait loops, written at sealing: the final state of every original snapshot and of every
 * evidence copy. (The poll steps only return state; recording each poll would bloat the chain with no evidence
 * value.) A snapshot still `pending` when the wait cap ended is recorded as failed with its state.
 */
export function evidenceCustodyActions(state: AcquisitionState): CustodyAction[] {
  const actions: CustodyAction[] = [];
  const progress = state.snapshotProgress;
  if (progress) {
    for (const v of progress.volumes) {
      actions.push({
        step: STEP.checkSnapshots,
        action: 'snapshot-result',
        status: copyStatus(v.state),
        performedAt: progress.checkedAt,
        request: { volumeId: v.volumeId, snapshotId: v.snapshotId },
        result: {
          state: v.state,
          ...(v.progress !== undefined ? { progress: v.progress } : {}),
          ...(v.stateMessage !== undefined ? { stateMessage: v.stateMessage } : {}),
          checks: progress.attempt,
          firstCheckAt: progress.firstCheckAt,
        },
      });
    }
  }
  const evidence = state.evidence;
  if (evidence) {
    for (const copy of evidence.copies) {
      actions.push({
        step: STEP.copyEvidence,
        action: 'evidence-copy',
        status: copyStatus(copy.state),
        performedAt: copy.completedAt ?? evidence.checkedAt,
        request: {
          volumeId: copy.volumeId,
          sourceSnapshotId: copy.sourceSnapshotId,
          kmsKeyId: copy.kmsKeyId,
          ...(copy.requestedAt !== undefined ? { requestedAt: copy.requestedAt } : {}),
        },
        result: {
          state: copy.state,
          evidenceSnapshotId: copy.evidenceSnapshotId ?? null,
          ...(copy.stateMessage !== undefined ? { stateMessage: copy.stateMessage } : {}),
          checks: evidence.attempt,
        },
      });
      // Multi-account chain: the workload-side copy, its share with the IR account and what became of it.
      if (copy.intermediate) {
        const i = copy.intermediate;
        actions.push({
          step: STEP.checkEvidenceCopies,
          action: 'intermediate-copy-shared',
          status: i.sharedAt ? 'succeeded' : 'failed',
          performedAt: i.sharedAt ?? i.completedAt ?? evidence.checkedAt,
          request: { volumeId: copy.volumeId, sourceSnapshotId: copy.sourceSnapshotId, accountId: i.accountId, kmsKeyId: copy.kmsKeyId },
          result: {
            intermediateSnapshotId: i.snapshotId ?? null,
            sharedWith: i.sharedWith ?? null,
            requestedAt: i.requestedAt ?? null,
            completedAt: i.completedAt ?? null,
            sharedAt: i.sharedAt ?? null,
            removal: i.removal ?? { status: 'retained' },
          },
        });
      }
      // EBS Snapshot Lock: "unsupported" (API not available) is recorded as skipped, with the reason.
      if (copy.lock) {
        const l = copy.lock;
        actions.push({
          step: STEP.checkEvidenceCopies,
          action: 'evidence-lock',
          status: l.status === 'locked' ? 'succeeded' : l.status === 'failed' ? 'failed' : 'skipped',
          performedAt: l.lockedAt ?? evidence.checkedAt,
          request: {
            snapshotId: copy.evidenceSnapshotId ?? null,
            mode: l.mode ?? null,
            durationDays: l.durationDays ?? null,
            ...(l.coolOffHours !== undefined ? { coolOffHours: l.coolOffHours } : {}),
          },
          result: {
            status: l.status,
            ...(l.lockState ? { lockState: l.lockState } : {}),
            ...(l.lockedUntil ? { lockedUntil: l.lockedUntil } : {}),
            ...(l.coolOffUntil ? { coolOffUntil: l.coolOffUntil } : {}),
            ...(l.reason ? { reason: l.reason } : {}),
          },
        });
      }
    }
  }
  return actions;
}

export interface ParsedFailure {
  error: string;
  message: string;
  /** Lambda's `errorType` when the cause came from a Lambda function. */
  errorType?: string;
  trace?: string[];
}

/**
 * A Catch's `{Error, Cause}`. In AWS, a Lambda error's Cause is a JSON string `{errorType, errorMessage, trace}`;
 * the local runner (and Step Functions' own errors) give a plain message. Both are accepted.
 */
export function parseFailureCause(failure: StepFailure | undefined): ParsedFailure {
  const error = failure?.Error ?? 'UnknownError';
  const cause = failure?.Cause;
  if (cause === undefined || cause === '') return { error, message: error };
  const trimmed = cause.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { errorType?: unknown; errorMessage?: unknown; trace?: unknown };
      if (typeof parsed.errorMessage === 'string' || typeof parsed.errorType === 'string') {
        return {
          error,
          message: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause,
          ...(typeof parsed.errorType === 'string' ? { errorType: parsed.errorType } : {}),
          ...(Array.isArray(parsed.trace) ? { trace: parsed.trace.map(String) } : {}),
        };
      }
    } catch {
      // Not JSON after all: a plain message that starts with a brace.
    }
  }
  return { error, message: cause };
}

/**
 * Which step failed, from which results are present (each step stores its result only when it succeeds).
 * The copy and check-copies steps share `$.evidence`: with copies present and not all settled, the check failed;
 * settled (or capped), sealing failed.
 */
export function inferFailedStep(state: AcquisitionState): StepName {
  if (!state.describe) return STEP.describeInstance;
  if (!state.acquisition) return STEP.preserveAndSnapshot;
  if (!state.containment) return STEP.isolateNetwork;
  if (!state.snapshotProgress) return STEP.checkSnapshots;
  if (!state.evidence) return state.snapshotProgress.allSettled ? STEP.copyEvidence : STEP.checkSnapshots;
  if (!state.seal) return state.evidence.allSettled ? STEP.sealEvidence : STEP.checkEvidenceCopies;
  return STEP.closeCase;
}

/**
 * True when the workflow certainly changed nothing on the instance, so its lock can be released and a later
 * finding can start over: it failed while describing, or "Preserve and snapshot" failed because the instance is
 * gone. Any other failure of "Preserve and snapshot" may have applied part of the preservation (termination
 * protection, ASG standby, target group deregistration): a rerun would then describe the modified instance as its
 * pre-incident state and `release` would restore the wrong thing, so the lock stays for a responder.
 */
export function instanceUntouched(state: AcquisitionState, failure: Pick<ParsedFailure, 'error' | 'errorType'>): boolean {
  if (!state.describe) return true;
  if (!state.acquisition) {
    return failure.error === 'InstanceNotFound' || failure.errorType === 'InstanceNotFound';
  }
  return false;
}

export interface SecuredSummary {
  snapshots: { volumeId: string; snapshotId: string; state: string | null }[];
  evidenceSnapshots: { volumeId: string; evidenceSnapshotId: string; kmsKeyId: string | null; state: string | null }[];
  isolatedNetworkInterfaces: string[];
  isolationGroupIds: string[];
  preservationApplied: string[];
  manifest: { bucket: string; key: string; sha256: string } | null;
  /** The memory capture as far as it went (absent when none was planned). */
  memory?: ManifestMemory;
}

/** What was already secured when a step failed: what the failure record and notification tell responders. */
export function securedSummary(state: AcquisitionState): SecuredSummary {
  const lineage = snapshotLineage(state);
  return {
    snapshots: lineage.map((s) => ({ volumeId: s.volumeId, snapshotId: s.originalSnapshotId, state: s.originalState })),
    evidenceSnapshots: lineage.flatMap((s) =>
      s.evidenceSnapshotId
        ? [{ volumeId: s.volumeId, evidenceSnapshotId: s.evidenceSnapshotId, kmsKeyId: s.kmsKeyId, state: s.evidenceState }]
        : [],
    ),
    isolatedNetworkInterfaces: (state.containment?.networkInterfaces ?? []).map((n) => n.networkInterfaceId),
    isolationGroupIds: [...new Set((state.containment?.networkInterfaces ?? []).map((n) => n.isolationGroupId))],
    preservationApplied: preservationOf(state).filter((p) => p.status === 'applied').map((p) => p.action),
    manifest: state.seal
      ? { bucket: state.seal.manifest.bucket, key: state.seal.manifest.key, sha256: state.seal.manifest.sha256 }
      : null,
    ...memorySection(state),
  };
}
