import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  fromItem,
  indexAttributes,
  dueIndexKeys,
  keys,
  REMOVED_STATUSES,
  toItem,
  type RecordingRecord,
} from '../domain/recording.js';
import { INDEXES, TABLE_KEYS } from '../domain/table.js';
import { acceptNotificationRecord, type AcceptStore } from './dynamo-accept.js';
import {
  LeaseLostError,
  type AcceptResult,
  type ClaimResult,
  type ConsumedNonce,
  type LeaseRequest,
  type RecordingRepository,
} from '../ingest/ports.js';

export class DynamoRecordingRepository implements RecordingRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** acceptNotificationRecord (dynamo-accept.ts) through the document client. */
  accept(input: { record: RecordingRecord; nonces: readonly ConsumedNonce[] }): Promise<AcceptResult> {
    return acceptNotificationRecord(documentAcceptStore(this.documents), this.tableName, input);
  }

  async claim({ recordingId, owner, nowMs, leaseMs }: LeaseRequest): Promise<ClaimResult> {
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
    // Expired or erased on purpose (or on the way): there is nothing to archive, as if it were gone.
    if (!current || REMOVED_STATUSES.has(current.status)) return { kind: 'missing' };
    if (current.status === 'stored') return { kind: 'stored', record: current };
    return { kind: 'busy', record: current };
  }

  async renewLease({ recordingId, owner, nowMs, leaseMs, uploadKey }: LeaseRequest): Promise<void> {
    const leaseUntil = nowMs + leaseMs;
    const due = dueIndexKeys(recordingId, leaseUntil);
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.recording(recordingId),
          // The due time moves with the lease: if this worker dies now, the record is due when it runs out.
          UpdateExpression:
            'SET lease_until_ms = :until, next_attempt_at = :due, #dueSk = :dueSk' +
            (uploadKey ? ', s3_upload_key = :key' : ''),
          ConditionExpression: 'lease_owner = :owner AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#dueSk': INDEXES.due.sortKey },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':pending': 'pending',
            ':until': leaseUntil,
            ':due': new Date(leaseUntil).toISOString(),
            ':dueSk': due[INDEXES.due.sortKey],
            ...(uploadKey ? { ':key': uploadKey } : {}),
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(recordingId);
      throw error;
    }
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

/** The acceptance's two writes through the document client (the SDK's errors have the wire shape). */
export function documentAcceptStore(documents: DynamoDBDocumentClient): AcceptStore {
  return {
    async put(put) {
      await documents.send(new PutCommand(put));
    },
    async transactWrite(puts) {
      await documents.send(new TransactWriteCommand({ TransactItems: puts.map((put) => ({ Put: put })) }));
    },
  };
}
