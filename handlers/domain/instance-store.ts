import type { AcquisitionState, PreIncidentState } from './types';

/** Instance-store capacity of an instance type, as DescribeInstanceTypes reports it. */
export interface InstanceTypeStorage {
  supported: boolean;
  totalSizeGB?: number;
  disks: { count: number; sizeGB?: number; type?: string }[];
}

export type InstanceStoreDevice = PreIncidentState['instanceStoreDevices'][number];

/**
 * Instance-store devices cannot be snapshotted and are lost when the instance stops: recorded so the gap in the
 * evidence is explicit. They rarely show in the instance's mappings (NVMe instance store never does), so the
 * instance type is the authority; this is the record the type gives when the mappings show none.
 */
export function instanceStoreOfType(storage: InstanceTypeStorage | undefined): InstanceStoreDevice[] {
  if (!storage?.supported) return [];
  const disks = storage.disks.map((d) => `${d.count} x ${d.sizeGB ?? '?'} GB ${d.type ?? ''}`.trim()).join(', ');
  return [
    {
      deviceName: 'instance-store',
      note: `instance type provides instance store (${disks || `${storage.totalSizeGB ?? '?'} GB`}): not acquirable by EBS snapshot; lost when the instance stops`,
    },
  ];
}

/**
 * The pre-incident state as recorded: the describe step's, with the instance-store devices the instance type
 * reports (looked up by "Preserve and snapshot", beside CreateSnapshots, so the lookup adds no round trip before
 * containment) when the block device mappings showed none.
 */
export function preIncidentOf(state: Pick<AcquisitionState, 'describe' | 'acquisition'>): PreIncidentState | undefined {
  const pre = state.describe?.preIncident;
  if (!pre) return undefined;
  const byType = state.acquisition?.instanceStoreDevices ?? [];
  const withStore = pre.instanceStoreDevices.length === 0 && byType.length > 0 ? { ...pre, instanceStoreDevices: byType } : pre;
  // Registrations read beside CreateSnapshots (target health deferred by the describe).
  const registered = state.acquisition?.targetGroups ?? [];
  return registered.length > 0 ? { ...withStore, targetGroups: [...withStore.targetGroups, ...registered] } : withStore;
}
