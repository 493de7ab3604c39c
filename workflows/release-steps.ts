import type { StepDefinition } from './acquisition-steps';

/**
 * The release workflow's Lambda steps: which handler implements each, and the state name a responder sees in the
 * Step Functions console, and the function's timeout. Shared, like ACQUISITION_STEPS, by the state machine construct, the IR stack (one
 * function and one least-privilege role per step) and the local runner. Keys differ from the acquisition steps'
 * (the construct ids and role Sids are derived from them); state names may repeat, they live in another machine.
 */
export const RELEASE_STEPS = {
  validateRelease: { entry: 'handlers/validate-release.ts', state: 'Validate release request', timeoutSeconds: 30 },
  // Loops over the ENIs and target groups.
  releaseContainment: { entry: 'handlers/release-containment.ts', state: 'Release containment', timeoutSeconds: 180 },
  notifyRelease: { entry: 'handlers/notify-release.ts', state: 'Notify responders', timeoutSeconds: 30 },
  recordReleaseFailure: { entry: 'handlers/record-release-failure.ts', state: 'Record release failure', timeoutSeconds: 120 },
} as const satisfies Record<string, StepDefinition>;

export type ReleaseStep = keyof typeof RELEASE_STEPS;

export const RELEASE_STEP_NAMES = Object.keys(RELEASE_STEPS) as ReleaseStep[];

/** Terminal states of the release machine. */
export const RELEASE_CONTROL_STATES = {
  refused: 'Release refused',
  released: 'Containment released',
  failed: 'Release failed',
  unrecorded: 'Release failure not recorded',
} as const;

/** Upper bound of one release execution: a handful of API calls per ENI and target group, with retries. */
export const RELEASE_TIMEOUT_MINUTES = 30;
