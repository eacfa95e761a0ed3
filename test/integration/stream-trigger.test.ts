import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { ARCHIVE_TRIGGER_FILTER } from '../../functions/shared/domain/archive-trigger.js';
import { keys, toItem } from '../../functions/shared/domain/recording.js';
import {
  matches,
  rewindCheckpointsPastLostWrites,
  startStreamTrigger,
  type StreamTriggerOptions,
} from '../../local/stream-trigger.js';
import { useEmulators } from '../support/aws.js';

/**
 * The local event source mapping against DynamoDB Local's real stream: the semantics the archive worker
 * relies on (filter, batch size, partial batch failures, bisect, retries, concurrency, checkpoints).
 */
type Emulators = Awaited<ReturnType<typeof useEmulators>>;
let env: Emulators;
const dir = mkdtempSync(join(tmpdir(), 'stream-trigger-'));

beforeAll(async () => {
  env = await useEmulators();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const idsOf = (records: DynamoDBRecord[]) => records.map((r) => r.dynamodb!.NewImage!.recording_id!.S!);

async function putPending(tableName: string, id: string) {
  const now = new Date().toISOString();
  await env.documents.send(
    new PutCommand({
      TableName: tableName,
      Item: toItem({
        recording_id: id,
        account_id: 'MA_T',
        status: 'pending',
        attempts: 0,
        received_at: now,
        updated_at: now,
      }),
    }),
  );
}

async function until(condition: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

function trigger(
  tableName: string,
  handler: StreamTriggerOptions['handler'],
  overrides: Partial<StreamTriggerOptions> = {},
) {
  return startStreamTrigger({
    endpoint: inject('dynamoEndpoint'),
    tableName,
    filter: ARCHIVE_TRIGGER_FILTER,
    batchSize: 10,
    parallelizationFactor: 1,
    maxConcurrency: 10,
    maxRetryAttempts: 3,
    bisectOnError: true,
    timeoutMs: 60_000,
    retryDelayMs: 5,
    pollIntervalMs: 20,
    handler,
    ...overrides,
  });
}

describe('the archive trigger filter', () => {
  const record = (eventName: string, image: Record<string, unknown>) => ({
    eventName,
    dynamodb: { NewImage: image },
  });
  it('matches only the insert of a pending recording record', () => {
    const pending = { sk: { S: 'REC' }, status: { S: 'pending' } };
    expect(matches(ARCHIVE_TRIGGER_FILTER, record('INSERT', pending))).toBe(true);
    expect(matches(ARCHIVE_TRIGGER_FILTER, record('MODIFY', pending))).toBe(false);
    expect(matches(ARCHIVE_TRIGGER_FILTER, record('INSERT', { ...pending, status: { S: 'stored' } }))).toBe(
      false,
    );
    expect(matches(ARCHIVE_TRIGGER_FILTER, record('INSERT', { sk: { S: 'NONCE' } }))).toBe(false);
    expect(matches(ARCHIVE_TRIGGER_FILTER, { eventName: 'INSERT' })).toBe(false);
    expect(matches({ a: [{ prefix: 'REC#' }] }, { a: 'REC#1' })).toBe(true);
    expect(matches({ a: [{ prefix: 'REC#' }] }, { a: 'NONCE#1' })).toBe(false);
  });
});

describe('local event source mapping on DynamoDB Local streams', () => {
  it('delivers each matching insert once, in batches of at most batchSize, and nothing else', async () => {
    const table = await useEmulators();
    const batches: string[][] = [];
    const t = await trigger(table.tableName, (event) => {
      batches.push(idsOf(event.Records));
      return Promise.resolve({ batchItemFailures: [] });
    });
    try {
      const ids = Array.from({ length: 25 }, (_, i) => `batch-${i}`);
      for (const id of ids) await putPending(table.tableName, id);
      // Neither a nonce item, nor an update, nor a stored record starts the worker.
      await env.documents.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { ...keys.nonce('12345678901'), recording_id: 'x' },
        }),
      );
      await env.documents.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: keys.recording('batch-0'),
          UpdateExpression: 'SET attempts = :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      await until(() => batches.flat().length >= 25);
      await sleep(300);
      expect(batches.flat().sort()).toEqual([...ids].sort());
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    } finally {
      await t.stop();
    }
  });

  it('retries a partly failed batch from the first record reported, not from the start', async () => {
    const table = await useEmulators();
    const batches: string[][] = [];
    let failedOnce = false;
    const t = await trigger(table.tableName, (event) => {
      const ids = idsOf(event.Records);
      batches.push(ids);
      const at = ids.indexOf('partial-2');
      if (at >= 0 && !failedOnce) {
        failedOnce = true;
        return Promise.resolve({
          batchItemFailures: [{ itemIdentifier: event.Records[at]!.dynamodb!.SequenceNumber! }],
        });
      }
      return Promise.resolve({ batchItemFailures: [] });
    });
    try {
      for (let i = 0; i < 5; i++) await putPending(table.tableName, `partial-${i}`);
      await until(() => failedOnce && batches.flat().includes('partial-4') && batches.length >= 2);
      await until(() => batches.flat().filter((id) => id === 'partial-2').length === 2);
      const all = batches.flat();
      expect(all.filter((id) => id === 'partial-0')).toHaveLength(1);
      expect(all.filter((id) => id === 'partial-1')).toHaveLength(1);
      expect(all.filter((id) => id === 'partial-2')).toHaveLength(2);
      expect(t.discarded).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('bisects a batch whose invocation throws, isolates the poison record and discards it after the retries', async () => {
    const table = await useEmulators();
    const delivered = new Set<string>();
    const t = await trigger(table.tableName, (event) => {
      const ids = idsOf(event.Records);
      if (ids.includes('poison-3')) return Promise.reject(new Error('crash'));
      ids.forEach((id) => delivered.add(id));
      return Promise.resolve({ batchItemFailures: [] });
    });
    try {
      for (let i = 0; i < 8; i++) await putPending(table.tableName, `poison-${i}`);
      await until(() => t.discarded.length > 0 && delivered.size === 7);
      expect(t.discarded).toHaveLength(1);
      expect(t.discarded[0]).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted' },
        DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.stringContaining(table.tableName) },
      });
      expect([...delivered].sort()).toEqual(
        ['poison-0', 'poison-1', 'poison-2', 'poison-4', 'poison-5', 'poison-6', 'poison-7'].sort(),
      );
    } finally {
      await t.stop();
    }
  });

  it('never runs more invocations at once than its concurrency, with parallel lanes per shard', async () => {
    const table = await useEmulators();
    let active = 0;
    let peak = 0;
    let done = 0;
    const t = await trigger(
      table.tableName,
      async (event): Promise<DynamoDBBatchResponse> => {
        peak = Math.max(peak, ++active);
        await sleep(50);
        active--;
        done += event.Records.length;
        return { batchItemFailures: [] };
      },
      { batchSize: 1, parallelizationFactor: 10, maxConcurrency: 3 },
    );
    try {
      for (let i = 0; i < 20; i++) await putPending(table.tableName, `lane-${i}`);
      await until(() => done === 20);
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1);
    } finally {
      await t.stop();
    }
  });

  it('resumes after the last handled record when restarted with its checkpoint file', async () => {
    const table = await useEmulators();
    const checkpointFile = join(dir, `${table.tableName}.json`);
    const seen: string[] = [];
    const handler: StreamTriggerOptions['handler'] = (event) => {
      seen.push(...idsOf(event.Records));
      return Promise.resolve({ batchItemFailures: [] });
    };
    const first = await trigger(table.tableName, handler, { checkpointFile });
    await putPending(table.tableName, 'before-restart');
    await until(() => seen.includes('before-restart'));
    await first.stop();
    await putPending(table.tableName, 'while-stopped');
    const second = await trigger(table.tableName, handler, { checkpointFile });
    try {
      await until(() => seen.includes('while-stopped'));
      await sleep(300);
      expect(seen.filter((id) => id === 'before-restart')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it('after an unclean stop, moves a checkpoint that ran past lost writes back, so the writes that reuse their numbers are delivered', async () => {
    const table = await useEmulators();
    const checkpointFile = join(dir, `${table.tableName}.json`);
    const seen: string[] = [];
    const handler: StreamTriggerOptions['handler'] = (event) => {
      seen.push(...idsOf(event.Records));
      return Promise.resolve({ batchItemFailures: [] });
    };
    const first = await trigger(table.tableName, handler, { checkpointFile });
    await putPending(table.tableName, 'kept');
    await until(() => seen.includes('kept'));
    await first.stop();
    // Two writes the trigger had checkpointed were lost by the kill: the emulator numbers the next
    // write as the first of them, at or before the checkpoint.
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { shards: Record<string, string> };
    for (const [shard, position] of Object.entries(saved.shards))
      saved.shards[shard] = String(BigInt(position) + 2n).padStart(position.length, '0');
    writeFileSync(checkpointFile, JSON.stringify(saved));
    expect(
      await rewindCheckpointsPastLostWrites({
        endpoint: inject('dynamoEndpoint'),
        tableName: table.tableName,
        checkpointFile,
      }),
    ).toBe(1);
    await putPending(table.tableName, 'numbered-again');
    const second = await trigger(table.tableName, handler, { checkpointFile });
    try {
      await until(() => seen.includes('numbered-again'));
      await sleep(300);
      expect(seen.filter((id) => id === 'kept')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
