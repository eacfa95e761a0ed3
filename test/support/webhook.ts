import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createWebhookHandler } from '../../functions/webhook/handler.js';
import { loadWebhookDependencies } from '../../functions/webhook/dependencies.js';
import { keys, fromItem, type RecordingRecord } from '../../functions/shared/domain/recording.js';
import type { SignatureScheme } from '../../functions/shared/domain/signature.js';
import type { FakeRecording, VobizFake } from '../../local/vobiz-fake.js';
import { httpEvent, lambdaContext } from './http-events.js';
import { expectDocumentedResult } from './openapi.js';

export const PUBLIC_URL = 'https://hooks.example.com/webhooks/vobiz/recording';
export const WEBHOOK_PATH = '/webhooks/vobiz/recording';

export function webhookEnv(
  fake: VobizFake,
  storage: { tableName: string; bucketName: string },
  extra: Record<string, string> = {},
) {
  return {
    ...process.env,
    TABLE_NAME: storage.tableName,
    BUCKET_NAME: storage.bucketName,
    VOBIZ_AUTH_ID: fake.authId,
    VOBIZ_AUTH_TOKEN: fake.authToken,
    VOBIZ_API_BASE_URL: fake.baseUrl,
    ALLOWED_MEDIA_ORIGINS: fake.baseUrl,
    WEBHOOK_PUBLIC_URL: PUBLIC_URL,
    ...extra,
  };
}

/** The real middy webhook handler, configured from an environment like the Lambda's. */
export function webhookHandler(env: Record<string, string | undefined>) {
  return createWebhookHandler(() => loadWebhookDependencies(env));
}

export type WebhookResult = APIGatewayProxyStructuredResultV2 & { json: Record<string, unknown> };

export interface DeliveryOptions {
  schemes?: SignatureScheme[];
  method?: 'POST' | 'GET';
  encoding?: 'form' | 'json';
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  parentToken?: string;
  token?: string;
  base64?: boolean;
}

/** Sends a signed callback for `recording` through the handler, as Vobiz would. */
export async function deliver(
  handler: ReturnType<typeof webhookHandler>,
  fake: VobizFake,
  recording: FakeRecording | undefined,
  options: DeliveryOptions = {},
): Promise<WebhookResult> {
  const fields = { ...(recording ? fake.callbackFields(recording) : {}), ...options.fields };
  const signed = fake.sign(PUBLIC_URL, {
    schemes: options.schemes,
    parentToken: options.parentToken,
    token: options.token,
  });
  const method = options.method ?? 'POST';
  const encoding = options.encoding ?? 'form';
  const body =
    method === 'GET'
      ? undefined
      : encoding === 'json'
        ? JSON.stringify(fields)
        : new URLSearchParams(fields).toString();
  const event = httpEvent({
    method,
    path: WEBHOOK_PATH,
    query: method === 'GET' ? fields : undefined,
    headers: {
      ...(method === 'POST'
        ? { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' }
        : {}),
      ...signed,
      ...options.headers,
    },
    body,
    base64: options.base64,
  });
  return invoke(handler, event);
}

export async function invoke(
  handler: ReturnType<typeof webhookHandler>,
  event: ReturnType<typeof httpEvent>,
): Promise<WebhookResult> {
  const result = await handler(event, lambdaContext());
  expectDocumentedResult(event, result);
  return { ...result, json: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {} };
}

export async function readRecord(
  documents: DynamoDBDocumentClient,
  tableName: string,
  id: string,
): Promise<RecordingRecord | undefined> {
  const result = await documents.send(
    new GetCommand({ TableName: tableName, Key: keys.recording(id), ConsistentRead: true }),
  );
  return result.Item ? fromItem(result.Item) : undefined;
}

/** Test-only full read of a small table, to prove that a rejected request wrote nothing. */
export async function countItems(documents: DynamoDBDocumentClient, tableName: string): Promise<number> {
  const result = await documents.send(
    new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true }),
  );
  return result.Count ?? 0;
}

export async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ bytes: Buffer; contentType?: string } | undefined> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch {
    return undefined;
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: Buffer.from(await object.Body!.transformToByteArray()), contentType: object.ContentType };
}
