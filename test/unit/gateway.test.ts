import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGateway,
  fromResult,
  matchRoute,
  toEvent,
  type GatewayRequest,
  type LambdaHttpHandler,
} from '../../local/gateway.js';
import { callerOf } from '../../functions/shared/framework/caller.js';
import { localGroupRefusal } from '../../local/console-files.js';

function gatewayRequest(input: Partial<GatewayRequest> & { headers?: [string, string][] }): GatewayRequest {
  return {
    method: input.method ?? 'GET',
    url: input.url ?? '/recordings',
    rawHeaders: input.rawHeaders ?? (input.headers ?? [['Host', '127.0.0.1:3000']]).flat(),
    httpVersion: input.httpVersion ?? '1.1',
    sourceIp: input.sourceIp ?? '127.0.0.1',
    localPort: input.localPort ?? 3000,
  };
}

describe('route matching', () => {
  it('matches the stack routes and names them as API Gateway does', () => {
    for (const method of ['POST', 'GET', 'PUT', 'DELETE'])
      expect(matchRoute(method, '/webhooks/vobiz/recording')).toEqual({
        routeKey: 'ANY /webhooks/vobiz/recording',
        target: 'webhook',
      });
    expect(matchRoute('GET', '/recordings')).toEqual({ routeKey: 'GET /recordings', target: 'lookup' });
    expect(matchRoute('GET', '/recordings/abc%20def')).toEqual({
      routeKey: 'GET /recordings/{recording_id}',
      target: 'lookup',
      pathParameters: { recording_id: 'abc def' },
    });
    expect(matchRoute('GET', '/recordings/r-1/audio')).toEqual({
      routeKey: 'GET /recordings/{recording_id}/audio',
      target: 'lookup',
      pathParameters: { recording_id: 'r-1' },
    });
  });

  it('takes other methods on a known path to its function (ANY), so it can answer 405', () => {
    expect(matchRoute('POST', '/recordings')).toEqual({ routeKey: 'ANY /recordings', target: 'lookup' });
    expect(matchRoute('PATCH', '/recordings/r-1')).toEqual({
      routeKey: 'ANY /recordings/{recording_id}',
      target: 'lookup',
      pathParameters: { recording_id: 'r-1' },
    });
  });

  it('sends the lifecycle routes to the lifecycle function and /audit to the lookup', () => {
    expect(matchRoute('DELETE', '/recordings/r-1')).toEqual({
      routeKey: 'DELETE /recordings/{recording_id}',
      target: 'lifecycle',
      pathParameters: { recording_id: 'r-1' },
    });
    for (const method of ['PUT', 'DELETE', 'GET'])
      expect(matchRoute(method, '/recordings/r-1/legal-hold')).toMatchObject({
        routeKey: `${method === 'GET' ? 'ANY' : method} /recordings/{recording_id}/legal-hold`,
        target: 'lifecycle',
      });
    expect(matchRoute('GET', '/audit')).toEqual({ routeKey: 'GET /audit', target: 'lookup' });
  });

  it('sends POST …/retry to the retry function, and other methods there too (for the 405)', () => {
    expect(matchRoute('POST', '/recordings/r-1/retry')).toEqual({
      routeKey: 'POST /recordings/{recording_id}/retry',
      target: 'retry',
      pathParameters: { recording_id: 'r-1' },
    });
    expect(matchRoute('GET', '/recordings/r-1/retry')).toMatchObject({
      routeKey: 'ANY /recordings/{recording_id}/retry',
      target: 'retry',
    });
  });

  it('matches nothing for other paths, empty parameters and trailing segments', () => {
    expect(matchRoute('GET', '/recordings/')).toBeUndefined();
    expect(matchRoute('GET', '/recordings/a/b')).toBeUndefined();
    expect(matchRoute('GET', '/')).toBeUndefined();
  });
});

describe('request → API Gateway v2 event', () => {
  it('has the documented payload v2 shape', () => {
    const now = new Date('2026-03-12T19:03:58Z');
    const event: APIGatewayProxyEventV2 = toEvent(
      gatewayRequest({
        url: '/recordings/r-1?x=1',
        headers: [
          ['Host', '127.0.0.1:3000'],
          ['User-Agent', 'curl/8.0'],
        ],
        sourceIp: '127.0.0.1',
      }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings/r-1')!,
      now,
    );
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'GET /recordings/{recording_id}',
      rawPath: '/recordings/r-1',
      rawQueryString: 'x=1',
      headers: {
        host: '127.0.0.1:3000',
        'user-agent': 'curl/8.0',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '3000',
      },
      queryStringParameters: { x: '1' },
      pathParameters: { recording_id: 'r-1' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1:3000',
        domainPrefix: '127',
        http: {
          method: 'GET',
          path: '/recordings/r-1',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'curl/8.0',
        },
        requestId: expect.any(String),
        routeKey: 'GET /recordings/{recording_id}',
        stage: '$default',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: now.getTime(),
      },
      isBase64Encoded: false,
    });
  });

  it("carries a test caller's identity (local headers) in the IAM authorizer context, read back by the one extraction", () => {
    const signed = toEvent(
      gatewayRequest({
        method: 'DELETE',
        url: '/recordings/r-1?reason=DSR-1',
        headers: [
          ['Host', '127.0.0.1:3000'],
          [
            'X-Local-IAM-User-Arn',
            'arn:aws:sts::000000000000:assumed-role/console/CognitoIdentityCredentials',
          ],
          ['X-Local-Cognito-Identity-Id', 'us-east-1:11111111-0000-4000-8000-000000000000'],
          ['X-Local-Cognito-Sub', '22222222-0000-4000-8000-000000000000'],
        ],
      }),
      Buffer.alloc(0),
      matchRoute('DELETE', '/recordings/r-1')!,
    );
    expect(signed.requestContext).toMatchObject({
      authorizer: {
        iam: {
          userArn: 'arn:aws:sts::000000000000:assumed-role/console/CognitoIdentityCredentials',
          cognitoIdentity: {
            identityId: 'us-east-1:11111111-0000-4000-8000-000000000000',
            amr: expect.arrayContaining(['authenticated']),
          },
        },
      },
    });
    // The headers themselves do not reach the function.
    expect(Object.keys(signed.headers).filter((name) => name.startsWith('x-local-'))).toEqual([]);
    expect(callerOf(signed)).toEqual({
      arn: 'arn:aws:sts::000000000000:assumed-role/console/CognitoIdentityCredentials',
      cognito_identity_id: 'us-east-1:11111111-0000-4000-8000-000000000000',
      user_sub: '22222222-0000-4000-8000-000000000000',
    });
    // Without them: no authorizer, as for an unsigned request.
    const unsigned = toEvent(
      gatewayRequest({ url: '/recordings/r-1' }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings/r-1')!,
    );
    expect(unsigned.requestContext).not.toHaveProperty('authorizer');
  });

  it('keeps repeated query keys raw in rawQueryString and joins them with commas in queryStringParameters', () => {
    const event = toEvent(
      gatewayRequest({ url: '/recordings?status=stored&status=failed&q=a%2Cb&space=a+b' }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings')!,
    );
    expect(event.rawQueryString).toBe('status=stored&status=failed&q=a%2Cb&space=a+b');
    expect(event.queryStringParameters).toEqual({ status: 'stored,failed', q: 'a,b', space: 'a b' });
  });

  it('leaves queryStringParameters out when there is no query string', () => {
    const event = toEvent(
      gatewayRequest({ url: '/recordings' }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings')!,
    );
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('body');
  });

  it('lower-cases header names, joins repeated headers with commas and keeps commas inside values', () => {
    const event = toEvent(
      gatewayRequest({
        headers: [
          ['Host', '127.0.0.1:3000'],
          ['X-Vobiz-Signature-V3', 'abc='],
          ['Accept', 'text/html, application/json'],
          ['X-Multi', 'one'],
          ['x-multi', 'two'],
          ['X-Forwarded-Proto', 'https'],
        ],
      }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings')!,
    );
    expect(event.headers).toMatchObject({
      'x-vobiz-signature-v3': 'abc=',
      accept: 'text/html, application/json',
      'x-multi': 'one,two',
      'x-forwarded-proto': 'https',
    });
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('moves cookies into the cookies field', () => {
    const event = toEvent(
      gatewayRequest({
        headers: [
          ['Host', 'h'],
          ['Cookie', 'a=1; b=2'],
          ['Cookie', 'c=3'],
        ],
      }),
      Buffer.alloc(0),
      matchRoute('GET', '/recordings')!,
    );
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('passes JSON and text bodies as text and every other body base64-encoded', () => {
    const route = matchRoute('POST', '/webhooks/vobiz/recording')!;
    const post = (contentType: string | undefined, body: Buffer) =>
      toEvent(
        gatewayRequest({
          method: 'POST',
          url: '/webhooks/vobiz/recording',
          headers: contentType ? [['Content-Type', contentType]] : [],
        }),
        body,
        route,
      );
    expect(post('application/json; charset=utf-8', Buffer.from('{"a":1}'))).toMatchObject({
      body: '{"a":1}',
      isBase64Encoded: false,
    });
    expect(post('text/plain', Buffer.from('hi'))).toMatchObject({ body: 'hi', isBase64Encoded: false });
    const form = Buffer.from('RecordingID=r-1&From=%2B91');
    expect(post('application/x-www-form-urlencoded', form)).toMatchObject({
      body: form.toString('base64'),
      isBase64Encoded: true,
    });
    const binary = randomBytes(64);
    expect(post('application/octet-stream', binary)).toMatchObject({
      body: binary.toString('base64'),
      isBase64Encoded: true,
    });
    expect(post(undefined, binary)).toMatchObject({ body: binary.toString('base64'), isBase64Encoded: true });
  });
});

describe('handler result → HTTP response', () => {
  it('sends a structured result with its status, headers and one Set-Cookie per cookie', () => {
    const response = fromResult({
      statusCode: 201,
      headers: { 'Content-Type': 'text/plain', 'X-List': 'a, b', 'X-Count': 3 },
      cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
      body: 'created',
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({
      'content-type': 'text/plain',
      'x-list': 'a, b',
      'x-count': '3',
      'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
    });
    expect(response.body.toString()).toBe('created');
  });

  it('decodes base64 bodies', () => {
    const bytes = randomBytes(300);
    const response = fromResult({ statusCode: 200, body: bytes.toString('base64'), isBase64Encoded: true });
    expect(response.body.equals(bytes)).toBe(true);
  });

  it('treats a string or an object without statusCode as a 200 JSON body', () => {
    expect(fromResult('{"ok":true}')).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
    });
    expect(fromResult('{"ok":true}').body.toString()).toBe('{"ok":true}');
    const object = fromResult({ items: [1] } as unknown as APIGatewayProxyResultV2);
    expect(object.statusCode).toBe(200);
    expect(object.body.toString()).toBe('{"items":[1]}');
  });

  it('answers 500 for an invalid statusCode', () => {
    expect(fromResult({ statusCode: 42 }).statusCode).toBe(500);
  });
});

describe('the gateway over real HTTP', () => {
  let server: Server;
  let port: number;
  const seen: APIGatewayProxyEventV2[] = [];
  let respond: LambdaHttpHandler;
  const logged: { method: string; path: string; status: number }[] = [];

  beforeAll(async () => {
    server = createGateway({
      functions: () => ({
        webhook: {
          handler: (event, context) => respond(event, context),
          functionName: 'webhook',
          timeoutMs: 2_000,
        },
        lookup: {
          handler: (event, context) => respond(event, context),
          functionName: 'lookup',
          timeoutMs: 200,
        },
      }),
      local: (method, path) =>
        path === '/health'
          ? {
              statusCode: 200,
              headers: { 'content-type': 'application/json' },
              body: Buffer.from('{"status":"ok"}'),
            }
          : undefined,
      authorize: localGroupRefusal,
      onRequest: (line) => logged.push(line),
      maxRequestBytes: 1024 * 1024,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
    logged.length = 0;
    respond = (event) => {
      seen.push(event);
      return Promise.resolve({ statusCode: 200, body: '{}' });
    };
  });

  function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string | string[]>; body?: Buffer } = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }

  it('round-trips a binary body byte for byte, both ways', async () => {
    const payload = randomBytes(200_000);
    respond = (event) => {
      seen.push(event);
      return Promise.resolve({
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: event.body!,
        isBase64Encoded: event.isBase64Encoded,
      });
    };
    const response = await send('POST', '/webhooks/vobiz/recording', {
      headers: { 'content-type': 'application/octet-stream' },
      body: payload,
    });
    expect(seen[0]!.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0]!.body!, 'base64').equals(payload)).toBe(true);
    expect(response.status).toBe(200);
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(
      createHash('sha256').update(payload).digest('hex'),
    );
  });

  it('passes repeated query keys and repeated headers through', async () => {
    await send('GET', '/recordings?status=stored&status=failed', {
      headers: { 'x-multi': ['one', 'two'], 'x-list': 'a, b' },
    });
    expect(seen[0]!.rawQueryString).toBe('status=stored&status=failed');
    expect(seen[0]!.queryStringParameters).toEqual({ status: 'stored,failed' });
    expect(seen[0]!.headers['x-multi']).toBe('one,two');
    expect(seen[0]!.headers['x-list']).toBe('a, b');
    expect(seen[0]!.requestContext.domainName).toBe(`127.0.0.1:${port}`);
    expect(seen[0]!.requestContext.http.sourceIp).toBe('127.0.0.1');
  });

  it('answers every cookie as its own Set-Cookie header', async () => {
    respond = () => Promise.resolve({ statusCode: 204, cookies: ['a=1', 'b=2; Secure'] });
    const response = await send('GET', '/recordings');
    expect(response.status).toBe(204);
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2; Secure']);
  });

  it('refuses what the local console’s group could not call in AWS, with API Gateway’s 403; no header, no limit', async () => {
    const group = (name: string) => ({ headers: { 'x-vra-local-group': name } });
    for (const [method, path] of [
      ['PUT', '/recordings/r1/legal-hold'],
      ['DELETE', '/recordings/r1'],
      ['POST', '/recordings/r1/retry'],
      ['GET', '/audit'],
    ] as const) {
      const refused = await send(method, path, group('reviewers'));
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(refused.body.toString())).toEqual({ message: 'Forbidden' });
      expect((await send(method, path, group('admins'))).status, `${method} ${path}`).not.toBe(403);
    }
    expect(seen.filter((e) => e.rawPath !== '/audit')).toHaveLength(0);
    expect((await send('GET', '/recordings/r1/audio', group('reviewers'))).status).toBe(200);
    expect((await send('GET', '/audit', group('root'))).status).toBe(403);
    expect((await send('GET', '/audit')).status).toBe(200);
  });

  it('answers 404 in the API error shape for unknown routes, without calling a handler', async () => {
    const response = await send('DELETE', '/nowhere/r-1');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body.toString())).toEqual({
      error: { code: 'not_found', message: 'No route for DELETE /nowhere/r-1' },
    });
    expect(seen).toHaveLength(0);
  });

  it('answers 413 for a body over the limit, without calling a handler', async () => {
    const response = await send('POST', '/webhooks/vobiz/recording', { body: Buffer.alloc(1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body.toString()).error.code).toBe('payload_too_large');
    expect(seen).toHaveLength(0);
  });

  it('answers a generic 500 when a handler throws, and 503 when it outlives its timeout', async () => {
    respond = () => Promise.reject(new Error('secret detail'));
    const failed = await send('GET', '/recordings');
    expect(failed.status).toBe(500);
    expect(failed.body.toString()).not.toContain('secret detail');
    respond = () => new Promise(() => undefined);
    const slow = await send('GET', '/recordings');
    expect(slow.status).toBe(503);
  });

  it('serves local routes and logs one line per request with the path only', async () => {
    expect((await send('GET', '/health')).status).toBe(200);
    await send('GET', '/recordings?from_number=%2B918071387423');
    expect(logged).toEqual([
      { method: 'GET', path: '/health', status: 200, ms: expect.any(Number) },
      { method: 'GET', path: '/recordings', status: 200, ms: expect.any(Number) },
    ]);
  });

  it('gives the handler a Lambda context with a time budget', async () => {
    let remaining = 0;
    respond = (_event, context) => {
      remaining = context.getRemainingTimeInMillis();
      return Promise.resolve({ statusCode: 200 });
    };
    await send('POST', '/webhooks/vobiz/recording');
    expect(remaining).toBeGreaterThan(1_000);
    expect(remaining).toBeLessThanOrEqual(2_000);
  });
});
