import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
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
  type RecordingStatus,
} from '../domain/recording.js';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../domain/table.js';
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

  /**
   * One transaction: a conditional put per nonce (remembering the recording it was consumed for) and a
   * put of the new record that only succeeds if the record does not exist yet. Every condition returns
   * the item it found, so a cancelled transaction says exactly why:
   * - a nonce consumed for another recording: `replayed`, nothing written;
   * - the record exists (a duplicate callback): its status is known, and the nonces not seen before
   *   are consumed in a second transaction, so an existing record is never touched at all;
   * - every nonce was consumed for this recording already: a retry of the same delivery, no write.
   */
  async accept({
    record,
    nonces,
  }: {
    record: RecordingRecord;
    nonces: readonly ConsumedNonce[];
  }): Promise<AcceptResult> {
    const recordingId = record.recording_id;
    const create = {
      Put: {
        TableName: this.tableName,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
    const consume = (nonce: ConsumedNonce, alsoSameRecording: boolean) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.nonce(nonce.value),
          recording_id: recordingId,
          [TTL_ATTRIBUTE]: nonce.expiresAtSec,
        },
        ConditionExpression: alsoSameRecording
          ? 'attribute_not_exists(#pk) OR recording_id = :id'
          : 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
        ...(alsoSameRecording ? { ExpressionAttributeValues: { ':id': recordingId } } : {}),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    });

    if (nonces.length === 0) {
      try {
        await this.documents.send(new PutCommand(create.Put));
        return { kind: 'recorded', status: 'pending' };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const status = error.Item?.status?.S;
        return { kind: 'known', status: (status ?? 'pending') as RecordingStatus, retry: false };
      }
    }
    let existing: Record<string, AttributeValue> | undefined;
    let fresh: readonly ConsumedNonce[];
    try {
      await this.documents.send(
        new TransactWriteCommand({ TransactItems: [...nonces.map((n) => consume(n, false)), create] }),
      );
      return { kind: 'recorded', status: 'pending' };
    } catch (error) {
      const failures = conditionFailures(error);
      if (!failures) throw error;
      const seen = failures.slice(0, nonces.length);
      if (seen.some((old) => old && old.recording_id?.S !== recordingId)) return { kind: 'replayed' };
      existing = failures[nonces.length];
      fresh = nonces.filter((_, i) => !seen[i]);
      if (!existing && fresh.length === nonces.length) throw error; // cancelled for another reason
    }

    // The record exists (or, rarely, only its nonces do): consume what is new, create what is missing.
    const items = [...fresh.map((n) => consume(n, true)), ...(existing ? [] : [create])];
    if (items.length > 0) {
      try {
        await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (error) {
        const failures = conditionFailures(error);
        if (failures?.slice(0, fresh.length).some(Boolean)) return { kind: 'replayed' };
        throw error; // a race with another writer of this very recording: the caller answers 5xx, Vobiz retries
      }
    }
    if (!existing) return { kind: 'recorded', status: 'pending' };
    return {
      kind: 'known',
      status: String(existing.status?.S ?? 'pending') as RecordingStatus,
      retry: fresh.length === 0,
    };
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

/**
 * For a cancelled transaction: per item, the item found when its condition failed (`{}` when DynamoDB
 * returned none), or undefined when that item's condition held; undefined for any other error.
 */
function conditionFailures(error: unknown): (Record<string, AttributeValue> | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException) || !error.CancellationReasons) return undefined;
  return error.CancellationReasons.map((reason) =>
    reason.Code === 'ConditionalCheckFailed' ? (reason.Item ?? {}) : undefined,
  );
}
