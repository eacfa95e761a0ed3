import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { loadVobizCredentials } from '../shared/adapters/credentials.js';
import { DynamoRecordingRepository } from '../shared/adapters/dynamo-recordings.js';
import { DynamoRecoveryRepository } from '../shared/adapters/dynamo-recovery.js';
import { HttpMediaSource } from '../shared/adapters/media.js';
import { S3AudioArchive } from '../shared/adapters/s3-archive.js';
import { VobizClient, type VobizClientOptions } from '../shared/adapters/vobiz-client.js';
import {
  DEFAULT_MEDIA_ORIGINS,
  integer,
  optional,
  parseBaseUrl,
  parseOriginPatterns,
  required,
  type OriginPattern,
  type VobizCredentials,
} from '../shared/config.js';
import { DEFAULT_RETRY_POLICY } from '../shared/domain/retry-policy.js';
import { makeAcceptNotification } from '../shared/ingest/accept-notification.js';
import { makeArchiveRecording, type ArchiveDependencies } from '../shared/ingest/archive-recording.js';
import { systemClock, type Clock } from '../shared/ingest/ports.js';
import { makeBackfillSweep } from '../shared/recovery/backfill-sweep.js';
import { makeRedrive } from '../shared/recovery/redrive.js';

/** Recordings archived at the same time by one run: bounded memory (~3 × 8 MiB each) and Vobiz load. */
export const REDRIVE_CONCURRENCY = 4;

export interface RecoverySettings {
  tableName: string;
  vobizApiBaseUrl: string;
  /** `MAX_ATTEMPTS`: attempts before a record is `failed` (default 30, about 24 h). */
  maxAttempts: number;
}

export interface RedriveSettings extends RecoverySettings {
  bucketName: string;
  allowedOrigins: OriginPattern[];
  /** `BACKFILL_LOOKBACK_MINUTES`: how far back each scheduled sweep lists Vobiz's recordings; 0 disables the sweep. */
  backfillLookbackMinutes: number;
  /**
   * `BACKFILL_MIN_AGE_MINUTES`: the sweep ignores recordings younger than this (default 10), so it does
   * not race a callback that is simply still on its way (Vobiz may retry callbacks for a while).
   */
  backfillMinAgeMinutes: number;
  /** `REDRIVE_BATCH_SIZE`: due records taken per run. */
  batchSize: number;
}

/** What the backfill command needs: the table and Vobiz (no bucket: it only enqueues). */
export function readRecoverySettings(env: Record<string, string | undefined>): RecoverySettings {
  return {
    tableName: required(env, 'TABLE_NAME'),
    vobizApiBaseUrl: parseBaseUrl(
      optional(env, 'VOBIZ_API_BASE_URL') ?? 'https://api.vobiz.ai',
      'VOBIZ_API_BASE_URL',
    ),
    maxAttempts: integer(env, 'MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, 1, 1000),
  };
}

export function readRedriveSettings(env: Record<string, string | undefined>): RedriveSettings {
  return {
    ...readRecoverySettings(env),
    bucketName: required(env, 'BUCKET_NAME'),
    allowedOrigins: parseOriginPatterns(optional(env, 'ALLOWED_MEDIA_ORIGINS') ?? DEFAULT_MEDIA_ORIGINS),
    backfillLookbackMinutes: integer(env, 'BACKFILL_LOOKBACK_MINUTES', 120, 0, 7 * 24 * 60),
    backfillMinAgeMinutes: integer(env, 'BACKFILL_MIN_AGE_MINUTES', 10, 0, 24 * 60),
    batchSize: integer(env, 'REDRIVE_BATCH_SIZE', 50, 1, 500),
  };
}

/** The clients and seams the collaborators are built from; tests pass emulator clients and a fake clock. */
export interface RecoveryClients {
  documents: DynamoDBDocumentClient;
  clock: Clock;
  vobiz?: Partial<VobizClientOptions>;
}

export interface RedriveClients extends RecoveryClients {
  s3: S3Client;
  newLeaseOwner?: () => string;
  random?: () => number;
  afterStep?: ArchiveDependencies['afterStep'];
}

export function buildBackfillSweep(
  settings: RecoverySettings,
  credentials: VobizCredentials,
  clients: RecoveryClients,
) {
  const vobiz = new VobizClient({ baseUrl: settings.vobizApiBaseUrl, credentials, ...clients.vobiz });
  const acceptNotification = makeAcceptNotification({
    recordings: new DynamoRecordingRepository(clients.documents, settings.tableName),
    clock: clients.clock,
    accountId: credentials.authId,
    nonceTtlSeconds: 0, // no nonces: a backfilled recording was listed by the Vobiz API, not called back
    firstDueAfterMs: 0,
  });
  return makeBackfillSweep({
    vobiz,
    known: new DynamoRecoveryRepository(clients.documents, settings.tableName),
    enqueue: (recordingId) => acceptNotification(recordingId, []),
    clock: clients.clock,
  });
}

export interface RedriveDependencies {
  settings: RedriveSettings;
  redrive: ReturnType<typeof makeRedrive>;
  sweep: ReturnType<typeof makeBackfillSweep>;
  clock: Clock;
}

export function buildRedriveDependencies(
  settings: RedriveSettings,
  credentials: VobizCredentials,
  clients: RedriveClients,
): RedriveDependencies {
  const recordings = new DynamoRecordingRepository(clients.documents, settings.tableName);
  const vobiz = new VobizClient({ baseUrl: settings.vobizApiBaseUrl, credentials, ...clients.vobiz });
  const archiveRecording = makeArchiveRecording({
    recordings,
    vobiz,
    media: new HttpMediaSource({
      allowedOrigins: settings.allowedOrigins,
      auth: { apiBaseUrl: settings.vobizApiBaseUrl, headers: () => vobiz.authHeaders() },
    }),
    archive: new S3AudioArchive(clients.s3, settings.bucketName),
    clock: clients.clock,
    accountId: credentials.authId,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts: settings.maxAttempts },
    newLeaseOwner: clients.newLeaseOwner ?? (() => randomUUID()),
    random: clients.random,
    afterStep: clients.afterStep,
  });
  return {
    settings,
    clock: clients.clock,
    redrive: makeRedrive({
      due: new DynamoRecoveryRepository(clients.documents, settings.tableName),
      archiveRecording,
      clock: clients.clock,
      batchSize: settings.batchSize,
      concurrency: REDRIVE_CONCURRENCY,
    }),
    sweep: buildBackfillSweep(settings, credentials, clients),
  };
}

/** Builds the re-drive's collaborators from the environment; called once per container. */
export async function loadRedriveDependencies(
  env: Record<string, string | undefined> = process.env,
): Promise<RedriveDependencies> {
  const settings = readRedriveSettings(env);
  const credentials = await loadVobizCredentials(env, createSecretsClient);
  return buildRedriveDependencies(settings, credentials, {
    documents: createDocumentClient(),
    s3: createS3Client(env),
    clock: systemClock,
  });
}
