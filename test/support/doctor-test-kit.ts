import { parseConfig } from '../../infra/config';
import type { DoctorCheck } from '../../cli/doctor/check';
import type { Credentials, DoctorContext } from '../../cli/doctor/context';

/** A doctor context for unit tests: cdk.json defaults (overridable), one IR account, clients pointed nowhere. */
export const IR = '111122223333';
export const WORKLOAD = '444455556666';
export const HOME = 'eu-west-1';
export const KEY_ARN = `arn:aws:kms:${HOME}:${IR}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const MACHINE_ARN = `arn:aws:states:${HOME}:${IR}:stateMachine:ForensicAcquisition-abc`;
export const RELEASE_ARN = `arn:aws:states:${HOME}:${IR}:stateMachine:ForensicRelease-abc`;
export const TOPIC_ARN = `arn:aws:sns:${HOME}:${IR}:ForensicAcquisition-Topic`;
export const BUCKET = 'forensicacquisition-evidencebucket-1a2b3c';

export function doctorContext(overrides: Partial<DoctorContext> = {}, context: Record<string, unknown> = {}): DoctorContext {
  const config = parseConfig(context);
  return {
    emulator: false,
    config,
    stackName: config.stackName,
    homeRegion: HOME,
    irAccountId: IR,
    partition: 'aws',
    resources: {
      stateMachineArn: MACHINE_ARN,
      releaseStateMachineArn: RELEASE_ARN,
      bucket: BUCKET,
      table: 'ForensicAcquisition-CaseTable',
      keyArn: KEY_ARN,
      topicArn: TOPIC_ARN,
      workstationLaunchTemplateId: 'lt-0123456789abcdef0',
    },
    workloadAccounts: [IR],
    workloadRegions: [HOME],
    multiAccount: false,
    client: (region?: string, credentials?: Credentials) => ({
      region: region ?? HOME,
      credentials: credentials ?? { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    }),
    ...overrides,
  };
}

/** An error shaped as the SDK raises it: a name, and the HTTP status in `$metadata`. */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

export const accessDenied = (action: string) => awsError('AccessDeniedException', `User: arn:aws:sts::${IR}:assumed-role/ops/me is not authorized to perform: ${action}`, 403);

/** The one check of that name (fails the test when absent). */
export function named(checks: readonly DoctorCheck[], name: string): DoctorCheck {
  const found = checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${checks.map((c) => c.name).join(', ')}`);
  return found;
}
