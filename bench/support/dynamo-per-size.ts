import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  type RunningDynamo,
} from '../../local/emulators.js';
import { seedRecordings } from '../../test/support/recording-dataset.js';

/**
 * Heap of each DynamoDB Local process: with the tests' 256 MB, garbage collection slows it down as the
 * table grows, which a benchmark would measure as the product's cost.
 */
export const DYNAMODB_HEAP_MB = Number(process.env.BENCH_DYNAMODB_HEAP_MB ?? 2048);

/**
 * One DynamoDB Local process per table size. One process keeps every table's stream records in one
 * SQLite table (`us`) and, on every write, looks for the oldest record of the written table's stream
 * with a query that walks the other tables' records first: a second table in the same process pays for
 * the first one's writes, and reads queue behind those writes on DynamoDB Local's one SQLite thread.
 * Either all start or none is left running.
 */
export async function startDynamoPerSize(count: number): Promise<RunningDynamo[]> {
  const starting = await Promise.allSettled(
    // Two JVMs starting at once on a busy machine take longer than one.
    Array.from({ length: count }, () =>
      startDynamoDbLocal({ heapMb: DYNAMODB_HEAP_MB, readyTimeoutMs: 180_000 }),
    ),
  );
  const started = starting.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = starting.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((dynamo) => dynamo.stop()));
    throw failed.reason;
  }
  return started;
}

/** A client for a bench's own DynamoDB Local, patient with an emulator that is busy loading. */
export function benchDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 10,
  });
}

/** Loads `records` (12 writers), printing the rate every `every` records. Returns the seconds it took. */
export async function loadRecords(
  documents: ReturnType<typeof createDocumentClient>,
  tableName: string,
  records: readonly RecordingRecord[],
  every = 20_000,
): Promise<number> {
  const start = performance.now();
  let reported = 0;
  await seedRecordings(documents, tableName, records, {
    concurrency: 12,
    onProgress: (written) => {
      if (written - reported >= every || written === records.length) {
        reported = written;
        const rate = Math.round(written / ((performance.now() - start) / 1000));
        console.log(`  ${tableName}: ${written} (${rate}/s)`);
      }
    },
  });
  return (performance.now() - start) / 1000;
}
