import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';

/**
 * s3rver 3.7 implements multipart uploads but not their clean-up: AbortMultipartUpload answers 405 and
 * ListMultipartUploads 501, so an aborted upload's parts stay on disk and nothing can show they did.
 * This adds both, on s3rver's own upload store (path-style requests, as the SDK sends them with
 * `forcePathStyle`). Like the rest of this emulator, it runs on 127.0.0.1 only; it does not check
 * request signatures.
 */
export function addMultipartCleanup(server: S3rver): void {
  const app = server as unknown as KoaApp;
  // Before the router (the last middleware), after s3rver's logging and XML encoding.
  app.middleware.splice(app.middleware.length - 1, 0, async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.split('/').slice(1).map(decodeURIComponent);
    const key = keyParts.join('/');
    if (!bucket) return next();
    const uploadsDir = app.store.getResourcePath(bucket, undefined, 'uploads');
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && key !== '' && typeof uploadId === 'string') {
      return abortUpload(ctx, uploadsDir, uploadId, key);
    }
    if (ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
      return listUploads(ctx, uploadsDir, bucket);
    }
    return next();
  });
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

interface KoaApp {
  middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}

async function abortUpload(ctx: KoaContext, uploadsDir: string, uploadId: string, key: string) {
  const dir = join(uploadsDir, uploadId);
  const storedKey = /^[0-9a-f]+$/.test(uploadId)
    ? await readFile(join(dir, 'key'), 'utf8').catch(() => undefined)
    : undefined;
  if (storedKey !== key) {
    ctx.status = 404;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
      '<Message>The specified upload does not exist.</Message></Error>';
    return;
  }
  await rm(dir, { recursive: true, force: true });
  ctx.status = 204;
}

async function listUploads(ctx: KoaContext, uploadsDir: string, bucket: string) {
  const ids = await readdir(uploadsDir).catch(() => [] as string[]);
  const uploads = await Promise.all(
    ids.map(async (id) => ({
      Key: await readFile(join(uploadsDir, id, 'key'), 'utf8'),
      UploadId: id,
      Initiated: (await stat(join(uploadsDir, id))).mtime.toISOString(),
    })),
  );
  ctx.body = {
    ListMultipartUploadsResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Bucket: bucket,
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads,
    },
  };
}
