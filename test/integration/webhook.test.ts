import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/shared/domain/recording.js';
import { audioSha256, VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { httpEvent } from '../support/http-events.js';
import {
  countItems,
  deliver,
  invoke,
  PUBLIC_URL,
  readObject,
  readRecord,
  WEBHOOK_PATH,
  webhookEnv,
  webhookHandler,
} from '../support/webhook.js';

let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();
let handler: ReturnType<typeof webhookHandler>;
/** A server that must never be contacted: stands for any URL a caller (or a tampered response) supplies. */
let trap: Server;
let trapHits = 0;
let trapOrigin = '';

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
  handler = webhookHandler(webhookEnv(fake, env));
  trap = createServer((_req, res) => {
    trapHits++;
    res.end('owned');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await fake.stop();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

beforeEach(() => {
  trapHits = 0;
  fake.globalFaults = {};
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function expectStored(recording: FakeRecording) {
  const id = recording.metadata.recording_id as string;
  const record = await readRecord(env.documents, env.tableName, id);
  expect(record?.status).toBe('stored');
  const object = await readObject(env.s3, env.bucketName, record!.s3_key!);
  expect(object).toBeDefined();
  expect(object!.bytes.length).toBe(recording.sizeBytes);
  expect(sha256(object!.bytes)).toBe(audioSha256(id, recording.format, recording.sizeBytes));
  expect(record!.sha256).toBe(sha256(object!.bytes));
  expect(record!.size_bytes).toBe(recording.sizeBytes);
  return { record: record!, object: object! };
}

describe('webhook: a signed callback archives the recording', () => {
  it('stores an mp3: typed metadata in DynamoDB, exact bytes in S3 under the dated key', async () => {
    const recording = fake.addRecording({
      format: 'mp3',
      sizeBytes: 300_000,
      addTimeMs: Date.UTC(2025, 10, 6, 20, 19, 10, 751),
      utcOffsetMinutes: 330,
    });
    const id = recording.metadata.recording_id as string;
    const response = await deliver(handler, fake, recording);
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ recording_id: id, status: 'stored' });

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
    expect(record.lease_owner).toBeUndefined();
    expect(record.last_error).toBeUndefined();
  });

  it('stores a wav with audio/wav and nullable fields kept as null', async () => {
    const recording = fake.addRecording({ format: 'wav', sizeBytes: 100_044, recording_type: 'trunk' });
    const response = await deliver(handler, fake, recording);
    expect(response.statusCode).toBe(200);
    const { record, object } = await expectStored(recording);
    expect(object.contentType).toBe('audio/wav');
    expect(object.bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(record.recording_start_ms).toBeNull();
    expect(record.recording_end_ms).toBeNull();
    expect(record.s3_key).toMatch(/\.wav$/);
  });

  it('accepts a JSON body, a GET query-string callback and a base64-encoded body', async () => {
    const viaJson = fake.addRecording();
    expect((await deliver(handler, fake, viaJson, { encoding: 'json' })).statusCode).toBe(200);
    const viaGet = fake.addRecording();
    expect((await deliver(handler, fake, viaGet, { method: 'GET' })).statusCode).toBe(200);
    const viaBase64 = fake.addRecording();
    expect((await deliver(handler, fake, viaBase64, { base64: true })).statusCode).toBe(200);
    for (const recording of [viaJson, viaGet, viaBase64]) await expectStored(recording);
  });
});

describe('webhook: signatures', () => {
  it.each([[['V3']], [['V2']], [['V3', 'V2']]] as const)(
    'accepts %j signed with the auth token',
    async (schemes) => {
      const recording = fake.addRecording();
      const response = await deliver(handler, fake, recording, { schemes: [...schemes] });
      expect(response.statusCode).toBe(200);
    },
  );

  it('accepts MA-V3 and MA-V2 signatures when a parent token is configured, and refuses them otherwise', async () => {
    const parentToken = 'parent-account-token-xyz';
    const withParent = webhookHandler(webhookEnv(fake, env, { VOBIZ_PARENT_AUTH_TOKEN: parentToken }));
    const a = fake.addRecording();
    expect((await deliver(withParent, fake, a, { schemes: ['MA-V3'], parentToken })).statusCode).toBe(200);
    const b = fake.addRecording();
    expect((await deliver(withParent, fake, b, { schemes: ['MA-V2'], parentToken })).statusCode).toBe(200);
    const c = fake.addRecording();
    const refused = await deliver(handler, fake, c, { schemes: ['MA-V3'], parentToken });
    expect(refused.statusCode).toBe(401);
    expect(await readRecord(env.documents, env.tableName, c.metadata.recording_id as string)).toBeUndefined();
  });

  it('refuses missing and wrong signatures with 401 and writes nothing', async () => {
    const recording = fake.addRecording();
    const id = recording.metadata.recording_id as string;
    const missing = await invoke(
      handler,
      httpEvent({
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fake.callbackFields(recording)).toString(),
      }),
    );
    expect(missing.statusCode).toBe(401);
    expect(missing.json).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await deliver(handler, fake, recording, { token: 'not-the-token' });
    expect(wrong.statusCode).toBe(401);
    const otherUrl = await invoke(
      handler,
      httpEvent({
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...fake.sign('https://elsewhere.example.com/hook'),
        },
        body: new URLSearchParams(fake.callbackFields(recording)).toString(),
      }),
    );
    expect(otherUrl.statusCode).toBe(401);
    expect(await readRecord(env.documents, env.tableName, id)).toBeUndefined();
    expect(recording.retrieveCalls).toBe(0);
  });

  it('refuses a replayed nonce with 401, even when the replay keeps only one of the signatures', async () => {
    const recording = fake.addRecording();
    const headers = fake.sign(PUBLIC_URL, { schemes: ['V3', 'V2'] });
    const body = new URLSearchParams(fake.callbackFields(recording)).toString();
    const send = (h: Record<string, string>) =>
      invoke(
        handler,
        httpEvent({
          method: 'POST',
          path: WEBHOOK_PATH,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...h },
          body,
        }),
      );
    expect((await send(headers)).statusCode).toBe(200);
    const replay = await send(headers);
    expect(replay.statusCode).toBe(401);
    expect(replay.json).toMatchObject({ error: { message: expect.stringMatching(/replay/i) } });
    const v2Only = Object.fromEntries(Object.entries(headers).filter(([k]) => k.includes('-v2')));
    expect((await send(v2Only)).statusCode).toBe(401);
    expect(recording.retrieveCalls).toBe(1);
  });
});

describe('webhook: idempotency', () => {
  it('a repeated delivery answers 200 without downloading again', async () => {
    const recording = fake.addRecording();
    expect((await deliver(handler, fake, recording)).statusCode).toBe(200);
    const again = await deliver(handler, fake, recording);
    expect(again.statusCode).toBe(200);
    expect(again.json).toMatchObject({ status: 'stored' });
    expect(recording.mediaCalls).toBe(1);
    const { record } = await expectStored(recording);
    expect(record.attempts).toBe(1);
    // The duplicate did not touch the stored item: it is not back in the re-drive's `due` index.
    const raw = await env.documents.send(
      new GetCommand({
        TableName: env.tableName,
        Key: keys.recording(recording.metadata.recording_id as string),
        ConsistentRead: true,
      }),
    );
    expect(raw.Item?.gsi_due_pk).toBeUndefined();
    expect(raw.Item?.next_attempt_at).toBeUndefined();
  });

  it('20 concurrent deliveries end as one record and one stored object', async () => {
    const recording = fake.addRecording({ sizeBytes: 2_000_000 });
    const id = recording.metadata.recording_id as string;
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(handler, fake, recording)));
    for (const response of responses) {
      expect([200, 202]).toContain(response.statusCode);
    }
    expect(responses.filter((r) => r.statusCode === 200).length).toBeGreaterThanOrEqual(1);
    expect(recording.mediaCalls).toBe(1);
    await expectStored(recording);
    const objects = await env.s3.send(
      new ListObjectsV2Command({ Bucket: env.bucketName, Prefix: `recordings/` }),
    );
    expect(objects.Contents?.filter((o) => o.Key?.includes(id))).toHaveLength(1);
  });
});

describe('webhook: failures leave the record pending, never half-stored', () => {
  it('Retrieve 404 answers 202 and records the attempt; a later delivery stores it', async () => {
    const recording = fake.addRecording({}, { retrieveFailures: { status: 404, times: 1 } });
    const id = recording.metadata.recording_id as string;
    const first = await deliver(handler, fake, recording);
    expect(first.statusCode).toBe(202);
    expect(first.json).toEqual({ recording_id: id, status: 'pending' });
    const pending = await readRecord(env.documents, env.tableName, id);
    expect(pending).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: expect.stringMatching(/^not_available/),
    });
    expect(Date.parse(pending!.next_attempt_at!)).toBeGreaterThan(Date.now());
    expect(pending!.lease_owner).toBeUndefined();
    const second = await deliver(handler, fake, recording);
    expect(second.statusCode).toBe(200);
    const { record } = await expectStored(recording);
    expect(record.attempts).toBe(2);
    expect(record.next_attempt_at).toBeUndefined();
  });

  it('Retrieve 500 is retried within the call; persistent 500s leave it pending', async () => {
    const flaky = fake.addRecording({}, { retrieveFailures: { status: 500, times: 2 } });
    expect((await deliver(handler, fake, flaky)).statusCode).toBe(200);
    expect(flaky.retrieveCalls).toBe(3);

    const down = fake.addRecording({}, { retrieveFailures: { status: 503, times: 5 } });
    const response = await deliver(handler, fake, down);
    expect(response.statusCode).toBe(202);
    const record = await readRecord(env.documents, env.tableName, down.metadata.recording_id as string);
    expect(record).toMatchObject({ status: 'pending', last_error: expect.stringContaining('HTTP 503') });
    expect(record!.s3_key).toBeUndefined();
  });

  it('a truncated download is never stored; the next delivery stores the right bytes', async () => {
    const recording = fake.addRecording({ sizeBytes: 1_000_000 }, { truncateAudioAt: 400_000 });
    const id = recording.metadata.recording_id as string;
    const first = await deliver(handler, fake, recording);
    expect(first.statusCode).toBe(202);
    const record = await readRecord(env.documents, env.tableName, id);
    expect(record?.status).toBe('pending');
    expect(record?.s3_key).toBeUndefined();
    const objects = await env.s3.send(
      new ListObjectsV2Command({ Bucket: env.bucketName, Prefix: 'recordings/' }),
    );
    expect(objects.Contents?.some((o) => o.Key?.includes(id)) ?? false).toBe(false);

    recording.faults = {};
    expect((await deliver(handler, fake, recording)).statusCode).toBe(200);
    await expectStored(recording);
  });

  it('never fetches the RecordUrl of a callback: the audio comes from the API response', async () => {
    const recording = fake.addRecording();
    const response = await deliver(handler, fake, recording, {
      fields: { RecordUrl: `${trapOrigin}/steal.mp3` },
    });
    expect(response.statusCode).toBe(200);
    expect(trapHits).toBe(0);
    await expectStored(recording);
  });

  it('refuses a recording_url outside ALLOWED_MEDIA_ORIGINS, and redirects that leave them', async () => {
    const foreign = fake.addRecording({}, { recordingUrl: `${trapOrigin}/a.mp3` });
    const response = await deliver(handler, fake, foreign);
    expect(response.statusCode).toBe(202);
    const record = await readRecord(env.documents, env.tableName, foreign.metadata.recording_id as string);
    expect(record).toMatchObject({
      status: 'pending',
      last_error: expect.stringContaining('ALLOWED_MEDIA_ORIGINS'),
    });

    const redirected = fake.addRecording({}, { mediaRedirectTo: `${trapOrigin}/b.mp3` });
    expect((await deliver(handler, fake, redirected)).statusCode).toBe(202);
    expect(trapHits).toBe(0);
  });
});

describe('webhook: bad input is refused with a clear 4xx and writes nothing', () => {
  it.each([
    ['../x', 'path traversal'],
    ['a/b', 'a slash'],
    ['', 'empty'],
    ['x'.repeat(300), '300 characters'],
    ['abc def', 'a space'],
    ['abc.mp3', 'a dot'],
  ])('RecordingID %#: %s (%s) → 400', async (recordingId) => {
    const before = await countItems(env.documents, env.tableName);
    const response = await deliver(handler, fake, undefined, { fields: { RecordingID: recordingId } });
    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({
      error: { code: 'validation_error', message: expect.stringContaining('RecordingID') },
    });
    expect(await countItems(env.documents, env.tableName)).toBe(before);
  });

  it('an oversized body is 413, garbage JSON 400, another content type 415, a missing id 400', async () => {
    const before = await countItems(env.documents, env.tableName);
    const big = await deliver(handler, fake, undefined, {
      fields: { RecordingID: 'abc', Pad: 'x'.repeat(70 * 1024) },
    });
    expect(big.statusCode).toBe(413);
    const signed = fake.sign(PUBLIC_URL);
    const post = (contentType: string, body: string) =>
      invoke(
        handler,
        httpEvent({
          method: 'POST',
          path: WEBHOOK_PATH,
          headers: { 'content-type': contentType, ...signed },
          body,
        }),
      );
    const garbage = await post('application/json', '{"RecordingID": ');
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json).toMatchObject({ error: { code: 'validation_error' } });
    expect((await post('application/json', '["abc"]')).statusCode).toBe(400);
    const text = await post('text/plain', 'RecordingID=abc');
    expect(text.statusCode).toBe(415);
    expect(text.json).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const noId = await deliver(handler, fake, undefined, { fields: { CallUUID: 'x' } });
    expect(noId.statusCode).toBe(400);
    const conflicting = await post('application/x-www-form-urlencoded', 'RecordingID=abc&RecordingID=def');
    expect(conflicting.statusCode).toBe(400);
    expect(await countItems(env.documents, env.tableName)).toBe(before);
  });

  it('other methods get 405', async () => {
    const response = await invoke(
      handler,
      httpEvent({ method: 'PUT', path: WEBHOOK_PATH, headers: fake.sign(PUBLIC_URL) }),
    );
    expect(response.statusCode).toBe(405);
    expect(response.headers?.allow).toBe('POST, GET');
  });
});
