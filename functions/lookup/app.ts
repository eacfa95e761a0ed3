import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  header,
  httpErrors,
  jsonResponse,
  type HttpEvent,
  type HttpResult,
} from '../shared/framework/http.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import { callerOf } from '../shared/framework/caller.js';
import type {
  AudioLinks,
  AuditQueries,
  AuditWriter,
  RecordingQueries,
} from '../shared/ports/recording-queries.js';
import { CursorCodec } from './cursor.js';
import { makeLookup } from './queries.js';
import { queryParameters, resolveRoute } from './routes.js';

export interface LookupHandlerOptions {
  logger: Logger;
  recordings: RecordingQueries;
  /** The audit trail for `GET /audit`. */
  audit?: AuditQueries;
  audio: AudioLinks;
  /** Every audio link handed out is recorded here first (who listened). */
  auditLog: AuditWriter;
  /** The cursor signing key; fetched on first use and kept for the life of the container. */
  cursorKey: () => Promise<string>;
  presignTtlSeconds: number;
}

/** The lookup API: `GET /recordings/{id}`, `GET /recordings/{id}/audio`, `GET /recordings`, `GET /audit`. */
export function createLookupHandler({
  logger,
  recordings,
  audit,
  audio,
  auditLog,
  cursorKey,
  presignTtlSeconds,
}: LookupHandlerOptions) {
  const cursors = onceUntilFailure(() => cursorKey().then((key) => new CursorCodec(key)));
  // Fetched during the cold start; a failure surfaces (and is retried) on the first listing instead.
  cursors().catch(() => undefined);
  const lookup = makeLookup({ recordings, audit, audio, auditLog, cursors, presignTtlSeconds });

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
        const json = acceptsJson(header(event, 'accept'));
        const link = await lookup.audioLink(route.recordingId, queryParameters(event), {
          actor: callerOf(event),
          variant: json ? 'json' : 'redirect',
        });
        logger.info('audio link issued', {
          expires_in_s: presignTtlSeconds,
          download: link.filename !== undefined,
          as: json ? 'json' : 'redirect',
        });
        // A browser's fetch cannot read a cross-origin redirect's Location: it asks for JSON instead.
        if (json) return jsonResponse(200, link, { vary: 'accept' });
        return {
          statusCode: 302,
          headers: { location: link.url, 'cache-control': 'no-store', vary: 'accept' },
        };
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

/** Whether the Accept header names `application/json` (with a non-zero quality); wildcards alone keep the redirect. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'application/json') return false;
    const q = parameters.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
