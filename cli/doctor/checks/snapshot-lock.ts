import { DescribeLockedSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { DoctorContext } from '../context';

/**
 * `snapshot-lock[<region>]`: EBS Snapshot Lock is available where the IR account locks the evidence snapshots (the
 * target's region, IR credentials: handlers/composition/evidence-chain.ts). DescribeLockedSnapshots is the read-only call of
 * the same API family; where it does not exist, LockSnapshot does not either and evidence snapshots stay deletable.
 */

export interface LockFacts {
  region: string;
  mode: 'compliance' | 'governance' | 'none';
  probe?: Outcome<number>;
}

export async function gatherLock(ctx: DoctorContext, region: string): Promise<LockFacts> {
  const mode = ctx.config.snapshotLockMode ?? 'compliance';
  if (mode === 'none') return { region, mode };
  const ec2 = new EC2Client(ctx.client(region));
  try {
    const probe = await attempt('ec2:DescribeLockedSnapshots', async () => (await ec2.send(new DescribeLockedSnapshotsCommand({ MaxResults: 5 }))).Snapshots?.length ?? 0);
    return { region, mode, probe };
  } finally {
    ec2.destroy();
  }
}

export function evaluateLock(facts: LockFacts, emulator: boolean): DoctorCheck {
  const name = `snapshot-lock[${facts.region}]`;
  if (facts.mode === 'none') {
    return warn(name, 'not configured: forensics:snapshotLockMode is none, so evidence snapshots can be deleted by anyone allowed ec2:DeleteSnapshot in the IR account');
  }
  if (!facts.probe) return fail(name, 'not read');
  if (!facts.probe.ok) {
    if (facts.probe.error.unsupported && !emulator) {
      return fail(name, `EBS Snapshot Lock is not available in ${facts.region} (${facts.probe.error.name}): evidence snapshots there would stay unlocked — set forensics:snapshotLockMode none knowingly, or acquire elsewhere`);
    }
    return cannotRun(name, facts.probe.error, `EBS Snapshot Lock in ${facts.region}`, emulator);
  }
  return pass(name, `EBS Snapshot Lock is available in ${facts.region} (evidence snapshots are locked in ${facts.mode} mode); ${facts.probe.value} locked snapshot(s) listed`);
}
