import { Ec2WorkstationAdapter } from '../adapters/ec2-workstation-adapter';
import { ownClients } from '../adapters/aws-clients';
import { ec2Client } from '../adapters/clients/ec2';
import { environment } from '../config/env';
import { workstationEnvironment } from '../config/workstation-env';
import type { WorkstationDeps } from '../use-cases/launch-workstation';
import { evidenceDeps } from './evidence';

/**
 * Composition root of "Launch forensic workstation": the workstation is launched in the IR account's own region
 * (the forensic VPC's), from the launch template, subnets and group the deployment put in the environment.
 */
export function workstationDeps(fallbackRegion: string): WorkstationDeps {
  const env = environment();
  const ws = workstationEnvironment();
  const evidence = evidenceDeps();
  const region = process.env.AWS_REGION ?? fallbackRegion;
  return {
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
  };
}
