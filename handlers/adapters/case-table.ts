import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { targetLockKey } from '../domain/case-id';
import { GENESIS_HEAD } from '../domain/custody-record';
import { CustodyConflict } from '../domain/errors';
import { CaseNotFound } from '../domain/evidence-errors';
import type { CaseRecord, CaseTable, Clock, OpenCaseResult } from '../domain/ports';
import type { CaseRef, CaseStatus, FindingSummary, SealedObject, Target } from '../domain/types';

/**
 * The case table (DynamoDB, keys `pk`/`sk`, both strings).
 *
 * Two kinds of item:
 * - the target lock, `pk = TARGET#<account>#<region>#<instanceId>`, `sk = LOCK`, `{caseId, openedAt}`: one open
 *   case per instance. It stays after the case is CONTAINED (the instance is still isolated); a responder's release
 *   deletes it, and so does the failure recorder when nothing was changed on the instance;
 * - the case, `pk = CASE#<caseId>`, `sk = CASE`, with the `CaseRecord` fields, plus `findingKeys` (a string set of
 *   `<findingId>#<count>`, what makes `appendFinding` idempotent).
 *
 * Every write that depends on what is already there is a conditional write, so concurrent executions (a burst of
 * findings for one instance, two steps appending custody records) never lose or fork anything.
 */

const LOCK_SK = 'LOCK';
const CASE_SK = 'CASE';

/** The lock item's key; `targetLockKey` refuses an account, region or instance id that could forge another key. */
export function lockKey(target: Target): Record<string, AttributeValue> {
  return { pk: { S: targetLockKey(target) }, sk: { S: LOCK_SK } };
}

export function caseKey(caseId: string): Record<string, AttributeValue> {
  return { pk: { S: `CASE#${caseId}` }, sk: { S: CASE_SK } };
}

function findingKey(finding: FindingSummary): string {
  return `${finding.id}#${finding.count ?? ''}`;
}

function isNamed(err: unknown, name: string): err is Error & Record<string, unknown> {
  return err instanceof Error && err.name === name;
}

/** Lock conflicts race with a release; a few re-reads settle it. */
const OPEN_ATTEMPTS = 3;

export class DynamoCaseTable implements CaseTable {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock = () => new Date(),
  ) {}

  async openCase(caseRef: CaseRef): Promise<OpenCaseResult> {
    const now = caseRef.openedAt;
    const record: CaseRecord & { findingKeys: string[] } = {
      caseId: caseRef.caseId,
      status: 'ACQUIRING',
      target: caseRef.target,
      source: caseRef.source,
      openedAt: now,
      updatedAt: now,
      executionArn: caseRef.executionArn,
      ...(caseRef.reason !== undefined ? { reason: caseRef.reason } : {}),
      ...(caseRef.requestedBy !== undefined ? { requestedBy: caseRef.requestedBy } : {}),
      findings: [caseRef.finding],
      findingKeys: [findingKey(caseRef.finding)],
      custodySeq: GENESIS_HEAD.seq,
      custodyHeadSha256: GENESIS_HEAD.sha256,
      custody: [],
      evidence: [],
      details: { options: caseRef.options },
    };
    const { findingKeys, ...rest } = record;
    const caseItem: Record<string, AttributeValue> = {
      ...caseKey(caseRef.caseId),
      ...attrMap(rest),
      findingKeys: { SS: findingKeys },
    };
    const lockItem: Record<string, AttributeValue> = {
      ...lockKey(caseRef.target),
      ...attrMap({ caseId: caseRef.caseId, openedAt: now }),
    };

    for (let attempt = 1; attempt <= OPEN_ATTEMPTS; attempt++) {
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: lockItem,
                  ConditionExpression: 'attribute_not_exists(pk)',
                  // Saves the GetItem when the service returns the holder with the cancellation reason.
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: caseItem,
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        return { opened: true, caseRef };
      } catch (err) {
        if (!isNamed(err, 'TransactionCanceledException')) throw err;
        const reasons = (err.CancellationReasons ?? []) as { Code?: string; Item?: Record<string, AttributeValue> }[];
        const lockReason = reasons[0];
        if (lockReason?.Code !== 'ConditionalCheckFailed') {
          // The lock was free: the case item collided (a case id reused) or the transaction failed otherwise.
          throw err;
        }
        const holder = lockReason.Item?.caseId?.S ?? (await this.lockHolder(caseRef.target));
        if (holder) return { opened: false, existingCaseId: holder };
        // The lock was released between our write and the read: try again.
      }
    }
    throw new Error(`could not open a case for ${caseRef.target.instanceId}: the target lock kept changing`);
  }

  private async lockHolder(target: Target): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: lockKey(target), ConsistentRead: true }),
    );
    return out.Item?.caseId?.S;
  }

  async appendFinding(caseId: string, finding: FindingSummary, at: string): Promise<void> {
    await this.updateCaseItem(
      caseId,
      {
        ConditionExpression: 'attribute_exists(pk) AND NOT contains(#findingKeys, :fk)',
        UpdateExpression:
          'SET #findings = list_append(if_not_exists(#findings, :empty), :finding), #updatedAt = :at ADD #findingKeys :fkSet',
        ExpressionAttributeNames: {
          '#findings': 'findings',
          '#findingKeys': 'findingKeys',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':fk': { S: findingKey(finding) },
          ':fkSet': { SS: [findingKey(finding)] },
          ':finding': { L: [attr(finding)] },
          ':empty': { L: [] },
          ':at': { S: at },
        },
      },
      async (err) => {
        // Either the finding (same id and count) is already there — a republish or a retry, nothing to do — or
        // the case does not exist.
        if (!(await this.getCase(caseId))) throw new CaseNotFound(caseId, { cause: err });
      },
    );
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: caseKey(caseId), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, findingKeys: _fk, ...attributes } = out.Item;
    const item = unmarshall(attributes) as Partial<CaseRecord>;
    return {
      ...(item as CaseRecord),
      findings: item.findings ?? [],
      custody: item.custody ?? [],
      evidence: item.evidence ?? [],
      details: item.details ?? {},
      custodySeq: item.custodySeq ?? GENESIS_HEAD.seq,
      custodyHeadSha256: item.custodyHeadSha256 ?? GENESIS_HEAD.sha256,
    };
  }

  async updateCase(
    caseId: string,
    patch: { status?: CaseStatus; details?: Record<string, unknown>; failure?: CaseRecord['failure'] },
  ): Promise<void> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, AttributeValue> = { ':updatedAt': { S: this.clock().toISOString() } };
    const sets = ['#updatedAt = :updatedAt'];
    if (patch.status !== undefined) {
      names['#status'] = 'status';
      values[':status'] = { S: patch.status };
      sets.push('#status = :status');
    }
    if (patch.failure !== undefined) {
      names['#failure'] = 'failure';
      values[':failure'] = attr(patch.failure);
      sets.push('#failure = :failure');
    }
    const detailEntries = Object.entries(patch.details ?? {}).filter(([, v]) => v !== undefined);
    if (detailEntries.length > 0) names['#details'] = 'details';
    detailEntries.forEach(([key, value], i) => {
      // One SET per key: merges into `details` without replacing what other steps stored there.
      names[`#d${i}`] = key;
      values[`:d${i}`] = attr(value);
      sets.push(`#details.#d${i} = :d${i}`);
    });
    await this.updateCaseItem(
      caseId,
      {
        ConditionExpression: 'attribute_exists(pk)',
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      caseNotFound(caseId),
    );
  }

  async advanceCustody(
    caseId: string,
    expected: { seq: number; sha256: string },
    appended: SealedObject[],
    newHead: { seq: number; sha256: string },
  ): Promise<void> {
    await this.updateCaseItem(
      caseId,
      {
        ConditionExpression: '#seq = :expectedSeq AND #head = :expectedSha',
        UpdateExpression:
          'SET #seq = :newSeq, #head = :newSha, #custody = list_append(if_not_exists(#custody, :empty), :appended), #updatedAt = :now',
        ExpressionAttributeNames: {
          '#seq': 'custodySeq',
          '#head': 'custodyHeadSha256',
          '#custody': 'custody',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':expectedSeq': { N: String(expected.seq) },
          ':expectedSha': { S: expected.sha256 },
          ':newSeq': { N: String(newHead.seq) },
          ':newSha': { S: newHead.sha256 },
          ':appended': attr(appended),
          ':empty': { L: [] },
          ':now': { S: this.clock().toISOString() },
        },
      },
      (err) => {
        throw new CustodyConflict(
          `custody head of case ${caseId} is no longer seq ${expected.seq} (${expected.sha256})`,
          { cause: err },
        );
      },
    );
  }

  async appendEvidence(caseId: string, objects: SealedObject[]): Promise<void> {
    if (objects.length === 0) return;
    await this.updateCaseItem(
      caseId,
      {
        ConditionExpression: 'attribute_exists(pk)',
        UpdateExpression: 'SET #evidence = list_append(if_not_exists(#evidence, :empty), :objects), #updatedAt = :now',
        ExpressionAttributeNames: { '#evidence': 'evidence', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: {
          ':objects': attr(objects),
          ':empty': { L: [] },
          ':now': { S: this.clock().toISOString() },
        },
      },
      caseNotFound(caseId),
    );
  }

  /**
   * A conditional UpdateItem of the case item. A failed condition goes to `onConditionFailed`, which throws the
   * domain error (or returns when the failure means there is nothing to do); any other error propagates.
   */
  private async updateCaseItem(
    caseId: string,
    update: Required<
      Pick<UpdateItemCommandInput, 'ConditionExpression' | 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>
    >,
    onConditionFailed: (err: Error) => void | Promise<void>,
  ): Promise<void> {
    try {
      await this.client.send(new UpdateItemCommand({ TableName: this.tableName, Key: caseKey(caseId), ...update }));
    } catch (err) {
      if (!isNamed(err, 'ConditionalCheckFailedException')) throw err;
      await onConditionFailed(err);
    }
  }

  async releaseLock(target: Target, caseId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: lockKey(target),
          // Never another case's lock: a new case may have opened after ours was released by a responder.
          ConditionExpression: '#caseId = :caseId',
          ExpressionAttributeNames: { '#caseId': 'caseId' },
          ExpressionAttributeValues: { ':caseId': { S: caseId } },
        }),
      );
      return true;
    } catch (err) {
      if (isNamed(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }
}

/** A failed `attribute_exists(pk)`: the case does not exist. */
function caseNotFound(caseId: string): (err: Error) => never {
  return (err) => {
    throw new CaseNotFound(caseId, { cause: err });
  };
}

// ── (Un)marshalling: @aws-sdk/util-dynamodb ──
// `undefined` members are left out (removeUndefinedValues); numbers come back as JavaScript numbers. Only plain
// data is stored: a class instance (a Date, say) is refused rather than silently turned into a map.
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

function attr(value: unknown): AttributeValue {
  return convertToAttr(value, MARSHALL_OPTIONS);
}

function attrMap(value: Record<string, unknown>): Record<string, AttributeValue> {
  return marshall(value, MARSHALL_OPTIONS);
}
