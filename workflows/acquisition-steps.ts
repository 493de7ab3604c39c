/** One Lambda step: its handler, the state name a responder sees, and the function's timeout. */
export interface StepDefinition {
  readonly entry: string;
  readonly state: string;
  /**
   * Upper bound of one invocation. Steps that loop over every ENI, volume or snapshot of an instance (with the SDK's
   * own retries inside) get minutes; the pollers and bookkeeping steps get less, so a hung call is retried by the
   * state machine instead of holding the execution. Every Task's own timeout (TASK_TIMEOUT) is longer than these.
   */
  readonly timeoutSeconds: number;
}

/**
 * The acquisition workflow's Lambda steps: which handler implements each, the state name a responder sees
 * in the Step Functions console, and the function's timeout. Shared by the state machine construct, the IR stack (one function per step,
 * each with its own least-privilege role) and the local runner (which maps each Task to the same handler).
 */
export const ACQUISITION_STEPS = {
  // Opens the case and, beside it, describes the instance (two rounds of reads at most): one round trip, and one
  // state, fewer before containment.
  triage: { entry: 'handlers/triage.ts', state: 'Triage, open case and describe instance', timeoutSeconds: 90 },
  preserveAndSnapshot: { entry: 'handlers/preserve-and-snapshot.ts', state: 'Preserve and snapshot', timeoutSeconds: 180 },
  isolateNetwork: { entry: 'handlers/isolate-network.ts', state: 'Isolate network', timeoutSeconds: 180 },
  // After containment, off its path: opens the acquisition channel and creates the capture volume (when planned);
  // channel groups and the capture volume at once, then the interfaces moved: a few calls with retries.
  startMemoryCapture: { entry: 'handlers/start-memory-capture.ts', state: 'Start memory capture', timeoutSeconds: 120 },
  // Writes what the path to containment left in the state: custody records, raw finding, pre-incident state.
  recordContainment: { entry: 'handlers/record-containment.ts', state: 'Record containment', timeoutSeconds: 120 },
  // Above the scope's own time cap (forensics:scopeTimeCapSeconds, at most 720 s), with room to seal what it found.
  scopeIncident: { entry: 'handlers/scope-incident.ts', state: 'Scope the incident', timeoutSeconds: 14 * 60 },
  checkSnapshots: { entry: 'handlers/check-snapshots.ts', state: 'Check snapshot progress', timeoutSeconds: 60 },
  copyEvidence: { entry: 'handlers/copy-evidence.ts', state: 'Copy snapshots with evidence key', timeoutSeconds: 300 },
  checkEvidenceCopies: { entry: 'handlers/check-evidence-copies.ts', state: 'Check evidence copies', timeoutSeconds: 60 },
  sealEvidence: { entry: 'handlers/seal-evidence.ts', state: 'Seal evidence', timeoutSeconds: 180 },
  // Creates volumes, launches, and waits (bounded, 2 × 4 min) for the instance, the volumes and the attachments.
  launchWorkstation: { entry: 'handlers/launch-workstation.ts', state: 'Launch forensic workstation', timeoutSeconds: 600 },
  notify: { entry: 'handlers/notify.ts', state: 'Notify responders', timeoutSeconds: 30 },
  closeCase: { entry: 'handlers/close-case.ts', state: 'Close case', timeoutSeconds: 60 },
  recordFailure: { entry: 'handlers/record-failure.ts', state: 'Record failure', timeoutSeconds: 120 },
} as const satisfies Record<string, StepDefinition>;

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
