import { Ec2WorkstationAdapter } from './adapters/ec2-workstation-adapter';
import { ownClients } from './adapters/aws-clients';
import { ec2Client } from './adapters/clients/ec2';
import { environment } from './config/env';
import { workstationEnvironment } from './config/workstation-env';
import { snapshotLineage } from './domain/manifest';
import type { AcquisitionState } from './domain/types';
import type { WorkstationResult } from './domain/workstation';
import { evidenceDeps } from './composition/evidence';
import { type WorkstationDeps, launchWorkstation } from './use-cases/launch-workstation';

/**
 * "Launch forensic workstation" (after "Seal evidence", only when the case's `options.workstation` is true).
 * Payload: the whole execution state. Returns the WorkstationResult (at `$.workstation`). Any error is caught by the
 * state machine into "Notify responders" at `$.workstationFailure`: the evidence is sealed, the acquisition succeeds.
 */
export function createLaunchWorkstationHandler(deps: WorkstationDeps) {
  return (state: AcquisitionState): Promise<WorkstationResult> =>
    launchWorkstation(deps, {
      caseRef: state.case,
      snapshots: snapshotLineage(state),
      rootDeviceName: state.describe?.preIncident.rootDeviceName ?? null,
      requestedBy: 'acquisition workflow',
    });
}

export const handler = (state: AcquisitionState): Promise<WorkstationResult> => {
  const env = environment();
  const ws = workstationEnvironment();
  const evidence = evidenceDeps();
  const region = process.env.AWS_REGION ?? state.case.target.region;
  return createLaunchWorkstationHandler({
    ec2: new Ec2WorkstationAdapter(ec2Client(ownClients(), region)),
    cases: evidence.cases,
    store: evidence.store,
    custody: evidence.custody,
    clock: evidence.clock,
    config: {
      region,
      tagPrefix: env.TAG_PREFIX,
      evidenceKeyArn: env.EVIDENCE_KEY_ARN,
      subnetIds: ws.WORKSTATION_SUBNET_IDS.split(','),
      launchTemplateId: ws.WORKSTATION_LAUNCH_TEMPLATE_ID,
      securityGroupId: ws.WORKSTATION_SECURITY_GROUP_ID,
    },
  })(state);
};
