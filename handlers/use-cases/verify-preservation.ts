import type { Ec2InstanceAdapter } from '../adapters/ec2-instance-adapter';
import { errorMessage, errorName } from '../domain/errors';
import type { Clock } from '../domain/ports';
import type { READ_BACK_ACTIONS } from '../domain/preservation';
import type { AcquisitionResult, CaseRef, CustodyAction, DescribeResult, PreservationOutcome } from '../domain/types';

/** What the read-back needs of EC2. */
export type PreservationReadPort = Pick<Ec2InstanceAdapter, 'describeAttribute' | 'describeInstance'>;

export interface VerifyPreservationDeps {
  instances: PreservationReadPort;
  clock: Clock;
  /** Waits between read-backs (tests pass a fake). Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * When the read-back of a changed attribute is taken: at once, then again after these pauses while it still shows
 * the old value. EC2's API is eventually consistent, so a read right after a change may lag it; three reads within
 * about 2.5 s bound the wait, and a value still wrong then is recorded as a failed preservation.
 */
export const READ_BACK_DELAYS_MS = [0, 500, 2000] as const;

const STEP = 'isolateNetwork';

/** One read of a changed attribute: whether it holds, and what was read (recorded either way). */
interface ReadBack {
  ok: boolean;
  observed: unknown;
}

/**
 * Reads back every instance attribute "Preserve and snapshot" changed (termination protection, shutdown behaviour,
 * DeleteOnTermination of each device): a call AWS accepted is not proof that the attribute holds (a form the
 * endpoint ignores, a concurrent change). Run by "Isolate network" right after the last interface is isolated, beside
 * the credential containment, so the reads add no round trip before containment; the changes themselves were made
 * before it, and only their proof comes later.
 *
 * Returns, for each read-back, the outcome that replaces the step's `applied, verified: false` one
 * (`preservationOf` merges them): `applied, verified: true` when it reads as set (after at most the bounded
 * re-reads), `failed, verified: false` with what was read when it still differs, `applied, verified: false` when it
 * could not be read. Never throws: the custody record of each read-back is in `actions`.
 */
export async function verifyPreservation(
  deps: VerifyPreservationDeps,
  input: { caseRef: CaseRef; describe: DescribeResult; acquisition: AcquisitionResult },
): Promise<{ preservation: PreservationOutcome[]; actions: CustodyAction[] }> {
  const { instanceId } = input.caseRef.target;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const keptVolumes = input.describe.preIncident.volumes.filter((v) => v.deleteOnTermination);

  const readers: Record<(typeof READ_BACK_ACTIONS)[number], { expected: string; read: () => Promise<ReadBack> }> = {
    'enable-termination-protection': {
      expected: 'disableApiTermination=true',
      read: async () => {
        const value = await deps.instances.describeAttribute(instanceId, 'disableApiTermination');
        return { ok: value === true, observed: { disableApiTermination: value ?? null } };
      },
    },
    'shutdown-behavior-stop': {
      expected: 'instanceInitiatedShutdownBehavior=stop',
      read: async () => {
        const value = await deps.instances.describeAttribute(instanceId, 'instanceInitiatedShutdownBehavior');
        return { ok: value === 'stop', observed: { instanceInitiatedShutdownBehavior: value ?? null } };
      },
    },
    'keep-volumes-on-termination': {
      expected: 'DeleteOnTermination=false on every device',
      read: async () => {
        const now = await deps.instances.describeInstance(instanceId);
        if (!now) throw Object.assign(new Error(`${instanceId} not found`), { name: 'InstanceNotFound' });
        const byDevice = new Map(now.blockDevices.map((b) => [b.deviceName, b.deleteOnTermination]));
        const observed = keptVolumes.map((v) => ({
          deviceName: v.deviceName,
          volumeId: v.volumeId,
          deleteOnTermination: byDevice.get(v.deviceName) ?? null,
        }));
        return { ok: observed.every((o) => o.deleteOnTermination === false), observed };
      },
    },
  };

  const pending = input.acquisition.preservation.filter(
    (p) => p.status === 'applied' && p.verified === false && p.readBack === undefined && p.action in readers,
  );
  const verified = await Promise.all(
    pending.map(async (p): Promise<PreservationOutcome> => {
      const reader = readers[p.action as keyof typeof readers];
      const base = { action: p.action, previous: p.previous };
      let read: ReadBack | undefined;
      let readError: unknown;
      for (const delay of READ_BACK_DELAYS_MS) {
        if (delay > 0) await sleep(delay);
        try {
          read = await reader.read();
          if (read.ok) return { ...base, status: 'applied', verified: true, readBack: read.observed };
        } catch (err) {
          readError = err;
        }
      }
      if (read) {
        return {
          ...base,
          status: 'failed',
          detail: `read back ${READ_BACK_DELAYS_MS.length} times after the change: still not ${reader.expected}`,
          verified: false,
          readBack: read.observed,
        };
      }
      return {
        ...base,
        status: 'applied',
        detail: `not verified: the read-back failed (${errorName(readError)}: ${errorMessage(readError)})`,
        verified: false,
      };
    }),
  );

  return {
    preservation: verified,
    actions: verified.map((o) => ({
      step: STEP,
      action: o.action,
      status: o.status === 'applied' ? 'succeeded' : 'failed',
      performedAt: deps.clock().toISOString(),
      request: { instanceId, readBack: o.action },
      result: {
        status: o.status,
        ...(o.detail ? { detail: o.detail } : {}),
        previous: o.previous,
        verified: o.verified,
        ...(o.readBack !== undefined ? { readBack: o.readBack } : {}),
      },
    })),
  };
}
