import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoCaseTable } from '../../../../handlers/adapters/case-table';
import { CustodyConflict, InvalidInput } from '../../../../handlers/domain/errors';
import { CaseNotFound } from '../../../../handlers/domain/evidence-errors';
import { TARGET, caseRef } from '../../../support/evidence-test-kit';

const ddb = mockClient(DynamoDBClient);
const TABLE = 'ir-cases';
const NOW = new Date('2025-03-01T10:00:30.000Z');
const table = () => new DynamoCaseTable(new DynamoDBClient({ region: 'eu-west-1' }), TABLE, () => NOW);
const LOCK_PK = `TARGET#${TARGET.accountId}#${TARGET.region}#${TARGET.instanceId}`;

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const cancelled = (codes: string[], item?: Record<string, unknown>) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code, i) => ({ Code, ...(i === 0 && item ? { Item: item as never } : {}) })),
  });

describe('DynamoCaseTable', () => {
  beforeEach(() => ddb.reset());

  describe('openCase', () => {
    it('writes the lock and the case in one transaction, each conditional on not existing', async () => {
      // Prepare
      ddb.on(TransactWriteItemsCommand).resolves({});
      const ref = caseRef();

      // Act
      const result = await table().openCase(ref);

      // Assess
      expect(result).toEqual({ opened: true, caseRef: ref });
      const input = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input;
      const [lock, kase] = input.TransactItems!;
      expect(lock?.Put).toMatchObject({
        TableName: TABLE,
        ConditionExpression: 'attribute_not_exists(pk)',
        Item: { pk: { S: LOCK_PK }, sk: { S: 'LOCK' }, caseId: { S: ref.caseId }, openedAt: { S: ref.openedAt } },
      });
      expect(kase?.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
      const item = kase!.Put!.Item!;
      expect(item.pk).toEqual({ S: `CASE#${ref.caseId}` });
      expect(item.sk).toEqual({ S: 'CASE' });
      expect(item.status).toEqual({ S: 'ACQUIRING' });
      expect(item.custodySeq).toEqual({ N: '0' });
      expect(item.custodyHeadSha256).toEqual({ S: '0'.repeat(64) });
      expect(item.custody).toEqual({ L: [] });
      expect(item.findingKeys).toEqual({ SS: [`${ref.finding.id}#1`] });
      expect(unmarshall(item.details!.M!)).toEqual({ options: ref.options });
    });

    it('returns the existing case when the target lock is held (from the cancellation reason)', async () => {
      // Prepare
      ddb.on(TransactWriteItemsCommand).rejects(cancelled(['ConditionalCheckFailed', 'None'], { caseId: { S: 'case-open' } }));

      // Act
      const result = await table().openCase(caseRef({ caseId: 'case-new' }));

      // Assess
      expect(result).toEqual({ opened: false, existingCaseId: 'case-open' });
      expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    });

    it('reads the lock (consistently) when the reason carries no item', async () => {
      // Prepare
      ddb.on(TransactWriteItemsCommand).rejects(cancelled(['ConditionalCheckFailed', 'None']));
      ddb.on(GetItemCommand).resolves({ Item: { pk: { S: LOCK_PK }, sk: { S: 'LOCK' }, caseId: { S: 'case-open' } } });

      // Act
      const result = await table().openCase(caseRef({ caseId: 'case-new' }));

      // Assess
      expect(result).toEqual({ opened: false, existingCaseId: 'case-open' });
      expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toMatchObject({ ConsistentRead: true, Key: { pk: { S: LOCK_PK }, sk: { S: 'LOCK' } } });
    });

    it('retries when the lock was released between the write and the read', async () => {
      // Prepare
      ddb.on(TransactWriteItemsCommand).rejectsOnce(cancelled(['ConditionalCheckFailed', 'None'])).resolves({});
      ddb.on(GetItemCommand).resolves({});

      // Act
      const result = await table().openCase(caseRef());

      // Assess
      expect(result.opened).toBe(true);
      expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
    });

    it('rethrows a cancellation that is not about the lock', async () => {
      // Prepare
      ddb.on(TransactWriteItemsCommand).rejects(cancelled(['None', 'ConditionalCheckFailed']));

      // Act / Assess
      await expect(table().openCase(caseRef())).rejects.toThrow(TransactionCanceledException);
    });
  });

  describe('appendFinding', () => {
    it('appends with a condition on (finding id, count) not being recorded yet', async () => {
      // Prepare
      ddb.on(UpdateItemCommand).resolves({});
      const finding = { id: 'f-2', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 7.5, count: 3 };

      // Act
      await table().appendFinding('case-1', finding, '2025-03-01T11:00:00.000Z');

      // Assess
      const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
      expect(input.Key).toEqual({ pk: { S: 'CASE#case-1' }, sk: { S: 'CASE' } });
      expect(input.ConditionExpression).toBe('attribute_exists(pk) AND NOT contains(#findingKeys, :fk)');
      expect(input.ExpressionAttributeValues).toMatchObject({ ':fk': { S: 'f-2#3' }, ':fkSet': { SS: ['f-2#3'] }, ':finding': { L: [{ M: { id: { S: 'f-2' }, type: { S: finding.type }, severity: { N: '7.5' }, count: { N: '3' } } }] } });
    });

    it('is a no-op for a republished finding already recorded', async () => {
      // Prepare
      ddb.on(UpdateItemCommand).rejects(conditionFailed());
      ddb.on(GetItemCommand).resolves({ Item: { pk: { S: 'CASE#case-1' }, sk: { S: 'CASE' }, caseId: { S: 'case-1' } } });

      // Act / Assess
      await expect(table().appendFinding('case-1', { id: 'f', type: 't', severity: 8, count: 1 }, 'now')).resolves.toBeUndefined();
    });

    it('throws CaseNotFound when the case does not exist', async () => {
      // Prepare
      ddb.on(UpdateItemCommand).rejects(conditionFailed());
      ddb.on(GetItemCommand).resolves({});

      // Act / Assess
      await expect(table().appendFinding('nope', { id: 'f', type: 't', severity: 8 }, 'now')).rejects.toThrow(CaseNotFound);
    });
  });

  describe('getCase', () => {
    it('reads consistently and returns the record without table keys', async () => {
      // Prepare
      ddb.on(GetItemCommand).resolves({
        Item: {
          pk: { S: 'CASE#case-1' },
          sk: { S: 'CASE' },
          findingKeys: { SS: ['f#1'] },
          caseId: { S: 'case-1' },
          status: { S: 'CONTAINED' },
          custodySeq: { N: '4' },
          custodyHeadSha256: { S: 'f'.repeat(64) },
          custody: { L: [{ M: { key: { S: 'k' }, sha256: { S: 's' } } }] },
          details: { M: { containment: { M: { ok: { BOOL: true }, none: { NULL: true } } } } },
        },
      });

      // Act
      const record = await table().getCase('case-1');

      // Assess
      expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
      expect(record).toMatchObject({
        caseId: 'case-1',
        status: 'CONTAINED',
        custodySeq: 4,
        custody: [{ key: 'k', sha256: 's' }],
        evidence: [],
        findings: [],
        details: { containment: { ok: true, none: null } },
      });
      expect(record).not.toHaveProperty('pk');
      expect(record).not.toHaveProperty('findingKeys');
    });

    it('returns undefined for an unknown case', async () => {
      ddb.on(GetItemCommand).resolves({});
      await expect(table().getCase('nope')).resolves.toBeUndefined();
    });
  });

  describe('updateCase', () => {
    it('merges details one level deep with one SET per key and sets updatedAt', async () => {
      // Prepare
      ddb.on(UpdateItemCommand).resolves({});

      // Act
      await table().updateCase('case-1', {
        status: 'FAILED',
        failure: { step: 'seal-evidence', error: 'EvidenceWriteFailed', at: 'now' },
        details: { secured: { snapshots: ['snap-1'] }, lockReleased: false, skipped: undefined },
      });

      // Assess
      const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
      expect(input.UpdateExpression).toBe(
        'SET #updatedAt = :updatedAt, #status = :status, #failure = :failure, #details.#d0 = :d0, #details.#d1 = :d1',
      );
      expect(input.ConditionExpression).toBe('attribute_exists(pk)');
      expect(input.ExpressionAttributeNames).toMatchObject({ '#status': 'status', '#details': 'details', '#d0': 'secured', '#d1': 'lockReleased' });
      expect(input.ExpressionAttributeValues).toMatchObject({
        ':updatedAt': { S: NOW.toISOString() },
        ':status': { S: 'FAILED' },
        ':d1': { BOOL: false },
      });
    });

    it('throws CaseNotFound for an unknown case', async () => {
      ddb.on(UpdateItemCommand).rejects(conditionFailed());
      await expect(table().updateCase('nope', { status: 'FAILED' })).rejects.toThrow(CaseNotFound);
    });
  });

  describe('advanceCustody', () => {
    it('moves the head only from the expected head, appending the index', async () => {
      // Prepare
      ddb.on(UpdateItemCommand).resolves({});

      // Act
      await table().advanceCustody('case-1', { seq: 2, sha256: 'a'.repeat(64) }, [{ key: 'k3', sha256: 'b'.repeat(64) }], { seq: 3, sha256: 'b'.repeat(64) });

      // Assess
      const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
      expect(input.ConditionExpression).toBe('#seq = :expectedSeq AND #head = :expectedSha');
      expect(input.UpdateExpression).toContain('#custody = list_append(if_not_exists(#custody, :empty), :appended)');
      expect(input.ExpressionAttributeValues).toMatchObject({
        ':expectedSeq': { N: '2' },
        ':expectedSha': { S: 'a'.repeat(64) },
        ':newSeq': { N: '3' },
        ':newSha': { S: 'b'.repeat(64) },
        ':appended': { L: [{ M: { key: { S: 'k3' }, sha256: { S: 'b'.repeat(64) } } }] },
      });
    });

    it('throws CustodyConflict when the head moved', async () => {
      ddb.on(UpdateItemCommand).rejects(conditionFailed());
      await expect(
        table().advanceCustody('case-1', { seq: 0, sha256: '0'.repeat(64) }, [], { seq: 1, sha256: 'x' }),
      ).rejects.toThrow(CustodyConflict);
    });
  });

  describe('appendEvidence and releaseLock', () => {
    it('appends evidence objects to the index', async () => {
      ddb.on(UpdateItemCommand).resolves({});
      await table().appendEvidence('case-1', [{ key: 'cases/case-1/instance.json', sha256: 'c'.repeat(64) }]);
      const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
      expect(input.UpdateExpression).toContain('#evidence = list_append(if_not_exists(#evidence, :empty), :objects)');
    });

    it('releases only a lock held by the case', async () => {
      // Prepare
      ddb.on(DeleteItemCommand).resolvesOnce({}).rejects(conditionFailed());

      // Act
      const first = await table().releaseLock(TARGET, 'case-1');
      const second = await table().releaseLock(TARGET, 'case-1');

      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toMatchObject({
        Key: { pk: { S: LOCK_PK }, sk: { S: 'LOCK' } },
        ConditionExpression: '#caseId = :caseId',
        ExpressionAttributeValues: { ':caseId': { S: 'case-1' } },
      });
    });
  });

  describe('item format', () => {
    it('writes the case item attribute for attribute as the table has always held it', async () => {
      // Prepare: a case with every kind of value the table holds, undefined members included.
      ddb.on(TransactWriteItemsCommand).resolves({});
      const ref = caseRef({ reason: 'seen beaconing', requestedBy: undefined });

      // Act
      await table().openCase(ref);

      // Assess: the exact attribute values of the format existing tables hold (undefined members left out).
      const [lock, kase] = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
      expect(lock?.Put?.Item).toStrictEqual({
        pk: { S: LOCK_PK },
        sk: { S: 'LOCK' },
        caseId: { S: ref.caseId },
        openedAt: { S: ref.openedAt },
      });
      expect(kase?.Put?.Item).toStrictEqual({
        pk: { S: `CASE#${ref.caseId}` },
        sk: { S: 'CASE' },
        caseId: { S: ref.caseId },
        status: { S: 'ACQUIRING' },
        target: { M: { accountId: { S: TARGET.accountId }, region: { S: TARGET.region }, instanceId: { S: TARGET.instanceId } } },
        source: { S: 'guardduty' },
        openedAt: { S: ref.openedAt },
        updatedAt: { S: ref.openedAt },
        executionArn: { S: ref.executionArn },
        reason: { S: 'seen beaconing' },
        findings: {
          L: [
            {
              M: {
                id: { S: ref.finding.id },
                type: { S: ref.finding.type },
                severity: { N: '8' },
                count: { N: '1' },
              },
            },
          ],
        },
        custodySeq: { N: '0' },
        custodyHeadSha256: { S: '0'.repeat(64) },
        custody: { L: [] },
        evidence: { L: [] },
        details: { M: { options: { M: { workstation: { BOOL: false }, revoke: { S: 'instance' } } } } },
        findingKeys: { SS: [`${ref.finding.id}#1`] },
      });
    });

    it('reads an item written in the existing format, every attribute type included', async () => {
      // Prepare: an item as the table holds it (numbers as N strings, NULL, nested lists and maps, a string set).
      ddb.on(GetItemCommand).resolves({
        Item: {
          pk: { S: 'CASE#case-1' },
          sk: { S: 'CASE' },
          findingKeys: { SS: ['f#1', 'f#2'] },
          caseId: { S: 'case-1' },
          status: { S: 'FAILED' },
          target: { M: { accountId: { S: '111122223333' }, region: { S: 'eu-west-1' }, instanceId: { S: 'i-0123456789abcdef0' } } },
          findings: { L: [{ M: { id: { S: 'f' }, type: { S: 't' }, severity: { N: '8.5' }, count: { N: '2' } } }] },
          custodySeq: { N: '12' },
          custodyHeadSha256: { S: 'a'.repeat(64) },
          custody: { L: [{ M: { key: { S: 'cases/case-1/custody/000001.json' }, sha256: { S: 'b'.repeat(64) } } }] },
          evidence: { L: [] },
          failure: { M: { error: { S: 'States.Timeout' }, cause: { NULL: true } } },
          details: { M: { snapshots: { L: [{ M: { id: { S: 'snap-1' }, sizeGiB: { N: '8' }, encrypted: { BOOL: true } } }] } } },
        },
      });

      // Act
      const record = await table().getCase('case-1');

      // Assess
      expect(record).toStrictEqual({
        caseId: 'case-1',
        status: 'FAILED',
        target: { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' },
        findings: [{ id: 'f', type: 't', severity: 8.5, count: 2 }],
        custodySeq: 12,
        custodyHeadSha256: 'a'.repeat(64),
        custody: [{ key: 'cases/case-1/custody/000001.json', sha256: 'b'.repeat(64) }],
        evidence: [],
        failure: { error: 'States.Timeout', cause: null },
        details: { snapshots: [{ id: 'snap-1', sizeGiB: 8, encrypted: true }] },
      });
    });

    it('refuses to store a number DynamoDB cannot hold, and sends nothing', async () => {
      // Act
      const update = table().updateCase('case-1', { details: { ratio: Number.NaN } });

      // Assess
      await expect(update).rejects.toThrow(/NaN/);
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('target lock key', () => {
    it('refuses a target whose region would forge another lock key, and sends nothing', async () => {
      // Prepare: `#` in the region would make TARGET#<account>#<region>#<instance> name another instance's lock.
      const forged = caseRef({ target: { ...TARGET, region: 'eu-west-1#i-0fffffffffffffff0' } });

      // Act
      const open = table().openCase(forged);
      const release = table().releaseLock(forged.target, forged.caseId);

      // Assess
      await expect(open).rejects.toThrow(InvalidInput);
      await expect(release).rejects.toThrow(InvalidInput);
      expect(ddb.calls()).toHaveLength(0);
    });
  });
});
