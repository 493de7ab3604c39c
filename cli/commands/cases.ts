import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { drillOf } from '../../handlers/domain/drill';
import { INSTANCE_ID_PATTERN } from '../../handlers/domain/identifier-formats';
import type { CaseStatus, FindingSummary, Target } from '../../handlers/domain/types';
import { clientConfig, type DeploymentOptions, resolveDeployment } from '../deployment/discover';
import { renderTable } from '../output/format';
import { EXIT_OK, type Io, parseOutputFormat, runCommand, UsageError } from './common';

/**
 * `forensics cases [--status S] [--instance ID] [--since DATE]`: the cases in the case table, newest first.
 *
 * A Scan filtered on `sk = CASE` (the table holds one item per case and one lock per isolated instance: a few
 * thousand items at most, so a Scan is cheap and needs no index), paginated to the end.
 */

export const CASE_STATUSES: readonly CaseStatus[] = ['ACQUIRING', 'CONTAINED', 'FAILED', 'RELEASED'];

export interface CasesOptions extends DeploymentOptions {
  status?: string;
  instance?: string;
  since?: string;
  output?: string;
}

export interface CaseListItem {
  caseId: string;
  status: CaseStatus;
  openedAt: string;
  updatedAt: string | null;
  target: Target;
  source: string;
  findings: number;
  findingType: string | null;
  severity: number | null;
  /** Present (true) only for a drill case (`forensics drill`). */
  drill?: true;
}

export interface CaseFilters {
  status?: CaseStatus;
  instanceId?: string;
  since?: string;
}

/** Validates the filters before any AWS call: exit 2 naming the flag. */
export function parseCaseFilters(options: Pick<CasesOptions, 'status' | 'instance' | 'since'>): CaseFilters {
  const filters: CaseFilters = {};
  if (options.status !== undefined) {
    const status = options.status.toUpperCase() as CaseStatus;
    if (!CASE_STATUSES.includes(status)) throw new UsageError(`--status: expected one of ${CASE_STATUSES.join(', ')}`);
    filters.status = status;
  }
  if (options.instance !== undefined) {
    if (!INSTANCE_ID_PATTERN.test(options.instance)) throw new UsageError('--instance: expected an EC2 instance id (i- and 8 or 17 hex digits)');
    filters.instanceId = options.instance;
  }
  if (options.since !== undefined) {
    const at = /^\d{4}-\d{2}-\d{2}/.test(options.since) ? new Date(options.since) : new Date(Number.NaN);
    if (Number.isNaN(at.getTime())) throw new UsageError('--since: expected an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T09:00:00Z');
    filters.since = at.toISOString();
  }
  return filters;
}

export async function runCases(options: CasesOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    const filters = parseCaseFilters(options);
    const deployment = await resolveDeployment(options, ['table']);
    const ddb = new DynamoDBClient(clientConfig(deployment));
    let items: CaseListItem[];
    try {
      items = await listCases(ddb, deployment.table as string, filters);
    } finally {
      ddb.destroy();
    }
    if (format === 'json') io.out(JSON.stringify({ cases: items }, null, 2));
    else for (const line of renderCaseTable(items)) io.out(line);
    return EXIT_OK;
  });
}

export async function listCases(ddb: DynamoDBClient, table: string, filters: CaseFilters): Promise<CaseListItem[]> {
  const conditions = ['#sk = :case'];
  const names: Record<string, string> = { '#sk': 'sk' };
  const values: Record<string, AttributeValue> = { ':case': { S: 'CASE' } };
  if (filters.status) {
    conditions.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = { S: filters.status };
  }
  if (filters.instanceId) {
    conditions.push('#target.#instanceId = :instanceId');
    names['#target'] = 'target';
    names['#instanceId'] = 'instanceId';
    values[':instanceId'] = { S: filters.instanceId };
  }
  if (filters.since) {
    conditions.push('#openedAt >= :since');
    names['#openedAt'] = 'openedAt';
    values[':since'] = { S: filters.since };
  }
  const items: CaseListItem[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const raw of page.Items ?? []) items.push(toListItem(unmarshall(raw)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : a.caseId.localeCompare(b.caseId)));
}

function toListItem(item: Record<string, unknown>): CaseListItem {
  const findings = (Array.isArray(item.findings) ? item.findings : []) as FindingSummary[];
  const first = findings[0];
  const target = (item.target ?? {}) as Partial<Target>;
  return {
    caseId: String(item.caseId ?? ''),
    status: String(item.status ?? '') as CaseStatus,
    openedAt: String(item.openedAt ?? ''),
    updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : null,
    target: { accountId: target.accountId ?? '', region: target.region ?? '', instanceId: target.instanceId ?? '' },
    source: String(item.source ?? ''),
    findings: findings.length,
    findingType: first?.type ?? null,
    severity: typeof first?.severity === 'number' ? first.severity : null,
    ...(drillOf((item.details as { options?: never } | undefined)?.options) ? { drill: true as const } : {}),
  };
}

export function renderCaseTable(items: readonly CaseListItem[]): string[] {
  if (items.length === 0) return ['No cases.'];
  return renderTable(
    ['CASE ID', 'STATUS', 'OPENED (UTC)', 'ACCOUNT', 'REGION', 'INSTANCE', 'SOURCE', 'FINDINGS', 'FIRST FINDING'],
    items.map((c) => [
      c.caseId,
      c.status,
      c.openedAt.replace(/\.\d{3}Z$/, 'Z'),
      c.target.accountId,
      c.target.region,
      c.target.instanceId,
      c.drill ? `${c.source} (drill)` : c.source,
      c.findings,
      c.findingType ? `${c.findingType} (${c.severity ?? '-'})` : null,
    ]),
  );
}
