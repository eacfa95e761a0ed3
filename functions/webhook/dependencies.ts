import { randomUUID } from 'node:crypto';
import { loadVobizCredentials } from '../shared/adapters/credentials.js';
import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { DynamoRecordingRepository } from '../shared/adapters/dynamo-recordings.js';
import { HttpMediaSource } from '../shared/adapters/media.js';
import { S3AudioArchive } from '../shared/adapters/s3-archive.js';
import { VobizClient } from '../shared/adapters/vobiz-client.js';
import {
  DEFAULT_MEDIA_ORIGINS,
  integer,
  loadStorageConfig,
  optional,
  parseBaseUrl,
  parseOriginPatterns,
  type VobizCredentials,
} from '../shared/config.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/retry-policy.js';
import { makeAcceptNotification } from '../shared/ingest/accept-notification.js';
import { makeArchiveRecording } from '../shared/ingest/archive-recording.js';
import { systemClock } from '../shared/ingest/ports.js';

export interface WebhookDependencies {
  credentials: VobizCredentials;
  /** `WEBHOOK_PUBLIC_URL`, when Vobiz calls a URL other than the one the function sees. */
  publicUrl: string | undefined;
  acceptNotification: ReturnType<typeof makeAcceptNotification>;
  archiveRecording: ReturnType<typeof makeArchiveRecording>;
}

const DAY_SECONDS = 86_400;

/** Builds the webhook's collaborators from the environment; called once per container. */
export async function loadWebhookDependencies(
  env: Record<string, string | undefined> = process.env,
): Promise<WebhookDependencies> {
  const storage = loadStorageConfig(env);
  const allowedOrigins = parseOriginPatterns(optional(env, 'ALLOWED_MEDIA_ORIGINS') ?? DEFAULT_MEDIA_ORIGINS);
  const baseUrl = parseBaseUrl(
    optional(env, 'VOBIZ_API_BASE_URL') ?? 'https://api.vobiz.ai',
    'VOBIZ_API_BASE_URL',
  );
  const publicUrl = optional(env, 'WEBHOOK_PUBLIC_URL');
  if (publicUrl) parseBaseUrl(publicUrl, 'WEBHOOK_PUBLIC_URL');
  const nonceTtlSeconds = integer(env, 'NONCE_TTL_DAYS', 30, 1, 365) * DAY_SECONDS;
  const maxAttempts = integer(env, 'MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, 1, 1000);
  const credentials = await loadVobizCredentials(env, createSecretsClient);

  const documents = createDocumentClient();
  const recordings = new DynamoRecordingRepository(documents, storage.tableName);
  const vobiz = new VobizClient({ baseUrl, credentials });
  return {
    credentials,
    publicUrl,
    acceptNotification: makeAcceptNotification({
      recordings,
      clock: systemClock,
      accountId: credentials.authId,
      nonceTtlSeconds,
      firstDueAfterMs: 2 * 60_000,
    }),
    archiveRecording: makeArchiveRecording({
      recordings,
      vobiz,
      media: new HttpMediaSource({
        allowedOrigins,
        auth: { apiBaseUrl: baseUrl, headers: () => vobiz.authHeaders() },
      }),
      archive: new S3AudioArchive(createS3Client(env), storage.bucketName),
      clock: systemClock,
      accountId: credentials.authId,
      retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts },
      newLeaseOwner: () => randomUUID(),
    }),
  };
}
