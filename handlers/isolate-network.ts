import { ec2AdaptersFor } from './adapters/ec2-side-adapters';
import { IamRoleAdapter } from './adapters/iam-role-adapter';
import { caseLog } from './adapters/logger';
import { Ec2InstanceProfileAdapter } from './adapters/instance-profile-adapter';
import { workloadClientsFor } from './adapters/responder-credentials';
import { containedTagKey } from './domain/authorizing-tags';
import { environment } from './config/env';
import { errorMessage, errorName, InvalidInput } from './domain/errors';
import type { AcquisitionState, ContainmentResult, PreIncidentState } from './domain/types';
import type { EntryDeps } from './describe-instance';
import { type EvidenceDeps, evidenceDeps } from './evidence-deps';
import { isolateNetwork } from './use-cases/isolate-network';
import { type QuarantineProfileDeps, quarantineInstanceProfile } from './use-cases/quarantine-profile';
import { recordContainment } from './use-cases/record-containment';
import { type RevokeIamPort, revokeCredentials } from './use-cases/revoke-credentials';

/**
 * "Isolate network": contain the network, then the credentials (deny policy on the instance's role, see
 * `revokeCredentials`; then, when the case asks for it, the no-permission quarantine instance profile, see
 * `quarantineInstanceProfile`), then write the custody records the path to containment deferred.
 *
 * If writing the records fails, the containment result is still returned (and so kept in the execution state):
 * losing the record of an isolation that did happen would be worse than a late record. The failure is reported in
 * `recording`, and the seal step writes the deferred records again (they are written once, marked in the case).
 */
export function createIsolateNetworkHandler(
  deps: EntryDeps & {
    evidence?: () => EvidenceDeps;
    iam?: () => RevokeIamPort;
    profiles?: () => QuarantineProfileDeps['profiles'];
  } = {},
) {
  return async (state: AcquisitionState): Promise<ContainmentResult & { recording?: { error: string } }> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.describe) throw new InvalidInput('describe', 'missing: the describe step has not run');
    const env = (deps.env ?? environment)();
    const clock = deps.clock ?? (() => new Date());
    const log = caseLog(state.case.caseId, 'isolateNetwork');
    const adapters = (deps.adaptersFor ?? ec2AdaptersFor)(state.case.target, { caseId: state.case.caseId });
    const network = await isolateNetwork(
      { securityGroups: adapters.securityGroups, clock, tagPrefix: env.TAG_PREFIX },
      { caseRef: state.case, describe: state.describe },
    );
    // Credentials right after the network: its failure is recorded in the result, never undoes the isolation.
    const mode = state.case.options?.revoke ?? env.DEFAULT_REVOKE_MODE;
    let revoked: Awaited<ReturnType<typeof revokeCredentials>>;
    try {
      revoked = await revokeCredentials(
        {
          iam: (deps.iam ?? (() => new IamRoleAdapter(workloadClientsFor(state.case.target, state.case.caseId).iam())))(),
          clock,
          containedTagKey: containedTagKey(env.TAG_PREFIX),
        },
        { caseRef: state.case, preIncident: state.describe.preIncident, mode },
      );
    } catch (err) {
      // revokeCredentials reports its own failures; this only catches a bug or a client that could not be built.
      const reason = `${errorName(err)}: ${errorMessage(err)}`;
      revoked = {
        credentials: { mode, status: 'failed', reason, policies: [] },
        actions: [
          {
            step: 'isolateNetwork',
            action: 'revoke-credentials',
            status: 'failed',
            performedAt: clock().toISOString(),
            request: { instanceId: state.case.target.instanceId, mode },
            result: { error: reason },
          },
        ],
      };
    }
    if (revoked.credentials.status === 'failed') {
      log({ level: 'error', message: 'credential containment failed', detail: revoked.credentials.reason });
    }
    // The quarantine profile after the deny policy (whatever became of it); same rule: recorded, never undoing.
    const quarantined = await quarantine(state.case, state.describe.preIncident, env, clock, deps.profiles);
    if (quarantined.quarantine?.status === 'failed') {
      log({ level: 'error', message: 'quarantine instance profile failed', detail: quarantined.quarantine.reason });
    }
    const containment: ContainmentResult = {
      ...network,
      actions: [...network.actions, ...revoked.actions, ...quarantined.actions],
      credentials: { ...revoked.credentials, ...(quarantined.quarantine ? { quarantine: quarantined.quarantine } : {}) },
    };
    try {
      await recordContainment((deps.evidence ?? evidenceDeps)(), state, containment);
      return containment;
    } catch (err) {
      log({ level: 'error', message: 'containment recorded late', error: errorName(err), detail: errorMessage(err) });
      return { ...containment, recording: { error: `${errorName(err)}: ${errorMessage(err)}` } };
    }
  };
}

/** The quarantine profile step of the containment, with the case option over the deployment default. */
async function quarantine(
  caseRef: AcquisitionState['case'],
  preIncident: PreIncidentState,
  env: ReturnType<typeof environment>,
  clock: () => Date,
  profiles?: () => QuarantineProfileDeps['profiles'],
): Promise<Awaited<ReturnType<typeof quarantineInstanceProfile>>> {
  const requested = caseRef.options?.quarantineProfile ?? env.DEFAULT_QUARANTINE_PROFILE === 'true';
  if (!requested) return { actions: [] };
  const target = caseRef.target;
  try {
    return await quarantineInstanceProfile(
      {
        profiles: (profiles ?? (() => new Ec2InstanceProfileAdapter(workloadClientsFor(target, caseRef.caseId).ec2(target.region))))(),
        clock,
      },
      {
        caseRef,
        preIncident,
        requested,
        ...(env.QUARANTINE_PROFILE_ARN ? { quarantineProfileArn: env.QUARANTINE_PROFILE_ARN } : {}),
      },
    );
  } catch (err) {
    // quarantineInstanceProfile reports its own failures; this only catches a client that could not be built.
    const reason = `${errorName(err)}: ${errorMessage(err)}`;
    return {
      quarantine: { status: 'failed', reason, quarantineProfileArn: env.QUARANTINE_PROFILE_ARN ?? '' },
      actions: [
        {
          step: 'isolateNetwork',
          action: 'quarantine-instance-profile',
          status: 'failed',
          performedAt: clock().toISOString(),
          request: { instanceId: target.instanceId },
          result: { error: reason },
        },
      ],
    };
  }
}

export const handler = createIsolateNetworkHandler();
