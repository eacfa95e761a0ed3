import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RequestLimits } from './aws-limits.js';
import type { ReadSecret } from './credentials.js';

/**
 * A small client for AWS's JSON protocols (DynamoDB, Secrets Manager): one signed POST per call, with
 * the SDK's standard retry rules. It exists for the webhook, whose cold start is part of Vobiz's
 * 3-second budget: the AWS SDK's DynamoDB client alone costs ~58 ms of module compile at every cold
 * start (bench/coldstart.ts), this file a few. Every other function uses the SDK.
 *
 * What it does as the SDK does:
 * - SigV4 (`AWS4-HMAC-SHA256`), checked against `@smithy/signature-v4` in test/unit/aws-json.test.ts;
 * - credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (what Lambda
 *   sets); without them, the SDK's own provider chain, loaded only then (profiles, SSO...);
 * - the endpoint from `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, else the regional one (its
 *   FIPS variant with `AWS_USE_FIPS_ENDPOINT=true`; dual-stack needs the endpoint set explicitly);
 * - up to `maxAttempts` attempts for throttling, 5xx and network errors, with full-jitter backoff;
 * - errors carry the service's error code as `name` and the body's fields (`Item`,
 *   `CancellationReasons`...) as properties, like the SDK's exception classes.
 */
export interface AwsJsonService {
  /** The SigV4 service name, also the host's first label (`dynamodb`, `secretsmanager`). */
  signingName: string;
  /** `X-Amz-Target` is `<targetPrefix>.<Operation>`. */
  targetPrefix: string;
  /** `application/x-amz-json-1.0` (DynamoDB) or `-1.1` (Secrets Manager). */
  contentType: string;
  /** The SDK-standard endpoint override for this service, e.g. `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpointVariable: string;
}

export const DYNAMODB_JSON: AwsJsonService = {
  signingName: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  contentType: 'application/x-amz-json-1.0',
  endpointVariable: 'AWS_ENDPOINT_URL_DYNAMODB',
};

export const SECRETS_MANAGER_JSON: AwsJsonService = {
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  contentType: 'application/x-amz-json-1.1',
  endpointVariable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
};

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** An error the service answered with: `name` is its code, its body's fields are properties. */
export class AwsServiceError extends Error {
  [field: string]: unknown;
  readonly $statusCode: number;
  readonly $retryable: boolean;

  constructor(code: string, statusCode: number, body: Record<string, unknown>) {
    const message = body.message ?? body.Message;
    super(typeof message === 'string' && message ? message : `${code} (HTTP ${statusCode})`);
    for (const [key, value] of Object.entries(body))
      if (key !== 'message' && key !== 'Message' && key !== '__type') this[key] = value;
    this.name = code;
    this.$statusCode = statusCode;
    this.$retryable = statusCode >= 500 || statusCode === 429 || RETRYABLE_CODES.has(code);
  }
}

/** No answer in time, or the connection failed: always retried (the SDK's "transient" errors). */
export class AwsNetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsNetworkError';
  }
}

/** The SDK's throttling and transient error codes (@smithy/service-error-classification). */
const RETRYABLE_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

export interface AwsJsonOptions extends RequestLimits {
  maxAttempts: number;
  env?: Record<string, string | undefined>;
  /** For tests: the wait before attempt `n + 1` (default full jitter, 100 ms × 2^(n−1), ≤ 20 s). */
  backoffMs?: (attempt: number) => number;
  /** For tests: the signing time. */
  now?: () => Date;
}

export interface AwsJsonClient {
  /** Calls `operation` with `input` as its JSON body; resolves to the parsed answer. */
  call(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** True when the endpoint was overridden (an emulator). */
  readonly overridden: boolean;
  /** The endpoint the calls go to. */
  readonly endpoint: string;
}

/** A response body larger than this is refused: these APIs answer in kilobytes. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export function createAwsJsonClient(service: AwsJsonService, options: AwsJsonOptions): AwsJsonClient {
  const env = options.env ?? process.env;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`${service.signingName}: AWS_REGION is not set`);
  const override = endpointOverride(service, env);
  if (!override && env.AWS_USE_DUALSTACK_ENDPOINT === 'true')
    throw new Error(
      `${service.signingName}: AWS_USE_DUALSTACK_ENDPOINT is not supported by the webhook's client; set ${service.endpointVariable} to the endpoint to use`,
    );
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true' ? '-fips' : '';
  const endpoint = new URL(
    override || `https://${service.signingName}${fips}.${region}.${dnsSuffix(region)}`,
  );
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')
    throw new Error(`${service.endpointVariable}: ${endpoint.protocol} is not http(s)`);
  const secure = endpoint.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
    : new HttpAgent({ keepAlive: true, maxSockets: 50 });
  const path = endpoint.pathname || '/';
  const credentials = credentialsFrom(env);
  const signer = new SigV4(region, service.signingName);
  const now = options.now ?? (() => new Date());
  const backoffMs =
    options.backoffMs ?? ((attempt: number) => Math.random() * Math.min(20_000, 100 * 2 ** (attempt - 1)));

  async function attempt(operation: string, body: string): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      'content-type': service.contentType,
      host: endpoint.host,
      'x-amz-target': `${service.targetPrefix}.${operation}`,
    };
    signer.sign({ method: 'POST', path, headers, body }, await credentials(), now());
    headers['content-length'] = String(Buffer.byteLength(body));
    const { status, text, amznErrorType } = await send(
      { secure, agent, endpoint, path, headers, body },
      options,
    );
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) return parsed ?? {};
    throw new AwsServiceError(errorCode(amznErrorType, parsed, status), status, parsed ?? {});
  }

  return {
    overridden: Boolean(override),
    endpoint: endpoint.href,
    async call(operation, input) {
      const body = JSON.stringify(input);
      for (let n = 1; ; n++) {
        try {
          return await attempt(operation, body);
        } catch (error) {
          const retryable =
            error instanceof AwsNetworkError || (error instanceof AwsServiceError && error.$retryable);
          if (!retryable || n >= options.maxAttempts) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoffMs(n)));
        }
      }
    },
  };
}

/** The endpoint set for `service` (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`): an emulator's. */
export function endpointOverride(
  service: AwsJsonService,
  env: Record<string, string | undefined>,
): string | undefined {
  return env[service.endpointVariable] || env.AWS_ENDPOINT_URL || undefined;
}

/** The partition's DNS suffix: China's regions are under amazonaws.com.cn, the rest amazonaws.com. */
function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** `x-amzn-errortype` (`Code:uri`), else the body's `__type` (`namespace#Code`), else the status. */
function errorCode(header: string | undefined, body: Record<string, unknown> | undefined, status: number) {
  const raw =
    header ?? (typeof body?.__type === 'string' ? body.__type : undefined) ?? (body?.code as string);
  if (typeof raw !== 'string' || !raw) return status >= 500 ? 'InternalServerError' : `Http${status}`;
  return raw.split(':')[0]!.split('#').pop()!;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

interface Outgoing {
  secure: boolean;
  agent: HttpAgent;
  endpoint: URL;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP exchange within the limits: connect, then the whole answer, each bounded in time. */
function send(
  out: Outgoing,
  limits: RequestLimits,
): Promise<{ status: number; text: string; amznErrorType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = (out.secure ? httpsRequest : httpRequest)({
      method: 'POST',
      protocol: out.endpoint.protocol,
      hostname: out.endpoint.hostname.replace(/^\[|\]$/g, ''),
      port: out.endpoint.port || undefined,
      path: out.path,
      headers: out.headers,
      agent: out.agent,
    });
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(overall);
      request.destroy();
      reject(new AwsNetworkError(message, { cause }));
    };
    const overall = setTimeout(
      () => fail(`no answer within ${limits.requestTimeout} ms`),
      limits.requestTimeout,
    );
    request.setTimeout(limits.socketTimeout, () => fail(`socket idle for ${limits.socketTimeout} ms`));
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connecting = setTimeout(
        () => fail(`no connection within ${limits.connectionTimeout} ms`),
        limits.connectionTimeout,
      );
      socket.once(out.secure ? 'secureConnect' : 'connect', () => clearTimeout(connecting));
      socket.once('close', () => clearTimeout(connecting));
    });
    request.on('error', (error) => fail(`request failed: ${error.message}`, error));
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) fail(`answer larger than ${MAX_RESPONSE_BYTES} bytes`);
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail(`answer failed: ${error.message}`, error));
      response.on('end', () => {
        clearTimeout(overall);
        const type = response.headers['x-amzn-errortype'];
        resolve({
          status: response.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          amznErrorType: Array.isArray(type) ? type[0] : type,
        });
      });
    });
    request.end(out.body);
  });
}

/**
 * The environment's credentials (Lambda sets them), else the SDK's default provider chain, imported
 * only then so that it costs nothing where the environment has them. Refreshed before they expire.
 */
function credentialsFrom(env: Record<string, string | undefined>): () => Promise<AwsCredentials> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    const fixed = { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
    return () => Promise.resolve(fixed);
  }
  let cached: Promise<AwsCredentials> | undefined;
  let expiresAtMs = Number.POSITIVE_INFINITY;
  return async () => {
    if (cached && Date.now() < expiresAtMs - 5 * 60_000) return cached;
    cached = (async () => {
      // The DynamoDB client's resolved provider is the SDK's default chain (a declared dependency).
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      const value = await new DynamoDBClient({
        region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      }).config.credentials();
      expiresAtMs = value.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
      return value;
    })();
    cached.catch(() => (cached = undefined));
    return cached;
  };
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** AWS Signature Version 4 for a request whose headers are all signed and whose path is already encoded. */
export class SigV4 {
  private keyDay = '';
  private keySecret = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(
    private readonly region: string,
    private readonly service: string,
  ) {}

  /** Adds `x-amz-date`, `x-amz-security-token` (with a session token) and `authorization` to `headers`. */
  sign(
    request: { method: string; path: string; headers: Record<string, string>; body: string },
    credentials: AwsCredentials,
    at: Date,
  ): void {
    const amzDate = at.toISOString().replace(/[:-]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    request.headers['x-amz-date'] = amzDate;
    if (credentials.sessionToken) request.headers['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(request.headers)
      .map((name) => name.toLowerCase())
      .filter((name) => name !== 'authorization' && name !== 'content-length')
      .sort();
    const lower = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const signedHeaders = names.join(';');
    const canonical = [
      request.method,
      request.path,
      '',
      ...names.map((name) => `${name}:${lower[name]!.trim().replace(/\s+/g, ' ')}`),
      '',
      signedHeaders,
      sha256Hex(request.body),
    ].join('\n');
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
    const signature = createHmac('sha256', this.signingKey(credentials.secretAccessKey, day))
      .update(toSign, 'utf8')
      .digest('hex');
    request.headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  }

  /** The day's key, derived once a day (per secret). */
  private signingKey(secret: string, day: string): Buffer {
    if (day !== this.keyDay || secret !== this.keySecret) {
      const dayKey = hmac(`AWS4${secret}`, day);
      this.key = hmac(hmac(hmac(dayKey, this.region), this.service), 'aws4_request');
      this.keyDay = day;
      this.keySecret = secret;
    }
    return this.key;
  }
}

/** `GetSecretValue` over this client: the secret's `SecretString` (undefined for a binary secret). */
export function jsonSecretReader(create: () => AwsJsonClient): ReadSecret {
  let client: AwsJsonClient | undefined;
  return async (secretArn) => {
    client ??= create();
    const { SecretString } = await client.call('GetSecretValue', { SecretId: secretArn });
    return typeof SecretString === 'string' ? SecretString : undefined;
  };
}
