import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import { httpErrors, jsonResponse, type HttpEvent, type HttpResult } from '../shared/framework/http.js';
import type { AudioLinks, AuditQueries, RecordingQueries } from '../shared/ports/recording-queries.js';
import { CursorCodec } from './cursor.js';
import { makeLookup } from './queries.js';
import { queryParameters, resolveRoute } from './routes.js';

export interface LookupHandlerOptions {
  logger: Logger;
  recordings: RecordingQueries;
  /** The audit trail for `GET /audit`. */
  audit?: AuditQueries;
  audio: AudioLinks;
  /** The cursor signing key; fetched on first use and kept for the life of the container. */
  cursorKey: () => Promise<string>;
  presignTtlSeconds: number;
}

/** The lookup API: `GET /recordings/{id}`, `GET /recordings/{id}/audio`, `GET /recordings`. */
export function createLookupHandler({
  logger,
  recordings,
  audit,
  audio,
  cursorKey,
  presignTtlSeconds,
}: LookupHandlerOptions) {
  let codec: Promise<CursorCodec> | undefined;
  const cursors = () => {
    codec ??= cursorKey()
      .then((key) => new CursorCodec(key))
      .catch((error: unknown) => {
        codec = undefined; // a failed fetch (e.g. Secrets Manager throttled) is retried by the next request
        throw error;
      });
    return codec;
  };
  // Fetched during the cold start; a failure surfaces (and is retried) on the first listing instead.
  cursors().catch(() => undefined);
  const lookup = makeLookup({ recordings, audit, audio, cursors, presignTtlSeconds });

  async function handle(event: HttpEvent): Promise<HttpResult> {
    const route = resolveRoute(event);
    logger.appendKeys({
      route: route.name,
      ...(route.name === 'list' || route.name === 'audit' ? {} : { recording_id: route.recordingId }),
    });
    switch (route.name) {
      case 'get':
        return jsonResponse(200, await lookup.getRecording(route.recordingId));
      case 'audio': {
        const url = await lookup.audioUrl(route.recordingId);
        logger.info('audio link issued', { expires_in_s: presignTtlSeconds });
        return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' } };
      }
      case 'list': {
        const params = queryParameters(event);
        const page = await lookup.listRecordings(params);
        // Parameter names only: values may be phone numbers.
        logger.info('recordings listed', {
          parameters: Object.keys(params).sort(),
          items: page.items.length,
          more: page.next_cursor !== null,
        });
        return jsonResponse(200, page);
      }
      case 'audit': {
        const params = queryParameters(event);
        const page = await lookup.listAudit(params);
        logger.info('audit listed', {
          parameters: Object.keys(params).sort(),
          items: page.items.length,
          more: page.next_cursor !== null,
        });
        return jsonResponse(200, page);
      }
    }
  }

  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors(logger))
    .handler(handle);
}
