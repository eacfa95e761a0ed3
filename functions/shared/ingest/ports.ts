import type { Readable } from 'node:stream';
import type { RecordingRecord, RecordingStatus, VobizRecording } from '../domain/recording.js';

/**
 * What the ingest use cases need from the outside world. The adapters under `adapters/` implement
 * these; nothing here knows about DynamoDB, S3 or HTTP.
 */

export type ClaimResult =
  | { kind: 'claimed'; record: RecordingRecord }
  | { kind: 'stored'; record: RecordingRecord }
  | { kind: 'busy'; record: RecordingRecord }
  | { kind: 'missing' };

export interface ConsumedNonce {
  value: string;
  expiresAtSec: number;
}

/**
 * What recording a notification produced:
 * - `recorded`: a new `pending` record (its insert is what starts the archive worker);
 * - `known`: the record existed (a duplicate callback, or a retry of the same delivery when every
 *   nonce was already consumed for this very recording); nothing about the record changed;
 * - `replayed`: a nonce was already consumed for a *different* recording (a captured signature).
 */
export type AcceptResult =
  | { kind: 'recorded'; status: 'pending' }
  | { kind: 'known'; status: RecordingStatus; retry: boolean }
  | { kind: 'replayed' };

/** A worker's claim on a recording: who, from when, for how long. */
export interface LeaseRequest {
  recordingId: string;
  owner: string;
  nowMs: number;
  leaseMs: number;
  /** With a renewal: the S3 key the upload is about to write (recorded before its first byte). */
  uploadKey?: string;
}

/** Persistence of recording records; every write is conditional so concurrent workers cannot collide. */
export interface RecordingRepository {
  /**
   * Records a notification: creates the record if it does not exist (never overwrites one) and consumes
   * the nonces, each remembered with the recording it was consumed for.
   */
  accept(input: { record: RecordingRecord; nonces: readonly ConsumedNonce[] }): Promise<AcceptResult>;
  /**
   * Takes the exclusive lease on a pending (or failed) record whose lease is free or expired; the record
   * becomes due again when the lease runs out, so a worker that dies leaves nothing stuck.
   */
  claim(input: LeaseRequest): Promise<ClaimResult>;
  /**
   * Extends `owner`'s lease (and the due time with it), and records the upload key when given; throws
   * LeaseLostError if the lease is not `owner`'s (any more).
   */
  renewLease(input: LeaseRequest): Promise<void>;
  /** Replaces the record while `owner` still holds the lease; throws LeaseLostError otherwise. */
  replaceLeased(record: RecordingRecord, owner: string): Promise<void>;
  get(recordingId: string): Promise<RecordingRecord | undefined>;
}

export class LeaseLostError extends Error {
  constructor(recordingId: string) {
    super(`lease on ${recordingId} was taken over by another worker`);
    this.name = 'LeaseLostError';
  }
}

/** Vobiz's Retrieve Recording: the only source of trusted metadata and of the audio URL. */
export interface VobizApi {
  getRecording(recordingId: string, options?: { signal?: AbortSignal }): Promise<VobizRecording>;
}

export interface MediaDownload {
  /** The audio bytes, already decoded if the server applied a Content-Encoding anyway. */
  body: Readable;
  /**
   * From `Content-Length`; undefined when the server streams without one, or when it applied a
   * Content-Encoding (the header then counts the compressed bytes, not the ones in `body`).
   */
  contentLength: number | undefined;
  contentType: string | undefined;
}

/** Opens the audio at a URL taken from the Retrieve Recording response (never from a callback). */
export interface MediaSource {
  open(url: string, options?: { signal?: AbortSignal }): Promise<MediaDownload>;
}

export interface StoreAudioInput {
  key: string;
  contentType: string;
  body: Readable;
  /** When known (Content-Length), a different byte count fails the upload before it completes. */
  expectedBytes: number | undefined;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called as bytes pass, with the running total: what the lease renewal watches. */
  onProgress?: (bytes: number) => void;
  /**
   * Called right before the request that makes the object exist (CompleteMultipartUpload, or the one
   * PutObject of a small file); if it rejects, that request is never sent and the upload is abandoned.
   */
  beforeComplete?: () => Promise<void>;
}

export interface StoredObject {
  bucket: string;
  key: string;
  sizeBytes: number;
  /** Hex SHA-256 of the whole file, computed while streaming. */
  sha256: string;
  /** The version S3 created (undefined only if the bucket is not versioned). */
  versionId: string | undefined;
  /** What S3 keeps as `x-amz-checksum-sha256` for this object (see StoredAudio.s3_checksum_sha256). */
  checksumSha256: string;
}

/** Durable audio storage; a failed or aborted store leaves no object behind. */
export interface AudioArchive {
  store(input: StoreAudioInput): Promise<StoredObject>;
}

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
