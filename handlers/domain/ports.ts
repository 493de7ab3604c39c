import type {
  CaseRef,
  CaseStatus,
  CustodyAction,
  FindingSummary,
  SealedObject,
  Target,
} from './types';

import type { ObjectRetention } from './drill';

/**
 * The ports the use cases depend on. Adapters in `handlers/adapters/` implement them with the AWS SDK; unit tests
 * implement them with aws-sdk-client-mock behind the real adapters, or with plain fakes for pure use-case tests.
 */

/** Result of trying to open a case for a target. */
export type OpenCaseResult =
  | { opened: true; caseRef: CaseRef }
  | { opened: false; existingCaseId: string };

/** A case as stored in the case table. */
export interface CaseRecord {
  caseId: string;
  status: CaseStatus;
  target: Target;
  source: CaseRef['source'];
  openedAt: string;
  updatedAt: string;
  executionArn: string;
  reason?: string;
  requestedBy?: string;
  /** Every finding that pointed at this instance while the case was open, first one first. */
  findings: FindingSummary[];
  /** Custody chain head: sequence number and SHA-256 of the last record written. */
  custodySeq: number;
  custodyHeadSha256: string;
  /** Key and hash of every custody record, in order (what the manifest lists). */
  custody: SealedObject[];
  /**
   * Key and hash of every other evidence object of the case (raw findings, instance.json), in the order written.
   * Optional so that cases opened before it existed still read; the manifest lists these after the custody chain.
   */
  evidence?: SealedObject[];
  /** Step results kept for `release` and for the CLI (pre-incident state summary, containment, evidence). */
  details: Record<string, unknown>;
  failure?: { step: string; error: string; cause?: string; at: string };
}

export interface CaseTable {
  /**
   * Opens a case with a conditional write on the target's lock item. When the target already has an open case,
   * nothing is created and the existing case id is returned.
   */
  openCase(caseRef: CaseRef): Promise<OpenCaseResult>;
  /** Appends a finding to an open case (idempotent on finding id + count). */
  appendFinding(caseId: string, finding: FindingSummary, at: string): Promise<void>;
  getCase(caseId: string): Promise<CaseRecord | undefined>;
  /** Merges fields into the case record (`details` keys are merged one level deep). */
  updateCase(
    caseId: string,
    patch: { status?: CaseStatus; details?: Record<string, unknown>; failure?: CaseRecord['failure'] },
  ): Promise<void>;
  /**
   * Moves the custody chain head from (expectedSeq, expectedSha) to the new head, appending the records' index.
   * Throws `CustodyConflict` when the head moved.
   */
  advanceCustody(
    caseId: string,
    expected: { seq: number; sha256: string },
    appended: SealedObject[],
    newHead: { seq: number; sha256: string },
  ): Promise<void>;
  /**
   * Appends evidence objects other than custody records (raw findings, instance.json) to the case's index.
   * Optional in the port for now; the evidence use cases require it (see `EvidenceCaseTable`).
   */
  appendEvidence?(caseId: string, objects: SealedObject[]): Promise<void>;
  /**
   * Deletes the target's lock when it is held by `caseId` (never another case's lock), so a later finding can open
   * a new case. Returns false when the lock was absent or held by another case. Optional in the port for now.
   */
  releaseLock?(target: Target, caseId: string): Promise<boolean>;
}

/** The case table as the evidence use cases need it: with the evidence index and lock release. */
export type EvidenceCaseTable = CaseTable & Required<Pick<CaseTable, 'appendEvidence' | 'releaseLock'>>;

/** The evidence bucket: every object is written once, with a SHA-256 checksum and a legal hold. */
export interface EvidenceStore {
  readonly bucket: string;
  /**
   * Writes `body` at `key` with checksum and legal hold; returns its hash and version id. `retention`: an explicit
   * Object Lock retention for this object (drill cases, handlers/domain/drill.ts); absent: the bucket's default.
   */
  put(key: string, body: string, contentType?: string, retention?: ObjectRetention): Promise<SealedObject>;
  /** True when an object already exists at `key` (evidence is never overwritten). */
  exists(key: string): Promise<boolean>;
}

/** Appends custody records (hash chained) for a case. */
export interface CustodyLog {
  append(
    caseRef: Pick<CaseRef, 'caseId' | 'executionArn'>,
    actions: CustodyAction[],
  ): Promise<SealedObject[]>;
}

export interface Notifier {
  publish(subject: string, message: string, attributes?: Record<string, string>): Promise<{ messageId?: string }>;
}

/** Wall clock, injectable so tests are deterministic. */
export type Clock = () => Date;

/**
 * One structured log line of a use case: its level (which decides the console method, and so the level CloudWatch
 * and Lambda's log-level filter see), a message, and details. The entry adds the case id (handlers/adapters/logger.ts).
 */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  [detail: string]: unknown;
}

export type Log = (entry: LogEntry) => void;
