import type { Ec2SecurityGroupAdapter } from '../adapters/ec2-security-group-adapter';
import { errorMessage, errorName } from '../domain/errors';
import { MEMORY_AGENT_ACTIONS } from '../domain/memory-capture';
import type { Clock, Log } from '../domain/ports';
import type { AcquisitionState, CaseRef, ContainmentResult, CustodyAction, DescribeResult, RevokeMode } from '../domain/types';
import { isolateNetwork } from './isolate-network';
import { type QuarantineProfileDeps, quarantineInstanceProfile } from './quarantine-profile';
import { type RevokeIamPort, revokeCredentials } from './revoke-credentials';
import { type PreservationReadPort, verifyPreservation } from './verify-preservation';

export interface ContainInstanceDeps {
  securityGroups: Ec2SecurityGroupAdapter;
  /** Built on first use: a client that cannot be built (no responder role, say) is a recorded failure, not a throw. */
  iam: () => RevokeIamPort;
  profiles: () => QuarantineProfileDeps['profiles'];
  /** Reads back the preservation after containment (verify-preservation.ts). */
  instances: () => PreservationReadPort;
  /** Waits between read-backs (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  clock: Clock;
  log: Log;
  tagPrefix: string;
  containedTagKey: string;
  /** Deployment defaults; the case's options win. */
  defaultRevokeMode: RevokeMode;
  defaultQuarantineProfile: boolean;
  quarantineProfileArn?: string;
}

const STEP = 'isolateNetwork';

const unused = (): Promise<never> => Promise.reject(new Error('IAM is not used when the revoke mode is none'));
const NO_IAM: RevokeIamPort = { rolesOfInstanceProfile: unused, getRolePolicy: unused, putRolePolicy: unused, roleTag: unused, tagRole: unused };

/**
 * "Isolate network": contain the network (`isolateNetwork`), then the credentials (deny policy on the instance's
 * role, `revokeCredentials`; then, when the case asks for it, the no-permission quarantine instance profile,
 * `quarantineInstanceProfile`) and, beside the credentials, the read-back of the preservation the previous step
 * changed (`verifyPreservation`: independent of IAM, and off the path to containment).
 *
 * Only the network containment can fail the step. A credential or quarantine failure is recorded in the result and
 * never undoes the isolation. Nothing is written to the evidence store here: the result (every action, succeeded or
 * failed) goes into the execution state, and "Record containment" writes it to the custody log
 * (./record-containment.ts). So this step's function carries no evidence-store client and its role cannot write
 * evidence: the cold start on the path to containment pays only for EC2 and IAM.
 */
export async function containInstance(
  deps: ContainInstanceDeps,
  state: AcquisitionState & { describe: DescribeResult },
): Promise<ContainmentResult> {
  const caseRef = state.case;
  const network = await isolateNetwork(
    { securityGroups: deps.securityGroups, clock: deps.clock, tagPrefix: deps.tagPrefix },
    { caseRef, describe: state.describe, ...(state.acquisition?.isolationGroups ? { prepared: state.acquisition.isolationGroups } : {}) },
  );

  const mode = caseRef.options?.revoke ?? deps.defaultRevokeMode;
  // A planned memory capture keeps the SSM agent's own actions out of the deny until the capture ends.
  const exempt = state.acquisition?.memoryPlan?.decision === 'capture' ? MEMORY_AGENT_ACTIONS : undefined;
  const verifying = readBack(deps, state);
  const revoking = (async () =>
    revokeCredentials(
      // No IAM client at all when the case asks for no credential containment.
      { iam: mode === 'none' ? NO_IAM : deps.iam(), clock: deps.clock, containedTagKey: deps.containedTagKey },
      { caseRef, preIncident: state.describe.preIncident, mode, ...(exempt ? { exempt } : {}) },
    ))().catch((err: unknown) => {
    // revokeCredentials reports its own failures; this only catches a bug or a client that could not be built.
    const reason = describeError(err);
    return {
      credentials: { mode, status: 'failed' as const, reason, policies: [] },
      actions: [failedAction(deps.clock, 'revoke-credentials', { instanceId: caseRef.target.instanceId, mode }, reason)],
    };
  });
  const [revoked, verified] = await Promise.all([revoking, verifying]);
  if (revoked.credentials.status === 'failed') {
    deps.log({ level: 'error', message: 'credential containment failed', detail: revoked.credentials.reason });
  }

  // The quarantine profile after the deny policy (whatever became of it); same rule: recorded, never undoing.
  const quarantined = await quarantine(deps, caseRef, state.describe);
  if (quarantined.quarantine?.status === 'failed') {
    deps.log({ level: 'error', message: 'quarantine instance profile failed', detail: quarantined.quarantine.reason });
  }

  return {
    ...network,
    actions: [...network.actions, ...verified.actions, ...revoked.actions, ...quarantined.actions],
    credentials: { ...revoked.credentials, ...(quarantined.quarantine ? { quarantine: quarantined.quarantine } : {}) },
    ...(verified.preservation.length > 0 ? { preservation: verified.preservation } : {}),
  };
}

/** The read-back of the preservation; a client that cannot be built leaves the changes unverified, recorded. */
async function readBack(
  deps: ContainInstanceDeps,
  state: AcquisitionState & { describe: DescribeResult },
): Promise<Awaited<ReturnType<typeof verifyPreservation>>> {
  if (!state.acquisition) return { preservation: [], actions: [] };
  try {
    return await verifyPreservation(
      { instances: deps.instances(), clock: deps.clock, ...(deps.sleep ? { sleep: deps.sleep } : {}) },
      { caseRef: state.case, describe: state.describe, acquisition: state.acquisition },
    );
  } catch (err) {
    // verifyPreservation records its own read failures; this only catches a client that could not be built.
    const reason = describeError(err);
    return { preservation: [], actions: [failedAction(deps.clock, 'read-back-preservation', { instanceId: state.case.target.instanceId }, reason)] };
  }
}

/** The quarantine profile part of the containment, with the case option over the deployment default. */
async function quarantine(
  deps: ContainInstanceDeps,
  caseRef: CaseRef,
  describe: DescribeResult,
): Promise<Awaited<ReturnType<typeof quarantineInstanceProfile>>> {
  const requested = caseRef.options?.quarantineProfile ?? deps.defaultQuarantineProfile;
  if (!requested) return { actions: [] };
  try {
    return await quarantineInstanceProfile(
      { profiles: deps.profiles(), clock: deps.clock },
      {
        caseRef,
        preIncident: describe.preIncident,
        requested,
        ...(deps.quarantineProfileArn ? { quarantineProfileArn: deps.quarantineProfileArn } : {}),
      },
    );
  } catch (err) {
    // quarantineInstanceProfile reports its own failures; this only catches a client that could not be built.
    const reason = describeError(err);
    return {
      quarantine: { status: 'failed', reason, quarantineProfileArn: deps.quarantineProfileArn ?? '' },
      actions: [failedAction(deps.clock, 'quarantine-instance-profile', { instanceId: caseRef.target.instanceId }, reason)],
    };
  }
}

function describeError(err: unknown): string {
  return `${errorName(err)}: ${errorMessage(err)}`;
}

function failedAction(clock: Clock, action: string, request: Record<string, unknown>, reason: string): CustodyAction {
  return { step: STEP, action, status: 'failed', performedAt: clock().toISOString(), request, result: { error: reason } };
}
