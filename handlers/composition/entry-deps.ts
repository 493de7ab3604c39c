import type { Ec2SideAdapters } from '../adapters/ec2-side-adapters';
import type { Ec2SnapshotAdapter } from '../adapters/ec2-snapshot-adapter';
import type { HandlerEnvironment } from '../config/env';
import type { Clock } from '../domain/ports';
import type { Target } from '../domain/types';

/**
 * What a test (or the local runner) may replace in an acquisition step's entry; each entry fills what is not given
 * from its composition root. The entries themselves only check their payload and call their use case.
 */
export interface EntryDeps {
  env?: () => HandlerEnvironment;
  clock?: Clock;
}

/** Entries of the steps that describe and preserve the instance (EC2, Auto Scaling, ELBv2 on the target's side). */
export interface Ec2EntryDeps extends EntryDeps {
  /** Builds the target-side adapters; `via.caseId` selects the case's responder session. */
  adaptersFor?: (target: Target, via?: { caseId: string }) => Ec2SideAdapters;
}

/** Entries of the steps that only read or copy snapshots (EC2 on the target's side). */
export interface SnapshotEntryDeps extends EntryDeps {
  snapshotsFor?: (target: Target, via?: { caseId: string }) => Ec2SnapshotAdapter;
}
