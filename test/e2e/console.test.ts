import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { toItem, type RecordingRecord } from '../../functions/shared/domain/recording.js';
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
  await simulate({ count: 3, format: 'mp3', size_bytes: 40_000 });
  const documents = createDocumentClient(
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
      Item: { ...toItem(expired), status: 'expired', expired_at: new Date(now).toISOString() },
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

  it('ran without page errors or Content-Security-Policy violations', () => {
    expect(problems).toEqual([]);
  });
});
