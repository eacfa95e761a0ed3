import { TABLE_KEYS } from './table.js';

/**
 * How the archive worker is started: by the table's stream, as a Lambda event source mapping in AWS
 * (infra/archive-worker.ts) and by the local stack's poller (local/stream-trigger.ts), both from this
 * one description so they cannot drift apart.
 */

/** The stream carries new images only: the filter and the worker read nothing else. */
export const STREAM_VIEW_TYPE = 'NEW_IMAGE';

/**
 * Lambda event filter: only the insert of a recording record that is `pending` is work (a callback's
 * or the backfill's). Nonce items, updates and stored records never invoke the worker.
 */
export const ARCHIVE_TRIGGER_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { [TABLE_KEYS.sortKey]: { S: ['REC'] }, status: { S: ['pending'] } } },
} as const;

export const ARCHIVE_TRIGGER = {
  /** Records per invocation; the worker archives them one after the other. */
  batchSize: 10,
  /** Retries of a batch that failed (or handed records back) before it goes to the on-failure queue. */
  maxRetryAttempts: 5,
  /** A batch whose invocation failed as a whole is split in two and retried, isolating a poison record. */
  bisectOnError: true,
} as const;

/** Concurrent worker invocations when the stage does not set `archiveConcurrency`. */
export const DEFAULT_ARCHIVE_CONCURRENCY = 10;

/** Lambda runs at most 10 concurrent batches per stream shard. */
export const MAX_PARALLELIZATION_FACTOR = 10;
