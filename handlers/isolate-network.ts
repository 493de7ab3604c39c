import { ec2AdaptersFor, jsonLog } from './adapters/ec2-side-adapters';
import { IamRoleAdapter } from './adapters/iam-role-adapter';
import { workloadClientsFor } from './adapters/responder-credentials';
import { environment } from './config/env';
import { errorMessage, errorName, InvalidInput } from './domain/errors';
import type { AcquisitionState, ContainmentResult } from './domain/types';
import type { EntryDeps } from './describe-instance';
import { type EvidenceDeps, evidenceDeps } from './evidence-deps';
import { isolateNetwork } from './use-cases/isolate-network';
import { recordContainment } from './use-cases/record-containment';
import { type RevokeIamPort, revokeCredentials } from './use-cases/revoke-credentials';

/**
 * "Isolate network": contain the network, then the credentials (deny policy on the instance's role, see
 * `revokeCredentials`), then write the custody records the path to containment deferred.
 *
 * If writing the records fails, the containment result is still returned (and so kept in the execution state):
 * losing the record of an isolation that did happen would be worse than a late record. The failure is reported in
 * `recording`, and the seal step writes the deferred records again (they are written once, marked in the case).
 */
export function createIsolateNetworkHandler(
  deps: EntryDeps & { evidence?: () => EvidenceDeps; iam?: () => RevokeIamPort } = {},
) {
  return async (state: AcquisitionState): Promise<ContainmentResult & { recording?: { error: string } }> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.describe) throw new InvalidInput('describe', 'missing: the describe step has not run');
    const env = (deps.env ?? environment)();
    const clock = deps.clock ?? (() => new Date());
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
        { iam: (deps.iam ?? (() => new IamRoleAdapter(workloadClientsFor(state.case.target, state.case.caseId).iam())))(), clock },
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
      jsonLog({ level: 'ERROR', message: 'credential containment failed', caseId: state.case.caseId, detail: revoked.credentials.reason });
    }
    const containment: ContainmentResult = {
      ...network,
      actions: [...network.actions, ...revoked.actions],
      credentials: revoked.credentials,
    };
    try {
      await recordContainment((deps.evidence ?? evidenceDeps)(), state, containment);
      return containment;
    } catch (err) {
      jsonLog({ level: 'ERROR', message: 'containment recorded late', caseId: state.case.caseId, error: errorName(err), detail: errorMessage(err) });
      return { ...containment, recording: { error: `${errorName(err)}: ${errorMessage(err)}` } };
    }
  };
}

export const handler = createIsolateNetworkHandler();
