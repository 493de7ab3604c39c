import { DescribeContinuousBackupsCommand, DescribeTableCommand, DynamoDBClient, type ContinuousBackupsDescription, type TableDescription } from '@aws-sdk/client-dynamodb';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass } from '../check';
import type { DoctorContext } from '../context';

/**
 * The case table (`table.pitr`, `table.deletion-protection`): the custody chain head and every case's state live
 * there, so it must survive a mistaken delete (deletion protection) and a bad write (point-in-time recovery).
 */

export interface TableFacts {
  table: string;
  describe: Outcome<TableDescription | undefined>;
  backups: Outcome<ContinuousBackupsDescription | undefined>;
}

export async function gatherTable(ctx: DoctorContext, table: string): Promise<TableFacts> {
  const ddb = new DynamoDBClient(ctx.client());
  try {
    const [describe, backups] = await Promise.all([
      attempt('dynamodb:DescribeTable', async () => (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table),
      attempt('dynamodb:DescribeContinuousBackups', async () => (await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }))).ContinuousBackupsDescription),
    ]);
    return { table, describe, backups };
  } finally {
    ddb.destroy();
  }
}

export function evaluateTable(facts: TableFacts, emulator: boolean): DoctorCheck[] {
  const t = facts.table;
  const pitrName = 'table.pitr';
  let pitr: DoctorCheck;
  if (!facts.backups.ok) {
    pitr = facts.backups.error.notFound
      ? fail(pitrName, `case table ${t} does not exist — deploy the stack or pass --table`)
      : cannotRun(pitrName, facts.backups.error, `the backups of case table ${t}`, emulator);
  } else {
    const status = facts.backups.value?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus;
    pitr = status === 'ENABLED'
      ? pass(pitrName, `point-in-time recovery on for ${t}`)
      : fail(pitrName, `point-in-time recovery is ${status ?? 'off'} for ${t} — aws dynamodb update-continuous-backups --table-name ${t} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true`);
  }
  const protName = 'table.deletion-protection';
  let protection: DoctorCheck;
  if (!facts.describe.ok) {
    protection = facts.describe.error.notFound
      ? fail(protName, `case table ${t} does not exist — deploy the stack or pass --table`)
      : cannotRun(protName, facts.describe.error, `case table ${t}`, emulator);
  } else {
    const table = facts.describe.value;
    protection = table?.DeletionProtectionEnabled === true
      ? pass(protName, `deletion protection on for ${t} (${table.TableStatus ?? 'status unknown'})`)
      : fail(protName, `deletion protection is off for ${t} — aws dynamodb update-table --table-name ${t} --deletion-protection-enabled`);
  }
  return [pitr, protection];
}
