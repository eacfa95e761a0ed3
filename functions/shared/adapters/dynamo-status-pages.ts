import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { keys, timeSortKey, type RecordingStatus } from '../domain/recording.js';
import { INDEXES, TIME_SHARDS } from '../domain/table.js';

export type StatusPageQuery = Omit<
  QueryCommandInput,
  'TableName' | 'IndexName' | 'KeyConditionExpression' | 'ExclusiveStartKey'
> & {
  /** A condition on the index's sort key (`#sk`, its time key), added to the shard's partition. */
  sortKeyCondition?: string;
};

/**
 * Every page of the `by-status` index for one status, shard after shard (the operator commands' one
 * pass over a status; never a scheduled sweep). `#pk`/`:pk` (and `#sk` for `sortKeyCondition`) are
 * filled in; the query supplies its own filter, projection, names and values.
 */
export async function* statusIndexPages(
  documents: DynamoDBDocumentClient,
  tableName: string,
  status: RecordingStatus,
  query: StatusPageQuery = {},
): AsyncIterable<{ items: Record<string, unknown>[]; scanned: number }> {
  const { sortKeyCondition, ExpressionAttributeNames, ExpressionAttributeValues, ...rest } = query;
  for (let shard = 0; shard < TIME_SHARDS; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await documents.send(
        new QueryCommand({
          ...rest,
          TableName: tableName,
          IndexName: INDEXES.byStatus.name,
          KeyConditionExpression: sortKeyCondition ? `#pk = :pk AND ${sortKeyCondition}` : '#pk = :pk',
          ExpressionAttributeNames: {
            ...ExpressionAttributeNames,
            '#pk': INDEXES.byStatus.partitionKey,
            ...(sortKeyCondition ? { '#sk': INDEXES.byStatus.sortKey } : {}),
          },
          ExpressionAttributeValues: {
            ...ExpressionAttributeValues,
            ':pk': keys.statusPartition(status, shard),
          },
          ExclusiveStartKey: startKey,
        }),
      );
      yield { items: result.Items ?? [], scanned: result.ScannedCount ?? 0 };
      startKey = result.LastEvaluatedKey;
    } while (startKey);
  }
}

/**
 * How many records have a status, from one query per `by-status` shard that reads at most
 * `maxPerShard` index items (`doctor`'s bounded count): `atLeast` when a shard had more than that.
 * `olderThanMs` counts only records received before then (their listing time is no later, so the sort
 * key narrows the read).
 */
export async function countStatus(
  documents: DynamoDBDocumentClient,
  tableName: string,
  status: RecordingStatus,
  options: { maxPerShard: number; olderThanMs?: number },
): Promise<{ count: number; atLeast: boolean }> {
  const cutoff = options.olderThanMs;
  const shards = await Promise.all(
    Array.from({ length: TIME_SHARDS }, (_, shard) =>
      documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEXES.byStatus.name,
          KeyConditionExpression: cutoff === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :sk',
          ...(cutoff === undefined ? {} : { FilterExpression: 'received_at < :received' }),
          ExpressionAttributeNames: {
            '#pk': INDEXES.byStatus.partitionKey,
            ...(cutoff === undefined ? {} : { '#sk': INDEXES.byStatus.sortKey }),
          },
          ExpressionAttributeValues: {
            ':pk': keys.statusPartition(status, shard),
            ...(cutoff === undefined
              ? {}
              : { ':sk': timeSortKey(cutoff, ''), ':received': new Date(cutoff).toISOString() }),
          },
          Select: 'COUNT',
          Limit: options.maxPerShard,
        }),
      ),
    ),
  );
  return {
    count: shards.reduce((sum, page) => sum + (page.Count ?? 0), 0),
    atLeast: shards.some((page) => page.LastEvaluatedKey !== undefined),
  };
}
