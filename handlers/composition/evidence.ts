import { ownClients } from '../adapters/aws-clients';
import { DynamoCaseTable } from '../adapters/case-table';
import { dynamoDbClient } from '../adapters/clients/dynamodb';
import { s3Client } from '../adapters/clients/s3';
import { S3EvidenceStore } from '../adapters/evidence-store';
import { type HandlerEnvironment, environment } from '../config/env';
import type { Clock } from '../domain/ports';
import { ChainedCustodyLog } from '../use-cases/custody-log';

/**
 * Composition root of the evidence side (case table, evidence bucket, custody log), shared by the entries that
 * write evidence or custody records. Built on first use, once per container, from the validated environment.
 * The notifier is separate (./notifier.ts), so an entry that does not notify does not bundle SNS.
 */
export interface EvidenceDeps {
  cases: DynamoCaseTable;
  store: S3EvidenceStore;
  custody: ChainedCustodyLog;
  clock: Clock;
  bucket: string;
}

let shared: { deps: EvidenceDeps; env: HandlerEnvironment } | undefined;

export function evidenceDeps(): EvidenceDeps {
  const env = environment();
  // Rebuilt when the environment was re-read (`resetEnvironment()`, as the local runner does between runs).
  if (shared && shared.env === env) return shared.deps;
  const scope = ownClients();
  const clock: Clock = () => new Date();
  const cases = new DynamoCaseTable(dynamoDbClient(scope), env.CASE_TABLE_NAME, clock);
  const store = new S3EvidenceStore(s3Client(scope), env.EVIDENCE_BUCKET, { mode: env.OBJECT_LOCK_MODE, days: env.EVIDENCE_RETENTION_DAYS }, clock);
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const deps: EvidenceDeps = {
    cases,
    store,
    custody: new ChainedCustodyLog({ cases, store, clock, actor: functionName ? { functionName } : {} }),
    clock,
    bucket: env.EVIDENCE_BUCKET,
  };
  shared = { deps, env };
  return deps;
}

/** Tests and the local runner call this after changing the environment. */
export function resetEvidenceDeps(): void {
  shared = undefined;
}
