import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
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

/** 8 MiB parts, two in flight: bounded memory (~3 parts) whatever the recording's size. */
export const PART_SIZE = 6 * 1024 * 1024;
export const QUEUE_SIZE = 2;

/**
 * Streams audio into S3 with a multipart upload. Nothing is buffered whole; if the source fails or is
 * short, the multipart upload is aborted and no object appears.
 */
export class S3AudioArchive implements AudioArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async store(input: StoreAudioInput): Promise<StoredObject> {
    const digest = new DigestingStream(input.expectedBytes, input.onProgress);
    input.body.once('error', (error) => digest.destroy(error));
    input.body.pipe(digest);
    const upload = new Upload({
      client: this.s3,
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
    const onAbort = () => void upload.abort().catch(() => undefined);
    input.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      input.body.destroy();
      digest.destroy();
      if (error instanceof IntegrityError) throw error;
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof IntegrityError) throw cause;
      throw new TransientError(`audio upload to S3 failed: ${(error as Error).message}`, { cause: error });
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
    }
    return {
      bucket: this.bucket,
      key: input.key,
      sizeBytes: digest.bytes,
      sha256: digest.hash.digest('hex'),
    };
  }
}
