import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';

/**
 * What the archive needs from S3 and s3rver 3.7 lacks, emulated on s3rver's own file store so that the
 * lifecycle code runs unchanged against it (path-style requests, as the SDK sends them with
 * `forcePathStyle`). Every bucket behaves as a versioned bucket with Object Lock enabled.
 *
 * Emulated, and how:
 * - **Versioning.** Each PutObject / CompleteMultipartUpload creates a version with a random id
 *   (`x-amz-version-id` in the answer); the previous current version's bytes are kept beside the object
 *   (`<key>._S3rver_v-<id>.*`) and listed by ListObjectVersions (`?versions`, whole result, no paging).
 *   GET/HEAD with `versionId` serve that version; an unknown one is `404 NoSuchVersion`. DeleteObject
 *   with `versionId` removes exactly that version (deleting the current one makes the newest remaining
 *   one current, as S3 does; an unknown id is a no-op 204). Without `versionId`, s3rver removes the
 *   current object and the older versions stay: no delete marker is written or listed.
 * - **SHA-256 additional checksums.** `x-amz-checksum-sha256` on PutObject and UploadPart is checked
 *   against the bytes stored (a mismatch is `400 BadDigest`, the object or part is not kept). A multipart
 *   upload created with `x-amz-checksum-algorithm: SHA256` gets S3's composite checksum,
 *   `base64(sha256(part digests in part order))-N`, computed from the parts' verified checksums.
 *   HEAD/GET with `x-amz-checksum-mode: ENABLED` return it with `x-amz-checksum-type` (FULL_OBJECT or
 *   COMPOSITE). Not checked: the part checksums listed in the Complete request itself.
 * - **Object Lock legal holds.** PutObjectLegalHold / GetObjectLegalHold (`?legal-hold`, optional
 *   `versionId`) per version; HEAD/GET report `x-amz-object-lock-legal-hold`; deleting a held version is
 *   `403 AccessDenied`, as S3 answers. Retention periods (governance/compliance modes) are not emulated.
 * - **Conditional writes.** PutObject with `If-None-Match: *` over an existing object is
 *   `412 PreconditionFailed` and writes nothing (the audit copy's write-once rule).
 *
 * Objects written before this layer was added have no version record: they are the `null` version.
 * Like the rest of this emulator, it serves 127.0.0.1 only and does not check request signatures.
 */
export function addVersioning(server: S3rver): void {
  const app = server as unknown as KoaApp;
  const emulation = new Versioning(app.store);
  // Before the router (the last middleware), after s3rver's logging and XML encoding.
  app.middleware.splice(app.middleware.length - 1, 0, (ctx, next) => emulation.handle(ctx, next));
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  req: AsyncIterable<Buffer>;
  status: number;
  type: string;
  body: unknown;
  set(name: string, value: string): void;
}

type Next = () => Promise<void>;

interface Store {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getBucketPath(bucket: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

interface KoaApp {
  middleware: ((ctx: KoaContext, next: Next) => Promise<void>)[];
  store: Store;
}

interface VersionEntry {
  versionId: string;
  /** The version s3rver itself serves at the key. */
  current: boolean;
  size: number;
  etag: string;
  lastModified: string;
  checksumSha256?: string;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  legalHold?: 'ON' | 'OFF';
}

const SIDECAR = 'versions.json';
/** The files s3rver keeps per object; a kept version copies all three. */
const OBJECT_FILES = ['object', 'metadata.json', 'object.md5'] as const;
/** SDK bookkeeping parameters that do not change what a request means. */
const NEUTRAL_QUERY = new Set(['x-id', 'versionId']);

class Versioning {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly store: Store) {}

  async handle(ctx: KoaContext, next: Next): Promise<void> {
    const [bucket, ...keyParts] = ctx.path.split('/').slice(1).map(decodeURIComponent);
    const key = keyParts.join('/');
    if (!bucket) return next();
    const q = ctx.query;
    const plain = Object.keys(q).every((name) => NEUTRAL_QUERY.has(name) || name.startsWith('response-'));
    const versionId = typeof q.versionId === 'string' ? q.versionId : undefined;
    if (key === '') {
      if (ctx.method === 'GET' && 'versions' in q)
        return this.listVersions(ctx, bucket, String(q.prefix ?? ''));
      return next();
    }
    if ('legal-hold' in q) {
      if (ctx.method === 'GET') return this.getLegalHold(ctx, bucket, key, versionId);
      if (ctx.method === 'PUT')
        return this.locked(bucket, key, () => this.putLegalHold(ctx, bucket, key, versionId));
      return next();
    }
    const uploadId = typeof q.uploadId === 'string' ? q.uploadId : undefined;
    if (ctx.method === 'POST' && 'uploads' in q) return this.initiate(ctx, next, bucket);
    if (ctx.method === 'PUT' && uploadId && q.partNumber) return this.uploadPart(ctx, next, bucket, uploadId);
    if (ctx.method === 'POST' && uploadId)
      return this.locked(bucket, key, () => this.complete(ctx, next, bucket, key, uploadId));
    if (ctx.method === 'PUT' && plain && !ctx.headers['x-amz-copy-source'])
      return this.locked(bucket, key, () => this.put(ctx, next, bucket, key));
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && plain)
      return this.get(ctx, next, bucket, key, versionId);
    if (ctx.method === 'DELETE' && !uploadId)
      return this.locked(bucket, key, () => this.delete(ctx, next, bucket, key, versionId));
    return next();
  }

  private async put(ctx: KoaContext, next: Next, bucket: string, key: string): Promise<void> {
    if (header(ctx, 'if-none-match') === '*' && (await this.versions(bucket, key)).some((v) => v.current))
      return preconditionFailed(ctx);
    const over = await this.writeOver(ctx, next, bucket, key);
    if (!over) return;
    const { versions, previous } = over;
    const sent = header(ctx, 'x-amz-checksum-sha256');
    if (sent !== undefined) {
      const path = this.store.getResourcePath(bucket, key, 'object');
      await written(path, header(ctx, 'content-length'));
      const actual = await sha256Of(path);
      if (actual.toString('base64') !== sent) {
        await this.store.deleteObject(bucket, key);
        if (previous) await this.restore(bucket, key, previous.versionId);
        return badDigest(ctx);
      }
    }
    const length = Number(header(ctx, 'content-length'));
    await this.recordVersion(ctx, bucket, key, versions, {
      ...(Number.isInteger(length) ? { size: length } : {}),
      ...(sent ? { checksumSha256: sent, checksumType: 'FULL_OBJECT' } : {}),
    });
    if (sent) ctx.set('x-amz-checksum-sha256', sent);
  }

  private async initiate(ctx: KoaContext, next: Next, bucket: string): Promise<void> {
    await next();
    const algorithm = header(ctx, 'x-amz-checksum-algorithm');
    const uploadId = (ctx.body as { InitiateMultipartUploadResult?: { UploadId?: string } } | undefined)
      ?.InitiateMultipartUploadResult?.UploadId;
    if (ctx.status !== 200 || !algorithm || !uploadId) return;
    await writeFile(join(this.uploadDir(bucket, uploadId), 'checksum-algorithm'), algorithm.toUpperCase());
    ctx.set('x-amz-checksum-algorithm', algorithm.toUpperCase());
  }

  private async uploadPart(ctx: KoaContext, next: Next, bucket: string, uploadId: string): Promise<void> {
    await next();
    const sent = header(ctx, 'x-amz-checksum-sha256');
    if (ctx.status !== 200 || sent === undefined) return;
    const partPath = join(this.uploadDir(bucket, uploadId), String(Number(ctx.query.partNumber)));
    await written(partPath, header(ctx, 'content-length'));
    const actual = await sha256Of(partPath);
    if (actual.toString('base64') !== sent) {
      await rm(partPath, { force: true });
      return badDigest(ctx);
    }
    await writeFile(`${partPath}.sha256`, sent);
    ctx.set('x-amz-checksum-sha256', sent);
  }

  private async complete(
    ctx: KoaContext,
    next: Next,
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<void> {
    // s3rver removes the upload's directory when it completes: read what was recorded first.
    const dir = this.uploadDir(bucket, uploadId);
    const algorithm = await readFile(join(dir, 'checksum-algorithm'), 'utf8').catch(() => undefined);
    const names = await readdir(dir).catch(() => [] as string[]);
    const digests = await Promise.all(
      names
        .filter((name) => /^\d+\.sha256$/.test(name))
        .map(async (name) => ({
          part: Number(name.split('.')[0]),
          digest: Buffer.from(await readFile(join(dir, name), 'utf8'), 'base64'),
        })),
    );
    const partFiles = names.filter((name) => /^\d+$/.test(name));
    const partCount = partFiles.length;
    const totalSize = (await Promise.all(partFiles.map((name) => stat(join(dir, name))))).reduce(
      (sum, part) => sum + part.size,
      0,
    );
    const over = await this.writeOver(ctx, next, bucket, key);
    if (!over) return;
    let checksum: Partial<VersionEntry> = {};
    if (algorithm === 'SHA256' && digests.length === partCount && partCount > 0) {
      const ordered = digests.sort((a, b) => a.part - b.part).map((d) => d.digest);
      const composite = createHash('sha256').update(Buffer.concat(ordered)).digest('base64');
      checksum = { checksumSha256: `${composite}-${ordered.length}`, checksumType: 'COMPOSITE' };
    }
    await this.recordVersion(ctx, bucket, key, over.versions, { size: totalSize, ...checksum });
  }

  /**
   * Lets s3rver write the object over the current version, which is kept aside first (s3rver itself
   * keeps one object per key) and dropped again if the write fails. Undefined when it failed.
   */
  private async writeOver(
    ctx: KoaContext,
    next: Next,
    bucket: string,
    key: string,
  ): Promise<{ versions: VersionEntry[]; previous: VersionEntry | undefined } | undefined> {
    const versions = await this.versions(bucket, key);
    const previous = versions.find((v) => v.current);
    if (previous) await this.keep(bucket, key, previous.versionId);
    await next();
    if (ctx.status === 200) return { versions, previous };
    if (previous) await this.discard(bucket, key, previous.versionId);
    return undefined;
  }

  /** The object just written becomes the current version, in front of the older ones. */
  private async recordVersion(
    ctx: KoaContext,
    bucket: string,
    key: string,
    versions: readonly VersionEntry[],
    fields: Partial<VersionEntry>,
  ): Promise<void> {
    const entry = await this.newVersion(bucket, key, fields);
    await this.save(bucket, key, [entry, ...versions.map((v) => ({ ...v, current: false }))]);
    ctx.set('x-amz-version-id', entry.versionId);
  }

  private async get(
    ctx: KoaContext,
    next: Next,
    bucket: string,
    key: string,
    versionId: string | undefined,
  ): Promise<void> {
    const versions = await this.versions(bucket, key);
    const entry =
      versionId === undefined
        ? versions.find((v) => v.current)
        : versions.find((v) => v.versionId === versionId);
    if (versionId !== undefined && !entry)
      return notFound(ctx, 'NoSuchVersion', 'The specified version does not exist.');
    if (entry && !entry.current) return this.serveKept(ctx, bucket, key, entry);
    await next();
    if (entry && (ctx.status === 200 || ctx.status === 206)) this.describe(ctx, entry);
  }

  private async serveKept(ctx: KoaContext, bucket: string, key: string, entry: VersionEntry): Promise<void> {
    const metadata = JSON.parse(
      await readFile(this.store.getResourcePath(bucket, key, `v-${entry.versionId}.metadata.json`), 'utf8'),
    ) as Record<string, string>;
    ctx.status = 200;
    for (const [name, value] of Object.entries(metadata)) ctx.set(name, String(value));
    ctx.set('content-length', String(entry.size));
    ctx.set('etag', entry.etag);
    ctx.set('last-modified', new Date(entry.lastModified).toUTCString());
    this.describe(ctx, entry);
    if (ctx.method === 'GET')
      ctx.body = createReadStream(this.store.getResourcePath(bucket, key, `v-${entry.versionId}.object`));
  }

  private describe(ctx: KoaContext, entry: VersionEntry): void {
    ctx.set('x-amz-version-id', entry.versionId);
    if (entry.legalHold) ctx.set('x-amz-object-lock-legal-hold', entry.legalHold);
    if (header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && entry.checksumSha256) {
      ctx.set('x-amz-checksum-sha256', entry.checksumSha256);
      ctx.set('x-amz-checksum-type', entry.checksumType ?? 'FULL_OBJECT');
    }
  }

  private async delete(
    ctx: KoaContext,
    next: Next,
    bucket: string,
    key: string,
    versionId: string | undefined,
  ): Promise<void> {
    const versions = await this.versions(bucket, key);
    if (versionId === undefined) {
      await next();
      if (ctx.status < 300)
        await this.save(
          bucket,
          key,
          versions.filter((v) => !v.current),
        );
      return;
    }
    const entry = versions.find((v) => v.versionId === versionId);
    if (entry?.legalHold === 'ON')
      return accessDenied(ctx, 'Access Denied because object protected by object lock.');
    if (entry?.current) {
      await this.store.deleteObject(bucket, key);
      const successor = versions.find((v) => !v.current);
      if (successor) {
        await this.restore(bucket, key, successor.versionId);
        successor.current = true;
      }
    } else if (entry) {
      await this.discard(bucket, key, entry.versionId);
    }
    await this.save(
      bucket,
      key,
      versions.filter((v) => v.versionId !== versionId),
    );
    ctx.status = 204;
    ctx.set('x-amz-version-id', versionId);
  }

  private async getLegalHold(ctx: KoaContext, bucket: string, key: string, versionId: string | undefined) {
    const entry = await this.find(bucket, key, versionId);
    if (!entry)
      return notFound(ctx, versionId ? 'NoSuchVersion' : 'NoSuchKey', 'The specified key does not exist.');
    if (!entry.legalHold)
      return notFound(
        ctx,
        'NoSuchObjectLockConfiguration',
        'The specified object does not have a ObjectLock configuration',
      );
    ctx.body = {
      LegalHold: { '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' }, Status: entry.legalHold },
    };
  }

  private async putLegalHold(ctx: KoaContext, bucket: string, key: string, versionId: string | undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const status = /<Status>\s*(ON|OFF)\s*<\/Status>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
    if (!status) {
      ctx.status = 400;
      ctx.type = 'application/xml';
      ctx.body = errorXml(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.',
      );
      return;
    }
    const versions = await this.versions(bucket, key);
    const entry =
      versionId === undefined
        ? versions.find((v) => v.current)
        : versions.find((v) => v.versionId === versionId);
    if (!entry)
      return notFound(ctx, versionId ? 'NoSuchVersion' : 'NoSuchKey', 'The specified key does not exist.');
    entry.legalHold = status as 'ON' | 'OFF';
    await this.save(bucket, key, versions);
    ctx.status = 200;
    ctx.body = '';
  }

  private async listVersions(ctx: KoaContext, bucket: string, prefix: string): Promise<void> {
    const keys = await this.keysUnder(bucket, prefix);
    const entries = [];
    for (const key of keys.sort()) {
      for (const v of await this.versions(bucket, key)) {
        entries.push({
          Key: key,
          VersionId: v.versionId,
          IsLatest: v.current,
          LastModified: v.lastModified,
          ETag: v.etag,
          Size: v.size,
          StorageClass: 'STANDARD',
        });
      }
    }
    ctx.body = {
      ListVersionsResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Name: bucket,
        Prefix: prefix,
        KeyMarker: '',
        VersionIdMarker: '',
        MaxKeys: 1000,
        IsTruncated: false,
        Version: entries,
      },
    };
  }

  /** Keys under `prefix` that have a current object or kept versions. */
  private async keysUnder(bucket: string, prefix: string): Promise<string[]> {
    const root = this.store.getBucketPath(bucket);
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found = new Set<string>();
    const walk = async (relative: string): Promise<void> => {
      const names = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
      for (const entry of names) {
        const path = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(path);
        else {
          const match = /^(.*)\._S3rver_(object|versions\.json)$/.exec(path);
          if (match && match[1]!.startsWith(prefix)) found.add(match[1]!);
        }
      }
    };
    await walk(base);
    return [...found];
  }

  private async find(
    bucket: string,
    key: string,
    versionId: string | undefined,
  ): Promise<VersionEntry | undefined> {
    const versions = await this.versions(bucket, key);
    return versionId === undefined
      ? versions.find((v) => v.current)
      : versions.find((v) => v.versionId === versionId);
  }

  /** The key's versions, newest first; an object stored before this layer existed is the `null` version. */
  private async versions(bucket: string, key: string): Promise<VersionEntry[]> {
    const text = await readFile(this.store.getResourcePath(bucket, key, SIDECAR), 'utf8').catch(
      () => undefined,
    );
    if (text !== undefined) return JSON.parse(text) as VersionEntry[];
    const metadata = await this.store.getMetadata(bucket, key).catch(() => undefined);
    if (!metadata) return [];
    return [
      {
        versionId: 'null',
        current: true,
        size: Number(metadata['content-length']),
        etag: String(metadata.etag),
        lastModified: new Date(String(metadata['last-modified'])).toISOString(),
      },
    ];
  }

  private async newVersion(bucket: string, key: string, extra: Partial<VersionEntry>): Promise<VersionEntry> {
    const metadata = await this.store.getMetadata(bucket, key);
    return {
      versionId: randomBytes(24).toString('base64url'),
      current: true,
      size: Number(metadata['content-length']),
      etag: String(metadata.etag),
      lastModified: new Date().toISOString(),
      ...extra,
    };
  }

  private async save(bucket: string, key: string, versions: VersionEntry[]): Promise<void> {
    const path = this.store.getResourcePath(bucket, key, SIDECAR);
    if (versions.length === 0) await rm(path, { force: true });
    else await writeFile(path, JSON.stringify(versions));
  }

  /** Copies the current object's files aside as version `versionId`. */
  private async keep(bucket: string, key: string, versionId: string): Promise<void> {
    for (const file of OBJECT_FILES) {
      await copyFile(
        this.store.getResourcePath(bucket, key, file),
        this.store.getResourcePath(bucket, key, `v-${versionId}.${file}`),
      ).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }

  /** Makes a kept version the object s3rver serves again. */
  private async restore(bucket: string, key: string, versionId: string): Promise<void> {
    for (const file of OBJECT_FILES) {
      const kept = this.store.getResourcePath(bucket, key, `v-${versionId}.${file}`);
      await copyFile(kept, this.store.getResourcePath(bucket, key, file)).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
    }
    await this.discard(bucket, key, versionId);
  }

  private async discard(bucket: string, key: string, versionId: string): Promise<void> {
    await Promise.all(
      OBJECT_FILES.map((file) =>
        rm(this.store.getResourcePath(bucket, key, `v-${versionId}.${file}`), { force: true }),
      ),
    );
  }

  private uploadDir(bucket: string, uploadId: string): string {
    return join(this.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }

  /** One change at a time per key (S3 serialises writes to a key; s3rver does not). */
  private locked(bucket: string, key: string, work: () => Promise<void>): Promise<void> {
    const id = `${bucket}/${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }
}

function header(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * s3rver answers a PUT when its hashing stream has finished, which can be before the file stream has
 * flushed to disk: wait until the file has the length the request announced (briefly; a body without
 * Content-Length is read as it is).
 */
async function written(path: string, contentLength: string | undefined): Promise<void> {
  const expected = Number(contentLength);
  if (!Number.isInteger(expected)) return;
  for (let i = 0; i < 1000; i++) {
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size >= expected) return;
    await sleep(5);
  }
}

async function sha256Of(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function notFound(ctx: KoaContext, code: string, message: string): void {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body = ctx.method === 'HEAD' ? '' : errorXml(code, message);
}

function badDigest(ctx: KoaContext): void {
  ctx.status = 400;
  ctx.type = 'application/xml';
  ctx.body = errorXml('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
}

function preconditionFailed(ctx: KoaContext): void {
  ctx.status = 412;
  ctx.type = 'application/xml';
  ctx.body = errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
}

function accessDenied(ctx: KoaContext, message: string): void {
  ctx.status = 403;
  ctx.type = 'application/xml';
  ctx.body = errorXml('AccessDenied', message);
}
