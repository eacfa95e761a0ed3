import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isAllowedOrigin, isVobizOrigin, type OriginPattern } from '../config.js';
import { IntegrityError, RecordingNotAvailableError, TransientError } from '../domain/errors.js';
import type { MediaDownload, MediaSource } from '../ingest/ports.js';

const MAX_REDIRECTS = 3;
/** What fetch decodes itself; a body in any other coding would reach S3 still encoded. */
const DECODED_CODINGS = new Set(['identity', 'gzip', 'x-gzip', 'deflate', 'br']);

export interface HttpMediaSourceOptions {
  allowedOrigins: readonly OriginPattern[];
  /**
   * Vobiz's API credentials. Sent only if the `recording_url` itself is on a Vobiz origin (see
   * `isVobizOrigin`), only to that origin, and never again once a redirect has left it.
   */
  auth?: { headers: () => Record<string, string>; apiBaseUrl: string };
  fetch?: typeof fetch;
  /** Time allowed until the response headers arrive; the body streams under the caller's signal. */
  connectTimeoutMs?: number;
}

/**
 * Downloads audio only from allowed origins (checked again on every redirect hop), streaming the body.
 * The URL always comes from Vobiz's Retrieve Recording response, never from a callback.
 */
export class HttpMediaSource implements MediaSource {
  constructor(private readonly options: HttpMediaSourceOptions) {}

  async open(url: string, options: { signal?: AbortSignal } = {}): Promise<MediaDownload> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const auth = this.options.auth;
    let credentialOrigin = auth && isVobizOrigin(url, auth.apiBaseUrl) ? originOf(url) : undefined;
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!isAllowedOrigin(current, this.options.allowedOrigins)) {
        throw new IntegrityError(
          `recording_url origin is not in ALLOWED_MEDIA_ORIGINS: ${safeOrigin(current)}`,
        );
      }
      // Once a hop leaves the credentials' origin, a redirect back to it gets none either.
      if (credentialOrigin !== undefined && originOf(current) !== credentialOrigin)
        credentialOrigin = undefined;
      const headers: Record<string, string> = {
        ...(credentialOrigin !== undefined ? auth?.headers() : {}),
        // Content-Length must count the bytes we store; a compressed answer would not match it.
        'accept-encoding': 'identity',
      };
      const headersTimeout = new AbortController();
      const timer = setTimeout(
        () => headersTimeout.abort(new Error('media response headers timed out')),
        this.options.connectTimeoutMs ?? 10_000,
      );
      const signal = options.signal
        ? AbortSignal.any([options.signal, headersTimeout.signal])
        : headersTimeout.signal;
      let response: Response;
      try {
        response = await doFetch(current, {
          headers,
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        throw new TransientError(`audio download failed: ${(error as Error).message}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel();
        current = new URL(response.headers.get('location')!, current).toString();
        continue;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        if (response.status === 404)
          throw new RecordingNotAvailableError('audio file not found (yet)', undefined);
        throw new TransientError(`audio download answered HTTP ${response.status}`);
      }
      const codings = (response.headers.get('content-encoding') ?? '')
        .split(',')
        .map((coding) => coding.trim().toLowerCase())
        .filter(Boolean);
      if (codings.some((coding) => !DECODED_CODINGS.has(coding))) {
        await response.body.cancel();
        throw new IntegrityError(
          `audio download has an unsupported Content-Encoding: ${codings.join(', ').slice(0, 100)}`,
        );
      }
      const lengthHeader = response.headers.get('content-length');
      const contentLength =
        codings.every((coding) => coding === 'identity') &&
        lengthHeader !== null &&
        /^\d+$/.test(lengthHeader)
          ? Number(lengthHeader)
          : undefined;
      return {
        body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        contentLength,
        contentType: response.headers.get('content-type') ?? undefined,
      };
    }
    throw new IntegrityError('audio download redirected too many times');
  }
}

function originOf(url: string): string {
  return new URL(url).origin;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
