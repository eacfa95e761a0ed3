import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AudioLinks, DownloadUrlOptions } from '../ports/recording-queries.js';

/** Presigned GET URLs for objects in the archive bucket, signed with the function's own (read-only) role. */
export class S3AudioLinks implements AudioLinks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketName: string,
  ) {}

  downloadUrl(s3Key: string, expiresInSeconds: number, options: DownloadUrlOptions = {}): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucketName,
      Key: s3Key,
      // Signed into the URL as `response-content-disposition`: S3 answers with this header, so a
      // browser saves the file under the name instead of playing it. The name is checked by the caller.
      ...(options.attachmentFilename === undefined
        ? {}
        : { ResponseContentDisposition: `attachment; filename="${options.attachmentFilename}"` }),
    });
    return getSignedUrl(this.s3, command, { expiresIn: expiresInSeconds });
  }
}
