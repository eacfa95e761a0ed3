import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * SDK clients, created once per container. Endpoints come from the SDK-standard
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` variables, which the SDK reads itself; an S3
 * endpoint override also switches on path-style addressing, which S3-compatible servers need.
 */
export function createDocumentClient(dynamo = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function createS3Client(env: Record<string, string | undefined> = process.env): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) });
}

export function createSecretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}
