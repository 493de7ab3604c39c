import { STEP, evidenceCustodyActions } from '../domain/case-evidence';
import { drillObjectRetention } from '../domain/drill';
import { EvidenceExists } from '../domain/evidence-errors';
import { canonicalBody } from '../domain/hashing';
import { buildManifest, manifestKey } from '../domain/manifest';
import type { Clock, CustodyLog, EvidenceCaseTable, EvidenceStore } from '../domain/ports';
import type { AcquisitionState, SealResult } from '../domain/types';
import { caseEvidenceObjects, requireCase, writeEvidenceOnce } from './case-evidence-objects';

export interface SealEvidenceDeps {
  cases: EvidenceCaseTable;
  store: EvidenceStore;
  custody: CustodyLog;
  clock: Clock;
}

const EVIDENCE_CUSTODY_MARK = 'evidenceCustodyRecordedAt';

/**
 * "Seal evidence": the custody records of the snapshot and copy results, then the manifest listing every object of
 * the case with its SHA-256 (custody chain, raw finding, instance.json), under legal hold, then one last custody
 * record `seal` carrying the manifest's hash — so the chain vouches for the manifest, which vouches for the rest.
 *
 * Re-running after success returns the stored result. A manifest that exists without the seal having been
 * recorded (the step died between the two writes) is not replaced: the step fails with `EvidenceExists` and the
 * failure recorder reports it for a responder to inspect.
 */
export async function sealEvidence(deps: SealEvidenceDeps, state: AcquisitionState): Promise<SealResult> {
  const caseId = state.case.caseId;
  let current = await requireCase(deps.cases, caseId);
  const done = current.details.seal as SealResult | undefined;
  if (done) return done;

  if (!current.details[EVIDENCE_CUSTODY_MARK]) {
    await deps.custody.append(state.case, evidenceCustodyActions(state));
    await deps.cases.updateCase(caseId, { details: { [EVIDENCE_CUSTODY_MARK]: deps.clock().toISOString() } });
  }
  // Normally written at containment already; this only completes what a failed or retried step left out.
  await writeEvidenceOnce(deps, current, caseEvidenceObjects(state, state.rawEvent));

  current = await requireCase(deps.cases, caseId);
  const objects = [...current.custody, ...(current.evidence ?? [])];
  const sealedAt = deps.clock().toISOString();
  const manifest = buildManifest({ state, caseRecord: current, bucket: deps.store.bucket, sealedAt, objects });
  const { body } = canonicalBody(manifest);
  const key = manifestKey(caseId);
  if (await deps.store.exists(key)) throw new EvidenceExists(key);
  const written = await deps.store.put(key, body, 'application/json', drillObjectRetention(state.case.options, deps.clock()));

  const sealRecords = await deps.custody.append(state.case, [
    {
      step: STEP.sealEvidence,
      action: 'seal',
      status: 'succeeded',
      performedAt: sealedAt,
      request: { manifestKey: key, objectCount: objects.length },
      result: {
        manifest: { bucket: deps.store.bucket, key, sha256: written.sha256, ...(written.versionId ? { versionId: written.versionId } : {}) },
      },
    },
  ]);

  const result: SealResult = {
    manifest: {
      bucket: deps.store.bucket,
      key,
      sha256: written.sha256,
      ...(written.versionId ? { versionId: written.versionId } : {}),
    },
    objects: [...objects, ...sealRecords],
  };
  await deps.cases.updateCase(caseId, { details: { seal: result, sealedAt } });
  return result;
}
