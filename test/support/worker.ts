import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createArchiveWorkerHandler } from '../../functions/archive-worker/handler.js';
import {
  loadArchiveWorkerDependencies,
  type ArchiveWorkerDependencies,
} from '../../functions/archive-worker/dependencies.js';
import {
  ARCHIVE_TRIGGER,
  ARCHIVE_TRIGGER_FILTER,
  MAX_PARALLELIZATION_FACTOR,
} from '../../functions/shared/domain/archive-trigger.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';
import { startStreamTrigger, type Handler, type StreamTrigger } from '../../local/stream-trigger.js';
import { readRecord } from './webhook.js';

export interface WorkerOptions {
  /** The worker's dependencies; by default loaded from `env` as the Lambda does. */
  load?: () => Promise<ArchiveWorkerDependencies>;
  env?: Record<string, string | undefined>;
  /** Concurrent invocations (the stage's `archiveConcurrency`). */
  concurrency?: number;
  maxRetryAttempts?: number;
  /** Wraps the worker handler, e.g. to count or fail invocations. */
  wrap?: (handler: Handler) => Handler;
}

/**
 * The archive worker started the way AWS starts it: by the table's stream, through the local event
 * source mapping with the stack's filter, batch size, retries and concurrency.
 */
export async function startWorker(tableName: string, options: WorkerOptions = {}): Promise<StreamTrigger> {
  const worker = createArchiveWorkerHandler(
    options.load ?? (() => loadArchiveWorkerDependencies(options.env)),
  );
  const concurrency = options.concurrency ?? 10;
  const handler: Handler = (event, context) => worker(event, context);
  return startStreamTrigger({
    endpoint: inject('dynamoEndpoint'),
    tableName,
    filter: ARCHIVE_TRIGGER_FILTER,
    batchSize: ARCHIVE_TRIGGER.batchSize,
    maxRetryAttempts: options.maxRetryAttempts ?? ARCHIVE_TRIGGER.maxRetryAttempts,
    bisectOnError: ARCHIVE_TRIGGER.bisectOnError,
    parallelizationFactor: Math.min(MAX_PARALLELIZATION_FACTOR, concurrency),
    maxConcurrency: concurrency,
    timeoutMs: 15 * 60_000,
    retryDelayMs: 20,
    pollIntervalMs: 20,
    handler: options.wrap ? options.wrap(handler) : handler,
  });
}

/** Polls the record until `done` holds (the worker runs elsewhere); fails with the last record seen. */
export async function waitForRecord(
  documents: DynamoDBDocumentClient,
  tableName: string,
  recordingId: string,
  done: (record: RecordingRecord) => boolean,
  timeoutMs = 45_000,
): Promise<RecordingRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: RecordingRecord | undefined;
  while (Date.now() < deadline) {
    last = await readRecord(documents, tableName, recordingId);
    if (last && done(last)) return last;
    await sleep(50);
  }
  throw new Error(`record ${recordingId} did not reach the expected state: ${JSON.stringify(last)}`);
}

export const isStored = (record: RecordingRecord) => record.status === 'stored';
