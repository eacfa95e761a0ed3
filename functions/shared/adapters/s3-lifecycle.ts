import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ObjectLockedError,
  type AudioVersions,
  type ObjectVersion,
  type ObjectVersionFacts,
} from '../lifecycle/ports.js';

/**
 * The archive bucket's versions as the lifecycle needs them: what S3 kept for a version (size, SHA-256
 * checksum, legal hold), every version of a key, deleting one version for good, and Object Lock legal
 * holds. Every call names the exact key (and version), never a wider prefix.
 */
export class S3AudioVersions implements AudioVersions {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async head(key: string, versionId?: string): Promise<ObjectVersionFacts | undefined> {
    try {
      const result = await this.s3.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          VersionId: versionId,
          ChecksumMode: 'ENABLED',
        }),
      );
      return {
        versionId: result.VersionId ?? 'null',
        sizeBytes: result.ContentLength ?? -1,
        checksumSha256: result.ChecksumSHA256,
        legalHold: result.ObjectLockLegalHoldStatus === 'ON',
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async digest(key: string, versionId: string): Promise<{ sizeBytes: number; sha256: string }> {
    const result = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
    );
    const hash = createHash('sha256');
    let sizeBytes = 0;
    for await (const chunk of result.Body as Readable) {
      hash.update(chunk as Buffer);
      sizeBytes += (chunk as Buffer).length;
    }
    return { sizeBytes, sha256: hash.digest('hex') };
  }

  async listVersions(key: string): Promise<ObjectVersion[]> {
    const versions: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      // The prefix also matches longer keys; only this exact key is ours to touch.
      for (const v of page.Versions ?? [])
        if (v.Key === key && v.VersionId)
          versions.push({ versionId: v.VersionId, isLatest: v.IsLatest === true, deleteMarker: false });
      for (const m of page.DeleteMarkers ?? [])
        if (m.Key === key && m.VersionId)
          versions.push({ versionId: m.VersionId, isLatest: m.IsLatest === true, deleteMarker: true });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return versions;
  }

  async deleteVersion(key: string, versionId: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
    } catch (error) {
      // S3 says "Access Denied because object protected by object lock."; any other 403 is a real denial.
      if (statusOf(error) === 403 && /object lock/i.test((error as Error).message))
        throw new ObjectLockedError(key, versionId, { cause: error });
      throw error;
    }
  }

  async setLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    await this.s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: this.bucket,
        Key: key,
        VersionId: versionId,
        LegalHold: { Status: on ? 'ON' : 'OFF' },
      }),
    );
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
