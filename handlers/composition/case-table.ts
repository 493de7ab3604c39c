import { ownClients } from '../adapters/aws-clients';
import { DynamoCaseTable } from '../adapters/case-table';
import { dynamoDbClient } from '../adapters/clients/dynamodb';
import { environment } from '../config/env';

/** The case table alone (triage, release validation): no evidence bucket, no custody log, so no S3 in the bundle. */
export function caseTable(tableName: string = environment().CASE_TABLE_NAME): DynamoCaseTable {
  return new DynamoCaseTable(dynamoDbClient(ownClients()), tableName, () => new Date());
}
