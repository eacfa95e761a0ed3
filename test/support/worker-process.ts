/**
 * The archive worker in a process of its own, started by the table's stream, for tests that must stop
 * it the hard way (SIGKILL mid-transfer). Configured by the environment like the Lambda; the DynamoDB
 * endpoint doubles as the stream endpoint. Prints `ready` once it polls.
 */
import { createArchiveWorkerHandler } from '../../functions/archive-worker/handler.js';
import { loadArchiveWorkerDependencies } from '../../functions/archive-worker/dependencies.js';
import { ARCHIVE_TRIGGER, ARCHIVE_TRIGGER_FILTER } from '../../functions/shared/domain/archive-trigger.js';
import { startStreamTrigger } from '../../local/stream-trigger.js';

const worker = createArchiveWorkerHandler(() => loadArchiveWorkerDependencies(process.env));
await startStreamTrigger({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
  tableName: process.env.TABLE_NAME!,
  filter: ARCHIVE_TRIGGER_FILTER,
  batchSize: ARCHIVE_TRIGGER.batchSize,
  maxRetryAttempts: ARCHIVE_TRIGGER.maxRetryAttempts,
  bisectOnError: ARCHIVE_TRIGGER.bisectOnError,
  parallelizationFactor: 1,
  maxConcurrency: 1,
  timeoutMs: 15 * 60_000,
  pollIntervalMs: 20,
  handler: (event, context) => worker(event, context),
});
process.stdout.write('ready\n');
