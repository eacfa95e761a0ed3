import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AbortMultipartUploadCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
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
 * `store()` settles only once every S3 request it started has settled, so a caller that releases its
 * lease afterwards cannot be overtaken by a late part or Complete. On abort (the caller's signal) or
 * failure it stops reading, cancels the parts in flight, lets a CompleteMultipartUpload or PutObject
 * already sent run to its answer, and awaits the AbortMultipartUpload (should that fail too, the
 * bucket's lifecycle rule removes the parts). If such a late request did create the object, `store()`
 * still rejects when it was aborted: the object is whole but unrecorded, and the next attempt
 * overwrites the same key.
 */
export class S3AudioArchive implements AudioArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async store(input: StoreAudioInput): Promise<StoredObject> {
    const digest = new DigestingStream(input.expectedBytes, input.onProgress);
    const requests = new RequestTracker(this.s3);
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
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    let failure: unknown;
    try {
      // Never upload.abort(): lib-storage's done() would reject at once, with requests still in flight.
      await upload.done();
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
    return {
      bucket: this.bucket,
      key: input.key,
      sizeBytes: digest.bytes,
      sha256: digest.hash.digest('hex'),
    };
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
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(s3: S3Client) {
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
    // Only parts are cancelled mid-flight: a Complete or PutObject cut short might still land, so
    // those run to their answer and the outcome is known.
    const options = command instanceof UploadPartCommand ? { abortSignal: this.stopped } : undefined;
    const request = s3.send(command, options);
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
