import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DYNAMODB_MAX_ATTEMPTS,
  DYNAMODB_TIMEOUTS,
  limits,
  S3_MAX_ATTEMPTS,
  S3_TIMEOUTS,
} from './aws-limits.js';
import type { ReadSecret } from './credentials.js';

export {
  DYNAMODB_MAX_ATTEMPTS,
  DYNAMODB_TIMEOUTS,
  EMULATOR_TIMEOUT_FACTOR,
  S3_MAX_ATTEMPTS,
  S3_TIMEOUTS,
} from './aws-limits.js';

type Env = Record<string, string | undefined>;

/**
 * SDK clients, created once per container. Endpoints come from the SDK-standard
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` variables, which the SDK reads itself; an S3
 * endpoint override also switches on path-style addressing, which S3-compatible servers need.
 */
export function createDynamoClient(
  config: DynamoDBClientConfig = {},
  env: Env = process.env,
): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: DYNAMODB_MAX_ATTEMPTS,
    requestHandler: limits(DYNAMODB_TIMEOUTS, Boolean(env.AWS_ENDPOINT_URL_DYNAMODB)),
    ...config,
  });
}

export function createDocumentClient(dynamo = createDynamoClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function createS3Client(env: Env = process.env, config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3),
    maxAttempts: S3_MAX_ATTEMPTS,
    requestHandler: limits(S3_TIMEOUTS, Boolean(env.AWS_ENDPOINT_URL_S3)),
    ...config,
  });
}

export function createSecretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}

/** `GetSecretValue` through the SDK (the client is created at the first read). */
export function readSecretWithSdk(create: () => SecretsManagerClient = createSecretsClient): ReadSecret {
  let client: SecretsManagerClient | undefined;
  return async (secretArn) => {
    client ??= create();
    return (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  };
}
