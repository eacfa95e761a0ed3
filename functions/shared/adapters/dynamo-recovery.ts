import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { auditItem, type AuditEntry } from '../domain/audit.js';
import { dueIndexKeys, keys, shardOf, timeSortKey, type RecordingStatus } from '../domain/recording.js';
import { DUE_SHARDS, INDEXES, TABLE_KEYS, TIME_SHARDS } from '../domain/table.js';
import type {
  AbandonedLeases,
  DueRecording,
  DueRecordings,
  FailedRecordings,
  KnownRecordings,
  ResetResult,
} from '../recovery/ports.js';
import { statusIndexPages } from './dynamo-status-pages.js';

/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_MAX = 100;
const DUE_SK_PATTERN = /^(\d+)#/;

/**
 * The re-drive's, backfill's and retry command's access to the recordings table: the `due` and
 * `by-status` indexes, batched existence checks, and conditional resets. No Scan anywhere.
 */
export class DynamoRecoveryRepository
  implements DueRecordings, KnownRecordings, FailedRecordings, AbandonedLeases
{
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findDue(nowMs: number, limit: number): Promise<DueRecording[]> {
    const high = timeSortKey(nowMs, '~');
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, async (_, shard) => {
        const result = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEXES.due.name,
            KeyConditionExpression: '#pk = :pk AND #sk <= :high',
            ExpressionAttributeNames: {
              '#pk': INDEXES.due.partitionKey,
              '#sk': INDEXES.due.sortKey,
            },
            ExpressionAttributeValues: { ':pk': keys.duePartition(shard), ':high': high },
            ProjectionExpression: 'recording_id, #sk',
            ScanIndexForward: true,
            Limit: limit,
          }),
        );
        return result.Items ?? [];
      }),
    );
    return shards
      .flat()
      .map((item) => ({ item, sk: String(item[INDEXES.due.sortKey]) }))
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .slice(0, limit)
      .map(({ item, sk }) => ({
        recordingId: String(item.recording_id),
        dueAtMs: Number(DUE_SK_PATTERN.exec(sk)?.[1] ?? 0),
      }));
  }

  async statuses(recordingIds: readonly string[]): Promise<Map<string, RecordingStatus>> {
    const found = new Map<string, RecordingStatus>();
    const unique = [...new Set(recordingIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX) {
      let pending: Record<string, unknown>[] = unique
        .slice(start, start + BATCH_GET_MAX)
        .map((id) => keys.recording(id));
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await sleep(Math.min(2_000, 50 * 2 ** round));
        if (round > 8) throw new Error('DynamoDB left keys unprocessed after repeated BatchGetItem calls');
        const result = await this.documents.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ProjectionExpression: 'recording_id, #status',
                ExpressionAttributeNames: { '#status': 'status' },
              },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          found.set(String(item.recording_id), item.status as RecordingStatus);
        }
        pending =
          (result.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  }

  /** With `audit`, the reset and its audit entry are one transaction: both or neither. */
  async resetFailed(recordingId: string, nowMs: number, audit?: AuditEntry): Promise<ResetResult> {
    const now = new Date(nowMs).toISOString();
    const reset: UpdateCommandInput = {
      TableName: this.tableName,
      Key: keys.recording(recordingId),
      UpdateExpression:
        'SET #status = :pending, attempts = :zero, next_attempt_at = :now, updated_at = :now, ' +
        '#statusPk = :statusPk, #duePk = :duePk, #dueSk = :dueSk REMOVE lease_owner, lease_until_ms',
      ConditionExpression: '#status = :failed',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#statusPk': INDEXES.byStatus.partitionKey,
        '#duePk': INDEXES.due.partitionKey,
        '#dueSk': INDEXES.due.sortKey,
      },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':failed': 'failed',
        ':zero': 0,
        ':now': now,
        ':statusPk': keys.statusPartition('pending', shardOf(recordingId, TIME_SHARDS)),
        ':duePk': keys.duePartition(shardOf(recordingId, DUE_SHARDS)),
        ':dueSk': timeSortKey(nowMs, recordingId),
      },
    };
    try {
      if (!audit) {
        await this.documents.send(
          new UpdateCommand({ ...reset, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
        );
        return 'reset';
      }
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: reset as never },
            {
              Put: {
                TableName: this.tableName,
                Item: auditItem(audit),
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
              },
            },
          ],
        }),
      );
      return 'reset';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error.Item ? 'not_failed' : 'missing';
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return (await this.exists(recordingId)) ? 'not_failed' : 'missing';
      throw error;
    }
  }

  async releaseAll(nowMs: number): Promise<number> {
    let released = 0;
    for await (const page of statusIndexPages(this.documents, this.tableName, 'pending', {
      ProjectionExpression: 'recording_id, lease_owner',
      FilterExpression: 'attribute_exists(lease_owner)',
    })) {
      for (const item of page.items) {
        const recordingId = String(item.recording_id);
        const due = dueIndexKeys(recordingId, nowMs);
        try {
          await this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.recording(recordingId),
              UpdateExpression:
                'SET next_attempt_at = :now, #dueSk = :dueSk REMOVE lease_owner, lease_until_ms',
              ConditionExpression: 'lease_owner = :owner AND #status = :pending',
              ExpressionAttributeNames: { '#status': 'status', '#dueSk': INDEXES.due.sortKey },
              ExpressionAttributeValues: {
                ':owner': item.lease_owner,
                ':pending': 'pending',
                ':now': new Date(nowMs).toISOString(),
                ':dueSk': due[INDEXES.due.sortKey],
              },
            }),
          );
          released++;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
    }
    return released;
  }

  private async exists(recordingId: string): Promise<boolean> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.recording(recordingId),
        ProjectionExpression: 'recording_id',
        ConsistentRead: true,
      }),
    );
    return result.Item !== undefined;
  }

  async *listFailed(): AsyncIterable<string[]> {
    for await (const page of statusIndexPages(this.documents, this.tableName, 'failed', {
      ProjectionExpression: 'recording_id',
    })) {
      if (page.items.length > 0) yield page.items.map((item) => String(item.recording_id));
    }
  }
}
