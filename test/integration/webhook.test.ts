import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys, toItem } from '../../functions/shared/domain/recording.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { httpEvent } from '../support/http-events.js';
import {
  countItems,
  deliver,
  invoke,
  PUBLIC_URL,
  readRecord,
  WEBHOOK_PATH,
  webhookEnv,
  webhookHandler,
} from '../support/webhook.js';

/**
 * The public webhook on its own (no archive worker runs here): it proves and records, and answers 200
 * with the record's status at once. What the worker does with the record is in archive-worker.test.ts.
 */
let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();
let handler: ReturnType<typeof webhookHandler>;

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
  handler = webhookHandler(webhookEnv(fake, env));
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.globalFaults = {};
});

const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;

/** Puts a record in a given state, as the worker would have left it. */
async function setStatus(id: string, status: 'stored' | 'failed') {
  const record = (await readRecord(env.documents, env.tableName, id))!;
  const { next_attempt_at: _next, ...rest } = record;
  await env.documents.send(
    new PutCommand({ TableName: env.tableName, Item: toItem({ ...rest, status, attempts: 1 }) }),
  );
}

/** The raw request of one delivery, so that exactly the same delivery can be sent again. */
function delivery(recording: FakeRecording, headers: Record<string, string>) {
  return httpEvent({
    method: 'POST',
    path: WEBHOOK_PATH,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fake.callbackFields(recording)).toString(),
  });
}

describe('webhook: a signed callback is recorded and answered 200 at once', () => {
  it('answers 200 pending and records a pending record and its nonces, without calling Vobiz or S3', async () => {
    const recording = fake.addRecording({ sizeBytes: 50_000_000 });
    const id = idOf(recording);
    const before = Date.now();
    const response = await deliver(handler, fake, recording, { schemes: ['V3', 'V2'] });
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ recording_id: id, status: 'pending' });

    const record = await readRecord(env.documents, env.tableName, id);
    expect(record).toMatchObject({
      recording_id: id,
      account_id: fake.authId,
      status: 'pending',
      attempts: 0,
    });
    // Due for the re-drive only as a safety net, long after the worker normally finished.
    expect(Date.parse(record!.next_attempt_at!)).toBeGreaterThanOrEqual(before + 10 * 60_000);
    expect(await countItems(env.documents, env.tableName)).toBeGreaterThanOrEqual(3);
    expect(fake.requests).toEqual([]);
    expect(recording.retrieveCalls + recording.mediaCalls).toBe(0);
    const objects = await env.s3.send(new ListObjectsV2Command({ Bucket: env.bucketName }));
    expect(objects.Contents ?? []).toEqual([]);
  });

  it('answers 200 while Vobiz is down: the answer never depends on Vobiz', async () => {
    fake.globalFaults = { retrieveFailures: { status: 503, times: 1000 }, retrieveDelayMs: 5_000 };
    const recording = fake.addRecording();
    const response = await deliver(handler, fake, recording);
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'pending' });
  });

  it('accepts a JSON body, a GET query-string callback and a base64-encoded body', async () => {
    for (const options of [{ encoding: 'json' }, { method: 'GET' }, { base64: true }] as const) {
      const recording = fake.addRecording();
      const response = await deliver(handler, fake, recording, options);
      expect(response.statusCode).toBe(200);
      expect((await readRecord(env.documents, env.tableName, idOf(recording)))?.status).toBe('pending');
    }
  });

  it('answers with the current status of a record that already exists: stored, failed', async () => {
    const stored = fake.addRecording();
    await deliver(handler, fake, stored);
    await setStatus(idOf(stored), 'stored');
    const failed = fake.addRecording();
    await deliver(handler, fake, failed);
    await setStatus(idOf(failed), 'failed');

    const a = await deliver(handler, fake, stored);
    expect(a.statusCode).toBe(200);
    expect(a.json).toEqual({ recording_id: idOf(stored), status: 'stored' });
    const b = await deliver(handler, fake, failed);
    expect(b.statusCode).toBe(200);
    expect(b.json).toEqual({ recording_id: idOf(failed), status: 'failed' });
    // The duplicate did not touch the stored item: it is not back in the re-drive's `due` index.
    const raw = await env.documents.send(
      new GetCommand({ TableName: env.tableName, Key: keys.recording(idOf(stored)), ConsistentRead: true }),
    );
    expect(raw.Item).toMatchObject({ status: 'stored', attempts: 1 });
    expect(raw.Item?.gsi_due_pk).toBeUndefined();
  });

  it('20 concurrent deliveries of one recording are all answered 200 and end as one record', async () => {
    const recording = fake.addRecording();
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(handler, fake, recording)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(await readRecord(env.documents, env.tableName, idOf(recording))).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
  });
});

describe('webhook: signatures and nonces', () => {
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
    expect(await readRecord(env.documents, env.tableName, idOf(c))).toBeUndefined();
  });

  it('refuses missing and wrong signatures with 401, a body that reveals nothing, and writes nothing', async () => {
    const recording = fake.addRecording();
    const before = await countItems(env.documents, env.tableName);
    const missing = await invoke(handler, delivery(recording, {}));
    const wrong = await deliver(handler, fake, recording, { token: 'not-the-token' });
    const otherUrl = await invoke(
      handler,
      delivery(recording, fake.sign('https://elsewhere.example.com/hook')),
    );
    const parentOnly = await deliver(handler, fake, recording, { schemes: ['MA-V3'], parentToken: 'p' });
    for (const response of [missing, wrong, otherUrl, parentOnly]) {
      expect(response.statusCode).toBe(401);
      // One generic message: nothing about the schemes tried or whether a parent token is configured.
      expect(response.json).toEqual({
        error: { code: 'unauthorized', message: 'Missing or invalid Vobiz signature' },
      });
    }
    expect(await countItems(env.documents, env.tableName)).toBe(before);
  });

  it('the same delivery again (same nonce, same recording) is a retry: 200 with the status, nothing new', async () => {
    const recording = fake.addRecording();
    const headers = fake.sign(PUBLIC_URL, { schemes: ['V3', 'V2'] });
    expect((await invoke(handler, delivery(recording, headers))).statusCode).toBe(200);
    const items = await countItems(env.documents, env.tableName);
    const first = await readRecord(env.documents, env.tableName, idOf(recording));

    const retry = await invoke(handler, delivery(recording, headers));
    expect(retry.statusCode).toBe(200);
    expect(retry.json).toEqual({ recording_id: idOf(recording), status: 'pending' });
    // A retry that kept only one of the two signatures is the same delivery too.
    const v2Only = Object.fromEntries(Object.entries(headers).filter(([k]) => k.includes('-v2')));
    expect((await invoke(handler, delivery(recording, v2Only))).statusCode).toBe(200);
    expect(await countItems(env.documents, env.tableName)).toBe(items);
    expect(await readRecord(env.documents, env.tableName, idOf(recording))).toEqual(first);

    await setStatus(idOf(recording), 'stored');
    const later = await invoke(handler, delivery(recording, headers));
    expect(later.json).toEqual({ recording_id: idOf(recording), status: 'stored' });
  });

  it('a nonce consumed for one recording and presented with another RecordingID is a captured signature: 401', async () => {
    const recording = fake.addRecording();
    const other = fake.addRecording();
    const headers = fake.sign(PUBLIC_URL, { schemes: ['V3'] });
    expect((await invoke(handler, delivery(recording, headers))).statusCode).toBe(200);
    const items = await countItems(env.documents, env.tableName);
    const reused = await invoke(handler, delivery(other, headers));
    expect(reused.statusCode).toBe(401);
    expect(reused.json).toMatchObject({ error: { code: 'unauthorized' } });
    expect(await readRecord(env.documents, env.tableName, idOf(other))).toBeUndefined();
    expect(await countItems(env.documents, env.tableName)).toBe(items);
  });

  it('remembers which recording each nonce was consumed for', async () => {
    const recording = fake.addRecording();
    const headers = fake.sign(PUBLIC_URL, { schemes: ['V3'] });
    await invoke(handler, delivery(recording, headers));
    const nonce = headers['x-vobiz-signature-v3-nonce']!;
    const item = await env.documents.send(
      new GetCommand({ TableName: env.tableName, Key: keys.nonce(nonce), ConsistentRead: true }),
    );
    expect(item.Item).toMatchObject({ recording_id: idOf(recording), expires_at: expect.any(Number) });
  });
});

describe('webhook: 5xx only when the notification could not be recorded', () => {
  it('DynamoDB unreachable: 500 with a body that reveals nothing, so Vobiz retries', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9'; // nothing listens on the discard port
    try {
      const unreachable = webhookHandler(webhookEnv(fake, env));
      const response = await deliver(unreachable, fake, fake.addRecording());
      expect(response.statusCode).toBe(500);
      expect(response.json).toEqual({
        error: { code: 'internal_error', message: 'Internal error; the request can be retried.' },
      });
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
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

  it('an oversized body is 413, garbage JSON 400, another content type 415 (even unsigned), a missing id 400', async () => {
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
    // The content type is checked before the signature: it needs no secret.
    const unsigned = await invoke(
      handler,
      httpEvent({
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: { 'content-type': 'text/xml' },
        body: '<x/>',
      }),
    );
    expect(unsigned.statusCode).toBe(415);
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
