import { describe, expect, it } from 'vitest';
import { queryParameters, resolveRoute } from '../../functions/lookup/routes.js';
import { httpEvent } from '../support/http-events.js';

describe('resolveRoute', () => {
  it('uses the route key and path parameters API Gateway gives', () => {
    expect(resolveRoute(httpEvent({ path: '/recordings', routeKey: 'GET /recordings' }))).toEqual({
      name: 'list',
    });
    expect(
      resolveRoute(
        httpEvent({
          path: '/x',
          routeKey: 'GET /recordings/{recording_id}/audio',
          pathParameters: { recording_id: 'r1' },
        }),
      ),
    ).toEqual({ name: 'audio', recordingId: 'r1' });
  });

  it('matches method and raw path under a catch-all route', () => {
    expect(resolveRoute(httpEvent({ path: '/recordings' }))).toEqual({ name: 'list' });
    expect(resolveRoute(httpEvent({ path: '/recordings/abc_1' }))).toEqual({
      name: 'get',
      recordingId: 'abc_1',
    });
    expect(resolveRoute(httpEvent({ path: '/recordings/abc%2D1/audio' }))).toEqual({
      name: 'audio',
      recordingId: 'abc-1',
    });
  });

  it('strips a named stage from the raw path', () => {
    const event = httpEvent({ path: '/prod/recordings/r1' });
    event.requestContext.stage = 'prod';
    expect(resolveRoute(event)).toEqual({ name: 'get', recordingId: 'r1' });
  });

  it('is 404 for unknown paths and 405 for other methods', () => {
    for (const path of ['/', '/recordings/', '/recordings//audio', '/recordings/a/b', '/recording']) {
      expect(() => resolveRoute(httpEvent({ path })), path).toThrow(
        expect.objectContaining({ statusCode: 404 }),
      );
    }
    expect(() => resolveRoute(httpEvent({ method: 'POST', path: '/recordings' }))).toThrow(
      expect.objectContaining({ statusCode: 405 }),
    );
    expect(() =>
      resolveRoute(
        httpEvent({ method: 'DELETE', path: '/x', routeKey: 'DELETE /recordings/{recording_id}' }),
      ),
    ).toThrow(expect.objectContaining({ statusCode: 405 }));
    expect(() => resolveRoute(httpEvent({ path: '/x', routeKey: 'GET /elsewhere' }))).toThrow(
      expect.objectContaining({ statusCode: 404 }),
    );
  });

  it("answers 405 for other methods arriving through the stack's ANY routes, and serves GET through them", () => {
    const post = httpEvent({ method: 'POST', path: '/recordings', routeKey: 'ANY /recordings' });
    expect(() => resolveRoute(post)).toThrow(
      expect.objectContaining({ statusCode: 405, allow: ['GET'], code: 'method_not_allowed' }),
    );
    const get = httpEvent({
      method: 'GET',
      path: '/recordings/r1',
      routeKey: 'ANY /recordings/{recording_id}',
      pathParameters: { recording_id: 'r1' },
    });
    expect(resolveRoute(get)).toEqual({ name: 'get', recordingId: 'r1' });
  });

  it('names every method a resource supports in Allow, erasure (served by the lifecycle API) included', () => {
    const patch = httpEvent({
      method: 'PATCH',
      path: '/recordings/r1',
      routeKey: 'ANY /recordings/{recording_id}',
      pathParameters: { recording_id: 'r1' },
    });
    expect(() => resolveRoute(patch)).toThrow(
      expect.objectContaining({
        statusCode: 405,
        allow: ['GET', 'DELETE'],
        message: 'PATCH is not allowed on /recordings/{recording_id}; use GET or DELETE',
      }),
    );
    // The local gateway's catch-all: the same answer from the raw path.
    expect(() => resolveRoute(httpEvent({ method: 'POST', path: '/recordings/r1' }))).toThrow(
      expect.objectContaining({ statusCode: 405, allow: ['GET', 'DELETE'] }),
    );
    for (const path of ['/recordings/r1/audio', '/audit', '/recordings'])
      expect(() => resolveRoute(httpEvent({ method: 'PUT', path }))).toThrow(
        expect.objectContaining({ statusCode: 405, allow: ['GET'] }),
      );
  });

  it('is 400 for a path segment that is not valid percent-encoding', () => {
    expect(() => resolveRoute(httpEvent({ path: '/recordings/%E0%A4%A' }))).toThrow(
      expect.objectContaining({ statusCode: 400 }),
    );
  });
});

describe('queryParameters', () => {
  it('decodes the raw query string', () => {
    expect(
      queryParameters(httpEvent({ path: '/recordings', query: 'from_number=%2B919800000001&limit=5' })),
    ).toEqual({
      from_number: '+919800000001',
      limit: '5',
    });
  });

  it('refuses a repeated parameter instead of joining the values', () => {
    expect(() =>
      queryParameters(httpEvent({ path: '/recordings', query: 'status=stored&limit=1&status=failed' })),
    ).toThrow(/more than once: status/);
  });

  it('falls back to queryStringParameters when there is no raw query string', () => {
    const event = httpEvent({ path: '/recordings' });
    delete (event as { rawQueryString?: string }).rawQueryString;
    event.queryStringParameters = { limit: '3' };
    expect(queryParameters(event)).toEqual({ limit: '3' });
  });
});
