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
 *   floor page   navigation start → the same rows in the DOM of a minimal hand-written page served by
 *                the same gateway (support/floor-page.ts: an inline script makes the same API
 *                request(s) and fills a table): the least any web page showing these results does;
 *
 * and, for "Load more", the bare API call(s) for the same pages, made with fetch from the same page in
 * the same run. Goals: first page ≤ 1.2 × the floor page, next page ≤ 1.5 × the API. The console and
 * the floor page take turns, which goes first alternating run by run. The browser cache is warm after
 * the first navigation, as for a person who uses the console every day. The last line is one JSON
 * object: {"bench":"console",…}.
 *
 *   npm run bench:console            (BENCH_RECORDS=100000, BENCH_RUNS=50, BENCH_DYNAMODB_HEAP_MB=2048)
 */
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Page } from 'puppeteer-core';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import { createConsoleFiles } from '../local/console-files.js';
import { createTable, LOCAL_REGION } from '../local/emulators.js';
import { createGateway } from '../local/gateway.js';
import { launchChromium } from '../test/support/browser.js';
import { makeDataset, phoneNumber } from '../test/support/recording-dataset.js';
import { benchDynamoClient, loadRecords, startDynamoPerSize } from './support/dynamo-per-size.js';
import { floorPage, floorPageUrl } from './support/floor-page.js';
import { benchLookupHandler } from './support/lookup-handler.js';
import { percentile } from './support/stats.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 5;
const TABLE = 'bench-console';
/** The pools of bench/query.ts: a busy month on the same lines, so a number has thousands of recordings. */
const POOLS = { fromNumbers: 50, toNumbers: 20, days: 30 };
const GOALS = { firstOverFloor: 1.2, nextOverApi: 1.5 };

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
  // The machine runs Node 20 (Lambda runs 22); the SDK's reminder about that is known and noisy.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const [dynamo] = await startDynamoPerSize(1);
  const client = benchDynamoClient(dynamo!.endpoint);
  const chromium = await launchChromium();
  const gateway = createGatewayFor(client);
  try {
    await createTable(client, TABLE);
    const records = makeDataset({ count: RECORDS, calls: RECORDS / 2, seed: RECORDS, prefix: 'c', ...POOLS });
    console.log(`loading ${RECORDS} records into DynamoDB Local (${dynamo!.endpoint})`);
    const loadSeconds = await loadRecords(createDocumentClient(client), TABLE, records);

    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });

    console.log(
      `\n${RUNS} runs per query (+${WARMUP} warm-up), limit 25, browser cache warm; console and floor page take turns`,
    );
    const results = [];
    for (const query of QUERIES) {
      const samples = {
        first: [] as number[],
        floor: [] as number[],
        next: [] as number[],
        apiFirst: [] as number[],
        apiNext: [] as number[],
        phases: new Map<string, number[]>(),
        floorPhases: new Map<string, number[]>(),
      };
      const collect = (into: Map<string, number[]>, phases: Record<string, number>) => {
        for (const [phase, at] of Object.entries(phases)) into.set(phase, [...(into.get(phase) ?? []), at]);
      };
      for (let i = -WARMUP; i < RUNS; i++) {
        const floorFirst = i % 2 !== 0;
        const floorRun = floorFirst ? await measureFloor(page, origin, query, Math.abs(i)) : undefined;
        const run = await measure(page, origin, query, Math.abs(i));
        const floor = floorRun ?? (await measureFloor(page, origin, query, Math.abs(i)));
        if (i < 0) continue;
        samples.first.push(run.first);
        samples.floor.push(floor.rendered);
        samples.next.push(run.next);
        samples.apiFirst.push(run.apiFirst);
        samples.apiNext.push(run.apiNext);
        collect(samples.phases, run.phases);
        collect(samples.floorPhases, floor.phases);
      }
      const stats = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
      const phaseStats = (phases: Map<string, number[]>) =>
        [...phases].map(([phase, values]) => ({ phase, seen: values.length, ...stats(values) }));
      results.push({
        name: query.name,
        first: stats(samples.first),
        floor: stats(samples.floor),
        apiFirst: stats(samples.apiFirst),
        next: stats(samples.next),
        apiNext: stats(samples.apiNext),
        phases: phaseStats(samples.phases),
        floorPhases: phaseStats(samples.floorPhases),
      });
      console.log(`  ${query.name}: done`);
    }

    const ms = (value: number) => value.toFixed(1).padStart(7);
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(7);
    const met = (ratio: number, goal: number) => (ratio <= goal ? 'met' : 'NOT met');
    console.log(`\nload: ${RECORDS} records in ${loadSeconds.toFixed(1)} s`);
    console.log(
      `\n${'query'.padEnd(20)}| page | ${'rendered p50'.padStart(12)} ${'p99'.padStart(7)} | ${'baseline'.padStart(10)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} | ${'×p50'.padStart(7)} ${'×p99'.padStart(7)} | goal`,
    );
    console.log('-'.repeat(100));
    for (const r of results) {
      for (const [label, rendered, base, baseName, goal] of [
        ['first', r.first, r.floor, 'floor page', GOALS.firstOverFloor],
        ['next ', r.next, r.apiNext, 'API', GOALS.nextOverApi],
      ] as const) {
        console.log(
          `${r.name.padEnd(20)}| ${label}| ${ms(rendered.p50).padStart(12)} ${ms(rendered.p99)} | ${baseName.padStart(10)} ${ms(base.p50)} ${ms(base.p99)} | ${x(rendered.p50, base.p50)} ${x(rendered.p99, base.p99)} | ≤ ${goal} ${met(rendered.p50 / base.p50, goal)}`,
        );
      }
      console.log(
        `${''.padEnd(20)}| (first page's bare API call(s): p50 ${r.apiFirst.p50.toFixed(1)} ms, p99 ${r.apiFirst.p99.toFixed(1)} ms; console ${(r.first.p50 / r.apiFirst.p50).toFixed(2)}×, floor page ${(r.floor.p50 / r.apiFirst.p50).toFixed(2)}× of it)`,
      );
    }
    console.log(
      '(ms; first = navigation start → first page in the DOM; floor page = the same for the minimal page;\n next = "Load more" click → next page in the DOM; API = the same request(s) with fetch from the same page; × = rendered / baseline)',
    );
    console.log(
      '\nfirst page, where the time goes (ms from navigation start; p50 and p99 of each milestone):',
    );
    for (const r of results) {
      for (const [label, phases] of [
        ['console', r.phases],
        ['floor page', r.floorPhases],
      ] as const) {
        console.log(`  ${r.name}, ${label}`);
        for (const p of phases)
          console.log(
            `    ${p.phase.padEnd(30)} ${ms(p.p50)} ${ms(p.p99)}${p.seen < RUNS ? `  (${p.seen}/${RUNS} runs)` : ''}`,
          );
      }
    }
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const summary = {
      bench: 'console',
      records: RECORDS,
      runs: RUNS,
      load_seconds: round(loadSeconds),
      goals: { first_page_over_floor_page: GOALS.firstOverFloor, next_page_over_api: GOALS.nextOverApi },
      queries: Object.fromEntries(
        results.map((r) => [
          r.name,
          {
            first_page: {
              rendered_p50_ms: round(r.first.p50),
              rendered_p99_ms: round(r.first.p99),
              floor_p50_ms: round(r.floor.p50),
              floor_p99_ms: round(r.floor.p99),
              floor_ratio_p50: ratio(r.first.p50, r.floor.p50),
              floor_ratio_p99: ratio(r.first.p99, r.floor.p99),
              api_p50_ms: round(r.apiFirst.p50),
              api_p99_ms: round(r.apiFirst.p99),
              ratio_p50: ratio(r.first.p50, r.apiFirst.p50),
              goal_met: r.first.p50 / r.floor.p50 <= GOALS.firstOverFloor,
            },
            next_page: {
              rendered_p50_ms: round(r.next.p50),
              rendered_p99_ms: round(r.next.p99),
              api_p50_ms: round(r.apiNext.p50),
              api_p99_ms: round(r.apiNext.p99),
              ratio_p50: ratio(r.next.p50, r.apiNext.p50),
              ratio_p99: ratio(r.next.p99, r.apiNext.p99),
              goal_met: r.next.p50 / r.apiNext.p50 <= GOALS.nextOverApi,
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
    await dynamo!.stop();
  }
}

function createGatewayFor(client: DynamoDBClient) {
  const handler = benchLookupHandler(createDocumentClient(client), TABLE);
  const consoleFiles = createConsoleFiles({ mediaOrigin: 'http://127.0.0.1:9' });
  return createGateway({
    functions: () => ({ lookup: { handler, functionName: 'lookup', timeoutMs: 10_000 } }),
    // The floor page exists in the bench's gateway only.
    local: (method, path, url) => floorPage(method, path) ?? consoleFiles.handle(method, path, url),
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

/** The floor page's milestones, as PHASES reads the console's. */
const FLOOR_PHASES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const api = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.endsWith('/recordings'));
  const out = {
    'HTML request start': nav.requestStart,
    'HTML response end': nav.responseEnd,
    'API request start': api.length ? Math.min(...api.map((e) => e.startTime)) : undefined,
    'API response end': api.length ? Math.max(...api.map((e) => e.responseEnd)) : undefined,
    'rows rendered': performance.getEntriesByName('floor:rendered', 'mark')[0]?.startTime,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => typeof v === 'number' && v > 0));
})()`;

/** Navigation start → the `name` mark (its startTime counts from navigation start). */
const markTime = (name: string) => `new Promise((resolve) => {
  new PerformanceObserver((list, observer) => {
    const mark = list.getEntriesByName('${name}')[0];
    if (mark) { observer.disconnect(); resolve(mark.startTime); }
  }).observe({ type: 'mark', buffered: true });
})`;

/** One run of the floor page: navigation start → the same rows in its table. */
async function measureFloor(page: Page, origin: string, query: Query, i: number) {
  await page.goto(floorPageUrl(origin, query.apiQueries(i)));
  const rendered = (await page.evaluate(markTime('floor:rendered'))) as number;
  const rows = (await page.evaluate('document.querySelectorAll("#rows tr").length')) as number;
  if (rows !== 25) throw new Error(`the floor page showed ${rows} rows for ${query.name}`);
  return { rendered, phases: (await page.evaluate(FLOOR_PHASES)) as Record<string, number> };
}

/** One run: the console's two timings, then the bare API call(s) for the same pages. */
async function measure(page: Page, origin: string, query: Query, i: number) {
  const search = query.consoleQuery(i);
  await page.goto(`${origin}/console/${search ? `?${search}` : ''}`);
  // The console marks the moment the rows are in the DOM.
  const first = (await page.evaluate(markTime('vra:results-rendered'))) as number;
  const rows = (await page.evaluate('document.querySelectorAll("table.results tbody tr").length')) as number;
  if (rows !== 25) throw new Error(`the console showed ${rows} rows for ${query.name}`);
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
