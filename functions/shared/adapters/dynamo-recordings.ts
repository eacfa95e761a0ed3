import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
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
  keys,
  timeSortKey,
  shardOf,
  toItem,
  type RecordingRecord,
} from '../domain/recording.js';
import { DUE_SHARDS, INDEXES, TABLE_KEYS, TIME_SHARDS, TTL_ATTRIBUTE } from '../domain/table.js';
import { LeaseLostError, type ClaimResult, type ConsumedNonce, type RecordingRepository } from '../ingest/ports.js';

const KEY_NAMES = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);

/** `SET #a = if_not_exists(#a, :a), …` for every attribute: creates a record, never changes an existing one. */
function createIfAbsent(item: Record<string, unknown>): {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses: string[] = [];
  Object.entries(item)
    .filter(([name, value]) => !KEY_NAMES.has(name) && value !== undefined)
    .forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:v${i}`] = value;
      clauses.push(`#a${i} = if_not_exists(#a${i}, :v${i})`);
    });
  return { UpdateExpression: `SET ${clauses.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

export class DynamoRecordingRepository implements RecordingRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async accept({ record, nonces }: { record: RecordingRecord; nonces: readonly ConsumedNonce[] }): Promise<'accepted' | 'replayed'> {
    const upsert = { TableName: this.tableName, Key: keys.recording(record.recording_id), ...createIfAbsent(toItem(record)) };
    if (nonces.length === 0) {
      await this.documents.send(new UpdateCommand(upsert));
      return 'accepted';
    }
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            ...nonces.map((nonce) => ({
              Put: {
                TableName: this.tableName,
                Item: { ...keys.nonce(nonce.value), [TTL_ATTRIBUTE]: nonce.expiresAtSec },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
              },
            })),
            { Update: upsert },
          ],
        }),
      );
      return 'accepted';
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((reason, i) => i < nonces.length && reason.Code === 'ConditionalCheckFailed')
      ) {
        return 'replayed';
      }
      throw error;
    }
  }

  async claim({ recordingId, owner, nowMs, leaseMs }: { recordingId: string; owner: string; nowMs: number; leaseMs: number }): Promise<ClaimResult> {
    const leaseUntil = nowMs + leaseMs;
    const now = new Date(nowMs).toISOString();
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
            ':due': new Date(leaseUntil).toISOString(),
            ':statusPk': keys.statusPartition('pending', shardOf(recordingId, TIME_SHARDS)),
            ':duePk': keys.duePartition(shardOf(recordingId, DUE_SHARDS)),
            ':dueSk': timeSortKey(leaseUntil, recordingId),
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
      new GetCommand({ TableName: this.tableName, Key: keys.recording(recordingId), ConsistentRead: consistent }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }
}

