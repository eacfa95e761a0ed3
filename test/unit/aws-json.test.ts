import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AwsNetworkError,
  AwsServiceError,
  createAwsJsonClient,
  DYNAMODB_JSON,
  jsonSecretReader,
  SECRETS_MANAGER_JSON,
  SigV4,
  type AwsJsonOptions,
} from '../../functions/shared/adapters/aws-json.js';
import { acceptNotificationRecord, jsonAcceptStore } from '../../functions/shared/adapters/dynamo-accept.js';
import { pendingWithoutMetadata } from '../support/recording-dataset.js';

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = new Date('2026-12-05T07:20:31.123Z');

/** What the SDK's own signer makes of the same request. */
async function sdkSignature(
  request: { hostname: string; port?: number; headers: Record<string, string>; body: string },
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region = 'eu-west-1',
) {
  const signer = new SignatureV4({
    credentials,
    region,
    service: 'dynamodb',
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', path: '/', query: {}, ...request, headers: { ...request.headers } },
    { signingDate: AT },
  );
  return signed.headers;
}

describe('SigV4 of the webhook client', () => {
  const base = (): Record<string, string> => ({
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'DynamoDB_20120810.PutItem',
  });
  const body = JSON.stringify({ TableName: 'recordings', Item: { pk: { S: 'REC#1 ü' } } });

  it('signs exactly as @smithy/signature-v4 does', async () => {
    const headers: Record<string, string> = { ...base(), host: 'dynamodb.eu-west-1.amazonaws.com' };
    new SigV4('eu-west-1', 'dynamodb').sign({ method: 'POST', path: '/', headers, body }, KEYS, AT);
    const expected = await sdkSignature(
      {
        hostname: 'dynamodb.eu-west-1.amazonaws.com',
        headers: { ...base(), host: 'dynamodb.eu-west-1.amazonaws.com' },
        body,
      },
      KEYS,
    );
    expect(headers['x-amz-date']).toBe('20261205T072031Z');
    expect(headers.authorization).toBe(expected.authorization);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261205\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });

  it('signs the session token, a host with a port, and the same key again on the same day', async () => {
    const credentials = { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjE//token+/=' };
    const signer = new SigV4('eu-west-1', 'dynamodb');
    for (const round of [1, 2]) {
      const headers: Record<string, string> = { ...base(), host: 'localhost:8000' };
      signer.sign({ method: 'POST', path: '/', headers, body: body + round }, credentials, AT);
      const expected = await sdkSignature(
        {
          hostname: 'localhost',
          port: 8000,
          headers: { ...base(), host: 'localhost:8000' },
          body: body + round,
        },
        credentials,
      );
      expect(headers['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(headers.authorization).toContain('x-amz-security-token');
      expect(headers.authorization).toBe(expected.authorization);
    }
  });

  it('derives a new key for a new day or a new secret', async () => {
    const signer = new SigV4('eu-west-1', 'dynamodb');
    const sign = (at: Date, secretAccessKey: string) => {
      const headers: Record<string, string> = { ...base(), host: 'h' };
      signer.sign({ method: 'POST', path: '/', headers, body: '{}' }, { ...KEYS, secretAccessKey }, at);
      return headers.authorization!;
    };
    const first = sign(AT, 'a');
    const nextDay = new Date(AT.getTime() + 86_400_000);
    const headers: Record<string, string> = { ...base(), host: 'h' };
    const expected = await sdkSignature(
      { hostname: 'h', headers, body: '{}' },
      { ...KEYS, secretAccessKey: 'a' },
    );
    expect(expected.authorization).toBe(first);
    expect(sign(nextDay, 'a')).toContain('/20261206/');
    expect(sign(nextDay, 'a')).not.toBe(first);
    expect(sign(AT, 'b')).not.toBe(first);
    expect(sign(AT, 'a')).toBe(first);
  });
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = (request: Received, response: ServerResponse) => void;

/** A local HTTP server answering each request with the next reply (the last one repeats). */
async function fakeService(...replies: Reply[]) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      replies[Math.min(received.length, replies.length) - 1]!(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received };
}

const servers: Server[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (_, response) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
    response.end(JSON.stringify(body));
  };

const LIMITS: AwsJsonOptions = {
  maxAttempts: 3,
  connectionTimeout: 1_000,
  requestTimeout: 2_000,
  socketTimeout: 2_000,
  backoffMs: () => 0,
};

function client(url: string, options: Partial<AwsJsonOptions> = {}, env: Record<string, string> = {}) {
  return createAwsJsonClient(DYNAMODB_JSON, {
    ...LIMITS,
    ...options,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      AWS_SESSION_TOKEN: 'session',
      AWS_ENDPOINT_URL_DYNAMODB: url,
      ...env,
    },
  });
}

describe('the webhook client over HTTP', () => {
  it('posts the operation signed, with the JSON protocol headers, and returns the parsed answer', async () => {
    const service = await fakeService(json(200, { ConsumedCapacity: { TableName: 't' } }));
    const answer = await client(service.url).call('PutItem', { TableName: 't', Item: { pk: { S: 'a' } } });
    expect(answer).toEqual({ ConsumedCapacity: { TableName: 't' } });
    const [request] = service.received;
    expect(request!.headers['x-amz-target']).toBe('DynamoDB_20120810.PutItem');
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request!.headers['x-amz-security-token']).toBe('session');
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\//,
    );
    expect(JSON.parse(request!.body)).toEqual({ TableName: 't', Item: { pk: { S: 'a' } } });
  });

  it('turns an error answer into an error named by its code, carrying the body (header or __type)', async () => {
    const service = await fakeService(
      json(
        400,
        { message: 'The conditional request failed', Item: { pk: { S: 'a' } } },
        { 'x-amzn-errortype': 'ConditionalCheckFailedException:http://internal.amazon.com/coral/' },
      ),
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
      json(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'bad key' }),
    );
    const dynamo = client(service.url);
    const first = await dynamo.call('PutItem', {}).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(AwsServiceError);
    expect(first).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      Item: { pk: { S: 'a' } },
      $statusCode: 400,
      $retryable: false,
    });
    const second = await dynamo.call('TransactWriteItems', {}).catch((error: unknown) => error);
    expect(second).toMatchObject({
      name: 'TransactionCanceledException',
      message: 'Transaction cancelled',
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    await expect(dynamo.call('PutItem', {})).rejects.toMatchObject({ name: 'ValidationException' });
    expect(service.received).toHaveLength(3);
  });

  it('retries 5xx and throttling up to maxAttempts, never a failed condition', async () => {
    const flaky = await fakeService(
      json(500, { __type: 'InternalServerError' }),
      json(400, { __type: 'com.amazonaws.dynamodb#ProvisionedThroughputExceededException' }),
      json(200, {}),
    );
    await expect(client(flaky.url).call('PutItem', {})).resolves.toEqual({});
    expect(flaky.received).toHaveLength(3);

    const down = await fakeService(json(503, {}));
    await expect(client(down.url, { maxAttempts: 4 }).call('PutItem', {})).rejects.toMatchObject({
      name: 'InternalServerError',
      $statusCode: 503,
    });
    expect(down.received).toHaveLength(4);

    const refused = await fakeService(
      json(400, { __type: 'ConditionalCheckFailedException' }),
      json(200, {}),
    );
    await expect(client(refused.url).call('PutItem', {})).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(refused.received).toHaveLength(1);
  });

  it('gives up on a silent server after requestTimeout, retrying it as a network error', async () => {
    const silent = await fakeService(() => undefined);
    const started = Date.now();
    const error = await client(silent.url, { maxAttempts: 2, requestTimeout: 200, socketTimeout: 5_000 })
      .call('PutItem', {})
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsNetworkError);
    expect((error as Error).message).toMatch(/no answer within 200 ms/);
    expect(silent.received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('reports a refused connection as a network error after every attempt', async () => {
    const closed = await fakeService(json(200, {}));
    const port = new URL(closed.url).port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(client(`http://127.0.0.1:${port}`).call('PutItem', {})).rejects.toThrow(
      /request failed: connect ECONNREFUSED/,
    );
  });

  it('resolves the endpoint as the SDK does: per service, then global, then regional', () => {
    const options = {
      ...LIMITS,
      env: { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
    };
    const regional = createAwsJsonClient(DYNAMODB_JSON, options);
    expect(regional.endpoint).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    expect(regional.overridden).toBe(false);
    expect(
      createAwsJsonClient(SECRETS_MANAGER_JSON, {
        ...options,
        env: { ...options.env, AWS_REGION: 'cn-north-1' },
      }).endpoint,
    ).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn/');
    const both = {
      ...options.env,
      AWS_ENDPOINT_URL: 'http://global:1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://dynamo:2',
    };
    expect(createAwsJsonClient(DYNAMODB_JSON, { ...options, env: both }).endpoint).toBe('http://dynamo:2/');
    expect(createAwsJsonClient(SECRETS_MANAGER_JSON, { ...options, env: both })).toMatchObject({
      endpoint: 'http://global:1/',
      overridden: true,
    });
    expect(() => createAwsJsonClient(DYNAMODB_JSON, { ...LIMITS, env: {} })).toThrow(/AWS_REGION is not set/);
    const fips = { ...options.env, AWS_USE_FIPS_ENDPOINT: 'true' };
    expect(createAwsJsonClient(DYNAMODB_JSON, { ...options, env: fips }).endpoint).toBe(
      'https://dynamodb-fips.eu-west-1.amazonaws.com/',
    );
    expect(createAwsJsonClient(SECRETS_MANAGER_JSON, { ...options, env: fips }).endpoint).toBe(
      'https://secretsmanager-fips.eu-west-1.amazonaws.com/',
    );
    const dualStack = { ...options.env, AWS_USE_DUALSTACK_ENDPOINT: 'true' };
    expect(() => createAwsJsonClient(DYNAMODB_JSON, { ...options, env: dualStack })).toThrow(
      /AWS_USE_DUALSTACK_ENDPOINT is not supported.*AWS_ENDPOINT_URL_DYNAMODB/,
    );
    expect(
      createAwsJsonClient(DYNAMODB_JSON, {
        ...options,
        env: { ...dualStack, AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.eu-west-1.api.aws' },
      }).endpoint,
    ).toBe('https://dynamodb.eu-west-1.api.aws/');
    expect(() =>
      createAwsJsonClient(DYNAMODB_JSON, {
        ...options,
        env: { ...options.env, AWS_ENDPOINT_URL: 'ftp://x' },
      }),
    ).toThrow(/ftp: is not http\(s\)/);
  });

  it("uses the SDK's provider chain (a profile file) when the environment has no keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-json-'));
    try {
      const file = join(dir, 'credentials');
      writeFileSync(
        file,
        '[archive]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n',
      );
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
        vi.stubEnv(name, undefined);
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', file);
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
      vi.stubEnv('AWS_PROFILE', 'archive');
      vi.stubEnv('AWS_REGION', 'eu-west-1');
      const service = await fakeService(json(200, {}));
      const dynamo = createAwsJsonClient(DYNAMODB_JSON, {
        ...LIMITS,
        env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: service.url },
      });
      await dynamo.call('DescribeLimits', {});
      await dynamo.call('DescribeLimits', {});
      expect(service.received.map((request) => request.headers.authorization)).toEqual([
        expect.stringContaining('Credential=AKIDPROFILE/'),
        expect.stringContaining('Credential=AKIDPROFILE/'),
      ]);
      expect(service.received[0]!.headers['x-amz-security-token']).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the webhook client as Secrets Manager and as the accept store', () => {
  it('reads a secret string with GetSecretValue over the 1.1 JSON protocol', async () => {
    const service = await fakeService(
      json(200, { SecretString: '{"authId":"MA_1","authToken":"t"}' }),
      json(200, {}),
    );
    const read = jsonSecretReader(() =>
      createAwsJsonClient(SECRETS_MANAGER_JSON, {
        ...LIMITS,
        env: {
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'a',
          AWS_SECRET_ACCESS_KEY: 'b',
          AWS_ENDPOINT_URL: service.url,
        },
      }),
    );
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf';
    await expect(read(arn)).resolves.toBe('{"authId":"MA_1","authToken":"t"}');
    await expect(read(arn)).resolves.toBeUndefined();
    expect(service.received[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(service.received[0]!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(service.received[0]!.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
    expect(JSON.parse(service.received[0]!.body)).toEqual({ SecretId: arn });
  });

  it('writes a notification as one marshalled transaction with a fresh ClientRequestToken per call', async () => {
    const service = await fakeService(json(200, {}));
    const store = jsonAcceptStore(client(service.url));
    const puts = [
      {
        TableName: 't',
        Item: { pk: 'REC#1', absent: undefined, size: 3 },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    ];
    await store.transactWrite(puts);
    await store.transactWrite(puts);
    const [first, second] = service.received.map(
      (request) => JSON.parse(request.body) as { TransactItems: unknown[]; ClientRequestToken: string },
    );
    expect(first!.TransactItems).toEqual([
      {
        Put: {
          TableName: 't',
          Item: { pk: { S: 'REC#1' }, size: { N: '3' } },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ]);
    expect(first!.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(second!.ClientRequestToken).not.toBe(first!.ClientRequestToken);
  });

  it('reads a cancelled transaction from the wire: a duplicate callback finds the existing record', async () => {
    const existing = { pk: { S: 'REC#rec-1' }, sk: { S: 'REC' }, status: { S: 'archived' } };
    const service = await fakeService(
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: existing }],
      }),
      json(200, {}),
    );
    const result = await acceptNotificationRecord(jsonAcceptStore(client(service.url)), 't', {
      record: pendingWithoutMetadata('rec-1', Date.parse('2026-12-05T07:00:00Z')),
      nonces: [{ value: 'n-1', expiresAtSec: 1_767_225_600 }],
    });
    expect(result).toEqual({ kind: 'known', status: 'archived', retry: false });
    // The second transaction consumes the new nonce only, allowed if it was consumed for this recording.
    const second = JSON.parse(service.received[1]!.body) as { TransactItems: { Put: unknown }[] };
    expect(second.TransactItems).toHaveLength(1);
    expect(second.TransactItems[0]!.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#pk) OR recording_id = :id',
      ExpressionAttributeValues: { ':id': { S: 'rec-1' } },
    });
  });
});
