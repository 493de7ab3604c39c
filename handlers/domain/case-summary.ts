import { snapshotLineage } from './manifest';
import type { AcquisitionState } from './types';

/**
 * What close-case and record-failure return, and what `run-local` prints: the contract of DESIGN.md
 * ("Contracts other tools rely on"). `status` is the execution outcome, not the case status.
 */
export interface CaseSummary {
  caseId: string;
  status: 'SUCCEEDED' | 'FAILED';
  manifest: { bucket: string; key: string; sha256: string } | null;
  /** `region` (DESIGN.md contract, optional): the evidence snapshot's region — the home region. */
  snapshots: { volumeId: string; snapshotId: string; evidenceSnapshotId: string | null; kmsKeyId: string | null; region?: string }[];
  isolation: { securityGroupId: string | null; networkInterfaceIds: string[] };
  forensicInstanceId: string | null;
}

export function caseSummary(state: AcquisitionState, status: CaseSummary['status']): CaseSummary {
  const enis = state.containment?.networkInterfaces ?? [];
  return {
    caseId: state.case.caseId,
    status,
    manifest: state.seal
      ? { bucket: state.seal.manifest.bucket, key: state.seal.manifest.key, sha256: state.seal.manifest.sha256 }
      : null,
    snapshots: snapshotLineage(state).map((s) => ({
      volumeId: s.volumeId,
      snapshotId: s.originalSnapshotId,
      evidenceSnapshotId: s.evidenceSnapshotId,
      kmsKeyId: s.kmsKeyId,
      ...(s.evidenceRegion ? { region: s.evidenceRegion } : {}),
    })),
    isolation: {
      // One isolation group per VPC; an instance's ENIs are all in its VPC, so the first is the group.
      securityGroupId: enis[0]?.isolationGroupId ?? state.containment?.groups[0]?.isolationGroupId ?? null,
      networkInterfaceIds: enis.map((n) => n.networkInterfaceId),
    },
    forensicInstanceId: state.workstation?.instanceId ?? null,
  };
}
