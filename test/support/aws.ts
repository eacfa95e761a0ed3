import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  created.push({ endpoint: dynamoEndpoint, tableName });
  return { tableName, bucketName, dynamo, documents: createDocumentClient(dynamo), s3 };
}

const created: { endpoint: string; tableName: string }[] = [];

/** Deletes the tables this test file created (integration-setup.ts calls it when the file ends). */
export async function dropCreatedTables(): Promise<void> {
  const tables = created.splice(0);
  if (tables.length === 0) return;
  const client = new DynamoDBClient({
    endpoint: tables[0]!.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await Promise.all(
      tables.map(({ tableName }) =>
        client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined),
      ),
    );
  } finally {
    client.destroy();
  }
}
