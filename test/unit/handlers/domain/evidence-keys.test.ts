import { describe, expect, it } from 'vitest';
import { instanceKey, rawFindingKey } from '../../../../handlers/domain/case-evidence';
import { custodyKey } from '../../../../handlers/domain/custody-record';
import { EVIDENCE_OBJECT_PATTERNS, type EvidenceObjectKind } from '../../../../handlers/domain/evidence-keys';
import { manifestKey } from '../../../../handlers/domain/manifest';
import { logsPrefix, rotateKey, timelineKey } from '../../../../handlers/domain/scope-documents';
import { mountReportKey, workstationRecordKey } from '../../../../handlers/domain/workstation';
import { globMatch } from '../../../support/policy-evaluator';

/**
 * The IAM patterns that scope each role's PutObject (infra/constructs/evidence-writes.ts) against the key functions
 * the handlers write with: each key is covered by its own kind's pattern and by no other, so a role allowed to write
 * custody records cannot write the manifest, and so on.
 */
const CASE = '20260110T100000Z-i-0123456789abcdef0';
const KEYS: Record<EvidenceObjectKind, string[]> = {
  custody: [custodyKey(CASE, 1, 'triage'), custodyKey(CASE, 42, 'seal-evidence'), custodyKey(CASE, 7, 'weird/step name')],
  instance: [instanceKey(CASE)],
  rawFinding: [rawFindingKey(CASE, 'abc123'), rawFindingKey(CASE, 'manual/2025 01'), rawFindingKey(CASE, 'custody')],
  manifest: [manifestKey(CASE)],
  workstationRecord: [workstationRecordKey(CASE, 'i-0fedcba9876543210')],
  analysis: [mountReportKey(CASE, 'i-0fedcba9876543210')],
  timeline: [timelineKey(CASE)],
  rotate: [rotateKey(CASE)],
  logs: [`${logsPrefix(CASE, 'cloudtrail')}AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/01/10/x.json.gz`, `${logsPrefix(CASE, 'flow-logs')}fl-1/eu-west-1/records.ndjson`],
};

describe('evidence object kinds and their IAM patterns', () => {
  it('every key the handlers write is covered by its own kind\'s pattern', () => {
    // Prepare / Act
    const uncovered = Object.entries(KEYS).flatMap(([kind, keys]) =>
      keys.filter((key) => !globMatch(EVIDENCE_OBJECT_PATTERNS[kind as EvidenceObjectKind], key)).map((key) => `${kind}: ${key}`),
    );
    // Assess
    expect(uncovered).toEqual([]);
  });

  it('no key is covered by another kind\'s pattern (the manifest in particular only by its own)', () => {
    // Prepare / Act
    const overlaps = Object.entries(KEYS).flatMap(([kind, keys]) =>
      keys.flatMap((key) =>
        Object.entries(EVIDENCE_OBJECT_PATTERNS)
          .filter(([other, pattern]) => other !== kind && globMatch(pattern, key))
          .map(([other]) => `${key} (${kind}) also matches ${other}`),
      ),
    );
    // Assess
    expect(overlaps).toEqual([]);
  });
});
