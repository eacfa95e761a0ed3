/**
 * Console benchmark: 100,000 records in DynamoDB Local behind the real lookup handler and the local
 * gateway (which also serves the console, as `npm start` does), driven by headless Chromium. For each
 * query it times, over BENCH_RUNS runs (50):
 *
 *   first page   navigation start → the first page of results rendered (HTML with the configuration
 *                and the boot script that starts the API call, the cached script and stylesheet, the
 *                rows in the DOM), read from the page's own performance marks, and where that time
 *                goes (navigation and resource timing, the console's marks);
 *   next page    the "Load more" click → the next page rendered;
 *
 * next to the bare API call(s) for the same query, made with fetch from the same page in the same run
 * (the goal: rendered ≤ 1.5 × API). The browser cache is warm after the first navigation, as for a person
 * who uses the console every day. The last line is one JSON object: {"bench":"console",…}.
 *
 *   npm run bench:console            (BENCH_RECORDS=100000, BENCH_RUNS=50)
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Page } from 'puppeteer-core';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import { createConsoleFiles } from '../local/console-files.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/emulators.js';
import { createGateway } from '../local/gateway.js';
import { launchChromium } from '../test/support/browser.js';
import { makeDataset, phoneNumber, seedRecordings } from '../test/support/recording-dataset.js';
import { benchLookupHandler } from './support/lookup-handler.js';
import { percentile } from './support/stats.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 5;
const TABLE = 'bench-console';
/** The pools of bench/query.ts: a busy month on the same lines, so a number has thousands of recordings. */
const POOLS = { fromNumbers: 50, toNumbers: 20, days: 30 };

interface Query {
  name: string;
  /** The console URL's query for run i. */
  consoleQuery(i: number): string;
  /** The API requests the console makes for it (one, or two for either direction). */
  apiQueries(i: number): string[];
}

const digits = (i: number) => phoneNumber('to', i % POOLS.toNumbers).replace('+', '');
const QUERIES: Query[] = [
  {
    name: 'number, called (to)',
    consoleQuery: (i) => `number=%2B${digits(i)}&dir=to`,
    apiQueries: (i) => [`to_number=${digits(i)}&limit=25`],
  },
  {
    name: 'number, from or to',
    consoleQuery: (i) => `number=%2B${digits(i)}`,
    apiQueries: (i) => [`from_number=${digits(i)}&limit=25`, `to_number=${digits(i)}&limit=25`],
  },
  {
    name: 'newest, no filter',
    consoleQuery: () => '',
    apiQueries: () => ['limit=25'],
  },
];

const round = (value: number) => Math.round(value * 10) / 10;

async function main(): Promise<void> {
  process.env.AWS_REGION ??= LOCAL_REGION;
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 10,
  });
  const chromium = await launchChromium();
  const gateway = createGatewayFor(client);
  try {
    await createTable(client, TABLE);
    const records = makeDataset({ count: RECORDS, calls: RECORDS / 2, seed: RECORDS, prefix: 'c', ...POOLS });
    console.log(`loading ${RECORDS} records into DynamoDB Local (${dynamo.endpoint})`);
    const loadStart = performance.now();
    let reported = 0;
    await seedRecordings(createDocumentClient(client), TABLE, records, {
      concurrency: 12,
      onProgress: (written) => {
        if (written - reported >= 20_000 || written === records.length) {
          reported = written;
          console.log(`  ${written} (${Math.round(written / ((performance.now() - loadStart) / 1000))}/s)`);
        }
      },
    });
    const loadSeconds = (performance.now() - loadStart) / 1000;

    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });

    console.log(`\n${RUNS} runs per query (+${WARMUP} warm-up), limit 25, browser cache warm`);
    const results = [];
    for (const query of QUERIES) {
      const samples = {
        first: [] as number[],
        next: [] as number[],
        apiFirst: [] as number[],
        apiNext: [] as number[],
        phases: new Map<string, number[]>(),
      };
      for (let i = -WARMUP; i < RUNS; i++) {
        const run = await measure(page, origin, query, Math.abs(i));
        if (i < 0) continue;
        samples.first.push(run.first);
        samples.next.push(run.next);
        samples.apiFirst.push(run.apiFirst);
        samples.apiNext.push(run.apiNext);
        for (const [phase, at] of Object.entries(run.phases))
          samples.phases.set(phase, [...(samples.phases.get(phase) ?? []), at]);
      }
      const stats = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
      results.push({
        name: query.name,
        first: stats(samples.first),
        apiFirst: stats(samples.apiFirst),
        next: stats(samples.next),
        apiNext: stats(samples.apiNext),
        phases: [...samples.phases].map(([phase, values]) => ({
          phase,
          seen: values.length,
          ...stats(values),
        })),
      });
      console.log(`  ${query.name}: done`);
    }

    const ms = (value: number) => value.toFixed(1).padStart(7);
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(7);
    console.log(`\nload: ${RECORDS} records in ${loadSeconds.toFixed(1)} s`);
    console.log(
      `\n${'query'.padEnd(20)}| page | ${'rendered p50'.padStart(12)} ${'p99'.padStart(7)} | ${'API p50'.padStart(8)} ${'p99'.padStart(7)} | ${'×p50'.padStart(7)} ${'×p99'.padStart(7)}`,
    );
    console.log('-'.repeat(86));
    for (const r of results) {
      for (const [label, rendered, api] of [
        ['first', r.first, r.apiFirst],
        ['next ', r.next, r.apiNext],
      ] as const) {
        console.log(
          `${r.name.padEnd(20)}| ${label}| ${ms(rendered.p50).padStart(12)} ${ms(rendered.p99)} | ${ms(api.p50).padStart(8)} ${ms(api.p99)} | ${x(rendered.p50, api.p50)} ${x(rendered.p99, api.p99)}`,
        );
      }
    }
    console.log(
      '(ms; first = navigation start → first page in the DOM; next = "Load more" click → next page in the DOM;\n API = the same request(s) with fetch from the same page; × = rendered / API)',
    );
    console.log('\nfirst page, where the time goes (ms from navigation start; p50 of each milestone):');
    for (const r of results) {
      console.log(`  ${r.name}`);
      for (const p of r.phases)
        console.log(
          `    ${p.phase.padEnd(24)} ${ms(p.p50)} ${ms(p.p99)}${p.seen < RUNS ? `  (${p.seen}/${RUNS} runs)` : ''}`,
        );
    }
    const summary = {
      bench: 'console',
      records: RECORDS,
      runs: RUNS,
      load_seconds: round(loadSeconds),
      queries: Object.fromEntries(
        results.map((r) => [
          r.name,
          {
            first_page: {
              rendered_p50_ms: round(r.first.p50),
              rendered_p99_ms: round(r.first.p99),
              api_p50_ms: round(r.apiFirst.p50),
              api_p99_ms: round(r.apiFirst.p99),
              ratio_p50: Math.round((r.first.p50 / r.apiFirst.p50) * 100) / 100,
            },
            next_page: {
              rendered_p50_ms: round(r.next.p50),
              rendered_p99_ms: round(r.next.p99),
              api_p50_ms: round(r.apiNext.p50),
              api_p99_ms: round(r.apiNext.p99),
              ratio_p50: Math.round((r.next.p50 / r.apiNext.p50) * 100) / 100,
            },
          },
        ]),
      ),
    };
    console.log(JSON.stringify(summary));
  } finally {
    gateway.closeAllConnections();
    gateway.close();
    await chromium.close();
    client.destroy();
    await dynamo.stop();
  }
}

function createGatewayFor(client: DynamoDBClient) {
  const handler = benchLookupHandler(createDocumentClient(client), TABLE);
  const consoleFiles = createConsoleFiles({ mediaOrigin: 'http://127.0.0.1:9' });
  return createGateway({
    functions: () => ({ lookup: { handler, functionName: 'lookup', timeoutMs: 10_000 } }),
    local: (method, path, url) => consoleFiles.handle(method, path, url),
  });
}

/**
 * Where the first page's time goes: each milestone in ms from navigation start, from the navigation and
 * resource timing entries and the console's marks (absent when the browser did not report it, e.g. a
 * script served from the memory cache has no resource entry).
 */
const PHASES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const resource = (test) => resources.find((e) => test(new URL(e.name).pathname));
  const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime;
  const js = resource((p) => p.endsWith('.js'));
  const css = resource((p) => p.endsWith('.css'));
  const api = resources.filter((e) => new URL(e.name).pathname.endsWith('/recordings'));
  const out = {
    'HTML request start': nav.requestStart,
    'HTML response end': nav.responseEnd,
    'script, stylesheet from cache': Math.max(js?.responseEnd ?? 0, css?.responseEnd ?? 0),
    'inline prefetch runs': mark('vra:prefetch'),
    'module starts': mark('vra:script-start'),
    'API request start': api.length ? Math.min(...api.map((e) => e.startTime)) : undefined,
    'API response end': api.length ? Math.max(...api.map((e) => e.responseEnd)) : undefined,
    'rows rendered': mark('vra:results-rendered'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => typeof v === 'number' && v > 0));
})()`;

/** One run: the console's two timings, then the bare API call(s) for the same pages. */
async function measure(page: Page, origin: string, query: Query, i: number) {
  const search = query.consoleQuery(i);
  await page.goto(`${origin}/console/${search ? `?${search}` : ''}`);
  // The console marks the moment the rows are in the DOM; its startTime counts from navigation start.
  const first = (await page.evaluate(`new Promise((resolve) => {
    const find = () => performance.getEntriesByName('vra:results-rendered')[0];
    const found = find();
    if (found) return resolve(found.startTime);
    new PerformanceObserver((list, observer) => {
      const mark = list.getEntriesByName('vra:results-rendered')[0];
      if (mark) { observer.disconnect(); resolve(mark.startTime); }
    }).observe({ type: 'mark', buffered: true });
  })`)) as number;
  const phases = (await page.evaluate(PHASES)) as Record<string, number>;
  const next = (await page.evaluate(`new Promise((resolve, reject) => {
    const button = document.querySelector('button.more');
    if (!button) return reject(new Error('no "Load more" button'));
    const t0 = performance.now();
    new PerformanceObserver((list, observer) => {
      const mark = list.getEntriesByName('vra:page-rendered')[0];
      if (mark) { observer.disconnect(); resolve(mark.startTime - t0); }
    }).observe({ type: 'mark' });
    button.click();
  })`)) as number;
  const paths = JSON.stringify(query.apiQueries(i).map((q) => `/recordings?${q}`));
  const api = (await page.evaluate(`(async () => {
    const get = async (path) => (await fetch(path, { headers: { accept: 'application/json' } })).json();
    let t0 = performance.now();
    const pages = await Promise.all(${paths}.map(get));
    const apiFirst = performance.now() - t0;
    const cursors = ${paths}.map((path, k) => path + '&cursor=' + encodeURIComponent(pages[k].next_cursor));
    t0 = performance.now();
    await Promise.all(cursors.map(get));
    return { apiFirst, apiNext: performance.now() - t0 };
  })()`)) as { apiFirst: number; apiNext: number };
  return { first, next, phases, ...api };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
