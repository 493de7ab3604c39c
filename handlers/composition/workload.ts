import { ec2Client } from '../adapters/clients/ec2';
import { Ec2SnapshotAdapter } from '../adapters/ec2-snapshot-adapter';
import { type ClientSource, scopeFor } from '../adapters/workload-scope';
import type { Target } from '../domain/types';

/** The snapshot adapter on the target's side (its account and region): EC2 only. */
export function workloadSnapshotsFor(target: Target, via?: ClientSource): Ec2SnapshotAdapter {
  return new Ec2SnapshotAdapter(ec2Client(scopeFor(target, via), target.region));
}
