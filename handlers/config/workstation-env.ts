import * as z from 'zod/mini';
import { ConfigurationError } from '../domain/errors';

/**
 * The extra environment of the "Launch forensic workstation" step only (the other steps never see the forensic VPC):
 * the isolated subnets, the workstation security group and the launch template, all created by the IR stack
 * (infra/constructs/forensic-workstation.ts) and, locally, by cli/local/emulator-workstation.ts.
 */
export const workstationEnvironmentSchema = z.object({
  /** Comma-separated isolated subnets of the forensic VPC; the step picks one (and so the volumes' AZ). */
  WORKSTATION_SUBNET_IDS: z.string().check(z.regex(/^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$/, 'a comma-separated list of subnet ids')),
  /** The workstation security group (no ingress; egress to the VPC endpoints only). */
  WORKSTATION_SECURITY_GROUP_ID: z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'a security group id')),
  /** The hardened launch template (IMDSv2 only, hop limit 1, encrypted root, no key pair, instance profile). */
  WORKSTATION_LAUNCH_TEMPLATE_ID: z.string().check(z.regex(/^lt-[0-9a-f]+$/, 'a launch template id')),
});

export type WorkstationEnvironment = z.infer<typeof workstationEnvironmentSchema>;

export function workstationEnvironment(source: NodeJS.ProcessEnv = process.env): WorkstationEnvironment {
  const parsed = workstationEnvironmentSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`environment variable ${issue?.path.join('.') ?? 'WORKSTATION_*'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
