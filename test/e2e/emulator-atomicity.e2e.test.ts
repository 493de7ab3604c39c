import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eEmulator, e2eEmulator } from '../support/e2e-emulator';

/**
 * The emulator keeps AWS's per-item write atomicity (cli/local/moto-server.ts): concurrent appends to one DynamoDB
 * item, as eight findings for one instance make in the case table, all land. A moto_server serving each request on
 * its own thread loses some of them (moto checks and writes without a lock); AWS never does.
 */
let moto: E2eEmulator;
let client: DynamoDBClient;

beforeAll(async () => {
  moto = await e2eEmulator();
  client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(
    new CreateTableCommand({
      TableName: 'atomicity',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('the local emulator', () => {
  it('applies concurrent list_append updates of one item atomically: 15 rounds of 10 at once, none lost', async () => {
    // Prepare
    const rounds = 15;
    const perRound = 10;
    const lengths: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const Key = { pk: { S: `case-${round}` } };
      await client.send(new PutItemCommand({ TableName: 'atomicity', Item: { ...Key, findings: { L: [] } } }));
      // Act
      await Promise.all(
        Array.from({ length: perRound }, (_, i) =>
          client.send(
            new UpdateItemCommand({
              TableName: 'atomicity',
              Key,
              UpdateExpression: 'SET findings = list_append(findings, :f)',
              ExpressionAttributeValues: { ':f': { L: [{ S: `finding-${i}` }] } },
            }),
          ),
        ),
      );
      const item = await client.send(new GetItemCommand({ TableName: 'atomicity', Key, ConsistentRead: true }));
      lengths.push(item.Item?.findings?.L?.length ?? 0);
    }
    // Assess
    expect(lengths).toEqual(Array.from({ length: rounds }, () => perRound));
  });
});
