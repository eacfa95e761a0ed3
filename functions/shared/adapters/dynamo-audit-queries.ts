import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { auditPartition, auditRecordingPartition } from '../domain/audit.js';
import { ValidationError } from '../domain/errors.js';
import { timeSortKeyBounds } from '../domain/recording.js';
import { AUDIT_SHARDS, INDEXES, TABLE_KEYS } from '../domain/table.js';
import type { AuditListQuery, AuditQueries } from '../ports/recording-queries.js';
import { mergeNewestFirst, type PartitionRead } from './dynamo-recording-queries.js';

const POSITION_PATTERN = /^\d{15}#[0-9a-f]{32}$/;

/** Where entries are read from: the table's AUDIT# partitions, or one recording's partition of `by-call`. */
interface Source {
  indexName?: string;
  partitionKey: string;
  sortKey: string;
  partitions: string[];
}

/**
 * The audit trail, newest first. Without a recording: the AUDIT_SHARDS partitions of the table read in
 * parallel and merged, as the recording listings are. With one: the single `RECAUDIT#<id>` partition of
 * the `by-call` index (domain/audit.ts). `since`/`until` are key conditions; an `action` is a filter
 * within the same read budget as an unfiltered page (so a page may come back short, with a cursor).
 * A position is the entry's sort key, the same in the table and in the index.
 */
export class DynamoAuditQueries implements AuditQueries {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(
    query: AuditListQuery,
    page: { limit: number; after?: string },
  ): Promise<{ items: Record<string, unknown>[]; next?: string }> {
    if (page.after !== undefined && !POSITION_PATTERN.test(page.after))
      throw new ValidationError('cursor is not valid');
    const window = timeSortKeyBounds(query.sinceMs, query.untilMs);
    const high = page.after !== undefined && page.after < window.high ? page.after : window.high;
    if (high < window.low) return { items: [] };
    const source = sourceOf(query);
    const readBudget = source.partitions.length * (page.limit + 1);
    const reads = await Promise.all(
      source.partitions.map((partition) =>
        this.readPartition(source, partition, query, {
          low: window.low,
          high,
          exclude: page.after,
          need: page.limit + 1,
          readBudget,
        }),
      ),
    );
    return mergeNewestFirst(reads, page.limit, source.sortKey);
  }

  private async readPartition(
    source: Source,
    partition: string,
    query: AuditListQuery,
    range: { low: string; high: string; exclude?: string; need: number; readBudget: number },
  ): Promise<PartitionRead> {
    const items: Record<string, unknown>[] = [];
    let examined = 0;
    let limit = range.need + (range.exclude === undefined ? 0 : 1);
    let startKey: Record<string, unknown> | undefined;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ...(source.indexName ? { IndexName: source.indexName } : {}),
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': source.partitionKey, '#sk': source.sortKey },
      ExpressionAttributeValues: { ':pk': partition, ':low': range.low, ':high': range.high },
      ScanIndexForward: false,
    };
    if (query.action) {
      input.FilterExpression = '#action = :action';
      input.ExpressionAttributeNames!['#action'] = 'action';
      input.ExpressionAttributeValues![':action'] = query.action;
    }
    for (;;) {
      const result = await this.documents.send(
        new QueryCommand({ ...input, Limit: limit, ExclusiveStartKey: startKey }),
      );
      for (const item of result.Items ?? []) if (item[source.sortKey] !== range.exclude) items.push(item);
      examined += result.ScannedCount ?? 0;
      startKey = result.LastEvaluatedKey;
      if (!startKey) return { items };
      if (items.length >= range.need) return { items, position: startKey[source.sortKey] as string };
      if (query.action) {
        if (examined >= range.readBudget) return { items, position: startKey[source.sortKey] as string };
        // Few matches so far: read further in growing steps, never past the budget.
        limit = Math.min(range.readBudget - examined, limit * 2);
      }
    }
  }
}

function sourceOf(query: AuditListQuery): Source {
  if (query.recordingId !== undefined)
    return {
      indexName: INDEXES.byCall.name,
      partitionKey: INDEXES.byCall.partitionKey,
      sortKey: INDEXES.byCall.sortKey,
      partitions: [auditRecordingPartition(query.recordingId)],
    };
  return {
    partitionKey: TABLE_KEYS.partitionKey,
    sortKey: TABLE_KEYS.sortKey,
    partitions: Array.from({ length: AUDIT_SHARDS }, (_, shard) => auditPartition(shard)),
  };
}
