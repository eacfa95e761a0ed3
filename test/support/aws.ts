import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import {
  createBucket,
  createTable,
  emulatorEnvironment,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../../local/emulators.js';

/**
 * Points the SDK (and so the handlers, which read the standard variables) at the emulators started by
 * the global setup, and creates a fresh table and bucket for the calling test file.
 */
export async function useEmulators(): Promise<{
  tableName: string;
  bucketName: string;
  dynamo: DynamoDBClient;
  documents: ReturnType<typeof createDocumentClient>;
  s3: S3Client;
}> {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const s3Endpoint = inject('s3Endpoint');
  Object.assign(process.env, emulatorEnvironment({ dynamo: dynamoEndpoint, s3: s3Endpoint }));
  const suffix = randomUUID().slice(0, 8);
  const tableName = `recordings-${suffix}`;
  const bucketName = `audio-${suffix}`;
  const dynamo = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  await Promise.all([createTable(dynamo, tableName), createBucket(s3, bucketName)]);
  return { tableName, bucketName, dynamo, documents: createDocumentClient(dynamo), s3 };
}
