import type { MemoryPlan } from './memory-capture';
import type { MemoryState } from './memory-state';
import type { ManifestLogs, ManifestRotate, ManifestTimeline } from './scope-documents';
import type { SealedObject } from './sealed-object';
import type { WorkstationResult } from './workstation-result';

/**
 * The shapes that travel between the acquisition state machine's steps.
 *
 * Each Lambda step receives the whole execution state and returns only its own part, which the state machine
 * stores under the step's ResultPath (named in the comment of each type). Keeping the contracts in one file
 * lets the state machine construct, the handlers, the local runner and the tests agree on one vocabulary.
 * Pure types: no SDK imports here.
 */

export interface Target {
  accountId: string;
  region: string;
  instanceId: string;
}

export interface FindingSummary {
  id: string;
  type: string;
  severity: number;
  title?: string;
  /** GuardDuty's `service.count`: republished findings keep their id and raise this. */
  count?: number;
  updatedAt?: string;
  /** GuardDuty's `service.eventFirstSeen`: the scope's window starts a look-back before it. */
  firstSeenAt?: string;
  /** Access key ids the finding names (`resource.accessKeyDetails.accessKeyId`): part of the scoped principal. */
  accessKeyIds?: string[];
}

export type RevokeMode = 'instance' | 'role' | 'none';

/** Per-case options; a manual request may set them, findings get the deployment defaults. */
export interface CaseOptions {
  /** Launch the forensic workstation after sealing. */
  workstation: boolean;
  /** Credential containment mode. */
  revoke: RevokeMode;
  /**
   * Replace the instance profile with the deployment's no-permission quarantine profile. Absent: the deployment
   * default (`DEFAULT_QUARANTINE_PROFILE`, i.e. `forensics:quarantineProfile`).
   */
  quarantineProfile?: boolean;
  /**
   * Capture the instance's memory after containment (handlers/domain/memory-plan.ts). Absent: the deployment setting
   * (`forensics:memoryCapture`); a manual request may set false.
   */
  memory?: boolean;
  /**
   * A drill case (`forensics drill`, manual requests only): short explicit retention and a governance lock instead of
   * the evidence defaults, `[DRILL]` in notifications (handlers/domain/drill.ts). Absent for every real case.
   */
  drill?: DrillOptions;
}

/** What the normalizer makes of any accepted input, finding or manual request. */
export interface AcquisitionRequest {
  source: 'guardduty' | 'manual';
  target: Target;
  finding: FindingSummary;
  reason?: string;
  requestedBy?: string;
  options: CaseOptions;
}

export type Decision =
  | { decision: 'acquire'; target: Target; finding: FindingSummary }
  | { decision: 'ignore'; reason: string; finding: Partial<FindingSummary> };

export type CaseStatus = 'ACQUIRING' | 'CONTAINED' | 'FAILED' | 'RELEASED';

export interface CaseRef {
  caseId: string;
  target: Target;
  finding: FindingSummary;
  source: AcquisitionRequest['source'];
  reason?: string;
  requestedBy?: string;
  options: CaseOptions;
  openedAt: string;
  executionArn: string;
}

/** Output of "Triage, open case and describe instance" — becomes the whole state (`$`). */
export type TriageResult =
  | {
      outcome: 'ACQUIRE';
      case: CaseRef;
      rawEvent: unknown;
      /** The pre-incident state, described while the case was opened. */
      describe?: DescribeResult;
      /** The describe's error when it failed for good: the state machine records it ("Record failure"). */
      failure?: StepFailure;
    }
  | { outcome: 'DUPLICATE'; caseId: string; target: Target; finding: FindingSummary }
  | { outcome: 'IGNORED'; reason: string; finding: Partial<FindingSummary> };

/** One action a step took (or tried), later written as a custody record. */
export interface CustodyAction {
  step: string;
  action: string;
  status: 'succeeded' | 'failed' | 'skipped';
  performedAt: string;
  request: Record<string, unknown>;
  result: Record<string, unknown>;
}

export interface SecurityGroupRef {
  groupId: string;
  groupName?: string;
}

export interface NetworkInterfaceState {
  networkInterfaceId: string;
  deviceIndex: number;
  attachmentId?: string;
  vpcId: string;
  subnetId?: string;
  privateIpAddress?: string;
  publicIp?: string;
  groups: SecurityGroupRef[];
}

export interface VolumeState {
  volumeId: string;
  deviceName: string;
  sizeGiB: number;
  volumeType?: string;
  encrypted: boolean;
  kmsKeyId?: string;
  deleteOnTermination: boolean;
}

/** The instance as it was before we touched it: what `release` restores, and `instance.json` in the evidence. */
export interface PreIncidentState {
  capturedAt: string;
  target: Target;
  instanceState: string;
  instanceType?: string;
  imageId?: string;
  launchTime?: string;
  availabilityZone?: string;
  vpcId?: string;
  subnetId?: string;
  privateIpAddress?: string;
  publicIpAddress?: string;
  rootDeviceName?: string;
  tags: Record<string, string>;
  iamInstanceProfile?: { arn: string; id?: string; associationId?: string };
  networkInterfaces: NetworkInterfaceState[];
  volumes: VolumeState[];
  /** Instance-store (ephemeral) devices cannot be snapshotted: recorded so the gap is explicit. */
  instanceStoreDevices: { deviceName: string; virtualName?: string; note: string }[];
  terminationProtection?: boolean;
  shutdownBehavior?: string;
  autoScalingGroup?: { name: string; lifecycleState: string };
  targetGroups: { targetGroupArn: string; port?: number; availabilityZone?: string }[];
}

/** Per-VPC isolation groups, when they already exist (found by tag during the describe step). */
export interface IsolationGroups {
  vpcId: string;
  /** All-traffic group used first so existing connections become untracked. */
  transitionGroupId?: string;
  /** Rule-less group that finally cuts every flow. */
  isolationGroupId?: string;
}

/** The pre-incident state, described by triage beside the case lock — stored at `$.describe`. */
export interface DescribeResult {
  preIncident: PreIncidentState;
  isolationGroups: IsolationGroups[];
  /**
   * Instance-type target groups of the instance's VPCs whose registrations were not read (target health deferred):
   * "Preserve and snapshot" reads them beside CreateSnapshots and deregisters what it finds.
   */
  targetGroupCandidates?: string[];
  actions: CustodyAction[];
}

export interface SnapshotRef {
  volumeId: string;
  snapshotId: string;
  deviceName?: string;
  sizeGiB?: number;
  startTime?: string;
}

export interface PreservationOutcome {
  action: string;
  status: 'applied' | 'skipped' | 'failed';
  detail?: string;
  previous?: unknown;
  /**
   * For an instance attribute the step changed: whether reading it back showed the value set (false: it differed,
   * status `failed`, or could not be read, status `applied`). Absent for actions that are not read back.
   */
  verified?: boolean;
  /** What the read-back found (the attribute's value, or each device's DeleteOnTermination). */
  readBack?: unknown;
}

/** Output of "Preserve and snapshot" — stored at `$.acquisition`. */
export interface AcquisitionResult {
  snapshotRequestedAt: string;
  snapshots: SnapshotRef[];
  preservation: PreservationOutcome[];
  actions: CustodyAction[];
  /**
   * The instance-store devices the instance type reports, looked up beside CreateSnapshots when the block device
   * mappings showed none (`preIncidentOf` adds them to the pre-incident state). Absent when not looked up.
   */
  instanceStoreDevices?: PreIncidentState['instanceStoreDevices'];
  /** The instance's registrations in the deferred target groups (`preIncidentOf` adds them to the pre-incident state). */
  targetGroups?: PreIncidentState['targetGroups'];
  /**
   * Isolation groups made ready beside CreateSnapshots for the VPCs where the describe step found none (the first
   * case in a VPC); "Isolate network" uses them and records their creation. Absent when none was needed.
   */
  isolationGroups?: PreparedGroups[];
  /**
   * The VPC flow logs covering the instance's ENIs, their subnets and VPCs (DescribeFlowLogs), looked up beside
   * CreateSnapshots so that "Scope the incident" needs no EC2 client: it copies or reads their records. `failed`
   * carries the error, recorded there as a gap. Absent when the instance had no network interface recorded.
   */
  flowLogSources?: FlowLogSources;
  /** The memory capture's plan, made beside CreateSnapshots (handlers/domain/memory-plan.ts). */
  memoryPlan?: MemoryPlan;
}

/** A VPC flow log that covers one of the instance's ENIs (or their subnet or VPC), with a destination the scope reads. */
export interface FlowLogSource {
  flowLogId: string;
  resourceId: string;
  destinationType: 's3' | 'cloud-watch-logs';
  /** S3: the destination bucket ARN, with its optional prefix (`arn:aws:s3:::bucket/prefix`); CWL: the group ARN. */
  destination: string | null;
  logGroupName: string | null;
  /** S3 destination options: Hive-compatible folder names, per-hour folders (DescribeFlowLogs `DestinationOptions`). */
  hiveCompatible: boolean;
  perHour: boolean;
}

/** The flow log lookup of "Preserve and snapshot": what it found (`truncated`: more than it keeps), or its error. */
export type FlowLogSources =
  | { status: 'read'; sources: FlowLogSource[]; truncated?: boolean }
  | { status: 'failed'; error: string };

/** A transition or isolation group made ready, with the custody record of its creation or reuse. */
export interface EnsuredGroup {
  groupId: string;
  created: boolean;
  action?: CustodyAction;
}

/** Groups of a VPC made ready before "Isolate network" (absent role: not ready, that step makes it). */
export interface PreparedGroups {
  vpcId: string;
  transition?: EnsuredGroup;
  isolation?: EnsuredGroup;
}

export interface IsolatedInterface {
  networkInterfaceId: string;
  vpcId: string;
  originalGroupIds: string[];
  transitionGroupId: string;
  isolationGroupId: string;
  isolatedAt: string;
}

/** One deny policy put on the instance's role by credential containment (what `release` deletes). */
export interface AppliedDenyPolicy {
  roleName: string;
  roleArn: string;
  policyName: string;
  instanceArn: string;
  /** Mode `role`: sessions issued before this time are denied. */
  issuedBefore?: string;
  /** Previous state: whether an inline policy of that name already existed (a retried step), and its document. */
  previouslyExisted: boolean;
  previousDocument: string | null;
  appliedAt: string;
  /**
   * The role tag `<prefix>:contained` = case id, set after the policy: release may delete deny policies only on roles
   * carrying it (infra/constructs/tag-protection.ts), and removes it once no deny policy of this product is left.
   * Absent in cases contained before the tag existed (their release cannot delete the policy: done by hand).
   */
  containmentTag?: ContainmentTag;
  /**
   * The actions left out of the deny while memory is captured (the SSM agent's, MEMORY_AGENT_ACTIONS); the memory
   * capture replaces the document with the full deny when it ends. Absent: the full deny from the start.
   */
  exempt?: string[];
}

export interface ContainmentTag {
  key: string;
  value: string;
  /** The tag's value before (another case containing the same role), null when the role did not carry it. */
  previousValue: string | null;
  status: 'applied' | 'failed';
  error?: string;
}

/** Credential containment — part of `$.containment`. */
export interface CredentialContainment {
  mode: RevokeMode;
  status: 'applied' | 'skipped' | 'failed';
  /** Why it was skipped, or what failed. */
  reason?: string;
  instanceProfileArn?: string;
  roleName?: string;
  roleArn?: string;
  policies: AppliedDenyPolicy[];
  /** The quarantine instance profile (absent when the case did not ask for it). */
  quarantine?: ProfileQuarantine;
}

/** An instance profile association as EC2 reports it. */
export interface ProfileAssociation {
  associationId: string;
  instanceProfileArn: string;
}

/**
 * The instance's profile association replaced by the no-permission quarantine profile (what `release` undoes):
 * `previous` is what the instance carried (null: no profile, the quarantine profile was associated), `associationId`
 * the quarantine profile's association.
 */
export interface ProfileQuarantine {
  status: 'applied' | 'skipped' | 'failed';
  reason?: string;
  quarantineProfileArn?: string;
  previous?: ProfileAssociation | null;
  method?: 'replace' | 'associate';
  associationId?: string;
  appliedAt?: string;
}

/** Output of "Isolate network" — stored at `$.containment`. */
export interface ContainmentResult {
  startedAt: string;
  containedAt: string;
  groups: (Required<IsolationGroups> & { created: boolean })[];
  networkInterfaces: IsolatedInterface[];
  actions: CustodyAction[];
  /** Credential containment, run right after the network (absent in results from before it existed). */
  credentials?: CredentialContainment;
  /**
   * The read-backs of the instance attributes "Preserve and snapshot" changed, made right after the network
   * containment; each replaces the outcome of the same action in `$.acquisition.preservation` (`preservationOf`).
   */
  preservation?: PreservationOutcome[];
}

export type ProgressState = 'pending' | 'completed' | 'error' | 'timeout';

export interface VolumeProgress {
  volumeId: string;
  snapshotId: string;
  state: ProgressState;
  progress?: string;
  stateMessage?: string;
}

/** Output of "Check snapshot progress" — stored at `$.snapshotProgress`. Drives a bounded Wait loop. */
export interface SnapshotProgress {
  attempt: number;
  firstCheckAt: string;
  checkedAt: string;
  allSettled: boolean;
  nextCheckSeconds: number;
  volumes: VolumeProgress[];
  /** Progress (0–100) of the slowest item still pending at this check, when EC2 reported one. */
  slowestProgress?: number;
  /** Checks in a row at which that progress stood still (handlers/domain/poll-schedule.ts backs off on it). */
  stalledChecks?: number;
  /** The memory capture as advanced by this poll (starts from `$.memory`); the loop waits until it is done. */
  memory?: MemoryState;
}

export interface EvidenceCopy {
  volumeId: string;
  sourceSnapshotId: string;
  evidenceSnapshotId?: string;
  kmsKeyId: string;
  state: ProgressState | 'skipped';
  stateMessage?: string;
  requestedAt?: string;
  completedAt?: string;
  /**
   * Cross-account chain: where this volume's copy chain is. `workload-copy` (copy with the
   * evidence key in the workload account) → `shared` (that copy shared with the IR account) → `ir-copy` (IR-owned
   * copy requested) → `locked` (EBS Snapshot Lock applied or skipped, see `lock`). Absent in single-account mode
   * without locking (the original behaviour).
   */
  stage?: EvidenceStage;
  /** The account that owns the original snapshot (the workload account). */
  sourceAccountId?: string;
  /** Region of the original snapshot (the instance's region). */
  sourceRegion?: string;
  /** Region of the evidence snapshot: the home region (the evidence key's region). */
  evidenceRegion?: string;
  /** Cross-account only: the intermediate copy in the workload account, shared with the IR account. */
  intermediate?: IntermediateCopy;
  /** EBS Snapshot Lock on the evidence snapshot. */
  lock?: EvidenceLock;
}

export type EvidenceStage = 'workload-copy' | 'shared' | 'ir-copy' | 'locked';

export interface IntermediateCopy {
  snapshotId?: string;
  accountId: string;
  /** Where the intermediate copy is (the source region) and its key there (the evidence key or its replica). */
  region?: string;
  kmsKeyId?: string;
  requestedAt?: string;
  completedAt?: string;
  sharedWith?: string;
  sharedAt?: string;
  /** Removed only after the IR copy completed (REMOVE_INTERMEDIATE_COPIES); otherwise retained. */
  removal?: { status: 'removed' | 'retained' | 'failed'; at?: string; reason?: string };
}

export interface EvidenceLock {
  /** `locked`: LockSnapshot succeeded; `unsupported`: the API is not available here; `failed`: refused. */
  status: 'locked' | 'unsupported' | 'failed' | 'disabled';
  mode?: 'compliance' | 'governance';
  durationDays?: number;
  coolOffHours?: number;
  lockState?: string;
  lockedAt?: string;
  lockedUntil?: string;
  coolOffUntil?: string;
  reason?: string;
}

/** Output of "Copy snapshots with evidence key" and "Check evidence copies" — stored at `$.evidence`. */
export interface EvidenceProgress {
  attempt: number;
  firstCheckAt: string;
  checkedAt: string;
  allSettled: boolean;
  nextCheckSeconds: number;
  copies: EvidenceCopy[];
  /** Progress (0–100) of the slowest item still pending at this check, when EC2 reported one. */
  slowestProgress?: number;
  /** Checks in a row at which that progress stood still (handlers/domain/poll-schedule.ts backs off on it). */
  stalledChecks?: number;
}

export type { SealedObject } from './sealed-object';

/** Output of "Seal evidence" — stored at `$.seal`. */
export interface SealResult {
  manifest: { bucket: string; key: string; sha256: string; versionId?: string };
  objects: SealedObject[];
}

/**
 * Output of "Scope the incident" — stored at `$.scope`: the three manifest sections and how many objects
 * were written (they are listed, with their SHA-256, in the case's evidence index, which the manifest lists: never in
 * the execution state, whose payload is bounded).
 */
export interface ScopeResult {
  timeline: ManifestTimeline;
  logs: ManifestLogs;
  rotate: ManifestRotate;
  objects: number;
  scopedAt: string;
}

/** What a Catch puts at `$.failure`. */
export interface StepFailure {
  Error: string;
  Cause?: string;
}

/** What "Record containment" returns (`$.containmentRecord`). */
export interface ContainmentRecord {
  recordedAt: string;
  /** `written` by this invocation, or `already-written` by an earlier attempt of it (the mark in the case). */
  custody: 'written' | 'already-written';
  /** Custody records this invocation appended. */
  custodyRecords: number;
}

/** The execution state as it grows. Every field after the triage is optional: a failure can come anywhere. */
export interface AcquisitionState {
  outcome: 'ACQUIRE';
  case: CaseRef;
  /** The execution input exactly as received (carried by the triage result; written as `finding-<id>.json`). */
  rawEvent?: unknown;
  describe?: DescribeResult;
  acquisition?: AcquisitionResult;
  containment?: ContainmentResult;
  /** "Record containment": the path to containment's records written (`$.containmentRecord`). */
  containmentRecord?: ContainmentRecord;
  snapshotProgress?: SnapshotProgress;
  /** "Scope the incident"; its failure lands at `scopeFailure` and never fails the acquisition. */
  scope?: ScopeResult;
  scopeFailure?: StepFailure;
  /** "Start memory capture" (only when the plan is `capture`); its failure lands at `memoryFailure`, never fatal. */
  memory?: MemoryState;
  memoryFailure?: StepFailure;
  evidence?: EvidenceProgress;
  seal?: SealResult;
  /** "Launch forensic workstation" (only when `case.options.workstation`); its failure lands at `workstationFailure`. */
  workstation?: WorkstationResult;
  workstationFailure?: StepFailure;
  notification?: { notified: boolean; messageId?: string; error?: string };
  failure?: StepFailure;
}

/** A drill case's own settings (handlers/domain/drill.ts applies them). */
export interface DrillOptions {
  /** Days the drill's evidence objects and snapshots are kept (1–30). */
  retentionDays: number;
}
