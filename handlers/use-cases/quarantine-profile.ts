import { errorSummary } from '../domain/errors';
import type { Clock } from '../domain/ports';
import type { CaseRef, CustodyAction, PreIncidentState, ProfileAssociation, ProfileQuarantine } from '../domain/types';

/** The EC2 calls on the instance's profile association (implemented by `Ec2InstanceProfileAdapter`). */
export interface InstanceProfilePort {
  currentAssociation(instanceId: string): Promise<ProfileAssociation | undefined>;
  replace(associationId: string, instanceProfileArn: string): Promise<{ associationId: string }>;
  associate(instanceId: string, instanceProfileArn: string): Promise<{ associationId: string }>;
  disassociate(associationId: string): Promise<void>;
}

export interface QuarantineProfileDeps {
  profiles: Pick<InstanceProfilePort, 'currentAssociation' | 'replace' | 'associate'>;
  clock: Clock;
}

/** Custody step name: the quarantine profile is part of the containment step, after the deny policy. */
const STEP = 'isolateNetwork';
const ACTION = 'quarantine-instance-profile';

/** The account id of an ARN, if it is one. */
const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1];

/**
 * Replaces the instance's profile association with the deployment's no-permission quarantine profile
 * (`ReplaceIamInstanceProfileAssociation`; `AssociateIamInstanceProfile` when the instance has none), so that the
 * credentials the instance fetches from now on carry no permission at all. The credentials it already holds stay
 * valid until they expire: the deny policy (`revokeCredentials`) is what stops those.
 *
 * The association replaced is the one EC2 reports now (normally the recorded pre-incident one); it is recorded as
 * `previous`, which release restores. Never throws: a failure is returned with status `failed`, and the network
 * containment that already happened stands. Nothing is done (and nothing recorded) when the case did not ask for it.
 */
export async function quarantineInstanceProfile(
  deps: QuarantineProfileDeps,
  input: { caseRef: CaseRef; preIncident: PreIncidentState; requested: boolean; quarantineProfileArn?: string },
): Promise<{ quarantine?: ProfileQuarantine; actions: CustodyAction[] }> {
  const { caseRef, preIncident, requested, quarantineProfileArn } = input;
  if (!requested) return { actions: [] };
  const instanceId = caseRef.target.instanceId;
  const now = () => deps.clock().toISOString();
  const base = { instanceId, ...(quarantineProfileArn ? { quarantineProfileArn } : {}) };
  const pre = preIncident.iamInstanceProfile;
  const recordedBefore = pre ? { instanceProfileArn: pre.arn, ...(pre.associationId ? { associationId: pre.associationId } : {}) } : null;

  const skipped = (reason: string) => ({
    quarantine: { status: 'skipped' as const, reason, ...(quarantineProfileArn ? { quarantineProfileArn } : {}) },
    actions: [{ step: STEP, action: ACTION, status: 'skipped' as const, performedAt: now(), request: base, result: { reason } }],
  });
  const failed = (err: unknown, request: Record<string, unknown>, previous?: ProfileAssociation | null) => {
    const reason = errorSummary(err);
    return {
      quarantine: { status: 'failed' as const, reason, quarantineProfileArn: quarantineProfileArn ?? '', ...(previous !== undefined ? { previous } : {}) },
      actions: [{ step: STEP, action: ACTION, status: 'failed' as const, performedAt: now(), request: { ...base, ...request }, result: { error: reason } }],
    };
  };

  if (!quarantineProfileArn) return skipped('no quarantine instance profile is deployed (forensics:quarantineProfile is false)');
  const profileAccount = accountOf(quarantineProfileArn);
  if (profileAccount !== caseRef.target.accountId) {
    return skipped(
      `the quarantine profile is in account ${profileAccount ?? '?'} and the instance in ${caseRef.target.accountId}: ` +
        'an instance can only use a profile of its own account (the quarantine profile is single-account only for now)',
    );
  }

  let current: ProfileAssociation | undefined;
  try {
    current = await deps.profiles.currentAssociation(instanceId);
  } catch (err) {
    return failed(err, { call: 'DescribeIamInstanceProfileAssociations' });
  }

  if (current?.instanceProfileArn === quarantineProfileArn) {
    // A retried step: the profile is already the quarantine one; what it replaced is the pre-incident profile.
    const previous = recordedBefore?.associationId ? { associationId: recordedBefore.associationId, instanceProfileArn: recordedBefore.instanceProfileArn } : null;
    const appliedAt = now();
    return {
      quarantine: { status: 'applied', quarantineProfileArn, previous, associationId: current.associationId, appliedAt, reason: 'the instance already carried the quarantine profile (a retried step)' },
      actions: [
        { step: STEP, action: ACTION, status: 'succeeded', performedAt: appliedAt, request: base, result: { previous, associationId: current.associationId, alreadyQuarantined: true } },
      ],
    };
  }

  const method = current ? ('replace' as const) : ('associate' as const);
  const request = {
    ...base,
    method,
    ...(current ? { associationId: current.associationId } : {}),
    // What describe recorded before the incident, in case it differs from what EC2 reports now.
    recordedBefore,
  };
  let associationId: string;
  try {
    associationId = current
      ? (await deps.profiles.replace(current.associationId, quarantineProfileArn)).associationId
      : (await deps.profiles.associate(instanceId, quarantineProfileArn)).associationId;
  } catch (err) {
    return failed(err, request, current ?? null);
  }
  const appliedAt = now();
  const previous = current ?? null;
  return {
    quarantine: { status: 'applied', quarantineProfileArn, previous, method, associationId, appliedAt },
    actions: [
      {
        step: STEP,
        action: ACTION,
        status: 'succeeded',
        performedAt: appliedAt,
        request,
        result: {
          previous,
          associationId,
          effect: 'new credentials delivered to the instance carry no permission; credentials it already holds are stopped by the deny policy',
        },
      },
    ],
  };
}
