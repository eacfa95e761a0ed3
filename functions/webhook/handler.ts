import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { MethodNotAllowedError, PayloadTooLargeError, UnauthorizedError } from '../shared/domain/errors.js';
import { maskPhoneNumber } from '../shared/domain/recording.js';
import { signatureBaseUrl, verifySignatures } from '../shared/domain/signature.js';
import {
  header,
  httpErrors,
  jsonResponse,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../shared/framework/http.js';
import { createObservability, METRIC, MetricUnit } from '../shared/framework/observability.js';
import { MAX_BODY_BYTES, parseRecordingCallback } from './callback.js';
import { loadWebhookDependencies, type WebhookDependencies } from './dependencies.js';

const { logger, metrics } = createObservability('webhook');

/** Time kept back at the end of an invocation to record the outcome of an unfinished attempt. */
const RELEASE_RESERVE_MS = 3_000;
/** A lease outlives the invocation, so a Lambda that is frozen mid-upload cannot be overlapped. */
const LEASE_MARGIN_MS = 60_000;

/** The URL Vobiz signed: the configured public URL, else the one API Gateway was called on. */
function calledUrl(event: HttpEvent, publicUrl: string | undefined): string {
  if (publicUrl) return signatureBaseUrl(publicUrl);
  const proto = header(event, 'x-forwarded-proto') ?? 'https';
  return `${proto}://${event.requestContext.domainName}${event.rawPath}`;
}

export function createWebhookHandler(load: () => Promise<WebhookDependencies>) {
  let dependencies: Promise<WebhookDependencies> | undefined;
  const getDependencies = () => {
    dependencies ??= load().catch((error: unknown) => {
      dependencies = undefined; // a cold-start failure (e.g. Secrets Manager throttled) is retried next time
      throw error;
    });
    return dependencies;
  };

  async function handleCallback(event: HttpEvent, context: Context): Promise<HttpResult> {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== 'POST' && method !== 'GET')
      throw new MethodNotAllowedError('Use POST (or GET) for Vobiz callbacks', ['POST', 'GET']);
    const body = rawBody(event);
    // Checked before anything else so an oversized request costs nothing.
    if (body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError('Body exceeds 64 KiB');
    const deps = await getDependencies();

    const signature = verifySignatures({
      headers: event.headers ?? {},
      baseUrl: calledUrl(event, deps.publicUrl),
      authToken: deps.credentials.authToken,
      parentAuthToken: deps.credentials.parentAuthToken,
    });
    if (!signature.ok) {
      metrics.addMetric(METRIC.signatureRejected, MetricUnit.Count, 1);
      throw new UnauthorizedError(`Invalid Vobiz signature: ${signature.reason}`);
    }

    const callback = parseRecordingCallback({
      method,
      contentType: header(event, 'content-type'),
      body,
      rawQueryString: event.rawQueryString ?? '',
    });
    logger.appendKeys({ recording_id: callback.recordingId, call_uuid: callback.callUuid });
    logger.info('callback received', {
      schemes: signature.verified.map((s) => s.scheme),
      from: maskPhoneNumber(callback.from),
      to: maskPhoneNumber(callback.to),
    });

    const accepted = await deps.acceptNotification(
      callback.recordingId,
      signature.verified.map((s) => s.nonce),
    );
    if (accepted === 'replayed') {
      metrics.addMetric(METRIC.signatureRejected, MetricUnit.Count, 1);
      throw new UnauthorizedError('Signature nonce was already used (replayed callback)');
    }

    const remaining = context.getRemainingTimeInMillis?.() ?? 30_000;
    const deadline = AbortSignal.timeout(Math.max(1_000, remaining - RELEASE_RESERVE_MS));
    const result = await deps.archiveRecording(callback.recordingId, {
      leaseMs: remaining + LEASE_MARGIN_MS,
      signal: deadline,
    });

    switch (result.outcome) {
      case 'stored':
        if (!result.alreadyStored) metrics.addMetric(METRIC.stored, MetricUnit.Count, 1);
        logger.info(result.alreadyStored ? 'already stored' : 'recording stored', {
          api_id: result.record.api_id,
          size_bytes: result.record.size_bytes,
        });
        return jsonResponse(200, { recording_id: callback.recordingId, status: 'stored' });
      case 'busy':
        logger.info('another worker is archiving this recording');
        return jsonResponse(202, { recording_id: callback.recordingId, status: 'pending' });
      case 'pending':
      case 'failed': {
        const { error, record } = result;
        metrics.addMetric(result.outcome === 'failed' ? METRIC.failed : METRIC.deferred, MetricUnit.Count, 1);
        if (error.name === 'VobizAuthError') metrics.addMetric(METRIC.vobizAuthFailed, MetricUnit.Count, 1);
        const loud = error.name === 'VobizAuthError' || result.outcome === 'failed';
        logger[loud ? 'error' : 'warn']('recording not archived yet', {
          status: record.status,
          attempts: record.attempts,
          next_attempt_at: record.next_attempt_at,
          api_id: record.api_id ?? (error as { apiId?: string }).apiId,
          reason: record.last_error,
        });
        return jsonResponse(202, { recording_id: callback.recordingId, status: record.status });
      }
      case 'missing':
        throw new Error('record vanished after it was accepted');
    }
  }

  return middy<HttpEvent, HttpResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrors(logger))
    .handler(handleCallback);
}

export const handler = createWebhookHandler(() => loadWebhookDependencies());
