import {
  GetCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors.js';
import {
  fromItem,
  keys,
  timeSortKeyBounds,
  type RecordingRecord,
  type RecordingStatus,
} from '../domain/recording.js';
import { INDEXES, TIME_SHARDS, type IndexDefinition } from '../domain/table.js';
import type { RecordingListQuery, RecordingPage, RecordingQueries } from '../ports/recording-queries.js';

/** Every listing index sorts by the same attribute, so one position is valid in all of them. */
const SORT_KEY = INDEXES.byTime.sortKey;
const POSITION_PATTERN = /^\d{15}#[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

interface Plan {
  index: IndexDefinition;
  partitions: string[];
  /** Applied after the key condition, within a bounded read budget (see `readPartition`). */
  status?: RecordingStatus;
}

/**
 * Which index serves a listing. Every plan reads a bounded number of items per page:
 * - call / from / to: one partition of by-call / by-from / by-to;
 * - status alone: the TIME_SHARDS partitions of by-status, merged;
 * - nothing: the TIME_SHARDS partitions of by-time, merged.
 * A status together with call/from/to is a FilterExpression on that one partition. Trade-off: no
 * extra index to keep in step on every status change, but a rare status on a busy number is found
 * page by page (each request reads at most `readBudget` items, so a page may come back short, even
 * empty, with a cursor). A composite index (partition = number + status) would make it exact at the
 * cost of one more index write per status change.
 */
export function planQuery(query: RecordingListQuery): Plan {
  const filter = query.filter;
  switch (filter?.kind) {
    case 'call':
      return {
        index: INDEXES.byCall,
        partitions: [keys.callPartition(filter.callUuid)],
        status: query.status,
      };
    case 'from':
      return { index: INDEXES.byFrom, partitions: [keys.fromPartition(filter.digits)], status: query.status };
    case 'to':
      return { index: INDEXES.byTo, partitions: [keys.toPartition(filter.digits)], status: query.status };
    case undefined: {
      const status = query.status;
      const shards = Array.from({ length: TIME_SHARDS }, (_, shard) => shard);
      return status
        ? { index: INDEXES.byStatus, partitions: shards.map((shard) => keys.statusPartition(status, shard)) }
        : { index: INDEXES.byTime, partitions: shards.map((shard) => keys.timePartition(shard)) };
    }
  }
}

type Item = Record<string, unknown>;

export interface PartitionRead {
  /** Matching items, newest first. */
  items: Item[];
  /** Undefined when the partition has nothing more below the last item read; else the sort key read down to. */
  position?: string;
}

/**
 * Merges the newest-first reads of several partitions into one page. A partition that was not read to
 * its end only vouches for items at or above its position, so the page stops at the highest such
 * position: nothing unread can sort above an item on the page.
 */
export function mergeNewestFirst(
  reads: readonly PartitionRead[],
  limit: number,
  sortKeyName: string = SORT_KEY,
): { items: Item[]; next?: string } {
  const sortKey = (item: Item) => item[sortKeyName] as string;
  const all = reads
    .flatMap((read) => read.items)
    .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0));
  const positions = reads.flatMap((read) => (read.position === undefined ? [] : [read.position]));
  const floor = positions.length > 0 ? positions.reduce((a, b) => (a > b ? a : b)) : undefined;
  const safe = floor === undefined ? all : all.filter((item) => sortKey(item) >= floor);
  if (safe.length > limit) {
    const items = safe.slice(0, limit);
    return { items, next: sortKey(items[items.length - 1]!) };
  }
  return { items: safe, next: floor };
}

export class DynamoRecordingQueries implements RecordingQueries {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(recordingId: string): Promise<RecordingRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.recording(recordingId), ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async list(query: RecordingListQuery, page: { limit: number; after?: string }): Promise<RecordingPage> {
    if (page.after !== undefined && !POSITION_PATTERN.test(page.after))
      throw new ValidationError('cursor is not valid');
    const plan = planQuery(query);
    const window = timeSortKeyBounds(query.sinceMs, query.untilMs);
    // The cursor position is the last key already returned; the BETWEEN includes it and it is dropped below.
    const high = page.after !== undefined && page.after < window.high ? page.after : window.high;
    if (high < window.low) return { items: [] };
    // Same read budget for every plan: what an unfiltered page costs (one page per shard).
    const readBudget = TIME_SHARDS * (page.limit + 1);
    const reads = await Promise.all(
      plan.partitions.map((partition) =>
        this.readPartition(plan, partition, {
          low: window.low,
          high,
          exclude: page.after,
          need: page.limit + 1,
          readBudget,
        }),
      ),
    );
    const merged = mergeNewestFirst(reads, page.limit);
    return { items: merged.items.map(fromItem), next: merged.next };
  }

  /**
   * Reads one partition newest first until `need` items matched, the partition ended, or (with a status
   * filter) `readBudget` items were examined. Without a filter this is one Query unless 1 MB cut it short.
   */
  private async readPartition(
    plan: Plan,
    partition: string,
    range: { low: string; high: string; exclude?: string; need: number; readBudget: number },
  ): Promise<PartitionRead> {
    const items: Item[] = [];
    let examined = 0;
    let limit = range.need + (range.exclude === undefined ? 0 : 1);
    let startKey: Record<string, unknown> | undefined;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: plan.index.name,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': plan.index.partitionKey, '#sk': plan.index.sortKey },
      ExpressionAttributeValues: { ':pk': partition, ':low': range.low, ':high': range.high },
      ScanIndexForward: false,
    };
    if (plan.status) {
      input.FilterExpression = '#status = :status';
      input.ExpressionAttributeNames!['#status'] = 'status';
      input.ExpressionAttributeValues![':status'] = plan.status;
    }
    for (;;) {
      const result = await this.documents.send(
        new QueryCommand({ ...input, Limit: limit, ExclusiveStartKey: startKey }),
      );
      for (const item of result.Items ?? []) {
        if (item[SORT_KEY] !== range.exclude) items.push(item);
      }
      examined += result.ScannedCount ?? 0;
      startKey = result.LastEvaluatedKey;
      if (!startKey) return { items };
      if (items.length >= range.need) return { items, position: startKey[SORT_KEY] as string };
      if (plan.status) {
        if (examined >= range.readBudget) return { items, position: startKey[SORT_KEY] as string };
        // Few matches so far: read further in growing steps, never past the budget.
        limit = Math.min(range.readBudget - examined, limit * 2);
      }
    }
  }
}
