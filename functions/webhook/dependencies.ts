import { loadCachedCredentials, type CredentialsSource } from '../shared/adapters/credentials.js';
import { createDocumentClient, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { DynamoRecordingRepository } from '../shared/adapters/dynamo-recordings.js';
import { integer, optional, parseBaseUrl, required } from '../shared/config.js';
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

/**
 * Builds the webhook's collaborators from the environment; called once per container. The webhook only
 * proves and records: it needs the table and the auth token, never S3 or the Vobiz API.
 */
export async function loadWebhookDependencies(
  env: Record<string, string | undefined> = process.env,
): Promise<WebhookDependencies> {
  const tableName = required(env, 'TABLE_NAME');
  const publicUrl = optional(env, 'WEBHOOK_PUBLIC_URL');
  if (publicUrl) parseBaseUrl(publicUrl, 'WEBHOOK_PUBLIC_URL');
  const nonceTtlSeconds = integer(env, 'NONCE_TTL_DAYS', 30, 1, 365) * DAY_SECONDS;
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
