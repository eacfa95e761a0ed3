import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AudioLinks } from '../ports/recording-queries.js';

/** Presigned GET URLs for objects in the archive bucket, signed with the function's own (read-only) role. */
export class S3AudioLinks implements AudioLinks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketName: string,
  ) {}

  downloadUrl(s3Key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucketName, Key: s3Key }), {
      expiresIn: expiresInSeconds,
    });
  }
}
