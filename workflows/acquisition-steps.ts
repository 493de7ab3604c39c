/**
 * The acquisition workflow's Lambda steps: which handler implements each, and the state name a responder sees
 * in the Step Functions console. Shared by the state machine construct, the IR stack (one function per step,
 * each with its own least-privilege role) and the local runner (which maps each Task to the same handler).
 */
export const ACQUISITION_STEPS = {
  // Describes the instance while it opens the case: one round trip, and one state, fewer before containment.
  triage: { entry: 'handlers/triage.ts', state: 'Triage, open case and describe instance' },
  preserveAndSnapshot: { entry: 'handlers/preserve-and-snapshot.ts', state: 'Preserve and snapshot' },
  isolateNetwork: { entry: 'handlers/isolate-network.ts', state: 'Isolate network' },
  // After containment, off its path: opens the acquisition channel and creates the capture volume (when planned).
  startMemoryCapture: { entry: 'handlers/start-memory-capture.ts', state: 'Start memory capture' },
  scopeIncident: { entry: 'handlers/scope-incident.ts', state: 'Scope the incident' },
  checkSnapshots: { entry: 'handlers/check-snapshots.ts', state: 'Check snapshot progress' },
  copyEvidence: { entry: 'handlers/copy-evidence.ts', state: 'Copy snapshots with evidence key' },
  checkEvidenceCopies: { entry: 'handlers/check-evidence-copies.ts', state: 'Check evidence copies' },
  sealEvidence: { entry: 'handlers/seal-evidence.ts', state: 'Seal evidence' },
  launchWorkstation: { entry: 'handlers/launch-workstation.ts', state: 'Launch forensic workstation' },
  notify: { entry: 'handlers/notify.ts', state: 'Notify responders' },
  closeCase: { entry: 'handlers/close-case.ts', state: 'Close case' },
  recordFailure: { entry: 'handlers/record-failure.ts', state: 'Record failure' },
} as const;

export type AcquisitionStep = keyof typeof ACQUISITION_STEPS;

/**
 * Functions that serve the acquisition workflow without being states of it: the redrive of executions that failed
 * on a transient error (EventBridge rule on the execution status; infra/acquisition-recovery.ts). `state` is the
 * name it goes by in descriptions and logs.
 */
export const ACQUISITION_SUPPORT_FUNCTIONS = {
  redriveFailedAcquisition: { entry: 'handlers/redrive-failed-acquisition.ts', state: 'Redrive failed acquisition' },
} as const;

export type AcquisitionSupportFunction = keyof typeof ACQUISITION_SUPPORT_FUNCTIONS;

export const ACQUISITION_STEP_NAMES = Object.keys(ACQUISITION_STEPS) as AcquisitionStep[];

/** Terminal and control states, named here so tests and the runner do not repeat string literals. */
export const CONTROL_STATES = {
  outcome: 'Acquire, duplicate or ignore?',
  ignored: 'Finding ignored',
  duplicate: 'Appended to open case',
  rejected: 'Input rejected',
  snapshotsSettled: 'Snapshots settled?',
  waitSnapshots: 'Wait for snapshots',
  copiesSettled: 'Evidence copies settled?',
  waitCopies: 'Wait for evidence copies',
  workstationRequested: 'Workstation requested?',
  succeeded: 'Evidence sealed',
  failed: 'Acquisition failed',
  unrecorded: 'Failure not recorded',
} as const;

/** The wait loops' interval bounds: pure settings of the poll schedule (handlers/domain/poll-schedule.ts). */
export { MAX_POLL_SECONDS, MIN_POLL_SECONDS } from '../handlers/domain/poll-schedule';
