import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CursorCodec } from '../../functions/lookup/cursor.js';
import { renderRecording, type RecordingRecord } from '../../functions/shared/domain/recording.js';
import { useEmulators } from '../support/aws.js';
import { listAll, loadLookupHandler, type LookupResponse } from '../support/lookup-client.js';
import type { HttpEventInput } from '../support/http-events.js';
import { pendingWithoutMetadata, seedRecordings, storedRecording } from '../support/recording-dataset.js';

const CURSOR_KEY = 'lookup-integration-key-0123456789abcdefghij';
const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const T1 = T0 + 3_600_000;

let call: (input: HttpEventInput) => Promise<LookupResponse>;
let audioBytes: Buffer;
let stored: RecordingRecord;

/** Records at and around the two window edges, ids named by their offset from the edge. */
const edgeRecords = [T0, T1].flatMap((edge, e) =>
  [-1, 0, 1].map((delta) =>
    storedRecording({
      recording_id: `edge${e}_${delta < 0 ? 'm1' : delta === 0 ? '0' : 'p1'}`,
      add_time_ms: edge + delta,
      call_uuid: 'edge-call',
    }),
  ),
);

beforeAll(async () => {
  const { tableName, bucketName, documents, s3 } = await useEmulators();
  audioBytes = randomBytes(200_000);
  stored = storedRecording({
    recording_id: 'rec_audio-1',
    add_time_ms: Date.UTC(2025, 1, 3, 8, 15, 30, 250),
    call_uuid: 'call-audio',
    s3_bucket: bucketName,
    size_bytes: audioBytes.length,
    sha256: createHash('sha256').update(audioBytes).digest('hex'),
    lease_owner: 'worker-1',
    lease_until_ms: 1,
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: bucketName,
      Key: stored.s3_key,
      Body: audioBytes,
      ContentType: 'audio/mpeg',
    }),
  );
  const pending = {
    ...storedRecording({ recording_id: 'rec_pending', add_time_ms: T0 - 50_000 }),
    status: 'pending' as const,
  };
  await seedRecordings(documents, tableName, [
    stored,
    pending,
    pendingWithoutMetadata('rec_nometa', T0 - 60_000),
    ...edgeRecords,
  ]);
  call = await loadLookupHandler({
    TABLE_NAME: tableName,
    BUCKET_NAME: bucketName,
    CURSOR_SIGNING_KEY: CURSOR_KEY,
    PRESIGN_TTL_SECONDS: '120',
  });
});

describe('GET /recordings/{recording_id}', () => {
  it('returns the record in its public shape: typed numbers, ISO times, no internal attributes', async () => {
    const response = await call({ path: '/recordings/rec_audio-1' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const { lease_owner: _owner, lease_until_ms: _until, ...visible } = stored;
    expect(response.body).toEqual(renderRecording(stored));
    expect(response.body).toEqual(visible);
    expect(response.body.recording_duration_ms).toBeTypeOf('number');
    expect(response.body.add_time).toBe('2025-02-03T08:15:30.250Z');
    expect(
      Object.keys(response.body).filter((key) => key === 'pk' || key === 'sk' || key.startsWith('gsi_')),
    ).toEqual([]);
  });

  it('answers the same when API Gateway names the route and passes the path parameter', async () => {
    const response = await call({
      path: '/recordings/rec_audio-1',
      routeKey: 'GET /recordings/{recording_id}',
      pathParameters: { recording_id: 'rec_audio-1' },
    });
    expect(response.status).toBe(200);
    expect(response.body.recording_id).toBe('rec_audio-1');
  });

  it('is 404 for an unknown recording and 400 for an id that cannot be one', async () => {
    expect(await call({ path: '/recordings/nope' })).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    for (const bad of ['bad.id', '-lead', 'x'.repeat(129), '%2F..%2Fetc', 'a%20b']) {
      const response = await call({ path: `/recordings/${bad}` });
      expect(response.status, bad).toBe(400);
      expect(response.body.error.code).toBe('validation_error');
      expect(response.body.error.message).toMatch(/recording_id/);
    }
  });
});

describe('GET /recordings/{recording_id}/audio', () => {
  it('redirects to a presigned URL that downloads exactly the stored bytes', async () => {
    const response = await call({ path: '/recordings/rec_audio-1/audio' });
    expect(response.status).toBe(302);
    expect(response.headers['cache-control']).toBe('no-store');
    const location = new URL(response.headers.location!);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('120');
    const download = await fetch(location);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(audioBytes.length);
    expect(bytes.equals(audioBytes)).toBe(true);
  });

  it('is 409 not_stored while the audio is not archived, 404 when unknown', async () => {
    for (const id of ['rec_pending', 'rec_nometa']) {
      const response = await call({ path: `/recordings/${id}/audio` });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('not_stored');
    }
    expect((await call({ path: '/recordings/missing/audio' })).status).toBe(404);
  });

  it('answers {url, expires_at} as JSON to a caller that accepts it (a browser cannot read a redirect)', async () => {
    const before = Date.now();
    const response = await call({
      path: '/recordings/rec_audio-1/audio',
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(response.body).sort()).toEqual(['expires_at', 'url']);
    expect(Date.parse(response.body.expires_at)).toBeGreaterThanOrEqual(before + 120_000);
    const download = await fetch(response.body.url);
    expect(download.headers.get('content-disposition')).toBeNull();
    expect(Buffer.from(await download.arrayBuffer()).equals(audioBytes)).toBe(true);
  });

  it('makes a download link that S3 serves as an attachment under the recording file name', async () => {
    const response = await call({
      path: '/recordings/rec_audio-1/audio',
      query: { download: 'true' },
      headers: { accept: 'application/json' },
    });
    const expected = `20250203T081530Z_${stored.from_number}_${stored.to_number}_rec_audio-1.mp3`;
    expect(response.body.filename).toBe(expected);
    const download = await fetch(response.body.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${expected}"`);
    expect(Buffer.from(await download.arrayBuffer()).equals(audioBytes)).toBe(true);

    const named = await call({ path: '/recordings/rec_audio-1/audio', query: { filename: 'complaint.mp3' } });
    expect(named.status).toBe(302);
    const renamed = await fetch(named.headers.location!);
    expect(renamed.headers.get('content-disposition')).toBe('attachment; filename="complaint.mp3"');
  });

  it('is 400 for a file name that could break the header or name a path', async () => {
    for (const filename of ['a";b.mp3', 'dir/x.mp3', '']) {
      const response = await call({ path: '/recordings/rec_audio-1/audio', query: { filename } });
      expect(response.status, filename).toBe(400);
      expect(response.body.error.message).toMatch(/filename/);
    }
  });
});

describe('routing', () => {
  it('answers unknown paths with a JSON 404 and other methods with 405', async () => {
    for (const path of ['/', '/recordings/a/b', '/recordings/a/audio/x', '/other']) {
      const response = await call({ path });
      expect(response.status, path).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const response = await call({ method, path: '/recordings' });
      expect(response.status).toBe(405);
      expect(response.body.error.code).toBe('method_not_allowed');
      expect(response.headers.allow).toBe('GET');
    }
  });
});

describe('GET /recordings parameters', () => {
  const rejected: [string, Record<string, string> | string, RegExp][] = [
    ['limit 0', { limit: '0' }, /limit/],
    ['limit 101', { limit: '101' }, /limit/],
    ['limit not a number', { limit: 'ten' }, /limit/],
    ['unknown parameter', { colour: 'red', size: 'xl' }, /colour, size/],
    ['two filters', { call_uuid: 'abc', from_number: '+919800000001' }, /at most one/],
    [
      'since after until',
      { since: '2025-03-02T00:00:00Z', until: '2025-03-01T00:00:00Z' },
      /since must not be after until/,
    ],
    ['bad date', { since: 'yesterday' }, /since/],
    ['impossible date', { until: '2025-02-30T00:00:00Z' }, /until/],
    ['date without offset', { since: '2025-03-01T00:00:00' }, /since/],
    ['a year, not epoch ms', { since: '2025' }, /^since must be .*epoch milliseconds with 12 to 15 digits/],
    ['a compact date, not epoch ms', { until: '20251101' }, /^until must be/],
    ['bad status', { status: 'archived' }, /status must be one of pending, stored, failed/],
    ['bad phone number', { to_number: '+91-98' }, /to_number/],
    ['repeated parameter', 'status=stored&status=failed', /more than once: status/],
    ['empty cursor', { cursor: '' }, /cursor/],
  ];
  it.each(rejected)('rejects %s with a 400 that names the problem', async (_name, query, message) => {
    const response = await call({ path: '/recordings', query });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.message).toMatch(message);
  });
});

describe('since/until boundaries', () => {
  const list = async (query: Record<string, string>) =>
    (await listAll(call, { call_uuid: 'edge-call', ...query })).ids;

  it('includes records exactly at since and exactly at until', async () => {
    expect(await list({ since: String(T0), until: String(T1) })).toEqual([
      'edge1_0',
      'edge1_m1',
      'edge0_p1',
      'edge0_0',
    ]);
  });

  it('reads ISO-8601 with Z or an offset and epoch ms as the same instant', async () => {
    const expected = ['edge1_0', 'edge1_m1', 'edge0_p1', 'edge0_0'];
    expect(await list({ since: '2025-03-01T12:00:00Z', until: '2025-03-01T13:00:00.000Z' })).toEqual(
      expected,
    );
    expect(await list({ since: '2025-03-01T17:30:00+05:30', until: '2025-03-01T08:00:00-05:00' })).toEqual(
      expected,
    );
    // An unescaped + in a query string arrives as a space.
    expect(await list({ since: '2025-03-01T17:30:00 05:30', until: String(T1) })).toEqual(expected);
  });

  it('reads a date alone as the whole UTC day', async () => {
    expect(await list({ since: '2025-03-01', until: '2025-03-01' })).toEqual([
      'edge1_p1',
      'edge1_0',
      'edge1_m1',
      'edge0_p1',
      'edge0_0',
      'edge0_m1',
    ]);
    expect(await list({ until: '2025-02-28' })).toEqual([]);
  });

  it('treats since = until as that one millisecond and rounds sub-millisecond bounds inwards', async () => {
    expect(await list({ since: String(T0), until: String(T0) })).toEqual(['edge0_0']);
    expect(await list({ since: '2025-03-01T11:59:59.9995Z', until: '2025-03-01T12:00:00.0005Z' })).toEqual([
      'edge0_0',
    ]);
    expect(await list({ since: '2025-03-01T12:00:00.0001Z' })).toEqual([
      'edge1_p1',
      'edge1_0',
      'edge1_m1',
      'edge0_p1',
    ]);
  });

  it('uses add_time, and the time we heard of it for a record without metadata', async () => {
    const ids = (await listAll(call, { until: String(T0 - 1) })).ids;
    expect(ids).toEqual(['edge0_m1', 'rec_pending', 'rec_nometa', 'rec_audio-1']);
  });
});

describe('cursors', () => {
  const firstPage = async (query: Record<string, string>) => {
    const response = await call({ path: '/recordings', query: { ...query, limit: '2' } });
    expect(response.status).toBe(200);
    expect(response.body.next_cursor).toBeTypeOf('string');
    return response.body.next_cursor as string;
  };
  const expectRejected = async (query: Record<string, string>, message: RegExp) => {
    const response = await call({ path: '/recordings', query });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_cursor');
    expect(response.body.error.message).toMatch(message);
  };

  it('continues with another page size and with the other spelling of the same number', async () => {
    const number = stored.from_number!;
    const cursor = await firstPage({ from_number: number });
    const next = await call({
      path: '/recordings',
      query: { from_number: number.replace('+', ''), cursor, limit: '50' },
    });
    expect(next.status).toBe(200);
    expect(next.body.items.length).toBeGreaterThan(0);
  });

  it('rejects every altered, truncated or extended cursor with a 400', async () => {
    const cursor = await firstPage({});
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const variants = [
      ...Array.from({ length: cursor.length }, (_, i) => flip(cursor, i)),
      cursor.slice(0, -1),
      cursor.slice(0, 10),
      cursor.slice(1),
      `${cursor}A`,
      `${cursor}AAAA`,
      'not-a-cursor',
      'x'.repeat(5_000),
      '🙂',
    ];
    for (const variant of variants) {
      if (variant === cursor) continue;
      await expectRejected({ cursor: variant }, /cursor is not valid/);
    }
  });

  it('rejects a cursor forged with another key', async () => {
    const foreign = new CursorCodec('some-other-deployment-key-0123456789abcdef');
    const forged = foreign.encode('001740830400000#edge0_0', JSON.stringify([null, null, null, null, null]));
    await expectRejected({ cursor: forged }, /cursor is not valid/);
  });

  it('rejects a cursor used with a different query', async () => {
    const cursor = await firstPage({ call_uuid: 'edge-call' });
    await expectRejected({ call_uuid: 'other-call', cursor }, /different query/);
    await expectRejected({ cursor }, /different query/);
    await expectRejected({ call_uuid: 'edge-call', status: 'stored', cursor }, /different query/);
    await expectRejected({ call_uuid: 'edge-call', since: '2025-01-01', cursor }, /different query/);
  });
});
