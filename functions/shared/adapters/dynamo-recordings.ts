import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { fromItem, indexAttributes, keys, toItem, type RecordingRecord } from '../domain/recording.js';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../domain/table.js';
import {
  LeaseLostError,
  type ClaimResult,
  type ConsumedNonce,
  type RecordingRepository,
} from '../ingest/ports.js';

export class DynamoRecordingRepository implements RecordingRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * One transaction: a conditional put per nonce and a put of the new record that only succeeds if the
   * record does not exist yet. When the record exists (a duplicate callback), the transaction is
   * cancelled and only the nonces are written, in a second transaction, so an existing record is never
   * touched at all.
   */
  async accept({
    record,
    nonces,
  }: {
    record: RecordingRecord;
    nonces: readonly ConsumedNonce[];
  }): Promise<'accepted' | 'replayed'> {
    const create = {
      Put: {
        TableName: this.tableName,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
      },
    };
    if (nonces.length === 0) {
      try {
        await this.documents.send(new PutCommand(create.Put));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      return 'accepted';
    }
    const consume = nonces.map((nonce) => ({
      Put: {
        TableName: this.tableName,
        Item: { ...keys.nonce(nonce.value), [TTL_ATTRIBUTE]: nonce.expiresAtSec },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
      },
    }));
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: [...consume, create] }));
      return 'accepted';
    } catch (error) {
      const reasons = conditionFailures(error);
      if (!reasons) throw error;
      if (reasons.slice(0, nonces.length).some(Boolean)) return 'replayed';
      if (!reasons[nonces.length]) throw error;
    }
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: consume }));
      return 'accepted';
    } catch (error) {
      if (conditionFailures(error)?.some(Boolean)) return 'replayed';
      throw error;
    }
  }

  async claim({
    recordingId,
    owner,
    nowMs,
    leaseMs,
  }: {
    recordingId: string;
    owner: string;
    nowMs: number;
    leaseMs: number;
  }): Promise<ClaimResult> {
    const leaseUntil = nowMs + leaseMs;
    const now = new Date(nowMs).toISOString();
    const due = new Date(leaseUntil).toISOString();
    // The status and due index keys of a claimed record, derived by the record module that owns them.
    const claimedKeys = indexAttributes({
      recording_id: recordingId,
      account_id: '',
      status: 'pending',
      attempts: 0,
      received_at: now,
      updated_at: now,
      next_attempt_at: due,
    });
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.recording(recordingId),
          // If this worker dies, the record is due again right when its lease runs out.
          UpdateExpression:
            'SET lease_owner = :owner, lease_until_ms = :until, attempts = if_not_exists(attempts, :zero) + :one, ' +
            '#status = :pending, updated_at = :now, next_attempt_at = :due, #statusPk = :statusPk, #duePk = :duePk, #dueSk = :dueSk',
          ConditionExpression:
            'attribute_exists(#pk) AND #status IN (:pending, :failed) AND (attribute_not_exists(lease_until_ms) OR lease_until_ms < :nowMs)',
          ExpressionAttributeNames: {
            '#pk': TABLE_KEYS.partitionKey,
            '#status': 'status',
            '#statusPk': INDEXES.byStatus.partitionKey,
            '#duePk': INDEXES.due.partitionKey,
            '#dueSk': INDEXES.due.sortKey,
          },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':until': leaseUntil,
            ':zero': 0,
            ':one': 1,
            ':pending': 'pending',
            ':failed': 'failed',
            ':now': now,
            ':nowMs': nowMs,
            ':due': due,
            ':statusPk': claimedKeys[INDEXES.byStatus.partitionKey],
            ':duePk': claimedKeys[INDEXES.due.partitionKey],
            ':dueSk': claimedKeys[INDEXES.due.sortKey],
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'claimed', record: fromItem(result.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const current = await this.get(recordingId, true);
    if (!current) return { kind: 'missing' };
    if (current.status === 'stored') return { kind: 'stored', record: current };
    return { kind: 'busy', record: current };
  }

  async replaceLeased(record: RecordingRecord, owner: string): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'lease_owner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(record.recording_id);
      throw error;
    }
  }

  async get(recordingId: string, consistent = false): Promise<RecordingRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.recording(recordingId),
        ConsistentRead: consistent,
      }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }
}

/** For a cancelled transaction: which items failed their condition; undefined for any other error. */
function conditionFailures(error: unknown): boolean[] | undefined {
  if (!(error instanceof TransactionCanceledException) || !error.CancellationReasons) return undefined;
  return error.CancellationReasons.map((reason) => reason.Code === 'ConditionalCheckFailed');
}
