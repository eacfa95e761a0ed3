import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { IntegrityError, TransientError } from '../domain/errors.js';
import type { AudioArchive, StoreAudioInput, StoredObject } from '../ingest/ports.js';

/** Counts and hashes bytes as they pass; fails at the end if the count differs from the expected one. */
export class DigestingStream extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(
    private readonly expectedBytes: number | undefined,
    private readonly onProgress?: (bytes: number) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.onProgress?.(this.bytes);
    if (this.expectedBytes !== undefined && this.bytes > this.expectedBytes) {
      callback(new IntegrityError(`audio is longer than its Content-Length (${this.expectedBytes} bytes)`));
      return;
    }
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    if (this.expectedBytes !== undefined && this.bytes !== this.expectedBytes) {
      callback(new IntegrityError(`audio download truncated: ${this.bytes} of ${this.expectedBytes} bytes`));
      return;
    }
    callback();
  }
}

/** 6 MiB parts, two in flight: bounded memory (~3 parts) whatever the recording's size. */
export const PART_SIZE = 6 * 1024 * 1024;
export const QUEUE_SIZE = 2;

/**
 * Streams audio into S3 with a multipart upload. Nothing is buffered whole; if the source fails or is
 * short, the multipart upload is aborted and no object appears.
 *
 * Every part (or the single PutObject of a small file) carries its SHA-256 as an S3 additional checksum,
 * computed here from the exact bytes sent: S3 refuses a part whose bytes differ, and keeps the object's
 * checksum (`base64(sha256(part digests))-N` for N parts, the file's SHA-256 for one) with the version.
 * The lifecycle later compares what S3 reports for that version with what we computed here before it
 * deletes anything at Vobiz.
 *
 * `store()` settles only once every S3 request it started has settled, so a caller that releases its
 * lease afterwards cannot be overtaken by a late part or Complete. On abort (the caller's signal) or
 * failure it stops reading, cancels the parts in flight, lets a CompleteMultipartUpload or PutObject
 * already sent run to its answer, and awaits the AbortMultipartUpload (should that fail too, the
 * bucket's lifecycle rule removes the parts). If such a late request did create the object, `store()`
 * still rejects when it was aborted: the object is whole but unrecorded, and the next attempt
 * overwrites the same key.
 *
 * `beforeComplete` runs right before the request that makes the object exist (the Complete, or the one
 * PutObject): the caller proves there that it may still write (its lease); if not, that request is
 * never sent and the upload is aborted.
 */
export class S3AudioArchive implements AudioArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async store(input: StoreAudioInput): Promise<StoredObject> {
    const digest = new DigestingStream(input.expectedBytes, input.onProgress);
    const requests = new RequestTracker(this.s3, input.beforeComplete);
    const stop = (reason: unknown) => {
      requests.stop(reason);
      input.body.destroy();
      digest.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    };
    input.body.once('error', (error) => digest.destroy(error));
    digest.once('error', (error) => requests.stop(error));
    requests.stopped.addEventListener('abort', () => stop(requests.stopped.reason), { once: true });
    input.body.pipe(digest);
    const onAbort = () =>
      requests.stop(new UploadAbortedError('audio upload aborted', { cause: input.signal?.reason }));
    if (input.signal?.aborted) onAbort();
    else input.signal?.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: requests.client,
      params: {
        Bucket: this.bucket,
        Key: input.key,
        Body: digest,
        ContentType: input.contentType,
        Metadata: input.metadata,
        ChecksumAlgorithm: 'SHA256',
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    let failure: unknown;
    let versionId: string | undefined;
    try {
      // Never upload.abort(): lib-storage's done() would reject at once, with requests still in flight.
      versionId = (await upload.done()).VersionId;
    } catch (error) {
      failure = error;
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
      await requests.settled();
    }
    // The first cause wins over the errors it provoked (a cancelled part, a refused Complete).
    const cause: unknown = requests.stopped.aborted ? requests.stopped.reason : failure;
    if (cause !== undefined) {
      input.body.destroy();
      digest.destroy();
      throw describeFailure(cause, {
        aborted: input.signal?.aborted === true,
        completed: failure === undefined,
      });
    }
    const sha256 = digest.hash.digest();
    const checksumSha256 = requests.checksums.objectChecksum();
    // One part: S3's checksum is the file's own SHA-256, which must be what the stream hashed.
    if (!checksumSha256.includes('-') && checksumSha256 !== sha256.toString('base64')) {
      throw new IntegrityError('the SHA-256 sent to S3 differs from the SHA-256 of the stream');
    }
    return {
      bucket: this.bucket,
      key: input.key,
      sizeBytes: digest.bytes,
      sha256: sha256.toString('hex'),
      versionId,
      checksumSha256,
    };
  }
}

/**
 * The SHA-256 of every part sent (or of the one PutObject), set on the request as its
 * `x-amz-checksum-sha256`, and the object checksum S3 derives from them.
 */
export class PartChecksums {
  private readonly parts = new Map<number, Buffer>();
  private single: Buffer | undefined;

  /** Adds the checksum to an UploadPart or PutObject about to be sent. */
  sign(command: unknown): void {
    const part = command instanceof UploadPartCommand;
    if (!part && !(command instanceof PutObjectCommand)) return;
    const input = command.input as { Body?: unknown; PartNumber?: number; ChecksumSHA256?: string };
    if (!(input.Body instanceof Uint8Array)) throw new Error('lib-storage sent a part that is not a buffer');
    const digest = createHash('sha256').update(input.Body).digest();
    input.ChecksumSHA256 = digest.toString('base64');
    if (part) this.parts.set(input.PartNumber ?? 0, digest);
    else this.single = digest;
  }

  /** `base64(sha256)` for a single PutObject; `base64(sha256(digest1 ‖ … ‖ digestN))-N` for N parts. */
  objectChecksum(): string {
    if (this.single) return this.single.toString('base64');
    const ordered = [...this.parts.entries()].sort(([a], [b]) => a - b).map(([, digest]) => digest);
    return `${createHash('sha256').update(Buffer.concat(ordered)).digest('base64')}-${ordered.length}`;
  }
}

class UploadAbortedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

function describeFailure(cause: unknown, outcome: { aborted: boolean; completed: boolean }): Error {
  if (cause instanceof IntegrityError) return cause;
  const nested = cause instanceof Error ? cause.cause : undefined;
  if (nested instanceof IntegrityError) return nested;
  if (outcome.aborted) {
    return new TransientError(
      outcome.completed
        ? 'audio upload aborted after S3 completed it; the object is not recorded and will be overwritten'
        : 'audio upload aborted',
      { cause },
    );
  }
  return new TransientError(`audio upload to S3 failed: ${(cause as Error).message}`, { cause });
}

/**
 * The client lib-storage sees: the real one, except that `send` is tracked so `store()` can wait for
 * every request, UploadParts get an abort signal, and once stopped nothing new is sent but the
 * AbortMultipartUpload (a Complete refused here makes lib-storage abort the upload itself).
 */
class RequestTracker {
  readonly client: S3Client;
  readonly checksums = new PartChecksums();
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    s3: S3Client,
    private readonly beforeComplete?: () => Promise<void>,
  ) {
    // Everything but `send` (config, middleware) is read through to the shared client.
    this.client = Object.create(s3) as S3Client;
    Object.defineProperty(this.client, 'send', {
      value: (command: Parameters<S3Client['send']>[0]) => this.send(s3, command),
    });
  }

  get stopped(): AbortSignal {
    return this.controller.signal;
  }

  stop(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private send(s3: S3Client, command: Parameters<S3Client['send']>[0]): Promise<unknown> {
    const isAbort = command instanceof AbortMultipartUploadCommand;
    if (this.stopped.aborted && !isAbort) {
      return Promise.reject(new UploadAbortedError('upload stopped before this request was sent'));
    }
    this.checksums.sign(command);
    // Only parts are cancelled mid-flight: a Complete or PutObject cut short might still land, so
    // those run to their answer and the outcome is known.
    const options = command instanceof UploadPartCommand ? { abortSignal: this.stopped } : undefined;
    const completes =
      command instanceof CompleteMultipartUploadCommand || command instanceof PutObjectCommand;
    const request =
      completes && this.beforeComplete
        ? this.beforeComplete().then(() => {
            // Stopped while the caller checked: the object must not appear.
            if (this.stopped.aborted) throw new UploadAbortedError('upload stopped before it was completed');
            return s3.send(command as Parameters<S3Client['send']>[0]);
          })
        : s3.send(command, options);
    this.inFlight.add(request);
    request.then(
      () => this.inFlight.delete(request),
      (error: unknown) => {
        this.inFlight.delete(request);
        if (!isAbort) this.stop(error);
      },
    );
    return request;
  }
}
