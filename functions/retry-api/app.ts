import type { Actor } from '../shared/domain/actor.js';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { ConflictError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import { isValidRecordingId, renderRecording, type RecordingRecord } from '../shared/domain/recording.js';
import { callerOf } from '../shared/framework/caller.js';
import {
  httpErrors,
  jsonResponse,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../shared/framework/http.js';
import { METRIC, MetricUnit } from '../shared/framework/observability.js';
import type { ResetResult } from '../shared/recovery/ports.js';
import { resolveRetryRoute } from './routes.js';

export interface RetryApiOptions {
  logger: Logger;
  metrics: Metrics;
  /** The `npm run retry` use case for one id, audited with the caller. */
  retry: (recordingId: string, options: { actor: Actor }) => Promise<ResetResult>;
  /** The record as it is now (consistent read). */
  get: (recordingId: string) => Promise<RecordingRecord | undefined>;
}

/** Why a record that is not `failed` has nothing to retry, in words. */
const NOT_FAILED: Partial<Record<RecordingRecord['status'], string>> = {
  pending: 'it is already queued for archiving',
  stored: 'its audio is archived',
  expiring: 'retention is removing its audio',
  expired: 'retention removed its audio',
  erasing: 'it is being erased',
  erased: 'it was erased',
};

/**
 * `POST /recordings/{id}/retry` (IAM, its own permission): what `npm run retry <id>` does, for one
 * recording whose archiving failed: back to `pending` with a full retry budget, due now (the re-drive
 * archives it within a minute), recorded in the audit trail with the caller. `202` with the record;
 * `404` unknown; `409 not_failed` for any other status (only `failed` records can be retried).
 */
export function createRetryApiHandler({ logger, metrics, retry, get }: RetryApiOptions) {
  async function handle(event: HttpEvent): Promise<HttpResult> {
    const { recordingId } = resolveRetryRoute(event);
    logger.appendKeys({ route: 'retry', recording_id: recordingId });
    if (!isValidRecordingId(recordingId))
      throw new ValidationError(
        'recording_id must be 1–128 letters, digits, "-" or "_", starting with a letter or digit',
      );
    if (rawBody(event).length > 0) throw new ValidationError('this route takes no body');
    const result = await retry(recordingId, { actor: callerOf(event) });
    if (result === 'missing') throw new NotFoundError(`recording ${recordingId} is not in the archive`);
    const record = await get(recordingId);
    if (!record) throw new NotFoundError(`recording ${recordingId} is not in the archive`);
    if (result === 'not_failed') {
      const why = NOT_FAILED[record.status];
      throw new ConflictError(
        'not_failed',
        `only a recording whose archiving failed (status failed) can be retried; recording ${recordingId} is ${record.status}${why ? `: ${why}` : ''}`,
      );
    }
    metrics.addMetric(METRIC.retried, MetricUnit.Count, 1);
    logger.info('failed recording queued again');
    return jsonResponse(202, renderRecording(record));
  }

  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrors(logger))
    .handler(handle);
}
