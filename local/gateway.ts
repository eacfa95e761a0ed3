import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

/**
 * A local stand-in for the HTTP API: turns a Node request into the API Gateway payload v2 event the
 * Lambda handlers receive in AWS, and their result back into an HTTP response, following the rules AWS
 * documents for format 2.0 (lower-cased headers, duplicates joined with commas, `cookies`, binary bodies
 * base64-encoded, results without `statusCode` treated as a JSON body).
 */

export type RouteTarget = 'webhook' | 'lookup' | 'lifecycle' | 'retry';

interface RouteDefinition {
  method: string;
  template: string;
  target: RouteTarget;
}

/**
 * The routes the stack defines (infra/webhook.ts, infra/lookup-api.ts, infra/lifecycle.ts,
 * infra/retry-api.ts); anything else is a 404. `ANY` routes take the other methods to the function, which answers 405 with `Allow`
 * and its error body.
 */
export const ROUTES: readonly RouteDefinition[] = [
  { method: 'ANY', template: '/webhooks/vobiz/recording', target: 'webhook' },
  { method: 'GET', template: '/recordings', target: 'lookup' },
  { method: 'GET', template: '/recordings/{recording_id}', target: 'lookup' },
  { method: 'GET', template: '/recordings/{recording_id}/audio', target: 'lookup' },
  { method: 'ANY', template: '/recordings', target: 'lookup' },
  { method: 'ANY', template: '/recordings/{recording_id}', target: 'lookup' },
  { method: 'ANY', template: '/recordings/{recording_id}/audio', target: 'lookup' },
  { method: 'GET', template: '/audit', target: 'lookup' },
  { method: 'ANY', template: '/audit', target: 'lookup' },
  { method: 'PUT', template: '/recordings/{recording_id}/legal-hold', target: 'lifecycle' },
  { method: 'DELETE', template: '/recordings/{recording_id}/legal-hold', target: 'lifecycle' },
  { method: 'ANY', template: '/recordings/{recording_id}/legal-hold', target: 'lifecycle' },
  { method: 'DELETE', template: '/recordings/{recording_id}', target: 'lifecycle' },
  { method: 'POST', template: '/recordings/{recording_id}/retry', target: 'retry' },
  { method: 'ANY', template: '/recordings/{recording_id}/retry', target: 'retry' },
];

export interface MatchedRoute {
  routeKey: string;
  target: RouteTarget;
  pathParameters?: Record<string, string>;
}

/**
 * API Gateway's route selection: the path, `{name}` matching one non-empty path segment, and the
 * method, where a route for the exact method wins over an `ANY` route.
 */
export function matchRoute(method: string, rawPath: string): MatchedRoute | undefined {
  const segments = rawPath.split('/');
  const upper = method.toUpperCase();
  const candidates = [
    ...ROUTES.filter((route) => route.method === upper),
    ...ROUTES.filter((route) => route.method === 'ANY'),
  ];
  for (const route of candidates) {
    const parts = route.template.split('/');
    if (parts.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    const matches = parts.every((part, index) => {
      const segment = segments[index]!;
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!name) return part === segment;
      if (!segment) return false;
      parameters[name] = safeDecode(segment);
      return true;
    });
    if (matches) {
      return {
        routeKey: `${route.method} ${route.template}`,
        target: route.target,
        ...(Object.keys(parameters).length > 0 ? { pathParameters: parameters } : {}),
      };
    }
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** What the adapter needs from a request; `requestFrom` takes it from a Node `IncomingMessage`. */
export interface GatewayRequest {
  method: string;
  /** The request target as received: path and raw query string. */
  url: string;
  /** Alternating names and values, duplicates kept (Node's `rawHeaders`). */
  rawHeaders: readonly string[];
  httpVersion: string;
  sourceIp: string;
  localPort?: number;
}

export function requestFrom(req: IncomingMessage): GatewayRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    httpVersion: req.httpVersion,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    localPort: req.socket.localPort,
  };
}

/** Content types API Gateway passes as text; every other non-empty body arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type === 'application/javascript' ||
    type.endsWith('+json') ||
    type.endsWith('+xml')
  );
}

function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/**
 * Headers that stand for the identity API Gateway's IAM authorizer would put in the request context:
 * only this local gateway reads them (and drops them), so tests can act as a given console user. In AWS
 * they are ordinary headers that nothing reads.
 */
export const LOCAL_IDENTITY_HEADERS = {
  arn: 'x-local-iam-user-arn',
  identityId: 'x-local-cognito-identity-id',
  sub: 'x-local-cognito-sub',
} as const;

/** The pool the local identity's `amr` names (any well-formed one would do). */
const LOCAL_USER_POOL = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_LOCAL';

/** `requestContext.authorizer.iam` as API Gateway sends it for SigV4 requests, from the local headers. */
function localAuthorizer(headers: Record<string, string>): Record<string, unknown> | undefined {
  const arn = headers[LOCAL_IDENTITY_HEADERS.arn];
  const identityId = headers[LOCAL_IDENTITY_HEADERS.identityId];
  const sub = headers[LOCAL_IDENTITY_HEADERS.sub];
  for (const name of Object.values(LOCAL_IDENTITY_HEADERS)) delete headers[name];
  if (!arn) return undefined;
  return {
    iam: {
      accessKey: 'ASIALOCAL',
      accountId: '000000000000',
      callerId: 'LOCAL:CognitoIdentityCredentials',
      cognitoIdentity: identityId
        ? {
            amr: [
              'authenticated',
              LOCAL_USER_POOL,
              ...(sub ? [`${LOCAL_USER_POOL}:CognitoSignIn:${sub}`] : []),
            ],
            identityId,
            identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
          }
        : null,
      principalOrgId: null,
      userArn: arn,
      userId: 'LOCAL:CognitoIdentityCredentials',
    },
  };
}

/** The payload v2 event API Gateway would send for this request on `route`. */
export function toEvent(
  request: GatewayRequest,
  body: Buffer,
  route: MatchedRoute | { routeKey: '$default' },
  now = new Date(),
): APIGatewayProxyEventV2 {
  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : request.url.slice(queryAt + 1).replace(/#.*$/, '');

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']},${request.sourceIp}`
    : request.sourceIp;
  // Kept when a tunnel in front of us already says how the caller reached it.
  headers['x-forwarded-proto'] ??= 'http';
  if (request.localPort !== undefined) headers['x-forwarded-port'] ??= String(request.localPort);

  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[key] =
      queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
  }

  // The IAM routes (not the public webhook) carry the caller's identity, as in AWS.
  const authorizer = 'target' in route && route.target !== 'webhook' ? localAuthorizer(headers) : undefined;
  const domainName = headers.host ?? '127.0.0.1';
  const text = isTextContentType(headers['content-type']);
  const method = request.method.toUpperCase();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    ...('pathParameters' in route && route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      ...(authorizer ? { authorizer } : {}),
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

export interface GatewayResponse {
  statusCode: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export function jsonError(statusCode: number, code: string, message: string): GatewayResponse {
  const body = Buffer.from(JSON.stringify({ error: { code, message } }));
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
}

/**
 * A handler's result as API Gateway answers it: a structured result (`statusCode`, `headers`,
 * `cookies`, `body`, `isBase64Encoded`) is sent as given; anything else is the JSON body of a 200.
 */
export function fromResult(result: APIGatewayProxyResultV2 | undefined): GatewayResponse {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const status = result.statusCode;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      return jsonError(500, 'internal_error', 'The function returned an invalid statusCode');
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(result.headers ?? {}))
      headers[name.toLowerCase()] = String(value);
    if (result.cookies && result.cookies.length > 0) {
      const existing = headers['set-cookie'];
      headers['set-cookie'] = [...(existing === undefined ? [] : [String(existing)]), ...result.cookies];
    }
    const body =
      result.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
    return { statusCode: status, headers, body };
  }
  const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface FunctionBinding {
  handler: LambdaHttpHandler;
  functionName: string;
  /** The function's timeout in AWS; the gateway answers 503 if a handler takes longer, as API Gateway would. */
  timeoutMs: number;
}

/** A Lambda context with a real time budget, so handlers size their deadlines as they do in AWS. */
export function localContext(
  functionName: string,
  timeoutMs: number,
  requestId: string = randomUUID(),
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface GatewayOptions {
  /** Handlers per target; a route whose target is not bound yet answers 503. */
  functions: () => Partial<Record<RouteTarget, FunctionBinding>>;
  /**
   * Refuses a matched request before its function sees it (as IAM would in AWS); undefined lets it through.
   * The local stack refuses what the console's chosen group may not call (console/src/groups.ts).
   */
  authorize?: (request: GatewayRequest, rawPath: string) => GatewayResponse | undefined;
  /** Local-only routes (e.g. `/health`, the console), answered before route matching; `url` has the query. */
  local?: (
    method: string,
    rawPath: string,
    url: string,
  ) => GatewayResponse | Promise<GatewayResponse> | undefined;
  /** Called once per handled request, after the response was sent. */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
  onError?: (error: unknown) => void;
  maxRequestBytes?: number;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true; // keep draining so the 413 can be delivered
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

function send(res: ServerResponse, response: GatewayResponse, head = false): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': String(response.body.length) });
  res.end(head ? undefined : response.body);
}

/** The local HTTP API: one server, the same routes, the same handlers as in AWS. */
export function createGateway(options: GatewayOptions): Server {
  const limit = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  return createServer((req, res) => {
    const started = performance.now();
    const request = requestFrom(req);
    const rawPath = request.url.split('?')[0]!;
    res.once('finish', () =>
      options.onRequest?.({
        method: request.method,
        path: rawPath,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      }),
    );
    handle(req, res, request, rawPath).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent)
        send(res, jsonError(500, 'internal_error', 'Internal error; the request can be retried.'));
      else res.destroy();
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    request: GatewayRequest,
    rawPath: string,
  ): Promise<void> {
    const local = await options.local?.(request.method, rawPath, request.url);
    if (local) return send(res, local, request.method === 'HEAD');
    const route = matchRoute(request.method, rawPath);
    if (!route) {
      req.resume();
      return send(res, jsonError(404, 'not_found', `No route for ${request.method} ${rawPath}`));
    }
    const refusal = options.authorize?.(request, rawPath);
    if (refusal) {
      req.resume();
      return send(res, refusal);
    }
    const body = await readBody(req, limit);
    if (body === 'too-large') {
      res.setHeader('connection', 'close');
      return send(res, jsonError(413, 'payload_too_large', `Request body exceeds ${limit} bytes`));
    }
    const binding = options.functions()[route.target];
    if (!binding)
      return send(
        res,
        jsonError(503, 'starting', 'The local stack is still starting; try again in a moment'),
      );

    const event = toEvent(request, body, route);
    const context = localContext(binding.functionName, binding.timeoutMs, event.requestContext.requestId);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), binding.timeoutMs)),
    );
    try {
      const result = await Promise.race([binding.handler(event, context), timedOut]);
      if (result === 'timeout') {
        return send(
          res,
          jsonError(503, 'timeout', `${binding.functionName} did not answer within ${binding.timeoutMs} ms`),
        );
      }
      send(res, fromResult(result));
    } finally {
      clearTimeout(timer);
    }
  }
}
