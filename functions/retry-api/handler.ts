import { createDocumentClient } from '../shared/adapters/aws-clients.js';
import { DynamoRecordingQueries } from '../shared/adapters/dynamo-recording-queries.js';
import { DynamoRecoveryRepository } from '../shared/adapters/dynamo-recovery.js';
import { STORAGE_ENV } from '../shared/config.js';
import { createObservability } from '../shared/framework/observability.js';
import { systemClock } from '../shared/ingest/ports.js';
import { makeRetryFailed } from '../shared/recovery/retry-failed.js';
import { createRetryApiHandler } from './app.js';

const { logger, metrics } = createObservability('retry-api');
// Read at cold start: a misconfigured function fails here, before serving anything.
const tableName = STORAGE_ENV.TABLE_NAME.read(process.env);
const documents = createDocumentClient();
const retryFailed = makeRetryFailed({
  failed: new DynamoRecoveryRepository(documents, tableName),
  clock: systemClock,
});
const records = new DynamoRecordingQueries(documents, tableName);

export const handler = createRetryApiHandler({
  logger,
  metrics,
  retry: (recordingId, options) => retryFailed.one(recordingId, options),
  get: (recordingId) => records.get(recordingId),
});
