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
  integer,
  optional,
  parseBaseUrl,
  parseOriginPatterns,
  required,
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
  /** `MAX_ATTEMPTS`: attempts before a record is `failed` (default 30, about 24 h). */
  maxAttempts: number;
}

export interface ArchiveSettings extends VobizSettings {
  bucketName: string;
  allowedOrigins: OriginPattern[];
  /** `LEASE_SECONDS`: how long a worker's claim lasts without renewal (default 60). */
  leaseMs: number;
}

export function readVobizSettings(env: Env): VobizSettings {
  return {
    tableName: required(env, 'TABLE_NAME'),
    vobizApiBaseUrl: parseBaseUrl(
      optional(env, 'VOBIZ_API_BASE_URL') ?? 'https://api.vobiz.ai',
      'VOBIZ_API_BASE_URL',
    ),
    maxAttempts: integer(env, 'MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, 1, 1000),
  };
}

export function readArchiveSettings(env: Env): ArchiveSettings {
  return {
    ...readVobizSettings(env),
    bucketName: required(env, 'BUCKET_NAME'),
    allowedOrigins: parseOriginPatterns(optional(env, 'ALLOWED_MEDIA_ORIGINS') ?? DEFAULT_MEDIA_ORIGINS),
    leaseMs: integer(env, 'LEASE_SECONDS', 60, 10, 900) * 1000,
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
