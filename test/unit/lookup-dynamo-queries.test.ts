import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  DynamoRecordingQueries,
  mergeNewestFirst,
  planQuery,
  type PartitionRead,
} from '../../functions/shared/adapters/dynamo-recording-queries.js';
import { INDEXES, TIME_SHARDS } from '../../functions/shared/domain/table.js';
import { timeSortKey } from '../../functions/shared/domain/recording.js';

const SK = INDEXES.byTime.sortKey;
const item = (ms: number, id: string) => ({ recording_id: id, [SK]: timeSortKey(ms, id) });
const ids = (items: Record<string, unknown>[]) => items.map((i) => i.recording_id);

describe('planQuery', () => {
  it('serves each filter from its own index, and listings without one from the time shards', () => {
    expect(planQuery({ filter: { kind: 'call', callUuid: 'c-1' } })).toEqual({
      index: INDEXES.byCall,
      partitions: ['CALL#c-1'],
      status: undefined,
    });
    expect(planQuery({ filter: { kind: 'from', digits: '9198' }, status: 'failed' })).toMatchObject({
      index: INDEXES.byFrom,
      partitions: ['FROM#9198'],
      status: 'failed',
    });
    expect(planQuery({ filter: { kind: 'to', digits: '9180' } }).index).toBe(INDEXES.byTo);
    const time = planQuery({});
    expect(time.index).toBe(INDEXES.byTime);
    expect(time.partitions).toHaveLength(TIME_SHARDS);
    const status = planQuery({ status: 'pending' });
    expect(status.index).toBe(INDEXES.byStatus);
    expect(status.partitions).toEqual(Array.from({ length: TIME_SHARDS }, (_, s) => `STATUS#pending#${s}`));
    expect(status.status).toBeUndefined();
  });
});

describe('mergeNewestFirst', () => {
  it('interleaves shards newest first and continues after the last item shown', () => {
    const reads: PartitionRead[] = [
      { items: [item(9, 'a'), item(5, 'b'), item(1, 'c')] },
      { items: [item(8, 'd'), item(7, 'e'), item(2, 'f')] },
    ];
    const page = mergeNewestFirst(reads, 4);
    expect(ids(page.items)).toEqual(['a', 'd', 'e', 'b']);
    expect(page.next).toBe(timeSortKey(5, 'b'));
  });

  it('orders equal times by id', () => {
    const page = mergeNewestFirst([{ items: [item(5, 'x')] }, { items: [item(5, 'y'), item(5, 'a')] }], 10);
    expect(ids(page.items)).toEqual(['y', 'x', 'a']);
    expect(page.next).toBeUndefined();
  });

  it('never shows an item below a shard that was not read to the end', () => {
    // Shard 2 stopped at time 6 (budget or 1 MB): it may hold unread items between 6 and 0.
    const reads: PartitionRead[] = [
      { items: [item(9, 'a'), item(3, 'b'), item(1, 'c')] },
      { items: [item(8, 'd')], position: timeSortKey(6, 'z') },
    ];
    const page = mergeNewestFirst(reads, 10);
    expect(ids(page.items)).toEqual(['a', 'd']);
    expect(page.next).toBe(timeSortKey(6, 'z'));
  });

  it('ends the listing only when every shard is exhausted', () => {
    expect(mergeNewestFirst([{ items: [] }, { items: [] }], 5)).toEqual({ items: [], next: undefined });
  });
});

describe('DynamoRecordingQueries.list', () => {
  const mock = mockClient(DynamoDBDocumentClient);
  const queries = new DynamoRecordingQueries(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    'table',
  );
  beforeEach(() => mock.reset());

  it('queries each shard once, newest first, with the window and the cursor as key conditions', async () => {
    mock.on(QueryCommand).resolves({ Items: [], ScannedCount: 0 });
    const after = timeSortKey(5_000, 'rec-1');
    const page = await queries.list({ sinceMs: 1_000, untilMs: 9_000 }, { limit: 10, after });
    expect(page).toEqual({ items: [], next: undefined });
    const calls = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(TIME_SHARDS);
    for (const input of calls) {
      expect(input).toMatchObject({ IndexName: 'by-time', ScanIndexForward: false, Limit: 12 });
      expect(input.ExpressionAttributeValues).toMatchObject({
        ':low': timeSortKey(1_000, '').slice(0, 16),
        ':high': after,
      });
      expect(input.FilterExpression).toBeUndefined();
    }
  });

  it('drops the item the cursor points at, which the inclusive key condition returns again', async () => {
    const after = timeSortKey(5_000, 'rec-1');
    mock
      .on(QueryCommand)
      .callsFake((input: QueryCommandInput) =>
        input.ExpressionAttributeValues?.[':pk'] === 'TIME#0'
          ? { Items: [item(5_000, 'rec-1'), item(4_000, 'rec-2')], ScannedCount: 2 }
          : { Items: [], ScannedCount: 0 },
      );
    const page = await queries.list({}, { limit: 10, after });
    expect(page.items.map((r) => r.recording_id)).toEqual(['rec-2']);
  });

  it('reads at most a page-sized budget when a status filter finds few matches, then hands back a cursor', async () => {
    let cursorMs = 1_000_000;
    mock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const scanned = input.Limit!;
      cursorMs -= scanned;
      return { Items: [], ScannedCount: scanned, LastEvaluatedKey: { [SK]: timeSortKey(cursorMs, 'x') } };
    });
    const page = await queries.list(
      { filter: { kind: 'from', digits: '9198' }, status: 'failed' },
      { limit: 10 },
    );
    const calls = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    const examined = calls.reduce((sum, input) => sum + input.Limit!, 0);
    expect(examined).toBe(TIME_SHARDS * 11);
    expect(calls.map((input) => input.Limit)).toEqual([11, 22, 44, 11]);
    expect(calls[0]).toMatchObject({ IndexName: 'by-from', FilterExpression: '#status = :status' });
    expect(page.items).toEqual([]);
    expect(page.next).toBe(timeSortKey(cursorMs, 'x'));
  });

  it('refuses a position that is not a sort key', async () => {
    await expect(queries.list({}, { limit: 5, after: 'REC#x' })).rejects.toThrow(/cursor/);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
