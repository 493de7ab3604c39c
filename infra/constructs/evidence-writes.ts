import type { AcquisitionStep } from '../../workflows/acquisition-steps';
import type { ReleaseStep } from '../../workflows/release-steps';
import { EVIDENCE_OBJECT_PATTERNS, type EvidenceObjectKind } from '../../handlers/domain/evidence-keys';

/**
 * Which evidence objects each step writes: the one table every role's `s3:PutObject` (and `s3:PutObjectLegalHold`)
 * is scoped from (step-permissions.ts `caseStoreGrants`). Found by following every `EvidenceStore.put` of the
 * handlers: the custody log (every writer), `writeEvidenceOnce` (raw finding and pre-incident state: "Record
 * containment" writes them right after containment, sealing and the failure recorder write whatever is still missing), the
 * manifest (sealing only) and the workstation record (the workstation step only).
 *
 * A step absent here writes no evidence object at all. The workstation instance role writes `analysis` (its
 * construct, forensic-workstation.ts).
 */
export const EVIDENCE_WRITES: Partial<Record<AcquisitionStep | ReleaseStep, readonly EvidenceObjectKind[]>> = {
  // What the path to containment left in the state (that path itself writes no evidence).
  recordContainment: ['custody', 'rawFinding', 'instance'],
  // Memory capture: its custody records, the start's included (the host SHA-256 the moment the poll reads it).
  checkSnapshots: ['custody'],
  scopeIncident: ['custody', 'timeline', 'rotate', 'logs'],
  sealEvidence: ['custody', 'rawFinding', 'instance', 'manifest'],
  launchWorkstation: ['custody', 'workstationRecord'],
  closeCase: ['custody'],
  recordFailure: ['custody', 'rawFinding', 'instance'],
  releaseContainment: ['custody'],
  recordReleaseFailure: ['custody'],
};

/** The object ARNs (`<bucket ARN>/<pattern>`) a step may write; empty when it writes none. */
export function evidenceWriteArns(step: AcquisitionStep | ReleaseStep, arnForObjects: (pattern: string) => string): string[] {
  return (EVIDENCE_WRITES[step] ?? []).map((kind) => arnForObjects(EVIDENCE_OBJECT_PATTERNS[kind]));
}
