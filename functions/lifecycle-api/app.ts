import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { isValidReason, REASON_RULE } from '../shared/domain/audit.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import { isValidRecordingId, type RecordingRecord } from '../shared/domain/recording.js';
import {
  httpErrors,
  jsonResponse,
  queryParameters,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../shared/framework/http.js';
import { callerOf } from '../shared/framework/caller.js';
import { METRIC, MetricUnit } from '../shared/framework/observability.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import type { EraseRecording } from '../shared/lifecycle/erase-recording.js';
import type { LegalHold } from '../shared/lifecycle/legal-hold.js';
import { resolveLifecycleRoute } from './routes.js';

export interface LifecycleApiOptions {
  logger: Logger;
  metrics: Metrics;
  /** Loaded once per container; a failed load is retried by the next request. */
  load: () => Promise<{ legalHold: LegalHold; eraseRecording: EraseRecording }>;
}

/**
 * The lifecycle routes (IAM, each its own permission): `PUT`/`DELETE /recordings/{id}/legal-hold` and
 * `DELETE /recordings/{id}` (erasure). The read-only lookup function serves everything else.
 */
export function createLifecycleApiHandler({ logger, metrics, load }: LifecycleApiOptions) {
  const getDependencies = onceUntilFailure(load);

  async function handle(event: HttpEvent): Promise<HttpResult> {
    const route = resolveLifecycleRoute(event);
    logger.appendKeys({ route: route.name, recording_id: route.recordingId });
    if (!isValidRecordingId(route.recordingId))
      throw new ValidationError(
        'recording_id must be 1–128 letters, digits, "-" or "_", starting with a letter or digit',
      );
    const actor = callerOf(event);
    const deps = await getDependencies();
    switch (route.name) {
      case 'hold': {
        const { reason } = parseHoldBody(event);
        const result = await deps.legalHold.place(route.recordingId, { actor, reason });
        if (result.outcome === 'not_found') throw notFound(route.recordingId);
        if (result.outcome === 'not_stored')
          throw new ConflictError(
            'not_stored',
            `only archived audio can be held; recording ${route.recordingId} is ${result.status}`,
          );
        if (result.outcome === 'no_audio')
          throw new ConflictError('no_audio', `S3 has no audio object for recording ${route.recordingId}`);
        if (result.outcome !== 'held') throw new Error(`unexpected hold outcome ${result.outcome}`);
        if (!result.already) metrics.addMetric(METRIC.legalHoldPlaced, MetricUnit.Count, 1);
        logger.info('legal hold placed', {
          already: result.already,
          s3_version_id: result.record.s3_version_id,
        });
        return jsonResponse(200, { ...holdView(result.record), already_held: result.already });
      }
      case 'release': {
        const { reason } = parseHoldBody(event);
        const result = await deps.legalHold.release(route.recordingId, { actor, reason });
        if (result.outcome === 'not_found') throw notFound(route.recordingId);
        if (result.outcome === 'released') metrics.addMetric(METRIC.legalHoldReleased, MetricUnit.Count, 1);
        if (result.outcome !== 'released' && result.outcome !== 'not_held' && result.outcome !== 'held')
          throw new Error(`unexpected release outcome ${result.outcome}`);
        logger.info('legal hold released', { was_held: result.outcome !== 'not_held' });
        return jsonResponse(200, { ...holdView(result.record), was_held: result.outcome !== 'not_held' });
      }
      case 'erase': {
        const { reason, alsoVobiz } = parseEraseParams(queryParameters(event));
        const result = await deps.eraseRecording(route.recordingId, { actor, reason, alsoVobiz });
        if (result.outcome === 'held')
          throw new ConflictError(
            'legal_hold',
            `recording ${route.recordingId} is on legal hold; release the hold before erasing it`,
          );
        if (result.outcome === 'busy') {
          const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
          throw new ConflictError(
            'archiving',
            `recording ${route.recordingId} is being archived right now; try again in ${seconds} s`,
            seconds,
          );
        }
        if (result.outcome !== 'erased') throw new Error(`unexpected erase outcome ${result.outcome}`);
        if (!result.already) metrics.addMetric(METRIC.erased, MetricUnit.Count, 1);
        logger.info('recording erased', {
          already: result.already,
          versions_deleted: result.versionsDeleted,
          vobiz: result.vobiz,
        });
        return jsonResponse(200, {
          recording_id: route.recordingId,
          status: 'erased',
          erased_at: result.record.erased_at,
          erasure_reason: result.record.erasure_reason,
          erased_by: result.record.erased_by,
          versions_deleted: result.versionsDeleted,
          // deleted | absent | pending (the scheduled run retries it) | refused (another account's) | null (kept)
          vobiz: result.vobiz ?? null,
          vobiz_deleted_at: result.record.vobiz_deleted_at ?? null,
          already_erased: result.already,
        });
      }
    }
  }

  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrors(logger))
    .handler(handle);
}

function notFound(recordingId: string): NotFoundError {
  return new NotFoundError(`recording ${recordingId} is not in the archive`);
}

function holdView(record: RecordingRecord): Record<string, unknown> {
  return {
    recording_id: record.recording_id,
    status: record.status,
    legal_hold: record.legal_hold === true,
    legal_hold_at: record.legal_hold_at ?? null,
    legal_hold_by: record.legal_hold_by ?? null,
    legal_hold_reason: record.legal_hold_reason ?? null,
    s3_version_id: record.s3_version_id ?? null,
  };
}

/** `PUT` and `DELETE …/legal-hold` take an optional JSON body `{"reason": "…"}` (for the audit trail). */
export function parseHoldBody(event: HttpEvent): { reason?: string } {
  const body = rawBody(event);
  if (body.length === 0) return {};
  if (body.length > 4096) throw new ValidationError('the body must be at most 4 KiB of JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('the body must be JSON, like {"reason": "case-2026-17"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ValidationError('the body must be a JSON object, like {"reason": "case-2026-17"}');
  const unknown = Object.keys(parsed).filter((name) => name !== 'reason');
  if (unknown.length > 0)
    throw new ValidationError(`unknown field(s) ${unknown.join(', ')} (allowed: reason)`);
  const reason = (parsed as { reason?: unknown }).reason;
  if (reason === undefined) return {};
  return { reason: checkReason(reason, 'reason') };
}

/**
 * `DELETE /recordings/{id}?reason=…[&also_vobiz=false]`: a reason (a reference, REASON_PATTERN) is
 * required, it goes to the tombstone and the audit; the copy at Vobiz is deleted too unless
 * `also_vobiz=false`.
 */
export function parseEraseParams(params: Record<string, string>): { reason: string; alsoVobiz: boolean } {
  const unknown = Object.keys(params).filter((name) => name !== 'reason' && name !== 'also_vobiz');
  if (unknown.length > 0)
    throw new ValidationError(
      `unknown query parameter(s) ${unknown.join(', ')} (allowed: reason, also_vobiz)`,
    );
  if (params.reason === undefined) throw new ValidationError(`reason is required: ${REASON_RULE}`);
  const alsoVobiz = params.also_vobiz ?? 'true';
  if (alsoVobiz !== 'true' && alsoVobiz !== 'false')
    throw new ValidationError('also_vobiz must be true (the default) or false');
  return { reason: checkReason(params.reason, 'reason'), alsoVobiz: alsoVobiz === 'true' };
}

function checkReason(value: unknown, name: string): string {
  if (!isValidReason(value)) throw new ValidationError(`${name} must be ${REASON_RULE}`);
  return value;
}
