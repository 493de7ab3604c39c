import { ec2Client } from './adapters/clients/ec2';
import { iamClient } from './adapters/clients/iam';
import type { Ec2SideAdapters } from './adapters/ec2-side-adapters';
import { Ec2InstanceAdapter } from './adapters/ec2-instance-adapter';
import { Ec2SecurityGroupAdapter } from './adapters/ec2-security-group-adapter';
import { IamRoleAdapter } from './adapters/iam-role-adapter';
import { Ec2InstanceProfileAdapter } from './adapters/instance-profile-adapter';
import { caseLog } from './adapters/logger';
import { scopeFor } from './adapters/workload-scope';
import type { EntryDeps } from './composition/entry-deps';
import { environment } from './config/env';
import { containedTagKey } from './domain/authorizing-tags';
import { InvalidInput } from './domain/errors';
import type { AcquisitionState, ContainmentResult, Target } from './domain/types';
import { containInstance } from './use-cases/contain-instance';
import type { QuarantineProfileDeps } from './use-cases/quarantine-profile';
import type { RevokeIamPort } from './use-cases/revoke-credentials';

/**
 * "Isolate network": receives the whole execution state, returns `$.containment` (see `containInstance`). Writes no
 * evidence: "Record containment" does, next (handlers/record-containment.ts).
 */
export function createIsolateNetworkHandler(
  deps: EntryDeps & {
    adaptersFor?: (target: Target, via?: { caseId: string }) => Pick<Ec2SideAdapters, 'securityGroups' | 'instances'>;
    iam?: () => RevokeIamPort;
    profiles?: () => QuarantineProfileDeps['profiles'];
  } = {},
) {
  return async (state: AcquisitionState): Promise<ContainmentResult> => {
    if (!state?.case?.target) throw new InvalidInput('case.target', 'missing from the execution state');
    if (!state.describe) throw new InvalidInput('describe', 'missing: the describe step has not run');
    const env = (deps.env ?? environment)();
    const { target, caseId } = state.case;
    // In the target's account: the responder role's session for this case (or the own role in single-account mode).
    const scope = () => scopeFor(target, { caseId });
    const ec2 = deps.adaptersFor?.(target, { caseId });
    const client = () => ec2Client(scope(), target.region);
    return containInstance(
      {
        securityGroups: ec2 ? ec2.securityGroups : new Ec2SecurityGroupAdapter(client()),
        instances: () => (ec2 ? ec2.instances : new Ec2InstanceAdapter(client())),
        iam: deps.iam ?? (() => new IamRoleAdapter(iamClient(scope()))),
        profiles: deps.profiles ?? (() => new Ec2InstanceProfileAdapter(ec2Client(scope(), target.region))),
        clock: deps.clock ?? (() => new Date()),
        log: caseLog(caseId, 'isolateNetwork'),
        tagPrefix: env.TAG_PREFIX,
        containedTagKey: containedTagKey(env.TAG_PREFIX),
        defaultRevokeMode: env.DEFAULT_REVOKE_MODE,
        defaultQuarantineProfile: env.DEFAULT_QUARANTINE_PROFILE === 'true',
        ...(env.QUARANTINE_PROFILE_ARN ? { quarantineProfileArn: env.QUARANTINE_PROFILE_ARN } : {}),
      },
      { ...state, describe: state.describe },
    );
  };
}

export const handler = createIsolateNetworkHandler();
