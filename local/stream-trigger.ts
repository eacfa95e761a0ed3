import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators.js';
import { localContext } from './gateway.js';

/**
 * A local stand-in for a Lambda event source mapping on a DynamoDB stream, with the semantics the
 * stack configures in AWS (infra/archive-worker.ts): it polls DynamoDB Local's stream API shard by
 * shard, drops records that do not match the filter, invokes the handler with batches of at most
 * `batchSize` records, runs up to `parallelizationFactor` batches of a shard at once (records of one
 * item always in the same lane, in order) and at most `maxConcurrency` invocations overall (reserved
 * concurrency), honours ReportBatchItemFailures (a retry starts at the first record reported),
 * bisects a batch whose invocation throws, and after `maxRetryAttempts` retries hands the batch's
 * description to `onDiscard`, as the on-failure destination receives it.
 */

export type Handler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;

/** What the on-failure destination (an SQS queue in AWS) receives about a discarded batch. */
export interface DiscardedBatch {
  requestContext: { requestId: string; condition: 'RetryAttemptsExhausted'; approximateInvokeCount: number };
  responseContext: { functionError?: string };
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface StreamTriggerOptions {
  /** DynamoDB Local's endpoint (it serves the stream API too). */
  endpoint: string;
  tableName: string;
  /** A Lambda event filter pattern (the subset used here: nested objects, lists of exact values, `prefix`). */
  filter: Record<string, unknown>;
  batchSize: number;
  parallelizationFactor: number;
  maxConcurrency: number;
  maxRetryAttempts: number;
  bisectOnError: boolean;
  handler: Handler;
  /** The function's timeout, for the context's remaining time. */
  timeoutMs: number;
  functionName?: string;
  onDiscard?: (batch: DiscardedBatch) => void;
  /** Called when an invocation throws (before any retry). */
  onError?: (error: unknown) => void;
  pollIntervalMs?: number;
  retryDelayMs?: number;
  /**
   * Where to keep each shard's position (the last sequence number handled), so that a restarted local
   * stack resumes where it stopped, as a mapping does, instead of replaying the stream's 24 hours.
   */
  checkpointFile?: string;
}

export interface StreamTrigger {
  /** Stops polling; with `drain` (the default) it also waits for the invocations in flight. */
  stop(options?: { drain?: boolean }): Promise<void>;
  /** Discarded batches so far. */
  readonly discarded: DiscardedBatch[];
  /** Invocations so far (each a batch). */
  readonly invocations: number;
}

/** Starts polling the table's stream from its oldest retained record (TRIM_HORIZON). */
export async function startStreamTrigger(options: StreamTriggerOptions): Promise<StreamTrigger> {
  const client = { endpoint: options.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient(client);
  const table = await dynamo
    .send(new DescribeTableCommand({ TableName: options.tableName }))
    .finally(() => dynamo.destroy());
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient(client);
  const poll = options.pollIntervalMs ?? 100;
  const functionName = options.functionName ?? 'archive-worker';
  const discarded: DiscardedBatch[] = [];
  const running = new Set<Promise<void>>();
  const semaphore = new Semaphore(options.maxConcurrency);
  const stopping = new AbortController();
  let invocations = 0;

  const invoke = async (records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse | void> => {
    await semaphore.acquire();
    try {
      invocations++;
      const context = localContext(functionName, options.timeoutMs);
      return await options.handler({ Records: records }, context);
    } finally {
      semaphore.release();
    }
  };

  /** One batch, retried as the mapping would; resolves when it succeeded or was discarded. */
  const processBatch = async (shardId: string, batch: DynamoDBRecord[], retries = 0): Promise<void> => {
    let pending = batch;
    let attempts = retries;
    for (;;) {
      let response: DynamoDBBatchResponse | void;
      try {
        response = await invoke(pending);
      } catch (error) {
        options.onError?.(error);
        if (options.bisectOnError && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          await processBatch(shardId, pending.slice(0, half), attempts + 1);
          await processBatch(shardId, pending.slice(half), attempts + 1);
          return;
        }
        if (++attempts > options.maxRetryAttempts) return discard(shardId, pending, attempts, error);
        await sleep(retryDelay(attempts), undefined, { signal: stopping.signal }).catch(() => undefined);
        if (stopping.signal.aborted) return;
        continue;
      }
      const failures = response?.batchItemFailures ?? [];
      if (failures.length === 0) return;
      // A retry starts at the lowest sequence number reported; an identifier that is not in the
      // batch makes the whole batch a failure, as Lambda treats it.
      const positions = failures.map((f) =>
        pending.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier),
      );
      const from = positions.some((p) => p < 0) ? 0 : Math.min(...positions);
      pending = pending.slice(from);
      if (++attempts > options.maxRetryAttempts) return discard(shardId, pending, attempts);
      await sleep(retryDelay(attempts), undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return;
    }
  };

  const retryDelay = (attempt: number) => Math.min(5_000, (options.retryDelayMs ?? 200) * 2 ** (attempt - 1));

  const discard = (shardId: string, records: DynamoDBRecord[], attempts: number, error?: unknown) => {
    const batch: DiscardedBatch = {
      requestContext: {
        requestId: randomUUID(),
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: error ? { functionError: 'Unhandled' } : {},
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: records[0]?.dynamodb?.SequenceNumber ?? '',
        endSequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber ?? '',
        batchSize: records.length,
        streamArn,
      },
    };
    discarded.push(batch);
    options.onDiscard?.(batch);
  };

  /** Splits matching records into lanes by item key (order kept per item), batches each lane, runs the lanes. */
  const dispatch = async (shardId: string, records: DynamoDBRecord[]) => {
    const lanes: DynamoDBRecord[][] = Array.from({ length: options.parallelizationFactor }, () => []);
    for (const record of records) lanes[laneOf(record, lanes.length)]!.push(record);
    await Promise.all(
      lanes.map(async (lane) => {
        for (let i = 0; i < lane.length && !stopping.signal.aborted; i += options.batchSize)
          await processBatch(shardId, lane.slice(i, i + options.batchSize));
      }),
    );
  };

  const checkpoints = new Checkpoints(options.checkpointFile, streamArn);

  const readShard = async (shard: Shard): Promise<void> => {
    const shardId = shard.ShardId!;
    const after = checkpoints.get(shardId);
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;
    while (iterator && !stopping.signal.aborted) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      iterator = page.NextShardIterator;
      const all = page.Records ?? [];
      const records = all
        .map((record) => toLambdaRecord(record, streamArn))
        .filter((record) => matches(options.filter, record));
      if (records.length > 0) await dispatch(shardId, records);
      if (all.length === 0) await sleepUnlessStopped(poll);
      else if (!stopping.signal.aborted) checkpoints.set(shardId, all.at(-1)!.dynamodb!.SequenceNumber);
    }
  };

  const sleepUnlessStopped = (ms: number) =>
    sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);

  /** Finds shards as the stream rolls them over; a child shard waits until its parent is read to its end. */
  const supervise = async () => {
    const started = new Map<string, Promise<void>>();
    while (!stopping.signal.aborted) {
      try {
        const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
        for (const shard of StreamDescription?.Shards ?? []) {
          const id = shard.ShardId!;
          if (started.has(id)) continue;
          const parent = shard.ParentShardId ? started.get(shard.ParentShardId) : undefined;
          const reading = (parent ?? Promise.resolve())
            .then(() => readShard(shard))
            .catch((error: unknown) => {
              if (!stopping.signal.aborted) options.onError?.(error);
              started.delete(id); // read again from the start of the shard on the next round
            });
          started.set(id, reading);
        }
      } catch (error) {
        if (!stopping.signal.aborted) options.onError?.(error);
      }
      await sleepUnlessStopped(2_000);
    }
    await Promise.allSettled(started.values());
  };

  const supervisor = supervise();
  running.add(supervisor);

  return {
    discarded,
    get invocations() {
      return invocations;
    },
    async stop({ drain = true } = {}) {
      stopping.abort();
      if (drain) await Promise.allSettled(running);
      streams.destroy();
    },
  };
}

/**
 * After an unclean stop, before anything writes to the table: DynamoDB Local may have lost writes whose
 * stream records the trigger had already handled and checkpointed, and it numbers the next writes from
 * what it kept, so they would sit at or before the checkpoint and never be delivered. A checkpoint past
 * the last record its shard still holds is moved back to that record. Returns how many were moved.
 */
export async function rewindCheckpointsPastLostWrites(options: {
  endpoint: string;
  tableName: string;
  checkpointFile: string;
}): Promise<number> {
  if (!existsSync(options.checkpointFile)) return 0;
  const client = { endpoint: options.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient(client);
  const streams = new DynamoDBStreamsClient(client);
  try {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
    if (!Table?.LatestStreamArn) return 0;
    const streamArn = Table.LatestStreamArn;
    const checkpoints = new Checkpoints(options.checkpointFile, streamArn);
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    let moved = 0;
    for (const { ShardId: shardId } of StreamDescription?.Shards ?? []) {
      const position = shardId ? checkpoints.get(shardId) : undefined;
      if (!shardId || !position) continue;
      let last: string | undefined;
      let iterator = (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const records = page.Records ?? [];
        if (records.length === 0) break;
        last = records.at(-1)!.dynamodb!.SequenceNumber;
        iterator = page.NextShardIterator;
      }
      if (last === undefined || isAfter(position, last)) {
        checkpoints.set(shardId, last);
        moved++;
      }
    }
    return moved;
  } finally {
    dynamo.destroy();
    streams.destroy();
  }
}

/** Sequence numbers within a shard are decimal numbers that grow (sent as strings). */
function isAfter(sequenceNumber: string, other: string): boolean {
  return /^\d+$/.test(sequenceNumber) && /^\d+$/.test(other)
    ? BigInt(sequenceNumber) > BigInt(other)
    : sequenceNumber > other;
}

/** The record as Lambda delivers it: epoch seconds for the creation time, the stream's ARN. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? 'us-east-1',
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord['dynamodb']),
      ApproximateCreationDateTime: created ? Math.floor(new Date(created).getTime() / 1000) : undefined,
    },
  };
}

function laneOf(record: DynamoDBRecord, lanes: number): number {
  const key = JSON.stringify(record.dynamodb?.Keys ?? {});
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

/**
 * Lambda event filtering, for the rules this project uses: an object matches field by field; a list
 * matches when the value equals one of its entries (or matches one of its `{prefix}` rules); a missing
 * field never matches.
 */
export function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((rule) => {
      if (rule !== null && typeof rule === 'object' && 'prefix' in rule)
        return typeof value === 'string' && value.startsWith(String((rule as { prefix: unknown }).prefix));
      return value === rule;
    });
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([key, rule]) =>
      matches(rule, (value as Record<string, unknown>)[key]),
    );
  }
  return pattern === value;
}

/** Shard positions, kept in a small JSON file when one is given (and only for the same stream). */
class Checkpoints {
  private readonly positions: Record<string, string> = {};
  constructor(
    private readonly file: string | undefined,
    private readonly streamArn: string,
  ) {
    if (!file || !existsSync(file)) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as {
        streamArn?: string;
        shards?: Record<string, string>;
      };
      if (saved.streamArn === streamArn) Object.assign(this.positions, saved.shards);
    } catch {
      // unreadable: start from the oldest retained record, which is safe (the worker is idempotent)
    }
  }
  get(shardId: string): string | undefined {
    return this.positions[shardId];
  }
  /** Without a sequence number the shard is read from its oldest record again. */
  set(shardId: string, sequenceNumber: string | undefined): void {
    if (sequenceNumber === undefined) delete this.positions[shardId];
    else this.positions[shardId] = sequenceNumber;
    if (!this.file) return;
    // Aside, then renamed: a kill mid-write would otherwise leave a truncated file and a full replay.
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ streamArn: this.streamArn, shards: this.positions }));
    renameSync(temporary, this.file);
  }
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
