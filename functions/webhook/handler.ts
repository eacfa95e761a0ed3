import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MethodNotAllowedError, PayloadTooLargeError, UnauthorizedError } from '../shared/domain/errors.js';
import { maskPhoneNumber } from '../shared/domain/recording.js';
import { signatureBaseUrl, verifySignatures, type SignatureCheck } from '../shared/domain/signature.js';
import {
  header,
  httpErrors,
  jsonResponse,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../shared/framework/http.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import { createObservability, METRIC, MetricUnit } from '../shared/framework/observability.js';
import { callbackMediaType, MAX_BODY_BYTES, parseRecordingCallback } from './callback.js';
import { loadWebhookDependencies, type WebhookDependencies } from './dependencies.js';

const { logger, metrics } = createObservability('webhook');

/** What a refused callback is told: nothing about which schemes were tried or what is configured. */
const SIGNATURE_REFUSED = 'Missing or invalid Vobiz signature';

/** The URL Vobiz signed: the configured public URL, else the one API Gateway was called on. */
function calledUrl(event: HttpEvent, publicUrl: string | undefined): string {
  if (publicUrl) return signatureBaseUrl(publicUrl);
  const proto = header(event, 'x-forwarded-proto') ?? 'https';
  return `${proto}://${event.requestContext.domainName}${event.rawPath}`;
}

/**
 * The public callback Vobiz calls, answered within its 3-second deadline: check the request, verify
 * the signature, record the notification (one write, which also starts the archive worker) and answer
 * 200 with the record's status. No Vobiz API call, no S3, no audio here.
 */
export function createWebhookHandler(load: () => Promise<WebhookDependencies>) {
  const getDependencies = onceUntilFailure(load);

  /** Verifies with the cached token; a failure re-reads it once (rate-limited), in case it was rotated. */
  async function verify(event: HttpEvent, deps: WebhookDependencies): Promise<SignatureCheck> {
    const check = async () => {
      const credentials = await deps.credentials.current();
      return verifySignatures({
        headers: event.headers ?? {},
        baseUrl: calledUrl(event, deps.publicUrl),
        authToken: credentials.authToken,
        parentAuthToken: credentials.parentAuthToken,
      });
    };
    const first = await check();
    if (first.ok || !(await deps.credentials.refresh())) return first;
    logger.info('auth token re-read after a signature did not verify');
    return check();
  }

  function refuse(reason: string): never {
    metrics.addMetric(METRIC.signatureRejected, MetricUnit.Count, 1);
    logger.warn('callback signature refused', { reason });
    throw new UnauthorizedError(SIGNATURE_REFUSED);
  }

  async function handleCallback(event: HttpEvent): Promise<HttpResult> {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== 'POST' && method !== 'GET')
      throw new MethodNotAllowedError('Use POST (or GET) for Vobiz callbacks', ['POST', 'GET']);
    const body = rawBody(event);
    // Checked before anything else so an oversized or mistyped request costs nothing.
    if (body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError('Body exceeds 64 KiB');
    const contentType = header(event, 'content-type');
    callbackMediaType(method, contentType);
    const deps = await getDependencies();

    const signature = await verify(event, deps);
    if (!signature.ok) refuse(signature.reason);

    const callback = parseRecordingCallback({
      method,
      contentType,
      body,
      rawQueryString: event.rawQueryString ?? '',
    });
    logger.appendKeys({ recording_id: callback.recordingId, call_uuid: callback.callUuid });

    const accepted = await deps.acceptNotification(
      callback.recordingId,
      signature.verified.map((s) => s.nonce),
    );
    if (accepted.kind === 'replayed') refuse('nonce already consumed for another recording');

    metrics.addMetric(METRIC.callbackAccepted, MetricUnit.Count, 1);
    logger.info('callback recorded', {
      delivery: accepted.kind === 'recorded' ? 'new' : accepted.retry ? 'retry' : 'duplicate',
      status: accepted.status,
      schemes: signature.verified.map((s) => s.scheme),
      from: maskPhoneNumber(callback.from),
      to: maskPhoneNumber(callback.to),
    });
    return jsonResponse(200, { recording_id: callback.recordingId, status: accepted.status });
  }

  return middy<HttpEvent, HttpResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrors(logger))
    .handler(handleCallback);
}

export const handler = createWebhookHandler(() => loadWebhookDependencies());
