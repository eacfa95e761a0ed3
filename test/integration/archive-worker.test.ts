import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildArchiveRecording, readArchiveSettings } from '../../functions/shared/wiring/archive.js';
import type { StreamTrigger } from '../../local/stream-trigger.js';
import { audioSha256, VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { FAST_VOBIZ, freshClients, objectKeysFor } from '../support/redrive.js';
import { deliver, readObject, webhookEnv, webhookHandler } from '../support/webhook.js';
import { isStored, startWorker, waitForRecord } from '../support/worker.js';

/**
 * The archive worker started as in AWS: the webhook's insert of a pending record reaches it through the
 * table's stream (DynamoDB Local's stream API, polled with the stack's filter, batch and retry rules).
 */
let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();
let webhook: ReturnType<typeof webhookHandler>;
let worker: StreamTrigger;
/** A server that must never be contacted: stands for any URL a caller (or a tampered response) supplies. */
let trap: Server;
let trapHits = 0;
let trapOrigin = '';

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
  webhook = webhookHandler(webhookEnv(fake, env));
  worker = await startWorker(env.tableName, { env: webhookEnv(fake, env) });
  trap = createServer((_req, res) => {
    trapHits++;
    res.end('owned');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker?.stop();
  await fake.stop();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

beforeEach(() => {
  trapHits = 0;
  fake.globalFaults = {};
});

const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function expectStored(recording: FakeRecording) {
  const id = idOf(recording);
  const record = await waitForRecord(env.documents, env.tableName, id, isStored);
  const object = await readObject(env.s3, env.bucketName, record.s3_key!);
  expect(object).toBeDefined();
  expect(object!.bytes.length).toBe(recording.sizeBytes);
  expect(sha256(object!.bytes)).toBe(audioSha256(id, recording.format, recording.sizeBytes));
  expect(record.sha256).toBe(sha256(object!.bytes));
  expect(record.size_bytes).toBe(recording.sizeBytes);
  expect(record.lease_owner).toBeUndefined();
  expect(record.next_attempt_at).toBeUndefined();
  return { record, object: object! };
}

describe('archive worker: a recorded notification is archived through the stream', () => {
  it('stores an mp3: typed metadata in DynamoDB, exact bytes in S3 under the dated key', async () => {
    const recording = fake.addRecording({
      format: 'mp3',
      sizeBytes: 300_000,
      addTimeMs: Date.UTC(2025, 10, 6, 20, 19, 10, 751),
      utcOffsetMinutes: 330,
    });
    const id = idOf(recording);
    const response = await deliver(webhook, fake, recording);
    expect(response.json).toEqual({ recording_id: id, status: 'pending' });

    const { record, object } = await expectStored(recording);
    expect(object.contentType).toBe('audio/mpeg');
    expect(record).toMatchObject({
      recording_id: id,
      account_id: fake.authId,
      add_time: '2025-11-06T20:19:10.751Z',
      add_time_ms: Date.UTC(2025, 10, 6, 20, 19, 10, 751),
      recording_duration_ms: 74_952, // the simulated file's real length: 2,082 MP3 frames of 36 ms
      recording_format: 'mp3',
      recording_storage_rate: 0.005,
      s3_bucket: env.bucketName,
      s3_key: `recordings/${fake.authId}/2025/11/06/${id}.mp3`,
      content_type: 'audio/mpeg',
      attempts: 1,
    });
    expect(typeof record.recording_start_ms).toBe('number');
    expect(record.last_error).toBeUndefined();
    expect(recording.retrieveCalls).toBe(1);
    // A later callback answers with what the worker did.
    expect((await deliver(webhook, fake, recording)).json).toEqual({ recording_id: id, status: 'stored' });
  });

  it('stores a wav with audio/wav and nullable fields kept as null', async () => {
    const recording = fake.addRecording({ format: 'wav', sizeBytes: 100_044, recording_type: 'trunk' });
    await deliver(webhook, fake, recording);
    const { record, object } = await expectStored(recording);
    expect(object.contentType).toBe('audio/wav');
    expect(object.bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(record.recording_start_ms).toBeNull();
    expect(record.recording_end_ms).toBeNull();
    expect(record.s3_key).toMatch(/\.wav$/);
  });

  it('answers a large recording before a byte of its audio is read, then stores it', async () => {
    const recording = fake.addRecording({ sizeBytes: 20_000_000 });
    const response = await deliver(webhook, fake, recording);
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'pending' });
    expect(recording.mediaBytesSent).toBe(0);
    await expectStored(recording);
  });

  it('20 concurrent deliveries end as one record, one download and one stored object', async () => {
    const recording = fake.addRecording({ sizeBytes: 2_000_000 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(webhook, fake, recording)));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    await expectStored(recording);
    expect(recording.mediaCalls).toBe(1);
    expect(await objectKeysFor(env, idOf(recording))).toHaveLength(1);
  });

  it('never fetches the RecordUrl of a callback: the audio comes from the API response', async () => {
    const recording = fake.addRecording();
    await deliver(webhook, fake, recording, { fields: { RecordUrl: `${trapOrigin}/steal.mp3` } });
    await expectStored(recording);
    expect(trapHits).toBe(0);
  });
});

describe('archive worker: concurrency is bounded by archiveConcurrency', () => {
  it('a burst of callbacks never opens more downloads at Vobiz at once than the setting', async () => {
    const own = await useEmulators();
    const bounded = await startWorker(own.tableName, { env: webhookEnv(fake, own), concurrency: 3 });
    try {
      const ownWebhook = webhookHandler(webhookEnv(fake, own));
      const burst = Array.from({ length: 15 }, () =>
        fake.addRecording({ sizeBytes: 1_000_000 }, { mediaChunkDelayMs: 15 }),
      );
      fake.maxActiveMediaDownloads = 0;
      const responses = await Promise.all(burst.map((recording) => deliver(ownWebhook, fake, recording)));
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      for (const recording of burst)
        await waitForRecord(own.documents, own.tableName, idOf(recording), isStored);
      expect(fake.maxActiveMediaDownloads).toBeLessThanOrEqual(3);
      expect(fake.maxActiveMediaDownloads).toBeGreaterThan(1);
    } finally {
      await bounded.stop();
    }
  });
});

describe('archive worker: a recording that cannot be archived now stays pending with its backoff', () => {
  const isRetrying = (record: { status: string; last_error?: string }) =>
    record.status === 'pending' && record.last_error !== undefined;

  it('Retrieve 404: pending with the error and a due time; nothing stored, the batch not failed', async () => {
    const recording = fake.addRecording({}, { retrieveFailures: { status: 404, times: 1 } });
    const invocations = worker.invocations;
    await deliver(webhook, fake, recording);
    const record = await waitForRecord(env.documents, env.tableName, idOf(recording), isRetrying);
    expect(record).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/^not_available/) });
    expect(Date.parse(record.next_attempt_at!)).toBeGreaterThan(Date.now());
    expect(record.lease_owner).toBeUndefined();
    expect(record.s3_key).toBeUndefined();
    // A per-recording failure is written to the record; the trigger saw a successful batch.
    expect(worker.invocations).toBe(invocations + 1);
    expect(worker.discarded).toEqual([]);
  });

  it('a truncated download is never stored', async () => {
    const recording = fake.addRecording({ sizeBytes: 1_000_000 }, { truncateAudioAt: 400_000 });
    await deliver(webhook, fake, recording);
    const record = await waitForRecord(env.documents, env.tableName, idOf(recording), isRetrying);
    expect(record.last_error).toMatch(/truncated|terminated|socket/i);
    expect(await objectKeysFor(env, idOf(recording))).toEqual([]);
  });

  it('refuses a recording_url outside ALLOWED_MEDIA_ORIGINS, and redirects that leave them', async () => {
    const foreign = fake.addRecording({}, { recordingUrl: `${trapOrigin}/a.mp3` });
    await deliver(webhook, fake, foreign);
    const record = await waitForRecord(env.documents, env.tableName, idOf(foreign), isRetrying);
    expect(record.last_error).toContain('ALLOWED_MEDIA_ORIGINS');

    const redirected = fake.addRecording({}, { mediaRedirectTo: `${trapOrigin}/b.mp3` });
    await deliver(webhook, fake, redirected);
    await waitForRecord(env.documents, env.tableName, idOf(redirected), isRetrying);
    expect(trapHits).toBe(0);
  });
});

describe('archive worker: infrastructure failures hand records back to the trigger', () => {
  it('the table unreachable: the batch is retried from the record that failed, then discarded; the record stays due', async () => {
    const own = await useEmulators();
    const broken = freshClients({ dynamo: 'http://127.0.0.1:9' });
    const settings = readArchiveSettings(webhookEnv(fake, own));
    let invocations = 0;
    const trigger = await startWorker(own.tableName, {
      maxRetryAttempts: 2,
      load: () =>
        Promise.resolve({
          archiveRecording: buildArchiveRecording(
            settings,
            { authId: fake.authId, authToken: fake.authToken },
            fake.authId,
            {
              documents: broken.documents,
              s3: own.s3,
              clock: { nowMs: () => Date.now() },
              vobiz: FAST_VOBIZ,
            },
          ),
        }),
      wrap: (handler) => async (event, context) => {
        invocations++;
        return handler(event, context);
      },
    });
    try {
      const recording = fake.addRecording();
      await deliver(webhookHandler(webhookEnv(fake, own)), fake, recording);
      const deadline = Date.now() + 30_000;
      while (trigger.discarded.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(trigger.discarded).toHaveLength(1);
      expect(trigger.discarded[0]!.DDBStreamBatchInfo.batchSize).toBe(1);
      expect(invocations).toBe(3); // the first attempt and two retries
      // Nothing is lost: the record is still pending and due, so the re-drive archives it later.
      const record = await waitForRecord(own.documents, own.tableName, idOf(recording), () => true);
      expect(record).toMatchObject({ status: 'pending', attempts: 0 });
      expect(record.next_attempt_at).toBeDefined();
    } finally {
      await trigger.stop();
    }
  });
});
