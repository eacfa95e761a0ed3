import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';
import { AppError, ValidationError } from '../domain/errors.js';
import type { Logger } from '@aws-lambda-powertools/logger';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(statusCode: number, code: string, message: string): HttpResult {
  return jsonResponse(statusCode, { error: { code, message } });
}

/**
 * The one place where errors become responses: `AppError`s show their code and message (4xx) and
 * anything else is a generic 500 that reveals nothing internal. Register it last: middy runs `onError`
 * handlers in reverse order of registration, so this one runs first, while the logger still carries
 * the invocation's keys (its `injectLambdaContext` handler resets them afterwards) and before metrics
 * are flushed. It returns nothing, so the other `onError` handlers still run.
 */
export function httpErrors(logger: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof AppError && error.expose) {
        const fields = { status: error.statusCode, code: error.code, reason: error.message };
        if (error.statusCode >= 500)
          logger.error('request failed', { ...fields, error: error.cause as Error });
        else logger.info('request rejected', fields);
        request.response = errorResponse(error.statusCode, error.code, error.message);
        request.response.headers = { ...request.response.headers, ...error.headers };
        return;
      }
      logger.error('request failed', { error: error as Error });
      const status = error instanceof AppError ? error.statusCode : 500;
      request.response = errorResponse(
        status,
        'internal_error',
        'Internal error; the request can be retried.',
      );
    },
  };
}

/** Lower-cased header lookup (API Gateway v2 already lower-cases; the local gateway does the same). */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name.toLowerCase()] ?? undefined;
}

export function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * The query string as single values. It is read from `rawQueryString` when present, because
 * `queryStringParameters` silently joins a repeated parameter with commas; a repeated one is a 400.
 */
export function queryParameters(event: HttpEvent): Record<string, string> {
  const params: Record<string, string> = {};
  if (event.rawQueryString === undefined) {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
      if (value !== undefined) params[name] = value;
    return params;
  }
  const repeated = new Set<string>();
  for (const [name, value] of new URLSearchParams(event.rawQueryString)) {
    if (Object.hasOwn(params, name)) repeated.add(name);
    params[name] = value;
  }
  if (repeated.size > 0)
    throw new ValidationError(`query parameter given more than once: ${[...repeated].join(', ')}`);
  return params;
}
