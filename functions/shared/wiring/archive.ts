import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CredentialsSource } from '../adapters/credentials.js';
import { DynamoRecordingRepository } from '../adapters/dynamo-recordings.js';
import { HttpMediaSource } from '../adapters/media.js';
import { S3AudioArchive } from '../adapters/s3-archive.js';
import { VobizClient, type VobizClientOptions } from '../adapters/vobiz-client.js';
import {
  DEFAULT_MEDIA_ORIGINS,
  envVars,
  integerVar,
  optional,
  parseBaseUrl,
  parseOriginPatterns,
  STORAGE_ENV,
  variablesOf,
  type OriginPattern,
  type VobizCredentials,
} from '../config.js';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.js';
import { makeArchiveRecording, type ArchiveDependencies } from '../ingest/archive-recording.js';
import type { Clock } from '../ingest/ports.js';

type Env = Record<string, string | undefined>;

/**
 * The composition of the archive use case (claim → Retrieve → audio → stored) from its adapters,
 * shared by the two functions that run it: the archive worker (stream-triggered) and the re-drive.
 */
export interface VobizSettings {
  tableName: string;
  vobizApiBaseUrl: string;
}

export interface ArchiveSettings extends VobizSettings {
  bucketName: string;
  /** `MAX_ATTEMPTS`: attempts before a record is `failed` (default 30, about 24 h). */
  maxAttempts: number;
  allowedOrigins: OriginPattern[];
  /** `LEASE_SECONDS`: how long a worker's claim lasts without renewal (default 60). */
  leaseMs: number;
}

export const DEFAULT_VOBIZ_API_BASE_URL = 'https://api.vobiz.ai';

export const VOBIZ_ENV = envVars({
  VOBIZ_API_BASE_URL: {
    description: 'the Vobiz API (the simulator in `npm start`)',
    default: `\`${DEFAULT_VOBIZ_API_BASE_URL}\``,
    accepted: 'an http(s) URL',
    read: (env, name) => parseBaseUrl(optional(env, name) ?? DEFAULT_VOBIZ_API_BASE_URL, name),
  },
});

export const ARCHIVE_ENV = envVars({
  MAX_ATTEMPTS: integerVar({
    description: 'attempts before a record is `failed`',
    fallback: DEFAULT_RETRY_POLICY.maxAttempts,
    default: `${DEFAULT_RETRY_POLICY.maxAttempts} (about 24 h)`,
    min: 1,
    max: 1000,
  }),
  ALLOWED_MEDIA_ORIGINS: {
    description: 'where audio may be downloaded from',
    default: `\`${DEFAULT_MEDIA_ORIGINS}\``,
    accepted:
      'comma list of origins: `https://*.vobiz.ai` (any depth of subdomain, not the bare domain) or exact ones like `http://127.0.0.1:4010`',
    read: (env, name) => parseOriginPatterns(optional(env, name) ?? DEFAULT_MEDIA_ORIGINS),
  },
  LEASE_SECONDS: integerVar({
    description:
      "how long a claim on a recording lasts without renewal: how soon a dead worker's recording is taken up again",
    fallback: 60,
    min: 10,
    max: 900,
  }),
});

/** What `readVobizSettings` reads (the backfill command, and the lifecycle through it). */
export const VOBIZ_SETTINGS_VARIABLES = variablesOf(STORAGE_ENV.TABLE_NAME, VOBIZ_ENV);
/** What `readArchiveSettings` reads. */
export const ARCHIVE_SETTINGS_VARIABLES = variablesOf(
  VOBIZ_SETTINGS_VARIABLES,
  STORAGE_ENV.BUCKET_NAME,
  ARCHIVE_ENV,
);

export function readVobizSettings(env: Env): VobizSettings {
  return {
    tableName: STORAGE_ENV.TABLE_NAME.read(env),
    vobizApiBaseUrl: VOBIZ_ENV.VOBIZ_API_BASE_URL.read(env),
  };
}

export function readArchiveSettings(env: Env): ArchiveSettings {
  return {
    ...readVobizSettings(env),
    bucketName: STORAGE_ENV.BUCKET_NAME.read(env),
    maxAttempts: ARCHIVE_ENV.MAX_ATTEMPTS.read(env),
    allowedOrigins: ARCHIVE_ENV.ALLOWED_MEDIA_ORIGINS.read(env),
    leaseMs: ARCHIVE_ENV.LEASE_SECONDS.read(env) * 1000,
  };
}

/** The clients and seams the collaborators are built from; tests pass emulator clients and a fake clock. */
export interface VobizClients {
  documents: DynamoDBDocumentClient;
  clock: Clock;
  vobiz?: Partial<VobizClientOptions>;
  /** Every failed call to Vobiz, by status (see VobizClientOptions.onFailure). */
  onVobizFailure?: (status: number | 'network') => void;
}

export interface ArchiveClients extends VobizClients {
  s3: S3Client;
  newLeaseOwner?: () => string;
  random?: () => number;
  renewEveryMs?: number;
  afterStep?: ArchiveDependencies['afterStep'];
}

export function buildVobizClient(
  settings: VobizSettings,
  credentials: VobizCredentials | CredentialsSource,
  clients: VobizClients,
): VobizClient {
  return new VobizClient({
    baseUrl: settings.vobizApiBaseUrl,
    credentials,
    onFailure: clients.onVobizFailure,
    ...clients.vobiz,
  });
}

export function buildArchiveRecording(
  settings: ArchiveSettings,
  credentials: VobizCredentials | CredentialsSource,
  accountId: string,
  clients: ArchiveClients,
) {
  const vobiz = buildVobizClient(settings, credentials, clients);
  return makeArchiveRecording({
    recordings: new DynamoRecordingRepository(clients.documents, settings.tableName),
    vobiz,
    media: new HttpMediaSource({
      allowedOrigins: settings.allowedOrigins,
      auth: { apiBaseUrl: settings.vobizApiBaseUrl, headers: () => vobiz.authHeaders() },
    }),
    archive: new S3AudioArchive(clients.s3, settings.bucketName),
    clock: clients.clock,
    accountId,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts: settings.maxAttempts },
    newLeaseOwner: clients.newLeaseOwner ?? (() => randomUUID()),
    random: clients.random,
    leaseMs: settings.leaseMs,
    renewEveryMs: clients.renewEveryMs,
    afterStep: clients.afterStep,
  });
}
