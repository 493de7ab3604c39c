import type { AcquisitionState, SealResult } from './domain/types';
import { evidenceDeps } from './composition/evidence';
import { type SealEvidenceDeps, sealEvidence } from './use-cases/seal-evidence';

/** "Seal evidence". Payload: the whole execution state. Returns the SealResult (stored at `$.seal`). */
export function createSealEvidenceHandler(deps: { evidence?: () => SealEvidenceDeps } = {}) {
  return (event: AcquisitionState): Promise<SealResult> => sealEvidence((deps.evidence ?? evidenceDeps)(), event);
}

export const handler = createSealEvidenceHandler();
