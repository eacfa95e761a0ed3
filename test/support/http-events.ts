import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface HttpEventInput {
  method?: string;
  path: string;
  /** Raw query string without `?`, or key/values (repeated keys as arrays). */
  query?: string | Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body base64-encoded, as API Gateway does for binary payloads. */
  base64?: boolean;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  domainName?: string;
}

/** An API Gateway HTTP API (payload v2) event, shaped as AWS documents it. */
export function httpEvent(input: HttpEventInput): APIGatewayProxyEventV2 {
  const method = input.method ?? 'GET';
  const rawQueryString =
    typeof input.query === 'string'
      ? input.query
      : new URLSearchParams(
          Object.entries(input.query ?? {}).flatMap(([k, v]): [string, string][] =>
            Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]],
          ),
        ).toString();
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[key] =
      queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.headers ?? {})) headers[key.toLowerCase()] = value;
  const domainName = input.domainName ?? 'abc123.execute-api.us-east-1.amazonaws.com';
  headers.host ??= domainName;
  headers['x-forwarded-proto'] ??= 'https';
  const body =
    input.body === undefined ? undefined : Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body);
  return {
    version: '2.0',
    routeKey: input.routeKey ?? '$default',
    rawPath: input.path,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: { method, path: input.path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: input.routeKey ?? '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : input.base64 ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: Boolean(input.base64),
  };
}

/** A Lambda context with a time budget, for calling middy handlers directly. */
export function lambdaContext(remainingMs = 29_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function',
    memoryLimitInMB: '512',
    awsRequestId: `aws-${Math.random().toString(36).slice(2)}`,
    logGroupName: '/aws/lambda/test-function',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
