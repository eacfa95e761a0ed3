import {
  CREDENTIALS_ENV,
  loadCachedCredentials,
  type CredentialsSource,
} from '../shared/adapters/credentials.js';
import { createDocumentClient, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { DynamoRecordingRepository } from '../shared/adapters/dynamo-recordings.js';
import {
  AWS_ENV,
  RUNTIME_ENV,
  envVars,
  integerVar,
  optional,
  parseBaseUrl,
  STORAGE_ENV,
  variablesOf,
} from '../shared/config.js';
import { makeAcceptNotification, SAFETY_NET_DELAY_MS } from '../shared/ingest/accept-notification.js';
import { systemClock } from '../shared/ingest/ports.js';

export interface WebhookDependencies {
  /** The auth token the signatures are keyed with (re-read when a signature does not verify). */
  credentials: CredentialsSource;
  /** `WEBHOOK_PUBLIC_URL`, when Vobiz calls a URL other than the one the function sees. */
  publicUrl: string | undefined;
  acceptNotification: ReturnType<typeof makeAcceptNotification>;
}

const DAY_SECONDS = 86_400;

export const WEBHOOK_ENV = envVars({
  WEBHOOK_PUBLIC_URL: {
    description:
      'the URL Vobiz calls, when it differs from what API Gateway sees (custom domain, tunnel): signatures are computed over it',
    default: 'the URL API Gateway saw',
    accepted: 'an http(s) URL',
    read: (env, name) => {
      const url = optional(env, name);
      if (url) parseBaseUrl(url, name);
      return url;
    },
  },
  NONCE_TTL_DAYS: integerVar({
    description: 'how long used signature nonces are remembered',
    fallback: 30,
    min: 1,
    max: 365,
  }),
});

/** Everything the webhook function reads: the table and the auth token, never S3 or the Vobiz API. */
export const WEBHOOK_VARIABLES = variablesOf(
  STORAGE_ENV.TABLE_NAME,
  WEBHOOK_ENV,
  CREDENTIALS_ENV,
  AWS_ENV.AWS_ENDPOINT_URL_DYNAMODB,
  RUNTIME_ENV,
);

/**
 * Builds the webhook's collaborators from the environment; called once per container. The webhook only
 * proves and records: it needs the table and the auth token, never S3 or the Vobiz API.
 */
export async function loadWebhookDependencies(
  env: Record<string, string | undefined> = process.env,
): Promise<WebhookDependencies> {
  const tableName = STORAGE_ENV.TABLE_NAME.read(env);
  const publicUrl = WEBHOOK_ENV.WEBHOOK_PUBLIC_URL.read(env);
  const nonceTtlSeconds = WEBHOOK_ENV.NONCE_TTL_DAYS.read(env) * DAY_SECONDS;
  const { source, credentials } = await loadCachedCredentials(env, createSecretsClient);
  return {
    credentials: source,
    publicUrl,
    acceptNotification: makeAcceptNotification({
      recordings: new DynamoRecordingRepository(createDocumentClient(), tableName),
      clock: systemClock,
      accountId: credentials.authId,
      nonceTtlSeconds,
      firstDueAfterMs: SAFETY_NET_DELAY_MS,
    }),
  };
}
