import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createLookupHandler } from '../../functions/lookup/app.js';
import type { AudioLinks, RecordingQueries } from '../../functions/shared/ports/recording-queries.js';
import { httpEvent, lambdaContext } from '../support/http-events.js';
import { storedRecording } from '../support/recording-dataset.js';

const KEY = 'handler-unit-test-key-0123456789abcdef';

function setup(overrides: Partial<RecordingQueries> = {}, cursorKey = vi.fn(() => Promise.resolve(KEY))) {
  const recordings: RecordingQueries = {
    get: vi.fn(() => Promise.resolve(undefined)),
    list: vi.fn(() => Promise.resolve({ items: [] })),
    ...overrides,
  };
  const audio: AudioLinks = {
    downloadUrl: vi.fn((key: string, ttl: number) => Promise.resolve(`https://s3.example/${key}?ttl=${ttl}`)),
  };
  const handler = createLookupHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    recordings,
    audio,
    cursorKey,
    presignTtlSeconds: 300,
  });
  const call = async (path: string, query?: Record<string, string>) => {
    const result = await handler(httpEvent({ path, query }), lambdaContext());
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      body: result.body ? JSON.parse(result.body) : undefined,
    };
  };
  return { call, recordings, audio, cursorKey };
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
