/**
 * The archive worker in a process of its own, started by the table's stream as in AWS (a Lambda of its
 * own): for benchmarks that must not share an event loop with the webhook, and tests that stop it the
 * hard way (SIGKILL mid-transfer). Configured by the environment like the Lambda (TABLE_NAME,
 * BUCKET_NAME, VOBIZ_*, ALLOWED_MEDIA_ORIGINS, AWS_ENDPOINT_URL_*), plus ARCHIVE_CONCURRENCY. Prints
 * `ready` once it polls; closing stdin stops it after the invocations in flight.
 */
import { createArchiveWorkerHandler } from '../functions/archive-worker/handler.js';
import { loadArchiveWorkerDependencies } from '../functions/archive-worker/dependencies.js';
import {
  ARCHIVE_TRIGGER,
  ARCHIVE_TRIGGER_FILTER,
  DEFAULT_ARCHIVE_CONCURRENCY,
  MAX_PARALLELIZATION_FACTOR,
} from '../functions/shared/domain/archive-trigger.js';
import { startStreamTrigger } from './stream-trigger.js';

const concurrency = Number(process.env.ARCHIVE_CONCURRENCY ?? DEFAULT_ARCHIVE_CONCURRENCY);
const worker = createArchiveWorkerHandler(() => loadArchiveWorkerDependencies(process.env));
const trigger = await startStreamTrigger({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
  tableName: process.env.TABLE_NAME!,
  filter: ARCHIVE_TRIGGER_FILTER,
  batchSize: ARCHIVE_TRIGGER.batchSize,
  maxRetryAttempts: ARCHIVE_TRIGGER.maxRetryAttempts,
  bisectOnError: ARCHIVE_TRIGGER.bisectOnError,
  parallelizationFactor: Math.min(MAX_PARALLELIZATION_FACTOR, concurrency),
  maxConcurrency: concurrency,
  timeoutMs: 15 * 60_000,
  pollIntervalMs: 20,
  handler: (event, context) => worker(event, context),
});
process.stdout.write('ready\n');
process.stdin.on('end', () => void trigger.stop().then(() => process.exit(0)));
process.stdin.resume();
