import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditObject } from '../domain/audit-copy.js';
import type { WriteOnceStore } from '../audit/copy-audit-event.js';

/**
 * Writes with `If-None-Match: *`: S3 refuses (412) to write over an existing key, so the first copy
 * stands; the refusal is then told apart by reading the object back (a redelivery carries the same bytes).
 */
export class S3WriteOnce implements WriteOnceStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async writeOnce(object: AuditObject): Promise<'written' | 'same' | 'differs'> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: object.key,
          Body: object.body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
          // Object Lock requires an integrity checksum on every write.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return 'written';
    } catch (error) {
      // 409: a concurrent conditional write to the same key is in flight; reading back settles it either way.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 412 && status !== 409) throw error;
    }
    const existing = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }));
    const chunks: Buffer[] = [];
    for await (const chunk of existing.Body as Readable) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8') === object.body ? 'same' : 'differs';
  }
}
