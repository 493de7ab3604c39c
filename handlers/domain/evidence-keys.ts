/**
 * The kinds of object under `cases/<caseId>/` in the evidence bucket, each with the IAM resource pattern (relative to
 * the bucket) that covers exactly its keys. The IR stack scopes every role's `s3:PutObject` to the kinds its step
 * writes (infra/constructs/evidence-writes.ts); test/unit/handlers/domain/evidence-keys.test.ts checks that each key function of the
 * domain produces keys its own pattern covers and no other pattern does, so the two cannot drift apart.
 *
 * IAM's `*` also matches `/`; what keeps the kinds apart is the fixed part of each pattern (`/custody/`,
 * `/manifest.json`, …), which no other kind's key contains.
 */
export const EVIDENCE_OBJECT_PATTERNS = {
  /** `custodyKey`: `cases/<caseId>/custody/<seq>-<step>.json`, the hash-chained custody records. */
  custody: 'cases/*/custody/*',
  /** `instanceKey`: the pre-incident state. */
  instance: 'cases/*/instance.json',
  /** `rawFindingKey`: the raw finding (or manual request) that opened the case. */
  rawFinding: 'cases/*/finding-*.json',
  /** `manifestKey`: the sealed manifest, written only by "Seal evidence". */
  manifest: 'cases/*/manifest.json',
  /** `workstationRecordKey`: one record per forensic workstation launched. */
  workstationRecord: 'cases/*/workstation-*.json',
  /** `timelineKey`: the principal's CloudTrail timeline, written by "Scope the incident". */
  timeline: 'cases/*/timeline.json',
  /** `rotateKey`: the rotate list. */
  rotate: 'cases/*/rotate.json',
  /** `logsPrefix`: the incident window's preserved trail and flow log objects. */
  logs: 'cases/*/logs/*',
  /** `analysisPrefix`: the workstation's mount report and analysts' results (the workstation instance role). */
  analysis: 'cases/*/analysis/*',
} as const;

export type EvidenceObjectKind = keyof typeof EVIDENCE_OBJECT_PATTERNS;
