import {
  audioObjectKey,
  contentTypeOf,
  type RecordingRecord,
  type StoredAudio,
  type VobizRecording,
} from '../domain/recording.js';
import { TransientError, VobizAuthError, RecordingNotAvailableError } from '../domain/errors.js';
import { retryDelayMs, type RetryPolicy } from '../domain/retry-policy.js';
import {
  LeaseLostError,
  type AudioArchive,
  type ClaimResult,
  type Clock,
  type MediaSource,
  type RecordingRepository,
  type VobizApi,
} from './ports.js';

export type ArchiveOutcome =
  | { outcome: 'stored'; record: RecordingRecord; alreadyStored: boolean }
  | { outcome: 'pending'; record: RecordingRecord; error: Error }
  | { outcome: 'failed'; record: RecordingRecord; error: Error }
  | { outcome: 'busy'; record?: RecordingRecord }
  | { outcome: 'missing' };

/** `completing`: every byte is sent, the lease is about to be confirmed and the upload completed. */
export type ArchiveStep = 'claimed' | 'retrieved' | 'completing' | 'uploaded';

/** A lease lasts this long unless renewed: how soon the recording of a worker that died is taken up again. */
export const DEFAULT_LEASE_MS = 60_000;

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
  /** Lease length (default 60 s); renewed while the work progresses. */
  leaseMs?: number;
  /** How often the lease is renewed (default a third of the lease). */
  renewEveryMs?: number;
  /** Test seam: called after each step, so a test can stop the use case exactly there. */
  afterStep?: (step: ArchiveStep) => void | Promise<void>;
}

/**
 * Archives one recording that has a record: takes its lease while fetching trusted metadata from Vobiz
 * (a wasted read is harmless when the lease is not ours), records the S3 key it is about to write,
 * streams the audio to S3, then writes the metadata and `stored` in one conditional write. The lease is
 * short and renewed while bytes flow, so a worker that dies mid-transfer holds a recording up for about
 * a minute, not for its whole timeout; it is confirmed (a conditional write) right before the upload is
 * completed, so an object only appears while the lease is ours: an erasure that began once it lapsed
 * cannot be followed by a late upload. Any failure leaves the record `pending` with a due time (or
 * `failed` after the last attempt), so the archive worker and the re-drive share this code.
 */
export function makeArchiveRecording(deps: ArchiveDependencies) {
  const random = deps.random ?? Math.random;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;

  return async function archiveRecording(
    recordingId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ArchiveOutcome> {
    const owner = deps.newLeaseOwner();
    const work = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, work.signal]) : work.signal;

    const retrieval = deps.vobiz.getRecording(recordingId, { signal });
    retrieval.catch(() => undefined); // observed below; a read for a lease we did not get is simply dropped
    let claim: ClaimResult;
    try {
      claim = await deps.recordings.claim({ recordingId, owner, nowMs: deps.clock.nowMs(), leaseMs });
    } catch (error) {
      work.abort(error);
      throw error;
    }
    if (claim.kind !== 'claimed') work.abort(new Error('lease not taken'));
    if (claim.kind === 'missing') return { outcome: 'missing' };
    if (claim.kind === 'stored') return { outcome: 'stored', record: claim.record, alreadyStored: true };
    if (claim.kind === 'busy') return { outcome: 'busy', record: claim.record };

    let record = claim.record;
    const lease = new LeaseKeeper(deps, recordingId, owner, leaseMs, work);
    try {
      await deps.afterStep?.('claimed');
      const metadata = await retrieval;
      lease.touch();
      const key = audioObjectKey(
        deps.accountId,
        metadata.recording_id,
        metadata.add_time_ms,
        metadata.recording_format,
      );
      record = { ...record, ...metadata, s3_upload_key: key, updated_at: iso(deps.clock.nowMs()) };
      // Before the first byte: an erasure must find this key even if the metadata never reaches the record.
      await lease.confirm({ uploadKey: key });
      await deps.afterStep?.('retrieved');
      const stored = await storeAudio(deps, metadata, key, signal, lease);
      await deps.afterStep?.('uploaded');
      await lease.stop();
      const {
        lease_owner: _owner,
        lease_until_ms: _until,
        last_error: _error,
        next_attempt_at: _next,
        s3_upload_key: _uploadKey,
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
      await lease.stop();
      // Once the lease is gone, the record belongs to whoever took it: write nothing more.
      if (thrown instanceof LeaseLostError || lease.lost instanceof LeaseLostError)
        return { outcome: 'busy' };
      const error = lease.lost ?? (thrown instanceof Error ? thrown : new Error(String(thrown)));
      return release(deps, random, record, owner, error);
    }
  };
}

/**
 * Keeps a lease alive while the work progresses: renews it every `renewEveryMs`, and aborts the work
 * when the lease is lost (someone else took it), cannot be renewed before it runs out (a renewal that
 * failed, or one still unanswered when the lease is about to end), or the transfer has made no progress
 * for a whole lease period (a stalled download must not hold the recording).
 */
class LeaseKeeper {
  lost: Error | undefined;
  private leaseUntilMs: number;
  private lastProgressMs: number;
  private bytes = 0;
  private renewal: Promise<void> | undefined;
  private readonly every: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: ArchiveDependencies,
    private readonly recordingId: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly work: AbortController,
  ) {
    const now = deps.clock.nowMs();
    this.leaseUntilMs = now + leaseMs;
    this.lastProgressMs = now;
    this.every = deps.renewEveryMs ?? Math.floor(leaseMs / 3);
    this.timer = setInterval(() => this.tick(), this.every);
    this.timer.unref();
  }

  /**
   * Renews the lease now and proves it is still ours (a conditional write), recording the upload key
   * when given; throws (and stops the work) when it is not, or when the write fails.
   */
  async confirm(extra: { uploadKey?: string } = {}): Promise<void> {
    await this.renewal?.catch(() => undefined);
    if (this.lost) throw this.lost;
    try {
      await this.renew(extra);
    } catch (error) {
      const failure =
        error instanceof LeaseLostError
          ? error
          : new TransientError(`lease could not be confirmed: ${(error as Error).message}`, { cause: error });
      this.fail(failure);
      throw failure;
    }
  }

  /** Something happened (metadata arrived, the download opened). */
  touch(): void {
    this.lastProgressMs = this.deps.clock.nowMs();
  }

  /** Bytes transferred so far; only growth counts as progress. */
  progress(bytes: number): void {
    if (bytes <= this.bytes) return;
    this.bytes = bytes;
    this.touch();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewal?.catch(() => undefined);
  }

  private tick(): void {
    if (this.lost) return;
    const now = this.deps.clock.nowMs();
    if (this.renewal) {
      // Unanswered while the lease is about to end: it may lapse, and someone else may act on the record.
      if (this.leaseUntilMs - now <= this.every)
        this.fail(new TransientError('lease renewal did not answer before the lease ran out'));
      return;
    }
    if (now - this.lastProgressMs >= this.leaseMs) {
      this.fail(
        new TransientError(`audio transfer stalled: no progress for ${+(this.leaseMs / 1000).toFixed(1)} s`),
      );
      return;
    }
    this.renew().catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.fail(error);
      // A failed renewal is tried again next tick, unless the lease would run out before that.
      else if (this.leaseUntilMs - this.deps.clock.nowMs() <= this.every)
        this.fail(
          new TransientError(`lease could not be renewed: ${(error as Error).message}`, { cause: error }),
        );
    });
  }

  /** One renewal at a time; the lease counts from when it was asked for, not from the answer. */
  private renew(extra: { uploadKey?: string } = {}): Promise<void> {
    const now = this.deps.clock.nowMs();
    const renewal = this.deps.recordings
      .renewLease({
        recordingId: this.recordingId,
        owner: this.owner,
        nowMs: now,
        leaseMs: this.leaseMs,
        ...extra,
      })
      .then(() => {
        this.leaseUntilMs = now + this.leaseMs;
      })
      .finally(() => {
        if (this.renewal === renewal) this.renewal = undefined;
      });
    this.renewal = renewal;
    return renewal;
  }

  private fail(error: Error): void {
    this.lost ??= error;
    this.work.abort(error);
  }
}

async function storeAudio(
  deps: ArchiveDependencies,
  metadata: VobizRecording,
  key: string,
  signal: AbortSignal,
  lease: LeaseKeeper,
): Promise<StoredAudio> {
  const download = await deps.media.open(metadata.recording_url, { signal });
  lease.touch();
  const contentType = contentTypeOf(metadata.recording_format);
  const object = await deps.archive.store({
    key,
    contentType,
    body: download.body,
    expectedBytes: download.contentLength,
    metadata: { 'recording-id': metadata.recording_id },
    signal,
    onProgress: (bytes) => lease.progress(bytes),
    beforeComplete: async () => {
      await deps.afterStep?.('completing');
      await lease.confirm();
    },
  });
  return {
    s3_bucket: object.bucket,
    s3_key: object.key,
    size_bytes: object.sizeBytes,
    sha256: object.sha256,
    content_type: contentType,
    archived_at: iso(deps.clock.nowMs()),
    ...(object.versionId ? { s3_version_id: object.versionId } : {}),
    s3_checksum_sha256: object.checksumSha256,
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

export type ArchiveRecording = ReturnType<typeof makeArchiveRecording>;
