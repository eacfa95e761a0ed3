import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createLookupHandler } from '../../functions/lookup/app.js';
import type { AuditEntry } from '../../functions/shared/domain/audit.js';
import type {
  AudioLinks,
  AuditQueries,
  AuditWriter,
  DownloadUrlOptions,
  RecordingQueries,
} from '../../functions/shared/ports/recording-queries.js';
import { httpEvent, lambdaContext } from '../support/http-events.js';
import { storedRecording } from '../support/recording-dataset.js';
import { expectDocumentedResult } from '../support/openapi.js';

const KEY = 'handler-unit-test-key-0123456789abcdef';

function setup(overrides: Partial<RecordingQueries> = {}, cursorKey = vi.fn(() => Promise.resolve(KEY))) {
  const recordings: RecordingQueries = {
    get: vi.fn(() => Promise.resolve(undefined)),
    list: vi.fn(() => Promise.resolve({ items: [] })),
    ...overrides,
  };
  const downloadUrl = vi.fn((key: string, ttl: number, options?: DownloadUrlOptions) =>
    Promise.resolve(
      `https://s3.example/${key}?ttl=${ttl}${options?.attachmentFilename ? `&attachment=${options.attachmentFilename}` : ''}`,
    ),
  );
  const audio: AudioLinks = { downloadUrl };
  const entries: AuditEntry[] = [];
  const record = vi.fn<AuditWriter['record']>((entry) => {
    entries.push(entry);
    return Promise.resolve();
  });
  const auditList = vi.fn<AuditQueries['list']>(() => Promise.resolve({ items: [] }));
  const handler = createLookupHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    recordings,
    audio,
    audit: { list: auditList },
    auditLog: { record },
    cursorKey,
    presignTtlSeconds: 300,
  });
  const call = async (
    path: string,
    query?: Record<string, string>,
    headers?: Record<string, string>,
    userArn?: string,
  ) => {
    const event = httpEvent({ path, query, headers });
    if (userArn) Object.assign(event.requestContext, { authorizer: { iam: { userArn } } });
    const result = await handler(event, lambdaContext());
    expectDocumentedResult(event, result);
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      body: result.body ? JSON.parse(result.body) : undefined,
    };
  };
  return { call, recordings, audio, downloadUrl, cursorKey, entries, record, auditList };
}

describe('lookup handler', () => {
  beforeEach(() => vi.clearAllMocks());

  it('redirects to the presigned URL for a stored record, with the configured lifetime', async () => {
    const record = storedRecording({ recording_id: 'r1', add_time_ms: Date.UTC(2025, 0, 1) });
    const { call } = setup({ get: () => Promise.resolve(record) });
    const response = await call('/recordings/r1/audio');
    expect(response).toMatchObject({
      status: 302,
      headers: { location: `https://s3.example/${record.s3_key}?ttl=300`, 'cache-control': 'no-store' },
    });
  });

  it('answers JSON {url, expires_at} instead of the redirect when the caller accepts application/json', async () => {
    const record = storedRecording({ recording_id: 'r1', add_time_ms: Date.UTC(2025, 0, 1) });
    const { call } = setup({ get: () => Promise.resolve(record) });
    const before = Date.now();
    const response = await call('/recordings/r1/audio', undefined, {
      accept: 'application/json, text/plain;q=0.5',
    });
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', vary: 'accept' });
    expect(response.body).toEqual({
      url: `https://s3.example/${record.s3_key}?ttl=300`,
      expires_at: expect.any(String),
    });
    const expires = Date.parse(response.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 300_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it.each(['*/*', 'text/html,*/*;q=0.8', 'application/json;q=0', 'application/jsonx'])(
    'keeps the 302 for Accept: %s',
    async (accept) => {
      const record = storedRecording({ recording_id: 'r1', add_time_ms: Date.UTC(2025, 0, 1) });
      const { call } = setup({ get: () => Promise.resolve(record) });
      expect((await call('/recordings/r1/audio', undefined, { accept })).status).toBe(302);
    },
  );

  it('signs a download name into the link: {add_time}_{from}_{to}_{id}.{ext} by default, or the one asked for', async () => {
    const record = storedRecording({
      recording_id: 'r1',
      add_time_ms: Date.UTC(2025, 10, 6, 13, 49, 10, 751),
      from_number: '+918071387423',
      to_number: '919624705678',
      recording_format: 'wav',
    });
    const { call, downloadUrl } = setup({ get: () => Promise.resolve(record) });
    const json = { accept: 'application/json' };
    const byDefault = await call('/recordings/r1/audio', { download: 'true' }, json);
    expect(byDefault.body.filename).toBe('20251106T134910Z_+918071387423_919624705678_r1.wav');
    expect(downloadUrl).toHaveBeenLastCalledWith(record.s3_key, 300, {
      attachmentFilename: '20251106T134910Z_+918071387423_919624705678_r1.wav',
    });
    const named = await call('/recordings/r1/audio', { filename: 'call-with-bank.wav' });
    expect(named.status).toBe(302);
    expect(named.headers.location).toContain('attachment=call-with-bank.wav');
    const inline = await call('/recordings/r1/audio', { download: '0' }, json);
    expect(inline.body.filename).toBeUndefined();
    expect(downloadUrl).toHaveBeenLastCalledWith(record.s3_key, 300, {});
  });

  it.each([
    [{ filename: 'a"b.mp3' }, /filename/],
    [{ filename: '../etc/passwd' }, /filename/],
    [{ filename: '.hidden' }, /filename/],
    [{ filename: 'x'.repeat(201) }, /filename/],
    [{ filename: 'naïve.mp3' }, /filename/],
    [{ download: 'yes' }, /download/],
    [{ disposition: 'attachment' }, /unknown query parameter disposition/],
  ])('refuses audio parameters %j with a 400 before looking anything up', async (query, message) => {
    const get = vi.fn(() => Promise.resolve(undefined));
    const { call } = setup({ get });
    const response = await call('/recordings/r1/audio', query);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.message).toMatch(message);
    expect(get).not.toHaveBeenCalled();
  });

  it('answers an unexpected failure with a generic 500 that reveals nothing', async () => {
    const { call } = setup({
      get: () => Promise.reject(new Error('ProvisionedThroughputExceeded on table secret-name')),
    });
    const response = await call('/recordings/r1');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({
      error: { code: 'internal_error', message: 'Internal error; the request can be retried.' },
    });
  });

  it('signs the position of the last page item into next_cursor and reads it back', async () => {
    const list = vi.fn<RecordingQueries['list']>(() =>
      Promise.resolve({ items: [], next: '000000000001000#r9' }),
    );
    const { call } = setup({ list });
    const first = await call('/recordings', { status: 'stored', limit: '2' });
    expect(first.body.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.body.next_cursor).not.toContain('r9');
    await call('/recordings', { status: 'stored', limit: '2', cursor: first.body.next_cursor });
    expect(list).toHaveBeenLastCalledWith(
      { filter: undefined, status: 'stored', sinceMs: undefined, untilMs: undefined },
      { limit: 2, after: '000000000001000#r9' },
    );
  });

  it('fetches the cursor key once, and again only after a failed fetch', async () => {
    const cursorKey = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('throttled'))
      .mockResolvedValue(KEY);
    const { call } = setup({}, cursorKey);
    await new Promise((resolve) => setImmediate(resolve)); // let the cold-start prefetch fail
    expect((await call('/recordings')).status).toBe(200);
    expect((await call('/recordings')).status).toBe(200);
    expect(cursorKey).toHaveBeenCalledTimes(2);
  });
});

describe('who listened: an audit entry for every audio link handed out', () => {
  beforeEach(() => vi.clearAllMocks());
  const ARN = 'arn:aws:sts::123456789012:assumed-role/console-admins/CognitoIdentityCredentials';
  const record = storedRecording({
    recording_id: 'r1',
    add_time_ms: Date.UTC(2025, 0, 1),
    from_number: '+919812340060',
    to_number: '918000000001',
  });

  it('writes one entry per link, redirect or JSON, play or download, naming the caller and never the link or a number', async () => {
    const { call, entries, record: put } = setup({ get: () => Promise.resolve(record) });
    const redirect = await call('/recordings/r1/audio', undefined, undefined, ARN);
    const json = await call(
      '/recordings/r1/audio',
      { download: 'true' },
      { accept: 'application/json' },
      ARN,
    );
    expect([redirect.status, json.status]).toEqual([302, 200]);
    expect(put).toHaveBeenCalledTimes(2);
    expect(entries[0]).toEqual({
      audit_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      time: expect.any(String),
      action: 'audio_link',
      recording_id: 'r1',
      actor: { arn: ARN },
      outcome: 'done',
      variant: 'redirect',
      download: false,
      link_expires_at: expect.any(String),
    });
    expect(entries[1]).toMatchObject({
      variant: 'json',
      download: true,
      link_expires_at: json.body.expires_at,
    });
    expect(entries[0]!.audit_id).not.toBe(entries[1]!.audit_id);
    const written = JSON.stringify(entries);
    for (const secret of [record.s3_key!, 's3.example', '9812340060', '8000000001', 'X-Amz'])
      expect(written).not.toContain(secret);
  });

  it('records the local-stack marker when the request is not signed (npm start)', async () => {
    const { call, entries } = setup({ get: () => Promise.resolve(record) });
    await call('/recordings/r1/audio');
    expect(entries[0]!.actor).toEqual({ arn: 'unsigned request (local stack)' });
  });

  it('hands out no link when the entry cannot be written: 503 with Retry-After, and no URL anywhere', async () => {
    const { call, record: put } = setup({ get: () => Promise.resolve(record) });
    put.mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException on table secret-name'));
    for (const headers of [undefined, { accept: 'application/json' }]) {
      if (headers) put.mockRejectedValueOnce(new Error('throttled'));
      const response = await call('/recordings/r1/audio', undefined, headers);
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('2');
      expect(response.headers.location).toBeUndefined();
      expect(response.body.error.code).toBe('audit_unavailable');
      expect(response.body.error.message).toMatch(/could not be recorded in the audit trail/);
      expect(JSON.stringify(response)).not.toMatch(/s3\.example|secret-name|throttled/);
    }
  });

  it.each([
    ['unknown', undefined, 404],
    ['pending', { ...record, status: 'pending' as const }, 409],
    ['expired', { ...record, status: 'expired' as const }, 410],
  ])('writes nothing when no link is handed out (%s)', async (_name, found, status) => {
    const { call, record: put } = setup({ get: () => Promise.resolve(found) });
    expect((await call('/recordings/r1/audio')).status).toBe(status);
    expect(put).not.toHaveBeenCalled();
  });

  it('GET /audit filters by recording_id and action, and binds the cursor to them', async () => {
    const { call, auditList } = setup();
    auditList.mockResolvedValueOnce({ items: [], next: `${'0'.repeat(14)}1#${'a'.repeat(32)}` });
    const first = await call('/audit', { recording_id: 'r1', action: 'audio_link' });
    expect(first.status).toBe(200);
    expect(auditList).toHaveBeenLastCalledWith(
      { action: 'audio_link', recordingId: 'r1', sinceMs: undefined, untilMs: undefined },
      { limit: 25, after: undefined },
    );
    const other = await call('/audit', {
      recording_id: 'r2',
      action: 'audio_link',
      cursor: first.body.next_cursor,
    });
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('invalid_cursor');
    for (const bad of ['../x', 'a b', 'x'.repeat(129)]) {
      const response = await call('/audit', { recording_id: bad });
      expect(response.status, bad).toBe(400);
      expect(response.body.error.message).toMatch(/recording_id must be a recording id/);
    }
    expect((await call('/audit', { action: 'retry' })).status).toBe(200);
  });
});
