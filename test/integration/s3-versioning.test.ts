import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  CreateMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3AudioArchive } from '../../functions/shared/adapters/s3-archive.js';
import { S3AudioVersions } from '../../functions/shared/adapters/s3-lifecycle.js';
import { ObjectLockedError } from '../../functions/shared/lifecycle/ports.js';
import { useEmulators } from '../support/aws.js';

/**
 * The local S3 stand-in (s3rver + local/s3rver-versioning.ts) behaves like a versioned bucket with
 * Object Lock for everything the archive and the lifecycle use: version ids, SHA-256 additional
 * checksums (full and composite), ListObjectVersions, DeleteObject by version, legal holds.
 */
let env: Awaited<ReturnType<typeof useEmulators>>;
let archive: S3AudioArchive;
let versions: S3AudioVersions;

beforeAll(async () => {
  env = await useEmulators();
  archive = new S3AudioArchive(env.s3, env.bucketName);
  versions = new S3AudioVersions(env.s3, env.bucketName);
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

function store(key: string, bytes: Buffer) {
  return archive.store({
    key,
    contentType: 'audio/mpeg',
    body: Readable.from([bytes]),
    expectedBytes: bytes.length,
  });
}

async function read(key: string, versionId?: string): Promise<Buffer> {
  const result = await env.s3.send(
    new GetObjectCommand({ Bucket: env.bucketName, Key: key, VersionId: versionId }),
  );
  return Buffer.from(await result.Body!.transformToByteArray());
}

describe('versions and checksums', () => {
  it('a single-part upload gets a version id and S3 reports the SHA-256 computed while uploading', async () => {
    const bytes = randomBytes(50_000);
    const stored = await store('recordings/a/single.mp3', bytes);
    expect(stored.versionId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(stored.checksumSha256).toBe(sha256(bytes).toString('base64'));
    expect(await versions.head('recordings/a/single.mp3', stored.versionId)).toEqual({
      versionId: stored.versionId,
      sizeBytes: bytes.length,
      checksumSha256: stored.checksumSha256,
      legalHold: false,
    });
  });

  it('a multipart upload gets the composite checksum of its parts, with the part count', async () => {
    const bytes = randomBytes(7 * 1024 * 1024);
    const stored = await store('recordings/a/multi.mp3', bytes);
    const parts = [bytes.subarray(0, 6 * 1024 * 1024), bytes.subarray(6 * 1024 * 1024)].map(sha256);
    const expected = `${sha256(Buffer.concat(parts)).toString('base64')}-2`;
    expect(stored.checksumSha256).toBe(expected);
    expect((await versions.head('recordings/a/multi.mp3', stored.versionId))?.checksumSha256).toBe(expected);
    expect(stored.sha256).toBe(sha256(bytes).toString('hex'));
  });

  it('a second upload to the same key keeps the first as a readable older version', async () => {
    const key = 'recordings/a/twice.mp3';
    const first = randomBytes(10_000);
    const second = randomBytes(12_000);
    const v1 = await store(key, first);
    const v2 = await store(key, second);
    expect(v2.versionId).not.toBe(v1.versionId);
    const listed = await versions.listVersions(key);
    expect(listed).toEqual(
      expect.arrayContaining([
        { versionId: v1.versionId, isLatest: false, deleteMarker: false },
        { versionId: v2.versionId, isLatest: true, deleteMarker: false },
      ]),
    );
    expect(listed).toHaveLength(2);
    expect(await read(key)).toEqual(second);
    expect(await read(key, v1.versionId)).toEqual(first);
    expect(await versions.digest(key, v1.versionId!)).toEqual({
      sizeBytes: first.length,
      sha256: sha256(first).toString('hex'),
    });
    expect((await versions.head(key, v1.versionId))?.checksumSha256).toBe(v1.checksumSha256);
  });

  it('lists only the exact key, not longer keys that share the prefix', async () => {
    await store('recordings/b/x.mp3', randomBytes(100));
    await store('recordings/b/x.mp3.bak', randomBytes(100));
    expect(await versions.listVersions('recordings/b/x.mp3')).toHaveLength(1);
  });

  it('deleting the current version makes the older one current; deleting every version leaves nothing', async () => {
    const key = 'recordings/c/del.mp3';
    const first = randomBytes(1000);
    const v1 = await store(key, first);
    const v2 = await store(key, randomBytes(2000));
    await versions.deleteVersion(key, v2.versionId!);
    expect(await read(key)).toEqual(first);
    expect(await versions.listVersions(key)).toEqual([
      { versionId: v1.versionId, isLatest: true, deleteMarker: false },
    ]);
    await versions.deleteVersion(key, v1.versionId!);
    expect(await versions.listVersions(key)).toEqual([]);
    expect(await versions.head(key)).toBeUndefined();
    // Deleting a version that is gone is a no-op, as in S3.
    await versions.deleteVersion(key, v1.versionId!);
  });

  it('an unknown version is not found', async () => {
    const stored = await store('recordings/c/one.mp3', randomBytes(10));
    expect(await versions.head('recordings/c/one.mp3', 'no-such-version')).toBeUndefined();
    expect(await versions.head('recordings/c/one.mp3', stored.versionId)).toBeDefined();
  });

  it('refuses an object or a part whose bytes do not match the SHA-256 sent (400 BadDigest), keeping nothing', async () => {
    const wrong = sha256(Buffer.from('something else')).toString('base64');
    await expect(
      env.s3.send(
        new PutObjectCommand({
          Bucket: env.bucketName,
          Key: 'recordings/d/bad.mp3',
          Body: Buffer.from('audio'),
          ChecksumSHA256: wrong,
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest' });
    expect(await versions.head('recordings/d/bad.mp3')).toBeUndefined();

    const { UploadId } = await env.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: env.bucketName,
        Key: 'recordings/d/bad-part.mp3',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    await expect(
      env.s3.send(
        new UploadPartCommand({
          Bucket: env.bucketName,
          Key: 'recordings/d/bad-part.mp3',
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(1024, 1),
          ChecksumSHA256: wrong,
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest' });
  });
});

describe('legal holds (Object Lock)', () => {
  it('a held version cannot be deleted until the hold is released; HEAD reports it', async () => {
    const key = 'recordings/e/held.mp3';
    const stored = await store(key, randomBytes(500));
    await versions.setLegalHold(key, stored.versionId!, true);
    expect((await versions.head(key, stored.versionId))?.legalHold).toBe(true);
    await expect(versions.deleteVersion(key, stored.versionId!)).rejects.toBeInstanceOf(ObjectLockedError);
    expect(await versions.head(key, stored.versionId)).toBeDefined();
    await versions.setLegalHold(key, stored.versionId!, false);
    expect((await versions.head(key, stored.versionId))?.legalHold).toBe(false);
    await versions.deleteVersion(key, stored.versionId!);
    expect(await versions.head(key, stored.versionId)).toBeUndefined();
  });

  it('holds one version only: the others of the same key can still be deleted', async () => {
    const key = 'recordings/e/two.mp3';
    const v1 = await store(key, randomBytes(100));
    const v2 = await store(key, randomBytes(100));
    await versions.setLegalHold(key, v2.versionId!, true);
    await versions.deleteVersion(key, v1.versionId!);
    await expect(versions.deleteVersion(key, v2.versionId!)).rejects.toBeInstanceOf(ObjectLockedError);
    await versions.setLegalHold(key, v2.versionId!, false);
  });
});
