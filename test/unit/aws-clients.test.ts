import { createServer, type Server, type Socket } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoClient,
  createS3Client,
  DYNAMODB_MAX_ATTEMPTS,
  DYNAMODB_TIMEOUTS,
  EMULATOR_TIMEOUT_FACTOR,
  S3_MAX_ATTEMPTS,
  S3_TIMEOUTS,
} from '../../functions/shared/adapters/aws-clients.js';
import { LEASE_AFTERLIFE_MS } from '../../functions/shared/lifecycle/erase-recording.js';
import { DEFAULT_LEASE_MS } from '../../functions/shared/ingest/archive-recording.js';

/** A server that accepts connections and never answers: a request to it hangs (a half-open connection). */
let server: Server;
const sockets = new Set<Socket>();
let endpoint: string;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const credentials = { accessKeyId: 'x', secretAccessKey: 'y' };

describe('SDK clients give up requests that hang', () => {
  it('DynamoDB: a request that never answers fails within its timeout instead of hanging', async () => {
    const client = createDynamoClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }, {});
    const started = performance.now();
    const error = await client
      .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }))
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ name: 'TimeoutError' });
    // Bounded by the request timeout (3 s), with room for a slow machine; without one it never returns.
    expect(elapsed).toBeGreaterThanOrEqual(DYNAMODB_TIMEOUTS.requestTimeout - 100);
    expect(elapsed).toBeLessThan(DYNAMODB_TIMEOUTS.requestTimeout + 20_000);
    client.destroy();
  });

  it('the limits fit the lease: a renewal settles before the next one is due, S3 requests end before an erasure starts', async () => {
    const dynamo = createDynamoClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }, {});
    const s3 = createS3Client({}, { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    // The handler resolves its configuration on its first request (cut short here at once).
    const quick = { abortSignal: AbortSignal.timeout(50) };
    await dynamo.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }), quick).catch(() => 0);
    await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }), quick).catch(() => 0);
    const handlerConfig = (client: { config: { requestHandler: unknown } }) =>
      (
        client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> }
      ).httpHandlerConfigs();
    expect(handlerConfig(dynamo)).toMatchObject(DYNAMODB_TIMEOUTS);
    expect(handlerConfig(s3)).toMatchObject(S3_TIMEOUTS);
    expect(await createDynamoClient({}, {}).config.maxAttempts()).toBe(DYNAMODB_MAX_ATTEMPTS);
    expect(await createS3Client({}).config.maxAttempts()).toBe(S3_MAX_ATTEMPTS);
    // Every attempt at its limit, plus the SDK's backoff between them (under a second at these counts).
    const worstDynamoMs = DYNAMODB_MAX_ATTEMPTS * DYNAMODB_TIMEOUTS.requestTimeout + 1_000;
    expect(worstDynamoMs).toBeLessThan(DEFAULT_LEASE_MS / 3);
    const worstS3Ms = S3_MAX_ATTEMPTS * S3_TIMEOUTS.requestTimeout + 1_000;
    expect(worstS3Ms).toBeLessThan(LEASE_AFTERLIFE_MS);
    dynamo.destroy();
    s3.destroy();
  });

  it('against an emulator (an endpoint override), the limits are ten times longer: a busy machine is not a hang', async () => {
    const emulated = { AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_S3: endpoint };
    const dynamo = createDynamoClient({ region: 'us-east-1', credentials, maxAttempts: 1 }, emulated);
    const s3 = createS3Client(emulated, { region: 'us-east-1', credentials, maxAttempts: 1 });
    const quick = { abortSignal: AbortSignal.timeout(50) };
    await dynamo.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }), quick).catch(() => 0);
    await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }), quick).catch(() => 0);
    const handlerConfig = (client: { config: { requestHandler: unknown } }) =>
      (
        client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> }
      ).httpHandlerConfigs();
    expect(handlerConfig(dynamo)).toMatchObject({
      requestTimeout: DYNAMODB_TIMEOUTS.requestTimeout * EMULATOR_TIMEOUT_FACTOR,
      connectionTimeout: DYNAMODB_TIMEOUTS.connectionTimeout * EMULATOR_TIMEOUT_FACTOR,
    });
    expect(handlerConfig(s3)).toMatchObject({
      requestTimeout: S3_TIMEOUTS.requestTimeout * EMULATOR_TIMEOUT_FACTOR,
    });
    dynamo.destroy();
    s3.destroy();
  });
});
