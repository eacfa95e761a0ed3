import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { buildConsole, inlineScriptHashes, withConfig } from '../../console/build.js';
import {
  ApiError,
  createApi,
  describeError,
  type Recording,
  type RecordingPage,
} from '../../console/src/api.js';
import { configFromBlock, parseConfig } from '../../console/src/config.js';
import { formatDuration, formatSize } from '../../console/src/format.js';
import { prefetchFirstPage } from '../../console/src/prefetch.js';
import {
  apiQueries,
  checkQuery,
  cleanNumber,
  Listing,
  localBound,
  queryFromUrl,
  queryToUrl,
  type SearchQuery,
} from '../../console/src/search.js';
import { createConsoleFiles } from '../../local/console-files.js';

const AWS_AUTH = {
  region: 'ap-south-1',
  userPoolId: 'ap-south-1_abc',
  userPoolClientId: 'client',
  identityPoolId: 'ap-south-1:1234',
  domain: 'https://vra-prod.auth.ap-south-1.amazoncognito.com',
};

const record = (id: string, ms: number): Recording => ({
  recording_id: id,
  status: 'stored',
  add_time_ms: ms,
});

/** A fake API listing: `records` newest first, pages of `limit`, cursors that are positions. */
function fakeListing(records: Recording[]) {
  const calls: Record<string, string>[] = [];
  const fetchPage = vi.fn((params: Record<string, string>): Promise<RecordingPage> => {
    calls.push(params);
    const start = Number(params.cursor ?? 0);
    const limit = Number(params.limit);
    const end = start + limit;
    return Promise.resolve({
      items: records.slice(start, end),
      next_cursor: end < records.length ? String(end) : null,
    });
  });
  return { fetchPage, calls };
}

describe('console search query', () => {
  it('round-trips through the URL, so a link shows the same search', () => {
    const query: SearchQuery = {
      number: '+919812340060',
      direction: 'to',
      since: '2025-11-01',
      until: '2025-11-07',
      status: 'failed',
    };
    const url = queryToUrl(query);
    expect(url.toString()).toBe(
      'number=%2B919812340060&dir=to&since=2025-11-01&until=2025-11-07&status=failed',
    );
    expect(queryFromUrl(url)).toEqual({ ...query, callUuid: undefined });
    expect(queryFromUrl(new URLSearchParams('dir=sideways'))).toMatchObject({ direction: 'any' });
  });

  it('accepts a number in either form, with the spaces and dashes people type', () => {
    expect(cleanNumber(' +91 98123-40060 ')).toBe('+919812340060');
    expect(checkQuery({ direction: 'any', number: '91 9812 340060' })).toEqual([]);
    expect(checkQuery({ direction: 'any', number: 'call me' })[0]).toMatch(/Phone number/);
  });

  it('explains every problem: two filters, impossible dates, dates the wrong way round, unknown status', () => {
    expect(
      checkQuery({
        direction: 'any',
        number: '+919812340060',
        callUuid: 'abc',
        since: '2025-02-30',
        until: '2025-01-01',
        status: 'lost',
      }),
    ).toEqual([
      'Search by a phone number or by a call UUID, not both.',
      'From: use a date like 2025-11-06, with an optional time like 09:30.',
      'Status: one of pending, stored, failed, expiring, expired, erasing, erased.',
    ]);
    expect(checkQuery({ direction: 'any', since: '2025-02-03', until: '2025-01-01' })).toEqual([
      'The from date is after the to date.',
    ]);
    expect(checkQuery({ direction: 'any', since: '2025-02-03T17:00', until: '2025-02-03T09:00' })).toEqual([
      'The from date is after the to date.',
    ]);
    expect(checkQuery({ direction: 'any', since: 'T09:00' })).toEqual([
      'From: pick a date for the time of day.',
    ]);
    for (const bad of ['2025-02-03T24:00', '2025-02-03T09:60', '2025-02-03T9:00', '2025-02-03 09:00'])
      expect(checkQuery({ direction: 'any', until: bad }), bad).toEqual([
        'To: use a date like 2025-11-06, with an optional time like 09:30.',
      ]);
  });

  it('reads a time of day in a bound as that minute in the viewer’s time zone, a date alone as the whole day', () => {
    const [since, until] = [localBound('2025-11-06T09:30', 'start'), localBound('2025-11-06T09:30', 'end')];
    expect(since).toBe(new Date(2025, 10, 6, 9, 30).getTime());
    expect(until).toBe(new Date(2025, 10, 6, 9, 31).getTime() - 1);
    expect(localBound('2025-11-06', 'end')).toBe(new Date(2025, 10, 7).getTime() - 1);
    expect(
      apiQueries({
        direction: 'any',
        since: '2025-11-06T09:30',
        until: '2025-11-06T17:05',
        status: 'erased',
      }),
    ).toEqual([
      { since: String(since), until: String(new Date(2025, 10, 6, 17, 6).getTime() - 1), status: 'erased' },
    ]);
    expect(queryToUrl({ direction: 'any', since: '2025-11-06T09:30' }).toString()).toBe(
      'since=2025-11-06T09%3A30',
    );
  });

  it('asks the API for calls from and to a number when the direction is open, and local days as bounds', () => {
    const queries = apiQueries({
      direction: 'any',
      number: '919812340060',
      since: '2025-11-01',
      until: '2025-11-01',
    });
    const since = String(new Date(2025, 10, 1).getTime());
    const until = String(new Date(2025, 10, 2).getTime() - 1);
    expect(queries).toEqual([
      { from_number: '919812340060', since, until },
      { to_number: '919812340060', since, until },
    ]);
    expect(apiQueries({ direction: 'from', number: '+91 98' })).toEqual([{ from_number: '+9198' }]);
    expect(apiQueries({ direction: 'any', callUuid: 'c-1', status: 'stored' })).toEqual([
      { call_uuid: 'c-1', status: 'stored' },
    ]);
    expect(apiQueries({ direction: 'any' })).toEqual([{}]);
  });
});

describe('console listing', () => {
  it('pages one listing with the API cursor: one request per page, done after the last', async () => {
    const records = Array.from({ length: 60 }, (_, i) => record(`r${String(i).padStart(2, '0')}`, 1000 - i));
    const { fetchPage, calls } = fakeListing(records);
    const listing = new Listing([{ to_number: '9198' }], fetchPage, 25);
    expect((await listing.next()).map((r) => r.recording_id)).toEqual(
      records.slice(0, 25).map((r) => r.recording_id),
    );
    expect(listing.done).toBe(false);
    expect(await listing.next()).toHaveLength(25);
    expect(await listing.next()).toHaveLength(10);
    expect(listing.done).toBe(true);
    expect(calls).toEqual([
      { to_number: '9198', limit: '25' },
      { to_number: '9198', limit: '25', cursor: '25' },
      { to_number: '9198', limit: '25', cursor: '50' },
    ]);
  });

  it('merges calls from and to a number newest first, once each, ties ordered by id as the API does', async () => {
    const from = [record('f3', 900), record('both', 500), record('f1', 100)];
    const to = [record('t4', 950), record('t2', 900), record('both', 500), record('t0', 50)];
    const a = fakeListing(from);
    const b = fakeListing(to);
    const listing = new Listing(
      [{ from_number: '1' }, { to_number: '1' }],
      (params) => (params.from_number ? a.fetchPage(params) : b.fetchPage(params)),
      2,
    );
    const pages: string[][] = [];
    while (!listing.done) pages.push((await listing.next()).map((r) => r.recording_id));
    expect(pages).toEqual([
      ['t4', 't2'],
      ['f3', 'both'],
      ['f1', 't0'],
    ]);
  });

  it('follows cursors through empty pages (a status filter) and never emits ahead of a listing it has not read', async () => {
    const pages: RecordingPage[] = [
      { items: [], next_cursor: 'a' },
      { items: [], next_cursor: 'b' },
      { items: [record('late', 10)], next_cursor: null },
    ];
    const fetchPage = vi.fn(() => Promise.resolve(pages.shift()!));
    const listing = new Listing([{ status: 'failed' }], fetchPage, 25);
    expect((await listing.next()).map((r) => r.recording_id)).toEqual(['late']);
    expect(fetchPage).toHaveBeenCalledTimes(3);
    expect(listing.done).toBe(true);
  });
});

describe('console API client', () => {
  it('signs every request and turns API errors into their words', async () => {
    const fetchMock = vi.fn<typeof fetch>(() =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'invalid_cursor', message: 'cursor is not valid' } }), {
          status: 400,
        }),
      ),
    );
    const sign = vi.fn((request: { headers: Record<string, string> }) =>
      Promise.resolve({ ...request.headers, authorization: 'AWS4-HMAC-SHA256 …' }),
    );
    const api = createApi({ baseUrl: 'https://api.example', sign, fetch: fetchMock });
    const error = await api.listRecordings({ cursor: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(fetchMock.mock.calls[0]![0]).toBe('https://api.example/recordings?cursor=x');
    expect(fetchMock.mock.calls[0]![1]!.headers).toMatchObject({
      accept: 'application/json',
      authorization: expect.any(String),
    });
    expect(describeError(error).title).toBe('This list cannot be continued.');
  });

  it('says what went wrong for network failures, IAM refusals and server errors', async () => {
    const failing = createApi({ baseUrl: '', fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    expect(describeError(await failing.getRecording('r1').catch((e: unknown) => e)).title).toBe(
      'The archive cannot be reached.',
    );
    const forbidden = createApi({
      baseUrl: '',
      fetch: () => Promise.resolve(new Response('{"message":"Forbidden"}', { status: 403 })),
    });
    expect(describeError(await forbidden.getRecording('r1').catch((e: unknown) => e)).detail).toMatch(
      /reviewers or admins/,
    );
    const gone = createApi({
      baseUrl: '',
      fetch: () =>
        Promise.resolve(
          new Response('{"error":{"code":"expired","message":"audio removed by retention"}}', {
            status: 410,
          }),
        ),
    });
    expect(describeError(await gone.audioLink('r1').catch((e: unknown) => e)).title).toBe(
      'The audio has expired.',
    );
    const broken = createApi({
      baseUrl: '',
      fetch: () => Promise.resolve(new Response('<html>', { status: 502 })),
    });
    expect(describeError(await broken.getRecording('r1').catch((e: unknown) => e)).title).toBe(
      'The archive had a problem answering.',
    );
  });

  it('asks for a JSON audio link, with download=true for a download', async () => {
    const fetchMock = vi.fn<typeof fetch>(() =>
      Promise.resolve(new Response('{"url":"https://s3/x","expires_at":"2026-01-01T00:00:00.000Z"}')),
    );
    const api = createApi({ baseUrl: 'https://api.example', fetch: fetchMock });
    await api.audioLink('r 1', { download: true });
    expect(fetchMock.mock.calls[0]![0]).toBe('https://api.example/recordings/r%201/audio?download=true');
  });
});

describe('console configuration and formatting', () => {
  it('reads config.json: local (no sign-in) or AWS (Cognito ids), and refuses a malformed one', () => {
    expect(parseConfig({ apiUrl: '', auth: null })).toEqual({ apiUrl: '', region: 'us-east-1', auth: null });
    const aws = parseConfig({
      apiUrl: 'https://abc.execute-api.ap-south-1.amazonaws.com/',
      region: 'ap-south-1',
      auth: {
        region: 'ap-south-1',
        userPoolId: 'ap-south-1_abc',
        userPoolClientId: 'client',
        identityPoolId: 'ap-south-1:1234',
        domain: 'https://vra-prod.auth.ap-south-1.amazoncognito.com/',
      },
    });
    expect(aws.apiUrl).toBe('https://abc.execute-api.ap-south-1.amazonaws.com');
    expect(aws.auth?.domain).toBe('https://vra-prod.auth.ap-south-1.amazoncognito.com');
    expect(() => parseConfig({ apiUrl: 'javascript:alert(1)' })).toThrow(/apiUrl/);
    expect(() => parseConfig({ auth: { region: 1 } })).toThrow(/auth.region/);
  });

  it('shows durations as players do and sizes in binary units', () => {
    expect([formatDuration(49_769), formatDuration(3_725_000), formatDuration(undefined)]).toEqual([
      '0:49',
      '1:02:05',
      '—',
    ]);
    expect([formatSize(900), formatSize(204_800), formatSize(5_000_000)]).toEqual([
      '900 B',
      '200 KiB',
      '4.8 MiB',
    ]);
  });
});

describe('console build and local serving', () => {
  it('keeps the whole first load (HTML with its configuration, script, styles) within 120 KB gzipped', () => {
    const files = buildConsole();
    const config = { apiUrl: 'https://abc.execute-api.ap-south-1.amazonaws.com', auth: AWS_AUTH };
    const gzipped = files
      .map((f) => (f.path === 'index.html' ? Buffer.from(withConfig(f.body.toString(), config)) : f.body))
      .reduce((total, body) => total + gzipSync(body).length, 0);
    const paths = files.map((f) => f.path);
    expect(paths).toHaveLength(3);
    expect(paths).toContain('index.html');
    expect(paths.filter((p) => /^assets\/app-[A-Z0-9]+\.(js|css)$/.test(p))).toHaveLength(2);
    expect(gzipped).toBeLessThanOrEqual(120 * 1024);
  });

  it('serves index and config uncached, hashed assets for a year, with the CSP; nothing else under /console', () => {
    const files = createConsoleFiles({ mediaOrigin: 'http://127.0.0.1:9000' });
    const index = files.handle('GET', '/console/', '/console/')!;
    expect(index.statusCode).toBe(200);
    expect(index.headers).toMatchObject({ 'cache-control': 'no-cache', 'x-frame-options': 'DENY' });
    expect(String(index.headers['content-security-policy'])).toContain('media-src http://127.0.0.1:9000');
    const asset = /assets\/app-\w+\.js/.exec(index.body.toString())![0];
    expect(files.handle('GET', `/console/${asset}`, '')!.headers['cache-control']).toBe(
      'public, max-age=31536000, immutable',
    );
    const html = index.body.toString();
    const block = /<script type="application\/json" id="config">(.*?)<\/script>/.exec(html)![1];
    expect(configFromBlock(block)).toMatchObject({ apiUrl: '', auth: null, stage: 'local' });
    expect(files.handle('GET', '/console/config.json', '')!.statusCode).toBe(404);
    // The one inline script runs by its hash: the CSP names it, and nothing allows inline code at large.
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline).toHaveLength(1);
    const hash = `'sha256-${createHash('sha256').update(inline[0]!).digest('base64')}'`;
    expect(inlineScriptHashes(html)).toEqual([hash]);
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain(`script-src 'self' ${hash};`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(files.handle('GET', '/console', '/console?id=r1')).toMatchObject({
      statusCode: 308,
      headers: { location: '/console/?id=r1' },
    });
    expect(files.handle('GET', '/console/../package.json', '')!.statusCode).toBe(404);
    expect(files.handle('POST', '/console/', '')!.statusCode).toBe(405);
    expect(files.handle('GET', '/recordings', '/recordings')).toBeUndefined();
    expect(files.handle('GET', '/consoles', '/consoles')).toBeUndefined();
  });
});

describe('console configuration in index.html', () => {
  it('embeds the configuration as a JSON data block that no value can break out of', () => {
    const hostile = { apiUrl: '', auth: null, stage: '</script><script>alert(1)</script><!--' };
    const html = withConfig('<head><!--config--></head>', hostile);
    expect(html).not.toContain('</script><script>alert');
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const block = /<script type="application\/json" id="config">(.*?)<\/script>/.exec(html)![1];
    expect(configFromBlock(block).stage).toBe(hostile.stage);
    expect(withConfig('<!--config-->', { stage: '$& $` $1' })).toContain('"stage":"$& $` $1"');
  });

  it('refuses a missing or malformed configuration block with a message', () => {
    expect(() => configFromBlock(undefined)).toThrow(/carries no configuration/);
    expect(() => configFromBlock('{"apiUrl":')).toThrow(/not valid JSON/);
    expect(() => configFromBlock('{"apiUrl":"ftp://x"}')).toThrow(/apiUrl/);
  });
});

describe('first page prefetch', () => {
  const LOCAL = parseConfig({ apiUrl: '', auth: null });
  const ORIGIN = 'http://127.0.0.1:3000';
  const okPage = () => Promise.resolve(new Response('{"items":[],"next_cursor":null}'));

  /** The URLs the app asks for to show the first page of `search`. */
  async function appUrls(search: string, baseUrl = ORIGIN): Promise<string[]> {
    const urls: string[] = [];
    const api = createApi({
      baseUrl,
      fetch: (input) => {
        urls.push(input as string); // createApi passes the URL as a string
        return okPage();
      },
    });
    const query = queryFromUrl(new URLSearchParams(search));
    await new Listing(apiQueries(query), (params) => api.listRecordings(params)).next();
    return urls;
  }

  it.each([
    '',
    '?number=%2B919812340060',
    '?number=919812340060&dir=to',
    '?number=+91%2098123%2040060&dir=from&since=2025-11-01&until=2025-11-06&status=stored',
    '?call=6f1e1a9e-1b7c-4c1e-9a2b-0c8f5d2e3a41',
    '?status=failed',
    '?status=erased&since=2025-11-06T09%3A30&until=2025-11-06T17%3A00',
  ])('starts exactly the requests the app makes for the first page of %j', async (search) => {
    const fetchMock = vi.fn<typeof fetch>(okPage);
    const prefetched = prefetchFirstPage(LOCAL, { search, origin: ORIGIN }, fetchMock)!;
    const expected = await appUrls(search);
    expect([...prefetched.keys()]).toEqual(expected);
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(expected);
    expect(fetchMock.mock.calls[0]![1]).toMatchObject({
      headers: { accept: 'application/json' },
      credentials: 'omit',
    });
    const apiUrl = parseConfig({ apiUrl: 'https://api.example', auth: null });
    const remote = prefetchFirstPage(apiUrl, { search, origin: ORIGIN }, fetchMock)!;
    expect([...remote.keys()]).toEqual(await appUrls(search, 'https://api.example'));
  });

  it('starts nothing for a signed-in console, a recording page, the audit log or a search the app refuses', () => {
    const fetchMock = vi.fn<typeof fetch>(okPage);
    const signed = parseConfig({ apiUrl: 'https://api.example', auth: AWS_AUTH });
    expect(prefetchFirstPage(signed, { search: '', origin: ORIGIN }, fetchMock)).toBeUndefined();
    for (const search of [
      '?id=rec-1',
      '?view=audit',
      '?number=12',
      '?since=2025-02-30',
      '?number=919812340060&call=abc',
    ])
      expect(prefetchFirstPage(LOCAL, { search, origin: ORIGIN }, fetchMock), search).toBeUndefined();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('lets the app take a prefetched response once, then ask afresh; a signing API never takes one', async () => {
    const url = `${ORIGIN}/recordings?to_number=919812340060&limit=25`;
    const early = Promise.resolve(
      new Response(JSON.stringify({ items: [record('early', 2)], next_cursor: null })),
    );
    const fetchMock = vi.fn<typeof fetch>(() =>
      Promise.resolve(new Response(JSON.stringify({ items: [record('fresh', 3)], next_cursor: null }))),
    );
    const prefetched = new Map([[url, early]]);
    const api = createApi({ baseUrl: ORIGIN, fetch: fetchMock, prefetched });
    const params = { to_number: '919812340060', limit: '25' };
    expect((await api.listRecordings(params)).items[0]!.recording_id).toBe('early');
    expect(fetchMock).not.toHaveBeenCalled();
    expect((await api.listRecordings(params)).items[0]!.recording_id).toBe('fresh');
    expect(prefetched.size).toBe(0);

    const signing = createApi({
      baseUrl: ORIGIN,
      fetch: fetchMock,
      prefetched: new Map([[url, early]]),
      sign: (request) => Promise.resolve({ ...request.headers, authorization: 'AWS4-HMAC-SHA256 …' }),
    });
    expect((await signing.listRecordings(params)).items[0]!.recording_id).toBe('fresh');
  });

  it('reports a prefetched request that failed as the API being unreachable', async () => {
    const failed = Promise.reject(new TypeError('Failed to fetch'));
    failed.catch(() => undefined);
    const url = `${ORIGIN}/recordings?limit=25`;
    const api = createApi({ baseUrl: ORIGIN, prefetched: new Map([[url, failed]]), fetch: okPage });
    const error = await api.listRecordings({ limit: '25' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network' });
  });
});
