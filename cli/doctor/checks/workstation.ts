import { DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client, type Image, type LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import type { DoctorContext } from '../context';

/**
 * The forensic workstation can be launched (`workstation.launch-template`: the stack's launch template exists and its
 * AMI is available; `workstation.ami-parameter`: forensics:workstationAmiParameter still resolves to an AMI id, which
 * the next deployment will use).
 */

export interface WorkstationFacts {
  launchTemplateId?: string;
  version?: Outcome<LaunchTemplateVersion | undefined>;
  image?: Outcome<Image | undefined>;
  parameterName: string;
  parameter: Outcome<string | undefined>;
}

export async function gatherWorkstation(ctx: DoctorContext): Promise<WorkstationFacts> {
  const ec2 = new EC2Client(ctx.client());
  const ssm = new SSMClient(ctx.client());
  const parameterName = ctx.config.workstationAmiParameter;
  const launchTemplateId = ctx.resources.workstationLaunchTemplateId;
  try {
    const parameter = await attempt('ssm:GetParameter', async () => (await ssm.send(new GetParameterCommand({ Name: parameterName }))).Parameter?.Value);
    if (!launchTemplateId) return { parameterName, parameter };
    const version = await attempt('ec2:DescribeLaunchTemplateVersions', async () =>
      (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: ['$Default'] }))).LaunchTemplateVersions?.[0],
    );
    const imageId = version.ok ? version.value?.LaunchTemplateData?.ImageId : undefined;
    const image = imageId ? await attempt('ec2:DescribeImages', async () => (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0]) : undefined;
    return { launchTemplateId, version, ...(image ? { image } : {}), parameterName, parameter };
  } finally {
    ec2.destroy();
    ssm.destroy();
  }
}

export function evaluateWorkstation(facts: WorkstationFacts, emulator: boolean): DoctorCheck[] {
  const lt = 'workstation.launch-template';
  let template: DoctorCheck;
  if (!facts.launchTemplateId || !facts.version) template = fail(lt, 'the workstation launch template is unknown: no WorkstationLaunchTemplateId stack output — deploy the stack');
  else if (!facts.version.ok) {
    template = facts.version.error.notFound
      ? fail(lt, `launch template ${facts.launchTemplateId} does not exist — deploy the stack`)
      : cannotRun(lt, facts.version.error, `launch template ${facts.launchTemplateId}`, emulator);
  } else if (!facts.version.value) template = fail(lt, `launch template ${facts.launchTemplateId} does not exist — deploy the stack`);
  else {
    const imageId = facts.version.value.LaunchTemplateData?.ImageId;
    if (!imageId) template = fail(lt, `launch template ${facts.launchTemplateId} names no AMI — deploy the stack`);
    else if (!facts.image?.ok) {
      template = facts.image ? cannotRun(lt, facts.image.error, `AMI ${imageId}`, emulator) : fail(lt, `AMI ${imageId} not read`);
    } else if (facts.image.value?.State !== 'available') {
      template = fail(lt, `launch template ${facts.launchTemplateId} uses AMI ${imageId}, which is ${facts.image.value?.State ?? 'gone'} — deploy the stack again to resolve forensics:workstationAmiParameter anew`);
    } else {
      template = pass(lt, `launch template ${facts.launchTemplateId} (version ${facts.version.value.VersionNumber ?? '?'}) launches ${imageId} (${facts.image.value.Name ?? 'unnamed'}), available`);
    }
  }
  const pn = 'workstation.ami-parameter';
  let parameter: DoctorCheck;
  if (!facts.parameter.ok) {
    parameter = facts.parameter.error.notFound
      ? fail(pn, `SSM parameter ${facts.parameterName} does not exist: the next deployment fails — fix forensics:workstationAmiParameter`)
      : cannotRun(pn, facts.parameter.error, `SSM parameter ${facts.parameterName}`, emulator);
  } else if (!facts.parameter.value || !/^ami-[0-9a-f]+$/.test(facts.parameter.value)) {
    parameter = fail(pn, `SSM parameter ${facts.parameterName} holds "${facts.parameter.value ?? ''}", not an AMI id — fix forensics:workstationAmiParameter`);
  } else parameter = pass(pn, `${facts.parameterName} resolves to ${facts.parameter.value}`);
  return [template, parameter];
}
