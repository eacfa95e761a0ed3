import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { toItem, type RecordingRecord } from '../../functions/shared/domain/recording.js';
import { AUDIT_COLUMNS, RECORDING_COLUMNS } from '../../console/src/export.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { SimulatedRecording } from '../../local/simulator.js';
import { CHROMIUM_PATH, launchChromium, type RunningBrowser } from '../support/browser.js';
import { startLocalStack, type LocalStack } from '../support/local-stack-process.js';
import { storedRecording } from '../support/recording-dataset.js';

/**
 * The console in a real browser: headless Chromium against `npm start`, recordings made by the
 * simulator and archived through signed callbacks, as a person would use it. Screenshots of the main
 * views (desktop and phone size) go to test-results/console/.
 */
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/console/', import.meta.url));
const CUSTOMER = '+919812340060';
const TABLE = 'vobiz-recordings';

interface ApiRecord {
  recording_id: string;
  status: string;
  add_time_ms?: number;
  to_number?: string;
  recording_format?: string;
  recording_duration_ms?: number;
  sha256?: string;
}

let stack: LocalStack;
let chromium: RunningBrowser;
let page: Page;
let downloads: string;
let customerRecordings: SimulatedRecording[];
let otherRecordings: SimulatedRecording[];
let documents: DynamoDBDocumentClient;
const problems: string[] = [];

async function simulate(body: Record<string, unknown>): Promise<SimulatedRecording[]> {
  const response = await fetch(`${stack.health.simulator_url}/_simulator/recordings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, callback_url: stack.health.webhook_url }),
  });
  expect(response.status).toBe(201);
  const { recordings } = (await response.json()) as { recordings: SimulatedRecording[] };
  // Vobiz's signed callbacks, a few at a time. The webhook answers once the notification is recorded;
  // the archive worker stores the audio (and the numbers a search finds) afterwards.
  for (let i = 0; i < recordings.length; i += 6) {
    await Promise.all(
      recordings.slice(i, i + 6).map(async ({ callback }) => {
        const delivered = await fetch(callback!.url, {
          method: 'POST',
          headers: callback!.headers,
          body: callback!.body,
        });
        expect(delivered.status).toBe(200);
      }),
    );
  }
  await untilStored(recordings.map((r) => r.recording_id));
  return recordings;
}

/** Waits (polling the lookup API, up to 3 minutes) until every recording is archived by the worker. */
async function untilStored(ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  let waiting = [...ids];
  while (waiting.length > 0) {
    const statuses = await Promise.all(
      waiting.map(async (id) => (await api<{ status?: string }>(`/recordings/${id}`)).status),
    );
    waiting = waiting.filter((_, i) => statuses[i] !== 'stored');
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not stored after 3 minutes: ${waiting.join(', ')}`);
    await sleep(250);
  }
}

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${stack.gateway}${path}`)).json()) as T;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function open(path: string): Promise<void> {
  await page.goto(`${stack.gateway}/console/${path}`, { waitUntil: 'networkidle0' });
}

async function rowIds(): Promise<string[]> {
  return page.$$eval('table.results tbody tr', (rows) => rows.map((row) => row.getAttribute('data-id')!));
}

async function search(number: string): Promise<void> {
  await open('');
  await page.waitForSelector('table.results tbody tr');
  await page.$eval('#q-number', (input) => ((input as HTMLInputElement).value = ''));
  await page.type('#q-number', number);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (n) => document.querySelector('h2')?.textContent?.includes(n) && document.querySelector('tbody tr'),
    {},
    number,
  );
}

async function loadMore(): Promise<void> {
  const before = (await rowIds()).length;
  await page.click('button.more');
  await page.waitForFunction(
    (count) =>
      document.querySelectorAll('tbody tr').length > count ||
      document.querySelector('.results-footer .notice'),
    {},
    before,
  );
}

async function text(selector: string): Promise<string> {
  return page.$eval(selector, (element) => element.textContent ?? '');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  console.log(`console screenshots: ${SCREENSHOTS}`);
  downloads = mkdtempSync(join(tmpdir(), 'console-downloads-'));
  [stack, chromium] = await Promise.all([startLocalStack(), launchChromium()]);

  customerRecordings = await simulate({ count: 60, format: 'mixed', to_number: CUSTOMER });
  otherRecordings = await simulate({ count: 3, format: 'mp3', size_bytes: 40_000 });
  documents = createDocumentClient(
    new DynamoDBClient({
      endpoint: stack.health.dynamodb_endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const now = Date.now();
  const states: RecordingRecord[] = [
    {
      ...storedRecording({ recording_id: 'e2e-pending', add_time_ms: now - 60_000 }),
      status: 'pending',
      attempts: 3,
      last_error: 'Vobiz answered 503 Service Unavailable',
      next_attempt_at: new Date(now + 120_000).toISOString(),
    },
    {
      ...storedRecording({ recording_id: 'e2e-failed', add_time_ms: now - 120_000 }),
      status: 'failed',
      attempts: 30,
      last_error: 'audio download from media.vobiz.ai refused: 403 Forbidden',
    },
    {
      ...storedRecording({ recording_id: 'e2e-retry', add_time_ms: now - 130_000 }),
      status: 'failed',
      attempts: 30,
      last_error: 'Vobiz answered 404 for 30 attempts',
    },
  ];
  for (const record of states) {
    const { s3_bucket: _b, s3_key: _k, sha256: _s, archived_at: _a, ...unstored } = record;
    // The insert of a pending record starts the archive worker (which would retry this one): insert it
    // as failed, then put the state to show (an update, which the worker's trigger ignores).
    await documents.send(
      new PutCommand({ TableName: TABLE, Item: toItem({ ...unstored, status: 'failed' }) }),
    );
    await documents.send(new PutCommand({ TableName: TABLE, Item: toItem(unstored) }));
  }
  // `expired` (audio removed by retention) comes with the lifecycle work; the console already shows it.
  const expired = storedRecording({ recording_id: 'e2e-expired', add_time_ms: now - 180_000 });
  await documents.send(
    new PutCommand({
      TableName: TABLE,
      Item: toItem({ ...expired, status: 'expired', expired_at: new Date(now).toISOString() }),
    }),
  );

  // A recording a worker is archiving right now (its lease runs two more minutes): erasure must wait.
  await documents.send(
    new PutCommand({
      TableName: TABLE,
      Item: {
        ...toItem(storedRecording({ recording_id: 'e2e-busy', add_time_ms: now - 240_000 })),
        lease_owner: 'worker-e2e',
        lease_until_ms: now + 600_000,
      },
    }),
  );

  page = await chromium.browser.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
  page.on('console', (message) => {
    if (
      message.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())
    )
      problems.push(`console error: ${message.text()}`);
  });
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.setViewport({ width: 1280, height: 900 });
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await stack?.stop();
  rmSync(downloads, { recursive: true, force: true });
});

describe('the recordings console in Chromium', () => {
  it('is served at /console with the security headers, and the banner prints its link', async () => {
    expect(stack.output()).toContain(`Console       ${stack.gateway}/console`);
    const index = await fetch(`${stack.gateway}/console/`);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = /assets\/app-[\w-]+\.js/.exec(await index.text())![0];
    const js = await fetch(`${stack.gateway}/console/${asset}`);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bare = await fetch(`${stack.gateway}/console?number=1`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, '/console/?number=1']);
  });

  it('starts the first page from index.html, before the app module runs, and asks the API once per listing', async () => {
    const asked: string[] = [];
    const onRequest = (request: HTTPRequest) => {
      const url = new URL(request.url());
      if (url.pathname === '/recordings') asked.push(url.search);
    };
    page.on('request', onRequest);
    try {
      await open(`?number=${encodeURIComponent(CUSTOMER)}`);
      await page.waitForSelector('tbody tr');
    } finally {
      page.off('request', onRequest);
    }
    const number = encodeURIComponent(CUSTOMER);
    expect(asked.sort()).toEqual([`?from_number=${number}&limit=25`, `?to_number=${number}&limit=25`]);
    // Rows on the page and no second request: the app took the responses index.html had asked for.
    expect((await rowIds()).length).toBeGreaterThan(0);
    const order = await page.evaluate(() => {
      const at = (name: string) => performance.getEntriesByName(name, 'mark')[0]!.startTime;
      const api = performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname === '/recordings')
        .map((e) => e.startTime);
      return { prefetch: at('vra:prefetch'), api: Math.max(...api), module: at('vra:script-start') };
    });
    expect(order.prefetch).toBeLessThanOrEqual(order.api);
    expect(order.api).toBeLessThan(order.module);
  });

  it('finds a number written with +, lists newest first and pages through all 60 with "Load more"', async () => {
    await search(CUSTOMER);
    expect(new URL(page.url()).searchParams.get('number')).toBe(CUSTOMER);
    expect(await rowIds()).toHaveLength(25);
    await shot('1-search-results');
    await loadMore();
    expect(await rowIds()).toHaveLength(50);
    await loadMore();
    const ids = await rowIds();
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(customerRecordings.map((r) => r.recording_id)));
    expect(await text('.results-footer')).toContain('end of results');
    expect(await page.$('button.more')).toBeNull();

    const listed = await api<{ items: ApiRecord[] }>(
      `/recordings?to_number=${encodeURIComponent(CUSTOMER)}&limit=100`,
    );
    expect(ids).toEqual(listed.items.map((r) => r.recording_id)); // the API's order: newest first
    const times = listed.items.map((r) => r.add_time_ms!);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('finds the same recordings with the number written without +, and the shared link shows them too', async () => {
    await search(CUSTOMER);
    const withPlus = await rowIds();
    await search(CUSTOMER.slice(1));
    expect(await rowIds()).toEqual(withPlus);
    await open(`?number=${CUSTOMER.slice(1)}&dir=to`);
    await page.waitForSelector('tbody tr');
    expect(await rowIds()).toEqual(withPlus);
    expect(await page.$eval('#q-dir', (select) => (select as HTMLSelectElement).value)).toBe('to');
  });

  it.each(['wav', 'mp3'])(
    'opens a %s recording and plays it: the duration matches the record, time advances',
    async (format) => {
      const records = (
        await api<{ items: ApiRecord[] }>(`/recordings?to_number=${CUSTOMER.slice(1)}&limit=100`)
      ).items;
      const record = records.find((r) => r.recording_format === format)!;
      await search(CUSTOMER);
      while (!(await rowIds()).includes(record.recording_id)) await loadMore();
      await page.click(`tr[data-id="${record.recording_id}"] a`);
      await page.waitForSelector('audio');
      expect(new URL(page.url()).searchParams.get('id')).toBe(record.recording_id);
      const duration = await page.$eval(
        'audio',
        (audio) =>
          new Promise<number>((resolve, reject) => {
            const media = audio;
            if (media.readyState >= 1) return resolve(media.duration);
            media.addEventListener('loadedmetadata', () => resolve(media.duration), { once: true });
            media.addEventListener('error', () => reject(new Error(`audio error ${media.error?.code}`)), {
              once: true,
            });
          }),
      );
      expect(Math.abs(duration * 1000 - record.recording_duration_ms!)).toBeLessThan(50);
      const advanced = await page.$eval('audio', async (audio) => {
        const media = audio;
        media.muted = true;
        await media.play();
        const start = media.currentTime;
        const deadline = performance.now() + 10_000;
        while (media.currentTime - start < 0.3 && performance.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        const played = media.currentTime - start;
        media.currentTime = media.duration / 2; // seeking needs Range requests
        await new Promise((r) => media.addEventListener('seeked', r, { once: true }));
        const seekedTo = media.currentTime;
        media.pause();
        return { played, seekedTo, half: media.duration / 2 };
      });
      expect(advanced.played).toBeGreaterThanOrEqual(0.3);
      expect(Math.abs(advanced.seekedTo - advanced.half)).toBeLessThan(0.5);
      expect(await text('dl.facts')).toContain(record.recording_id);
      await shot(`2-recording-${format}`);
    },
  );

  it('downloads the recording under its name, and the file is byte for byte what the archive holds', async () => {
    const recording = customerRecordings[7]!;
    const record = await api<ApiRecord>(`/recordings/${recording.recording_id}`);
    await open(`?id=${recording.recording_id}`);
    await page.waitForSelector('.actions button.primary');
    await page.click('.actions button.primary');
    const deadline = Date.now() + 30_000;
    let file: string | undefined;
    while (!file && Date.now() < deadline) {
      file = readdirSync(downloads).find((name) =>
        name.endsWith(`_${recording.recording_id}.${recording.format}`),
      );
      await sleep(100);
    }
    expect(file).toMatch(
      new RegExp(`^\\d{8}T\\d{6}Z_\\+?\\d+_\\+?\\d+_${recording.recording_id}\\.(mp3|wav)$`),
    );
    const bytes = readFileSync(join(downloads, file!));
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(sha).toBe(record.sha256);
    expect(sha).toBe(recording.sha256);
    expect(await text('.player-message')).toContain(file!);
  });

  it('shows the API error in words when a page cursor was tampered with', async () => {
    await search(CUSTOMER);
    await page.setRequestInterception(true);
    const tamper = (request: HTTPRequest) => {
      const url = new URL(request.url());
      const cursor = url.searchParams.get('cursor');
      if (cursor) {
        url.searchParams.set(
          'cursor',
          `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`,
        );
        void request.continue({ url: url.toString() });
      } else void request.continue();
    };
    page.on('request', tamper);
    try {
      await loadMore();
    } finally {
      page.off('request', tamper);
      await page.setRequestInterception(false);
    }
    const message = await text('.results-footer .notice');
    expect(message).toContain('This list cannot be continued');
    expect(message).toMatch(/cursor/i);
    expect(await rowIds()).toHaveLength(25); // what was shown stays
    expect(await text('.results-footer .notice button')).toBe('Search again');
    await shot('3-tampered-cursor');
  });

  it('says "not found" for an unknown id, and for something that cannot be an id', async () => {
    await open('?id=does-not-exist-0000');
    await page.waitForSelector('.notice');
    expect(await text('.notice')).toMatch(/Not found\. There is no recording with this id/);
    await shot('4-not-found');
    await open('?id=..%2Fetc');
    await page.waitForSelector('.notice');
    expect(await text('.notice')).toContain('Not found. This is not a recording id.');
  });

  it.each([
    ['e2e-pending', 'Not archived yet', 'Vobiz answered 503'],
    ['e2e-failed', 'Archiving failed', '403 Forbidden'],
    ['e2e-expired', 'Audio expired', 'removed by the retention policy'],
  ])('shows the state of %s clearly, without a player', async (id, title, detail) => {
    await open(`?id=${id}`);
    await page.waitForSelector('.notice');
    const notice = await text('.notice');
    expect(notice).toContain(title);
    expect(notice).toContain(detail);
    expect(await page.$('audio')).toBeNull();
    await shot(`5-state-${id.slice(4)}`);
  });

  it('works with the keyboard: Enter on a row opens it, Back returns to the same row', async () => {
    await search(CUSTOMER);
    const first = (await rowIds())[0]!;
    await page.focus('tbody tr:first-child a');
    await page.keyboard.press('Enter');
    await page.waitForSelector('audio');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H2');
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Back to results');
    await page.keyboard.press('Enter');
    await page.waitForSelector('table.results', { visible: true });
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-id'))).toBe(
      first,
    );
  });

  it('fits a phone-sized screen: no sideways scrolling on the list or a recording', async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    try {
      await open(`?number=${encodeURIComponent(CUSTOMER)}`);
      await page.waitForSelector('tbody tr');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(SCREENSHOTS, '6-phone-results.png') });
      await page.click('tbody tr:first-child a');
      await page.waitForSelector('audio');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await shot('6-phone-recording');
    } finally {
      await page.setViewport({ width: 1280, height: 900 });
    }
  });
});

/** Any API call as the local console makes it (optionally acting as a group); JSON in and out. */
async function call(
  method: string,
  path: string,
  options: { group?: string; body?: unknown; accept?: string } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${stack.gateway}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      accept: options.accept ?? 'application/json',
      ...(options.group ? { 'x-vra-local-group': options.group } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

interface AuditItem {
  audit_id: string;
  time: string;
  action: string;
  recording_id: string;
  actor: { arn: string; cognito_identity_id?: string; user_sub?: string };
  outcome: string;
  detail?: string;
  variant?: string;
  download?: boolean;
  link_expires_at?: string;
}

/** Every audit entry matching `query`, through the API's pages (newest first). */
async function auditOf(query: Record<string, string>): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: '100', ...(cursor ? { cursor } : {}) });
    const page = await call('GET', `/audit?${params.toString()}`);
    expect(page.status).toBe(200);
    items.push(...(page.body.items as AuditItem[]));
    cursor = page.body.next_cursor as string | null;
  } while (cursor);
  return items;
}

async function actAs(group: 'admins' | 'reviewers'): Promise<void> {
  await page.goto(`${stack.gateway}/console/`, { waitUntil: 'networkidle0' });
  await page.evaluate((g) => sessionStorage.setItem('vra.localGroup', g), group);
}

async function openRecording(id: string): Promise<void> {
  await open(`?id=${id}`);
  await page.waitForSelector('dl.facts');
}

/** Opens an action's form, fills its reference and submits; resolves when the page says the outcome. */
async function runAction(action: string, reference?: string): Promise<void> {
  await page.click(`button[data-action="${action}"]`);
  await page.waitForSelector(`form[data-form="${action}"]`);
  if (reference !== undefined) await page.type(`form[data-form="${action}"] input[name="reason"]`, reference);
  await page.click(`form[data-form="${action}"] button[type="submit"]`);
  await page.waitForSelector('.outcome .notice, .action-message .notice');
}

/** A small RFC 4180 reader: rows of cells, quotes and doubled quotes handled. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) cell += c;
    else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

/** Waits for a new file in the downloads folder whose name matches, and reads it. */
async function downloaded(
  pattern: RegExp,
  before: readonly string[],
): Promise<{ name: string; text: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const name = readdirSync(downloads).find((n) => pattern.test(n) && !before.includes(n));
    if (name) return { name, text: readFileSync(join(downloads, name), 'utf8') };
    if (Date.now() > deadline) throw new Error(`no download matching ${pattern}`);
    await sleep(100);
  }
}

describe('administrators: legal hold, erasure and retry from a recording page', () => {
  it('places a legal hold with a reference: badge, facts and the API agree; an erasure is then refused in words', async () => {
    await actAs('admins');
    const id = otherRecordings[0]!.recording_id;
    await openRecording(id);
    // A reference that is not one is caught before anything is sent.
    await page.click('button[data-action="hold"]');
    await page.type('form[data-form="hold"] input[name="reason"]', 'case 17 (urgent)');
    await page.click('form[data-form="hold"] button[type="submit"]');
    expect(await page.$eval('#hold-reason', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    expect((await call('GET', `/recordings/${id}`)).body.legal_hold).toBeUndefined();
    await page.$eval('#hold-reason', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('#hold-reason', 'CASE-2026-17');
    await page.click('form[data-form="hold"] button[type="submit"]');
    await page.waitForSelector('.outcome .notice');
    expect(await text('.outcome')).toContain('Legal hold placed.');
    expect(await text('h2 .badges')).toContain('legal hold');
    const facts = await text('dl.facts');
    expect(facts).toContain('CASE-2026-17');
    expect(facts).toContain('local stack (no sign-in)');
    expect((await call('GET', `/recordings/${id}`)).body).toMatchObject({
      legal_hold: true,
      legal_hold_reason: 'CASE-2026-17',
    });
    await shot('7-admin-legal-hold');

    await page.click('button[data-action="erase"]');
    expect(await text('form[data-form="erase"]')).toContain('On legal hold.');
    await page.type('#erase-reason', 'DSR-2026-0001');
    await page.type('#erase-confirm', id);
    await page.click('form[data-form="erase"] button[type="submit"]');
    await page.waitForSelector('.action-message .notice');
    const refusal = await text('.action-message');
    expect(refusal).toContain('Not erased: the recording is on legal hold.');
    expect(refusal).toContain('Release the hold first');
    expect(refusal).not.toMatch(/npm run|409/);
    expect((await call('GET', `/recordings/${id}`)).body.status).toBe('stored');
    await shot('8-admin-erase-refused-hold');
  });

  it('releases the hold with a reference, then erases with the id typed to confirm: the tombstone is shown, Vobiz deleted', async () => {
    const id = otherRecordings[0]!.recording_id;
    await openRecording(id);
    await runAction('release', 'CASE-2026-17-closed');
    expect(await text('.outcome')).toContain('Legal hold released.');
    expect(await page.$('.badge-hold')).toBeNull();

    const erasures: string[] = [];
    const onRequest = (request: HTTPRequest) => {
      if (request.method() === 'DELETE') erasures.push(request.url());
    };
    page.on('request', onRequest);
    try {
      await page.click('button[data-action="erase"]');
      const submit = 'form[data-form="erase"] button[type="submit"]';
      expect(await page.$eval('#erase-vobiz', (el) => (el as HTMLInputElement).checked)).toBe(true);
      await page.type('#erase-reason', 'DSR-2026-0142');
      await page.type('#erase-confirm', id.slice(0, -1));
      expect(await page.$eval(submit, (el) => el.disabled)).toBe(true);
      await page.type('#erase-confirm', id.slice(-1));
      expect(await page.$eval(submit, (el) => el.disabled)).toBe(false);
      await shot('9-admin-erase-form');
      await page.click(submit);
      await page.waitForFunction(
        () =>
          document.querySelector('.outcome')?.textContent?.includes('Erased') ||
          document.querySelector('.action-message .notice'),
      );
    } finally {
      page.off('request', onRequest);
    }
    expect(erasures).toHaveLength(1);
    expect(new URL(erasures[0]!).searchParams.get('also_vobiz')).toBe('true');
    expect(new URL(erasures[0]!).searchParams.get('reason')).toBe('DSR-2026-0142');
    const outcome = await text('.outcome');
    expect(outcome).toContain('Erased.');
    expect(outcome).toMatch(/1 audio version deleted/);
    expect(outcome).toContain("Vobiz's copy was deleted.");
    expect(outcome).toContain('DSR-2026-0142');
    expect(await text('h2')).toContain('erased');
    expect(await text('dl.facts')).toContain('DSR-2026-0142');
    expect(await page.$('audio')).toBeNull();
    expect(await page.$('button[data-action="erase"]')).toBeNull();
    const tombstone = (await call('GET', `/recordings/${id}`)).body;
    expect(tombstone).toMatchObject({ status: 'erased', erasure_reason: 'DSR-2026-0142' });
    expect(tombstone.vobiz_deleted_at).toEqual(expect.any(String));
    expect(tombstone.from_number).toBeUndefined();
    await shot('10-admin-erased');
  });

  it('says when an erasure must wait for the archive, with the time the API gives, and nothing is deleted', async () => {
    await openRecording('e2e-busy');
    await page.click('button[data-action="erase"]');
    await page.type('#erase-reason', 'DSR-2026-0143');
    await page.type('#erase-confirm', 'e2e-busy');
    await page.click('form[data-form="erase"] button[type="submit"]');
    await page.waitForSelector('.action-message .notice');
    const message = await text('.action-message');
    expect(message).toContain('Not erased yet: the archive is saving this recording right now.');
    expect(message).toMatch(/Try again in about \d+ minutes, when the archiving attempt is over/);
    expect(await text('form[data-form="erase"] button[type="submit"]')).toMatch(/^Try again in \d+ s$/);
    expect((await call('GET', '/recordings/e2e-busy')).body.status).toBe('stored');
    await shot('11-admin-erase-archiving');
  });

  it('retries a failed recording: queued again and pending; a second retry is refused in words', async () => {
    await openRecording('e2e-retry');
    expect(await text('.notice')).toContain('an administrator can retry it from this page');
    await runAction('retry');
    expect(await text('.outcome')).toContain('Queued again.');
    expect(await text('h2')).toContain('pending');
    expect((await call('GET', '/recordings/e2e-retry')).body).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
    await shot('12-admin-retried');

    // Someone else was quicker: the page still offers the retry, the API says why not.
    await openRecording('e2e-failed');
    await page.click('button[data-action="retry"]');
    await page.waitForSelector('form[data-form="retry"]');
    const first = await call('POST', '/recordings/e2e-failed/retry');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ recording_id: 'e2e-failed', status: 'pending' });
    await page.click('form[data-form="retry"] button[type="submit"]');
    await page.waitForSelector('.action-message .notice');
    expect(await text('.action-message')).toContain(
      'Nothing to retry. Only a recording whose archiving failed (status failed) can be retried; recording e2e-failed is pending: it is already queued for archiving.',
    );
    const audit = await auditOf({ action: 'retry' });
    expect(audit.map((a) => a.recording_id).sort()).toEqual(['e2e-failed', 'e2e-retry']);
  });
});

describe('who listened: every audio link is an audit entry', () => {
  it('records the console’s play and download links and lists them on the page; the API’s redirect too', async () => {
    const id = otherRecordings[1]!.recording_id;
    expect(await auditOf({ recording_id: id })).toEqual([]);
    await openRecording(id);
    await page.waitForSelector('section.listened li');
    expect(await text('section.listened')).toContain('local stack (no sign-in) · play link');
    const before = readdirSync(downloads);
    await page.click('.actions button.primary');
    await downloaded(new RegExp(`_${id}\\.mp3$`), before);
    await page.waitForFunction(() => document.querySelectorAll('section.listened li').length === 2);
    expect(await text('section.listened li:first-child')).toContain('download link');
    await shot('13-listened-by');

    expect((await call('GET', `/recordings/${id}/audio`, { accept: '*/*' })).status).toBe(302);
    const entries = await auditOf({ recording_id: id });
    expect(entries.map((e) => [e.action, e.variant, e.download])).toEqual([
      ['audio_link', 'redirect', false],
      ['audio_link', 'json', true],
      ['audio_link', 'json', false],
    ]);
    const record = (await call('GET', `/recordings/${id}`)).body;
    for (const entry of entries) {
      expect(entry).toMatchObject({ actor: { arn: 'unsigned request (local stack)' }, outcome: 'done' });
      expect(Date.parse(entry.link_expires_at!)).toBeGreaterThan(Date.parse(entry.time));
      // No link and no phone number in what the audit keeps.
      const kept = JSON.stringify(entry);
      for (const secret of [
        'http',
        'X-Amz',
        record.s3_key,
        ...[record.from_number, record.to_number].map((n: string) => n.replace(/\D/g, '').slice(-10)),
      ])
        expect(kept).not.toContain(secret);
    }
  });
});

describe('the audit log view', () => {
  it('lists entries newest first, 50 a page with "Load more", each linking to its recording', async () => {
    // Sixty more links handed out, through the API as a script would.
    await Promise.all(
      customerRecordings.map((r) => call('GET', `/recordings/${r.recording_id}/audio`, { accept: '*/*' })),
    );
    const all = await auditOf({ action: 'audio_link' });
    expect(all.length).toBeGreaterThanOrEqual(60);
    await open('?view=audit&action=audio_link');
    await page.waitForSelector('table.audit tbody tr');
    const ids = () =>
      page.$$eval('table.audit tbody tr', (rows) => rows.map((r) => r.getAttribute('data-audit-id')));
    expect(await ids()).toEqual(all.slice(0, 50).map((e) => e.audit_id));
    await shot('14-audit-log');
    await page.click('button.more');
    await page.waitForFunction((n) => document.querySelectorAll('table.audit tbody tr').length > n, {}, 50);
    expect(await ids()).toEqual(all.slice(0, 100).map((e) => e.audit_id));

    await page.click('table.audit tbody tr:first-child td[data-label="Recording"] a');
    await page.waitForSelector('dl.facts');
    expect(new URL(page.url()).searchParams.get('id')).toBe(all[0]!.recording_id);
  });

  it('filters by action, recording and a time window with time of day, as the API does', async () => {
    const id = otherRecordings[0]!.recording_id;
    await open('?view=audit');
    await page.waitForSelector('table.audit tbody tr');
    await page.select('#a-action', 'legal_hold');
    await page.type('#a-recording', id);
    await page.click('form[aria-label="Filter the audit log"] button[type="submit"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('action') === 'legal_hold');
    await page.waitForSelector('table.audit tbody tr');
    const rows = await page.$$eval('table.audit tbody tr', (r) => r.map((row) => row.textContent ?? ''));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('Legal hold placed');
    expect(rows[0]).toContain('CASE-2026-17');

    // A window of a few minutes around the hold, to the minute, in the viewer's time zone.
    const hold = (await auditOf({ action: 'legal_hold', recording_id: id }))[0]!;
    const local = (ms: number) => {
      const d = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
    };
    const at = Date.parse(hold.time);
    const since = local(at - 60_000);
    const until = local(at + 60_000);
    await open(`?view=audit&recording=${id}&since=${since}&until=${until}`);
    await page.waitForSelector('table.audit tbody tr');
    expect(await page.$eval('#a-since-time', (el) => (el as HTMLInputElement).value)).toBe(since.slice(11));
    const shown = await page.$$eval('table.audit tbody tr', (r) =>
      r.map((row) => row.getAttribute('data-audit-id')),
    );
    const expected = await auditOf({
      recording_id: id,
      since: String(new Date(since).getTime()),
      until: String(new Date(until).getTime() + 59_999),
    });
    expect(shown).toEqual(expected.map((e) => e.audit_id));
    expect(shown).toContain(hold.audit_id);
    await shot('15-audit-filtered');
  });

  it('exports the filtered entries to CSV and JSON Lines: every page, the same entries as the API', async () => {
    await open('?view=audit&action=audio_link');
    await page.waitForSelector('.export button[data-format="csv"]');
    const expected = await auditOf({ action: 'audio_link' });
    let before = readdirSync(downloads);
    await page.click('.export button[data-format="csv"]');
    const csv = await downloaded(/^audit-\d{8}-\d{4}\.csv$/, before);
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual(AUDIT_COLUMNS.map((c) => c.name));
    expect(rows.slice(1).map((r) => r[AUDIT_COLUMNS.findIndex((c) => c.name === 'audit_id')])).toEqual(
      expected.map((e) => e.audit_id),
    );
    expect(await text('.export-status')).toContain(
      `Exported ${expected.length} audit entries to ${csv.name}`,
    );
    before = readdirSync(downloads);
    await page.click('.export button[data-format="jsonl"]');
    const jsonl = await downloaded(/^audit-\d{8}-\d{4}\.jsonl$/, before);
    expect(
      jsonl.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(expected);
  });
});

describe('search: statuses, badges, time of day, pivots and export', () => {
  it('offers every status and finds the erased tombstone by status=erased', async () => {
    await open('');
    const options = await page.$$eval('#q-status option', (o) => o.map((e) => e.value));
    expect(options).toEqual(['', 'pending', 'stored', 'failed', 'expiring', 'expired', 'erasing', 'erased']);
    await open('?status=erased');
    await page.waitForSelector('tbody tr');
    expect(await rowIds()).toEqual([otherRecordings[0]!.recording_id]);
    await open('?status=expired');
    await page.waitForSelector('tbody tr');
    expect(await text('tbody tr .badges')).toContain('expired');
  });

  it('narrows a search to a time window with time of day, as the API does for the same bounds', async () => {
    // Three recordings ten minutes apart (local time); a window from 09:15 to 09:25 holds the middle one.
    const number = '+919800000777';
    const at = (minutes: number) => new Date(2026, 2, 10, 9, minutes).getTime();
    for (const minutes of [10, 20, 30])
      await documents.send(
        new PutCommand({
          TableName: TABLE,
          Item: toItem(
            storedRecording({
              recording_id: `e2e-window-${minutes}`,
              add_time_ms: at(minutes),
              to_number: number,
            }),
          ),
        }),
      );
    const api = (
      await call('GET', `/recordings?to_number=${number.slice(1)}&since=${at(15)}&until=${at(25) + 59_999}`)
    ).body.items as ApiRecord[];
    expect(api.map((r) => r.recording_id)).toEqual(['e2e-window-20']);
    await open('');
    await page.waitForSelector('tbody tr');
    await page.type('#q-number', number);
    await page.type('#q-since', '03102026');
    await page.type('#q-since-time', '0915AM');
    await page.type('#q-until', '03102026');
    await page.type('#q-until-time', '0925AM');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.has('since'));
    await page.waitForSelector('tbody tr');
    expect(new URL(page.url()).searchParams.get('since')).toBe('2026-03-10T09:15');
    expect(new URL(page.url()).searchParams.get('until')).toBe('2026-03-10T09:25');
    expect(await rowIds()).toEqual(['e2e-window-20']);
    expect(await text('h2')).toContain('2026-03-10 09:15 to 2026-03-10 09:25');
    await open(`?number=${encodeURIComponent(number)}&since=2026-03-10&until=2026-03-10`);
    await page.waitForSelector('tbody tr');
    expect(await rowIds()).toEqual(['e2e-window-30', 'e2e-window-20', 'e2e-window-10']);
  });

  it('links the numbers and the call UUID of a recording to a search for them', async () => {
    const id = otherRecordings[2]!.recording_id;
    const record = (await call('GET', `/recordings/${id}`)).body;
    await openRecording(id);
    await page.click(`dl.facts a[href*="call="]`);
    await page.waitForSelector('tbody tr');
    expect(new URL(page.url()).searchParams.get('call')).toBe(record.call_uuid);
    expect(await rowIds()).toEqual([id]);
    await openRecording(id);
    const links = await page.$$eval('dl.facts a[href*="number="]', (a) => a.map((e) => e.textContent));
    expect(links).toEqual([record.from_number, record.to_number]);
  });

  it('exports every page of a search to CSV and JSON Lines, row for row what the API lists', async () => {
    await search(CUSTOMER);
    expect(await rowIds()).toHaveLength(25); // one page on screen, the export takes all of them
    const listed = (await call('GET', `/recordings?to_number=${CUSTOMER.slice(1)}&limit=100`)).body
      .items as Record<string, unknown>[];
    expect(listed).toHaveLength(60);
    let before = readdirSync(downloads);
    await page.click('.export button[data-format="csv"]');
    const csv = await downloaded(/^recordings-\d{8}-\d{4}\.csv$/, before);
    const [header, ...rows] = parseCsv(csv.text);
    expect(header).toEqual(RECORDING_COLUMNS.map((c) => c.name));
    expect(rows).toHaveLength(60);
    for (const [i, row] of rows.entries()) {
      const record = listed[i]!;
      for (const [j, name] of header!.entries()) {
        const value = record[name];
        const expected =
          typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
            ? String(value)
            : '';
        expect(row[j], `${i} ${name}`).toBe(expected);
      }
    }
    expect(await text('.export-status')).toContain(`Exported 60 recordings to ${csv.name}`);
    await shot('16-search-exported');
    before = readdirSync(downloads);
    await page.click('.export button[data-format="jsonl"]');
    const jsonl = await downloaded(/^recordings-\d{8}-\d{4}\.jsonl$/, before);
    expect(
      jsonl.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(listed);
  });

  it('shows progress while exporting and cancels on request: nothing is saved', async () => {
    await search(CUSTOMER);
    await page.setRequestInterception(true);
    const held: HTTPRequest[] = [];
    // The export asks 100 at a time: hold its requests until Cancel is pressed.
    const hold = (request: HTTPRequest) => {
      if (new URL(request.url()).searchParams.get('limit') === '100') held.push(request);
      else void request.continue();
    };
    page.on('request', hold);
    const before = readdirSync(downloads);
    try {
      await page.click('.export button[data-format="csv"]');
      await page.waitForSelector('.export progress');
      expect(await text('.export-status')).toBe('Exporting recordings…');
      await shot('17-export-progress');
      await page.click('.export button.cancel');
      await page.waitForFunction(() =>
        document.querySelector('.export-status')?.textContent?.includes('cancelled'),
      );
    } finally {
      page.off('request', hold);
      for (const request of held) await request.continue().catch(() => undefined);
      await page.setRequestInterception(false);
    }
    expect(held.length).toBeGreaterThan(0);
    expect(await text('.export-status')).toBe('Export cancelled; nothing was saved.');
    expect(await page.$('.export button[data-format="csv"]')).not.toBeNull();
    await sleep(500);
    expect(readdirSync(downloads).filter((n) => !before.includes(n))).toEqual([]);
  });
});

describe('reviewers: search, play and download only', () => {
  it('sees no actions, no listening list and no audit log; the local API refuses those routes as IAM would', async () => {
    await actAs('reviewers');
    try {
      const id = otherRecordings[1]!.recording_id;
      await openRecording(id);
      await page.waitForSelector('audio');
      expect(await page.$('section.admin-actions')).toBeNull();
      expect(await page.$('section.listened')).toBeNull();
      expect(await page.$$eval('nav.views a', (a) => a.map((e) => e.textContent))).toEqual(['Search']);
      expect(await text('.user')).toContain('acting as');
      await shot('18-reviewer-recording');
      await open('?view=audit');
      await page.waitForSelector('.notice-error');
      expect(await text('.notice-error')).toContain('The audit log is for administrators.');

      for (const [method, path] of [
        ['PUT', `/recordings/${id}/legal-hold`],
        ['DELETE', `/recordings/${id}/legal-hold`],
        ['DELETE', `/recordings/${id}?reason=X-1&also_vobiz=true`],
        ['POST', `/recordings/${id}/retry`],
        ['GET', '/audit'],
      ] as const)
        expect((await call(method, path, { group: 'reviewers' })).status, `${method} ${path}`).toBe(403);
      expect((await call('GET', `/recordings/${id}`, { group: 'reviewers' })).status).toBe(200);
      expect((await call('GET', `/recordings/${id}/audio`, { group: 'reviewers' })).status).toBe(200);
      expect((await call('GET', '/audit?limit=1', { group: 'admins' })).status).toBe(200);
    } finally {
      await actAs('admins');
    }
  });
});

describe('the whole run', () => {
  it('ran without page errors or Content-Security-Policy violations', () => {
    expect(problems).toEqual([]);
  });
});
