import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { isValidRecordingId } from '../shared/domain/recording.js';
import { unparsedFieldNames } from '../shared/domain/vobiz-schema.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import { remainingTime } from '../shared/framework/remaining-time.js';
import {
  countVobizFailures,
  createObservability,
  METRIC,
  MetricUnit,
} from '../shared/framework/observability.js';
import type { ArchiveOutcome } from '../shared/ingest/archive-recording.js';
import { loadArchiveWorkerDependencies, type ArchiveWorkerDependencies } from './dependencies.js';

const { logger, metrics } = createObservability('archive-worker');

/** No recording is started with less time than this left: it is handed back to the trigger instead. */
const MIN_REMAINING_TO_START_MS = 60_000;
/** Time kept back at the end of an invocation to record the outcome of an unfinished attempt. */
const RELEASE_RESERVE_MS = 10_000;
/** A plain context (local stack, scripts) has no deadline: behave as if this much time were left. */
const DEFAULT_RUN_MS = 15 * 60_000;

/**
 * The archive worker: started by the insert of a `pending` record (DynamoDB Streams, filtered to those
 * inserts), it archives the batch's recordings one at a time. A recording that cannot be archived now
 * is written back `pending` with its backoff (the re-drive retries it) and does not fail the batch; only
 * infrastructure errors (the table unreachable) hand records back to the trigger, which retries them
 * from the first one reported (ReportBatchItemFailures).
 */
export function createArchiveWorkerHandler(load: () => Promise<ArchiveWorkerDependencies>) {
  const getDependencies = onceUntilFailure(load);

  async function archiveBatch(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    const deps = await getDependencies();
    const remainingMs = remainingTime(context, DEFAULT_RUN_MS);
    const failures: DynamoDBBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records ?? []) {
      // Once one record is handed back, the trigger retries from there anyway: hand back the rest too.
      if (failures.length > 0 || remainingMs() < MIN_REMAINING_TO_START_MS) {
        failures.push({ itemIdentifier: sequenceOf(record) });
        continue;
      }
      const recordingId = record.dynamodb?.NewImage?.recording_id?.S;
      if (!isValidRecordingId(recordingId)) {
        logger.error('stream record without a valid recording id: skipped', { event_id: record.eventID });
        continue;
      }
      logger.appendKeys({ recording_id: recordingId });
      try {
        const deadline = AbortSignal.timeout(Math.max(1_000, remainingMs() - RELEASE_RESERVE_MS));
        report(recordingId, await deps.archiveRecording(recordingId, { signal: deadline }));
      } catch (error) {
        logger.error('archive attempt failed: handed back to the trigger', { error: error as Error });
        failures.push({ itemIdentifier: sequenceOf(record) });
      }
    }
    logger.removeKeys(['recording_id']);
    if (failures.length > 0) logger.warn('batch partly handed back', { handed_back: failures.length });
    return { batchItemFailures: failures };
  }

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(archiveBatch);
}

/** The identifier ReportBatchItemFailures expects for a stream record. */
function sequenceOf(record: DynamoDBRecord): string {
  return record.dynamodb?.SequenceNumber ?? '';
}

function report(recordingId: string, result: ArchiveOutcome): void {
  switch (result.outcome) {
    case 'stored':
      if (result.alreadyStored) logger.info('already stored');
      else {
        metrics.addMetric(METRIC.stored, MetricUnit.Count, 1);
        metrics.addMetric(METRIC.bytesStored, MetricUnit.Bytes, result.record.size_bytes ?? 0);
        logger.info('recording stored', {
          api_id: result.record.api_id,
          size_bytes: result.record.size_bytes,
          attempts: result.record.attempts,
        });
        // Once per recording: informative fields Vobiz sent in a shape we could not read (kept raw).
        const unparsed = unparsedFieldNames(result.record);
        if (unparsed.length > 0)
          logger.warn('Retrieve Recording fields kept raw in unparsed_fields', { fields: unparsed });
      }
      return;
    case 'busy':
      logger.info('another worker holds this recording');
      return;
    case 'missing':
      logger.warn('the record of this recording is gone', { recording_id: recordingId });
      return;
    case 'pending':
    case 'failed': {
      const { error, record } = result;
      metrics.addMetric(result.outcome === 'failed' ? METRIC.failed : METRIC.deferred, MetricUnit.Count, 1);
      const loud = error.name === 'VobizAuthError' || result.outcome === 'failed';
      logger[loud ? 'error' : 'warn']('recording not archived yet', {
        status: record.status,
        attempts: record.attempts,
        next_attempt_at: record.next_attempt_at,
        api_id: record.api_id ?? (error as { apiId?: string }).apiId,
        reason: record.last_error,
      });
    }
  }
}

export const handler = createArchiveWorkerHandler(() =>
  loadArchiveWorkerDependencies(process.env, countVobizFailures(metrics)),
);
