import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpErrors, type HttpEvent, type HttpResult } from '../../functions/shared/framework/http.js';
import {
  ConflictError,
  MethodNotAllowedError,
  ValidationError,
} from '../../functions/shared/domain/errors.js';

const context = { functionName: 'f', awsRequestId: 'req-1' } as unknown as Context;

/** The middleware order every HTTP handler uses: logger context first, error shaping last. */
function handlerThatThrows(logger: Logger, error: Error) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors(logger))
    .handler(() => {
      logger.appendKeys({ recording_id: 'rec-1' });
      throw error;
    });
}

/** What the logger wrote, to either stream (Powertools sends errors to stderr). */
function captureLogs(): () => Record<string, unknown>[] {
  const calls: unknown[][] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((...args: unknown[]) => {
      calls.push(args);
      return true;
    });
  }
  return () => logLines(calls);
}

function logLines(calls: unknown[][]): Record<string, unknown>[] {
  return calls
    .map((call) => String(call[0]))
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe('httpErrors, registered last', () => {
  it("shapes the error and logs it while the logger still carries the invocation's keys", async () => {
    const logs = captureLogs();
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const handler = handlerThatThrows(logger, new Error('boom: secret internals'));

    const response = await handler({} as HttpEvent, context);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');

    const [line] = logs().filter((l) => l.message === 'request failed');
    expect(line).toMatchObject({ recording_id: 'rec-1', function_request_id: 'req-1' });
    // Afterwards the logger's own onError handler ran too: the next invocation starts clean.
    logger.info('later');
    expect(logs().find((l) => l.message === 'later')?.recording_id).toBeUndefined();
  });

  it('exposes 4xx messages with their code', async () => {
    captureLogs();
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const response = await handlerThatThrows(logger, new ValidationError('limit is wrong'))(
      {} as HttpEvent,
      context,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toEqual({
      error: { code: 'validation_error', message: 'limit is wrong' },
    });
  });

  it.each([
    [new MethodNotAllowedError('PATCH is not allowed', ['GET', 'DELETE']), 405, { allow: 'GET, DELETE' }],
    [new ConflictError('archiving', 'being archived; try again in 5 s', 5), 409, { 'retry-after': '5' }],
  ])('sends the headers that belong to the answer (%s)', async (error, status, headers) => {
    captureLogs();
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const response = await handlerThatThrows(logger, error)({} as HttpEvent, context);
    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject(headers);
    expect(JSON.parse(response.body!)).toEqual({ error: { code: error.code, message: error.message } });
  });

  it('sends no Retry-After for a conflict that does not pass by itself', async () => {
    captureLogs();
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const response = await handlerThatThrows(logger, new ConflictError('legal_hold', 'held'))(
      {} as HttpEvent,
      context,
    );
    expect(response.statusCode).toBe(409);
    expect(response.headers?.['retry-after']).toBeUndefined();
  });
});
