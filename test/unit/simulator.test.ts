import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignatures } from '../../functions/shared/domain/signature.js';
import { formatBytes, parseArgs, parseSize } from '../../local/simulate.js';
import { VobizSimulator, type SimulatedRecording } from '../../local/simulator.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { VobizClient } from '../../functions/shared/adapters/vobiz-client.js';
import { parent, token, url as signedUrl, v2Nonce, v3Nonce, VECTORS } from '../support/signature-vectors.js';

const running: VobizSimulator[] = [];
const directories: string[] = [];

async function start(options: ConstructorParameters<typeof VobizSimulator>[0] = {}): Promise<VobizSimulator> {
  const simulator = await new VobizSimulator(options).start();
  running.push(simulator);
  return simulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function create(simulator: VobizSimulator, body: unknown): Promise<Response> {
  return fetch(`${simulator.baseUrl}/_simulator/recordings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('the Vobiz simulator', () => {
  it('creates recordings with callbacks signed for the given URL, rotating V3, V2 and MA schemes', async () => {
    const simulator = await start();
    const url = 'http://127.0.0.1:3000/webhooks/vobiz/recording';
    const response = await create(simulator, {
      count: 4,
      format: 'mixed',
      size_bytes: 2048,
      callback_url: url,
    });
    expect(response.status).toBe(201);
    const { recordings } = (await response.json()) as { recordings: SimulatedRecording[] };
    expect(recordings.map((r) => r.format)).toEqual(['mp3', 'wav', 'mp3', 'wav']);
    expect(recordings.map((r) => r.callback!.schemes)).toEqual([
      ['V3', 'V2'],
      ['V3'],
      ['V2'],
      ['MA-V3', 'MA-V2'],
    ]);
    for (const recording of recordings) {
      const check = verifySignatures({
        headers: recording.callback!.headers,
        baseUrl: url,
        authToken: simulator.authToken,
        parentAuthToken: simulator.parentAuthToken,
      });
      expect(check.ok).toBe(true);
      expect(new URLSearchParams(recording.callback!.body).get('RecordingID')).toBe(recording.recording_id);
    }
  });

  it('signs MA-only callbacks with the documented headers only: the V3/V2 nonce headers, no MA nonce header', async () => {
    const simulator = await start();
    const response = await create(simulator, {
      size_bytes: 2048,
      callback_url: 'http://127.0.0.1:3000/hook',
      schemes: ['MA-V3', 'MA-V2'],
    });
    const [recording] = ((await response.json()) as { recordings: SimulatedRecording[] }).recordings;
    const headers = recording!.callback!.headers;
    expect(Object.keys(headers).sort()).toEqual([
      'content-type',
      'x-vobiz-signature-ma-v2',
      'x-vobiz-signature-ma-v3',
      'x-vobiz-signature-v2-nonce',
      'x-vobiz-signature-v3-nonce',
    ]);
  });

  it('serves Retrieve Recording flat and List All Recordings with meta and objects, as documented', async () => {
    const simulator = await start();
    const { recordings } = (await (await create(simulator, { count: 3, size_bytes: 1000 })).json()) as {
      recordings: SimulatedRecording[];
    };
    const auth = { 'X-Auth-ID': simulator.authId, 'X-Auth-Token': simulator.authToken };
    const base = `${simulator.baseUrl}/api/v1/Account/${simulator.authId}/Recording/`;

    const one = await fetch(`${base}${recordings[0]!.recording_id}/`, { headers: auth });
    expect(one.status).toBe(200);
    const body = (await one.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      recording_id: recordings[0]!.recording_id,
      recording_format: 'mp3',
      recording_url: recordings[0]!.recording_url,
    });
    expect(body.recording_duration_ms).toMatch(/^\d+\.00000$/);
    expect(body.add_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+\d\d:\d\d$/);

    const list = (await (await fetch(`${base}?limit=2`, { headers: auth })).json()) as {
      meta: Record<string, unknown>;
      objects: unknown[];
    };
    expect(list.meta).toMatchObject({ limit: 2, offset: 0, total_count: 3, previous: null });
    expect(list.objects).toHaveLength(2);

    expect((await fetch(`${base}${recordings[0]!.recording_id}/`)).status).toBe(401);
    expect((await fetch(`${base}no-such-id/`, { headers: auth })).status).toBe(404);

    const audio = Buffer.from(await (await fetch(recordings[0]!.recording_url)).arrayBuffer());
    expect(audio.length).toBe(1000);
    expect(createHash('sha256').update(audio).digest('hex')).toBe(recordings[0]!.sha256);
  });

  it('refuses malformed admin requests with 400', async () => {
    const simulator = await start();
    expect((await create(simulator, { count: 0 })).status).toBe(400);
    expect((await create(simulator, { format: 'ogg' })).status).toBe(400);
    expect((await create(simulator, { size_bytes: 1 })).status).toBe(400);
    expect((await create(simulator, { schemes: ['V1'] })).status).toBe(400);
    const notJson = await fetch(`${simulator.baseUrl}/_simulator/recordings`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('keeps its recordings across a restart when given a state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulator-'));
    directories.push(dir);
    const stateFile = join(dir, 'simulator.json');
    const first = await start({ stateFile });
    const { recordings } = (await (await create(first, { count: 2, size_bytes: 5000 })).json()) as {
      recordings: SimulatedRecording[];
    };
    await first.stop();

    const second = await start({ stateFile });
    expect(second.size).toBe(2);
    const listed = (await (await fetch(`${second.baseUrl}/_simulator/recordings`)).json()) as {
      recordings: SimulatedRecording[];
    };
    expect(listed.recordings.map((r) => [r.recording_id, r.sha256])).toEqual(
      recordings.map((r) => [r.recording_id, r.sha256]),
    );
    const metadata = second.recording(recordings[0]!.recording_id)!.metadata;
    expect(metadata.add_time).toBe(first.recording(recordings[0]!.recording_id)!.metadata.add_time);
  });
});

describe('Delete a Recording and Bulk Delete (fake and simulator)', () => {
  const fakes: VobizFake[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });
  async function startFake() {
    const fake = await new VobizFake().start();
    fakes.push(fake);
    return {
      fake,
      client: new VobizClient({
        baseUrl: fake.baseUrl,
        credentials: { authId: fake.authId, authToken: fake.authToken },
        baseDelayMs: 1,
        maxDelayMs: 5,
      }),
    };
  }

  it('answers 204 once, then 404; the recording is gone from Retrieve, List and the audio; calls are counted', async () => {
    const { fake, client } = await startFake();
    const recording = fake.addRecording();
    const id = recording.metadata.recording_id as string;
    expect(await client.deleteRecording(id)).toBe('deleted');
    expect(await client.deleteRecording(id)).toBe('absent');
    expect(fake.deleteCalls).toEqual([
      { recordingId: id, status: 204 },
      { recordingId: id, status: 404 },
    ]);
    expect(fake.deletesOf(id)).toBe(2);
    await expect(client.getRecording(id)).rejects.toMatchObject({ name: 'RecordingNotAvailableError' });
    expect((await client.listRecordings({ limit: 10, offset: 0 })).recordings).toEqual([]);
    expect((await fetch(fake.mediaUrl(id, 'mp3'))).status).toBe(404);
  });

  it('lists newest first by the instant of add_time, whatever offset each is rendered in', async () => {
    const { fake, client } = await startFake();
    const now = Date.now();
    // Rendered in +05:30, four hours ago reads "later" than now in +00:00: the order must not follow the text.
    const older = fake.addRecording({ addTimeMs: now - 4 * 3_600_000, utcOffsetMinutes: 330 });
    const newest = fake.addRecording({ addTimeMs: now });
    const middle = fake.addRecording({ addTimeMs: now - 60_000, utcOffsetMinutes: 330 });
    const page = await client.listRecordings({ limit: 10, offset: 0 });
    expect(page.recordings.map((r) => r.recording_id)).toEqual(
      [newest, middle, older].map((r) => r.metadata.recording_id),
    );
  });

  it('answers 429 with Retry-After and 5xx as configured, and waits the configured latency', async () => {
    const { fake, client } = await startFake();
    const id = fake.addRecording().metadata.recording_id as string;
    fake.api = { deleteFailures: { status: 429, times: 1, retryAfterSeconds: 0 }, latencyMs: 30 };
    const started = performance.now();
    expect(await client.deleteRecording(id)).toBe('deleted');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(fake.deleteCalls.map((c) => c.status)).toEqual([429, 204]);
  });

  it('Bulk Delete accepts filters, answers 202 and removes the matching recordings later', async () => {
    const { fake, client } = await startFake();
    fake.api = { bulkDeleteDelayMs: 30 };
    const a = fake.addRecording({ call_uuid: 'call-a' });
    const b = fake.addRecording({ call_uuid: 'call-b', from_number: '+919800000001' });
    await client.bulkDelete({ call_uuid: 'call-a' });
    expect(fake.recording(a.metadata.recording_id as string)).toBeDefined();
    for (let i = 0; i < 200 && fake.recording(a.metadata.recording_id as string); i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(fake.recording(a.metadata.recording_id as string)).toBeUndefined();
    expect(fake.recording(b.metadata.recording_id as string)).toBeDefined();
    expect(fake.bulkDeleteCalls).toEqual([
      { filters: { call_uuid: 'call-a' }, deleted: [a.metadata.recording_id] },
    ]);
    const refused = await fetch(`${fake.baseUrl}/api/v1/Account/${fake.authId}/Recording/BulkDelete/`, {
      method: 'DELETE',
      headers: { 'X-Auth-ID': fake.authId, 'X-Auth-Token': fake.authToken },
    });
    expect(refused.status).toBe(400);
  });

  it('the simulator forgets a deleted recording across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-delete-'));
    directories.push(dir);
    const stateFile = join(dir, 'simulator.json');
    const first = await start({ stateFile });
    const [kept, deleted] = first.createRecordings({ count: 2 });
    const response = await fetch(
      `${first.baseUrl}/api/v1/Account/${first.authId}/Recording/${deleted!.recording_id}/`,
      {
        method: 'DELETE',
        headers: { 'X-Auth-ID': first.authId, 'X-Auth-Token': first.authToken },
      },
    );
    expect(response.status).toBe(204);
    await first.stop();
    const second = await start({ stateFile });
    expect(second.recording(kept!.recording_id)).toBeDefined();
    expect(second.recording(deleted!.recording_id)).toBeUndefined();
  });
});

describe('the Vobiz fake signs as documented', () => {
  const fake = new VobizFake({ authToken: token });

  it('matches the independently computed vectors, V3 and MA-V3 sharing the one V3 nonce header', () => {
    expect(fake.sign(signedUrl, { schemes: ['V3', 'MA-V3'], parentToken: parent, nonce: v3Nonce })).toEqual({
      'x-vobiz-signature-v3': VECTORS.V3,
      'x-vobiz-signature-v3-nonce': v3Nonce,
      'x-vobiz-signature-ma-v3': VECTORS['MA-V3'],
    });
    expect(
      fake.sign(`${signedUrl}?q=1`, { schemes: ['MA-V2', 'V2'], parentToken: parent, nonce: v2Nonce }),
    ).toEqual({
      'x-vobiz-signature-v2': VECTORS.V2,
      'x-vobiz-signature-v2-nonce': v2Nonce,
      'x-vobiz-signature-ma-v2': VECTORS['MA-V2'],
    });
  });

  it('uses one nonce per version, shared by the parent signature', () => {
    const headers = fake.sign(signedUrl, { schemes: ['V3', 'V2', 'MA-V3', 'MA-V2'], parentToken: parent });
    expect(headers['x-vobiz-signature-v3-nonce']).toMatch(/^\d{20}$/);
    expect(headers['x-vobiz-signature-v2-nonce']).toMatch(/^\d{20}$/);
    expect(Object.keys(headers)).toHaveLength(6);
  });
});

describe('simulate command arguments', () => {
  it('parses sizes in bytes, KiB and MiB', () => {
    expect(parseSize('5000')).toBe(5000);
    expect(parseSize('200kb')).toBe(204_800);
    expect(parseSize('1.5MB')).toBe(1_572_864);
    expect(() => parseSize('big')).toThrow(/--size/);
    expect(formatBytes(204_800)).toBe('200.0 KiB');
  });

  it('reads flags with defaults and refuses unknown ones', () => {
    expect(parseArgs([], {})).toEqual({
      count: 1,
      format: 'mp3',
      sizeBytes: 204_800,
      port: 3000,
      timeoutMs: 60_000,
    });
    expect(parseArgs(['--count', '5', '--format=wav', '--size', '64kb', '--port', '3100'], {})).toMatchObject(
      {
        count: 5,
        format: 'wav',
        sizeBytes: 65_536,
        port: 3100,
      },
    );
    expect(parseArgs(['--help'], {})).toBe('help');
    expect(() => parseArgs(['--count', '0'], {})).toThrow(/--count/);
    expect(() => parseArgs(['--nope'], {})).toThrow(/Unknown option/);
  });
});
