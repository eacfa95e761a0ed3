import {
  audioObjectKey,
  contentTypeOf,
  type RecordingRecord,
  type VobizRecording,
} from '../domain/recording.js';
import { TransientError, VobizAuthError, RecordingNotAvailableError } from '../domain/errors.js';
import { retryDelayMs, type RetryPolicy } from '../domain/retry-policy.js';
import type { VobizApi } from '../adapters/vobiz-client.js';
import type { MediaSource } from '../adapters/media.js';
import type { AudioArchive } from '../adapters/s3-archive.js';
import { LeaseLostError, type Clock, type RecordingRepository } from './ports.js';

export type ArchiveOutcome =
  | { outcome: 'stored'; record: RecordingRecord; alreadyStored: boolean }
  | { outcome: 'pending'; record: RecordingRecord; error: Error }
  | { outcome: 'failed'; record: RecordingRecord; error: Error }
  | { outcome: 'busy'; record?: RecordingRecord }
  | { outcome: 'missing' };

export interface ArchiveDependencies {
  recordings: RecordingRepository;
  vobiz: VobizApi;
  media: MediaSource;
  archive: AudioArchive;
  clock: Clock;
  accountId: string;
  retryPolicy: RetryPolicy;
  newLeaseOwner: () => string;
  random?: () => number;
  /** Test seam: called after each step, so a test can stop the use case exactly there. */
  afterStep?: (step: 'claimed' | 'metadata' | 'uploaded') => void | Promise<void>;
}

/**
 * Archives one recording that has a record: claims it, fetches trusted metadata from Vobiz, stores the
 * metadata, streams the audio to S3 and marks it stored. Any failure leaves the record `pending` with a
 * due time (or `failed` after the last attempt), so the webhook and the re-drive can share this code.
 */
export function makeArchiveRecording(deps: ArchiveDependencies) {
  const random = deps.random ?? Math.random;

  return async function archiveRecording(
    recordingId: string,
    options: { leaseMs: number; signal?: AbortSignal },
  ): Promise<ArchiveOutcome> {
    const owner = deps.newLeaseOwner();
    const claim = await deps.recordings.claim({
      recordingId,
      owner,
      nowMs: deps.clock.nowMs(),
      leaseMs: options.leaseMs,
    });
    if (claim.kind === 'missing') return { outcome: 'missing' };
    if (claim.kind === 'stored') return { outcome: 'stored', record: claim.record, alreadyStored: true };
    if (claim.kind === 'busy') return { outcome: 'busy', record: claim.record };

    let record = claim.record;
    try {
      await deps.afterStep?.('claimed');
      const metadata = await deps.vobiz.getRecording(recordingId, { signal: options.signal });
      record = { ...record, ...metadata, updated_at: iso(deps.clock.nowMs()) };

      // The metadata write and the transfer overlap (one round trip less per recording). If the write
      // fails, a transfer still running is aborted; one that already finished left an object under the
      // recording's fixed key, which the next attempt overwrites. The record says `stored` only below.
      const transfer = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, transfer.signal]) : transfer.signal;
      const upload = storeAudio(deps, metadata, signal);
      upload.catch(() => undefined); // observed below; this only keeps an early rejection from being "unhandled"
      try {
        await deps.recordings.replaceLeased(record, owner);
        await deps.afterStep?.('metadata');
      } catch (error) {
        transfer.abort(error);
        await upload.catch(() => undefined);
        throw error;
      }
      const stored = await upload;
      await deps.afterStep?.('uploaded');
      const {
        lease_owner: _owner,
        lease_until_ms: _until,
        last_error: _error,
        next_attempt_at: _next,
        ...rest
      } = record;
      const final: RecordingRecord = {
        ...rest,
        ...stored,
        status: 'stored',
        updated_at: iso(deps.clock.nowMs()),
      };
      await deps.recordings.replaceLeased(final, owner);
      return { outcome: 'stored', record: final, alreadyStored: false };
    } catch (thrown) {
      if (thrown instanceof LeaseLostError) return { outcome: 'busy' };
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      return release(deps, random, record, owner, error);
    }
  };
}

async function storeAudio(
  deps: ArchiveDependencies,
  metadata: VobizRecording,
  signal: AbortSignal | undefined,
) {
  const download = await deps.media.open(metadata.recording_url, { signal });
  const key = audioObjectKey(
    deps.accountId,
    metadata.recording_id,
    metadata.add_time_ms,
    metadata.recording_format,
  );
  const contentType = contentTypeOf(metadata.recording_format);
  const object = await deps.archive.store({
    key,
    contentType,
    body: download.body,
    expectedBytes: download.contentLength,
    metadata: { 'recording-id': metadata.recording_id },
    signal,
  });
  return {
    s3_bucket: object.bucket,
    s3_key: object.key,
    size_bytes: object.sizeBytes,
    sha256: object.sha256,
    content_type: contentType,
    archived_at: iso(deps.clock.nowMs()),
  };
}

async function release(
  deps: ArchiveDependencies,
  random: () => number,
  record: RecordingRecord,
  owner: string,
  error: Error,
): Promise<ArchiveOutcome> {
  const nowMs = deps.clock.nowMs();
  const exhausted = record.attempts >= deps.retryPolicy.maxAttempts;
  const hint = error instanceof TransientError ? error.retryAfterMs : undefined;
  const { lease_owner: _owner, lease_until_ms: _until, next_attempt_at: _next, ...rest } = record;
  const released: RecordingRecord = {
    ...rest,
    status: exhausted ? 'failed' : 'pending',
    last_error: describe(error),
    updated_at: iso(nowMs),
    ...(exhausted
      ? {}
      : { next_attempt_at: iso(nowMs + retryDelayMs(record.attempts, deps.retryPolicy, random, hint)) }),
  };
  try {
    await deps.recordings.replaceLeased(released, owner);
  } catch (releaseError) {
    if (releaseError instanceof LeaseLostError) return { outcome: 'busy' };
    // The lease simply runs out and the record becomes due again: nothing is lost.
    throw releaseError;
  }
  return { outcome: exhausted ? 'failed' : 'pending', record: released, error };
}

/** A short, secret-free description for `last_error` (messages here never contain tokens or numbers). */
function describe(error: Error): string {
  const kind =
    error instanceof VobizAuthError
      ? 'vobiz_auth'
      : error instanceof RecordingNotAvailableError
        ? 'not_available'
        : error.name;
  return `${kind}: ${error.message}`.slice(0, 500);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
