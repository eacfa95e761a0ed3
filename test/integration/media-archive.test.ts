import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { HttpMediaSource } from '../../functions/shared/adapters/media.js';
import { PART_SIZE, S3AudioArchive } from '../../functions/shared/adapters/s3-archive.js';
import { parseOriginPatterns } from '../../functions/shared/config.js';
import { IntegrityError } from '../../functions/shared/domain/errors.js';
import { createBucket, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { audioSha256, VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';

/**
 * The download and the upload together, against the Vobiz fake (which serves the API and the audio,
 * and insists on the API credentials for audio) and s3rver: HttpMediaSource → S3AudioArchive.
 */
const vobiz = new VobizFake({ mediaRequiresAuth: true });
/** Another origin on the allow-list, e.g. a CDN that Vobiz's media host redirects to. */
const cdn = new VobizFake();
const bucket = `media-${Date.now().toString(36)}`;
let s3: S3Client;
let archive: S3AudioArchive;
let media: HttpMediaSource;

beforeAll(async () => {
  await Promise.all([vobiz.start(), cdn.start()]);
  s3 = new S3Client({
    endpoint: inject('s3Endpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await createBucket(s3, bucket);
  archive = new S3AudioArchive(s3, bucket);
  media = new HttpMediaSource({
    allowedOrigins: parseOriginPatterns(`${vobiz.baseUrl},${cdn.baseUrl}`),
    auth: {
      apiBaseUrl: vobiz.baseUrl,
      headers: () => ({ 'X-Auth-ID': vobiz.authId, 'X-Auth-Token': vobiz.authToken }),
    },
  });
});

afterAll(async () => {
  await Promise.all([vobiz.stop(), cdn.stop()]);
  s3.destroy();
});

const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;

async function archiveRecording(recording: FakeRecording, signal?: AbortSignal, from = vobiz) {
  const download = await media.open(from.retrieveBody(recording).recording_url as string, { signal });
  return archive.store({
    key: `recordings/${idOf(recording)}.${recording.format}`,
    contentType: download.contentType ?? 'application/octet-stream',
    body: download.body,
    expectedBytes: download.contentLength,
    signal,
  });
}

async function storedSha256(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const { createHash } = await import('node:crypto');
  return createHash('sha256')
    .update(await object.Body!.transformToByteArray())
    .digest('hex');
}

const mediaRequests = (fake: VobizFake, recording: FakeRecording) =>
  fake.requests.filter((r) => r.path.endsWith(`/${idOf(recording)}.${recording.format}`));

describe('media download credentials', () => {
  it('are sent to the Vobiz origin only, not to a second allowed origin it redirects to', async () => {
    const recording = vobiz.addRecording({ format: 'wav', sizeBytes: 40_000 });
    cdn.addRecording({ recording_id: idOf(recording), format: 'wav', sizeBytes: 40_000 });
    recording.faults.mediaRedirectTo = cdn.mediaUrl(idOf(recording), 'wav');

    const stored = await archiveRecording(recording);

    expect(stored.sha256).toBe(audioSha256(idOf(recording), 'wav', 40_000));
    const [first] = mediaRequests(vobiz, recording);
    expect(first?.headers['x-auth-token']).toBe(vobiz.authToken);
    const [second] = mediaRequests(cdn, recording);
    expect(second).toBeDefined();
    expect(second!.headers['x-auth-id']).toBeUndefined();
    expect(second!.headers['x-auth-token']).toBeUndefined();
  });
});

describe('compressed media', () => {
  it('asks for the identity coding, so a server that would gzip sends the bytes as they are', async () => {
    const recording = cdn.addRecording({ format: 'wav', sizeBytes: 300_000 }, { mediaGzip: 'if-accepted' });
    const stored = await archiveRecording(recording, undefined, cdn);
    expect(mediaRequests(cdn, recording)[0]!.headers['accept-encoding']).toBe('identity');
    expect(stored).toMatchObject({
      sizeBytes: 300_000,
      sha256: audioSha256(idOf(recording), 'wav', 300_000),
    });
  });

  it('archives the decompressed audio when the server gzips anyway', async () => {
    const recording = cdn.addRecording({ format: 'wav', sizeBytes: 300_000 }, { mediaGzip: 'always' });
    const stored = await archiveRecording(recording, undefined, cdn);
    const sha256 = audioSha256(idOf(recording), 'wav', 300_000);
    expect(stored).toMatchObject({ sizeBytes: 300_000, sha256 });
    expect(await storedSha256(stored.key)).toBe(sha256);
  });

  it('still refuses a plain download shorter than its Content-Length', async () => {
    const recording = vobiz.addRecording({ sizeBytes: 300_000 }, { truncateAudioAt: 100_000 });
    await expect(archiveRecording(recording)).rejects.toThrow();
    const recordingKey = `recordings/${idOf(recording)}.mp3`;
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: recordingKey }))).rejects.toThrow();
  });
});

describe('an aborted upload', () => {
  it('leaves no object and no pending multipart upload once store() has rejected', async () => {
    const sizeBytes = 3 * PART_SIZE + 1000;
    const recording = vobiz.addRecording({ sizeBytes }, { mediaChunkDelayMs: 15 });
    const key = `recordings/${idOf(recording)}.mp3`;
    const pending = async () =>
      ((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).filter(
        (u) => u.Key === key,
      );
    const controller = new AbortController();
    const stored = archiveRecording(recording, controller.signal);
    stored.catch(() => undefined);
    // Abort once the multipart upload exists (its first part is on its way).
    for (let i = 0; i < 2_000 && (await pending()).length === 0; i++) await sleep(10);
    expect(await pending()).toHaveLength(1);
    controller.abort(new Error('deadline'));

    const error = await stored.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/aborted/);
    expect(await pending()).toEqual([]);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });
});
