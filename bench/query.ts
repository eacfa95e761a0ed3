/**
 * Query benchmark: loads 10,000 and then 100,000 records into DynamoDB Local (one table each) and
 * times each lookup query type through the real handler (middy, validation, cursor codec, DynamoDB
 * adapter). It prints p50/p99 latency and the items DynamoDB read per request at both sizes, and the
 * 100k/10k ratios.
 * The last line is one JSON object: {"bench":"query","p99_ratio_max":…,…}.
 *
 *   npm run bench:query            (BENCH_SAMPLES=1000 by default)
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import type { RecordingRecord } from '../functions/shared/domain/recording.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/emulators.js';
import { httpEvent, lambdaContext } from '../test/support/http-events.js';
import { benchLookupHandler } from './support/lookup-handler.js';
import {
  callUuid,
  makeDataset,
  phoneNumber,
  random,
  seedRecordings,
} from '../test/support/recording-dataset.js';

/** Override for a quick smoke run, e.g. BENCH_SIZES=1000,10000. */
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number) as [number, number];
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const WARMUP = 60;
const CONCURRENCY = 12;
/**
 * Numbers and days are fixed pools, so their partitions (and every time shard) grow tenfold with the
 * table: a busy month on the same lines. Calls keep ~2 recordings each, as real calls do.
 */
const POOLS = { fromNumbers: 50, toNumbers: 20, days: 30 };
const RECORDINGS_PER_CALL = 2;
const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2025, 0, 1);

interface QueryType {
  name: string;
  /** Path and query of the i-th sample. */
  request(i: number): { path: string; query?: Record<string, string> };
}

interface Stats {
  p50: number;
  p99: number;
  reads: number;
  items: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  process.env.AWS_REGION ??= LOCAL_REGION;
  const started = performance.now();
  const dynamo = await startDynamoDbLocal();
  console.log(`DynamoDB Local ready in ${seconds(started)} s at ${dynamo.endpoint}`);
  const clients: DynamoDBClient[] = [];
  try {
    const targets: Target[] = [];
    const all: RecordingRecord[] = [];
    for (const size of SIZES) {
      const count = size - all.length;
      all.push(
        ...makeDataset({
          count,
          calls: count / RECORDINGS_PER_CALL,
          callBase: all.length / RECORDINGS_PER_CALL,
          seed: size,
          prefix: `b${size}`,
          startMs: START_MS,
          ...POOLS,
        }),
      );
      const client = new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 10,
      });
      clients.push(client);
      targets.push(await prepare(client, size, all));
    }
    await measure(targets);
  } finally {
    for (const client of clients) client.destroy();
    await dynamo.stop();
  }
}

interface Target {
  size: number;
  loadSeconds: number;
  /** Items DynamoDB examined since the last reset: the machine-independent cost. */
  reads: { examined: number };
  call(
    path: string,
    query?: Record<string, string>,
  ): Promise<{ items?: unknown[]; next_cursor?: string | null }>;
  types: QueryType[];
}

/** Loads `records` into a table of their own and describes the query types over them. */
async function prepare(
  client: DynamoDBClient,
  size: number,
  records: readonly RecordingRecord[],
): Promise<Target> {
  const tableName = `bench-${size}`;
  await createTable(client, tableName);
  const documents = createDocumentClient(client);
  const reads = { examined: 0 };
  documents.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { ScannedCount?: number; Item?: unknown } | undefined;
      reads.examined += output?.ScannedCount ?? (output?.Item ? 1 : 0);
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );

  console.log(`loading ${records.length} records into ${tableName}`);
  const loadStart = performance.now();
  let lastReport = 0;
  await seedRecordings(documents, tableName, records, {
    concurrency: CONCURRENCY,
    onProgress: (written) => {
      if (written - lastReport >= 10_000 || written === records.length) {
        lastReport = written;
        console.log(`  ${written} (${Math.round(written / ((performance.now() - loadStart) / 1000))}/s)`);
      }
    },
  });
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const handler = benchLookupHandler(documents, tableName);
  const call = async (path: string, query?: Record<string, string>) => {
    const result = await handler(httpEvent({ path, query }), lambdaContext());
    if (result.statusCode !== 200 && result.statusCode !== 302) {
      throw new Error(`${path} ${JSON.stringify(query)} → ${result.statusCode} ${result.body}`);
    }
    return result.body ? (JSON.parse(result.body) as { items?: unknown[]; next_cursor?: string | null }) : {};
  };

  const storedIds = records.filter((r) => r.status === 'stored').map((r) => r.recording_id);
  const pick = random(size + 1);
  const choose = <T>(values: readonly T[]) => values[Math.floor(pick() * values.length)]!;
  const fromNumber = () => phoneNumber('from', Math.floor(pick() * POOLS.fromNumbers));
  // Cursors deep inside the unfiltered listing, for "next page" requests.
  const cursors: string[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < 40; page++) {
    const body = await call('/recordings', cursor ? { limit: '25', cursor } : { limit: '100' });
    cursor = body.next_cursor;
    if (!cursor) break;
    cursors.push(cursor);
  }
  const day = (i: number) => START_MS + (i % POOLS.days) * DAY_MS;
  const types: QueryType[] = [
    { name: 'get by id', request: () => ({ path: `/recordings/${choose(storedIds)}` }) },
    { name: 'audio link', request: () => ({ path: `/recordings/${choose(storedIds)}/audio` }) },
    { name: 'list newest', request: () => ({ path: '/recordings' }) },
    {
      name: 'list next page',
      request: (i) => ({ path: '/recordings', query: { cursor: cursors[i % cursors.length]! } }),
    },
    {
      name: 'list one day',
      request: (i) => ({
        path: '/recordings',
        query: { since: String(day(i)), until: String(day(i) + DAY_MS - 1) },
      }),
    },
    {
      name: 'by call_uuid',
      request: () => ({
        path: '/recordings',
        query: { call_uuid: callUuid(Math.floor((pick() * size) / RECORDINGS_PER_CALL)) },
      }),
    },
    {
      name: 'by from_number',
      request: () => ({ path: '/recordings', query: { from_number: fromNumber() } }),
    },
    {
      name: 'by to_number',
      request: () => ({
        path: '/recordings',
        query: { to_number: phoneNumber('to', Math.floor(pick() * POOLS.toNumbers)) },
      }),
    },
    { name: 'by status=pending', request: () => ({ path: '/recordings', query: { status: 'pending' } }) },
    {
      name: 'from + status=stored',
      request: () => ({ path: '/recordings', query: { from_number: fromNumber(), status: 'stored' } }),
    },
    {
      name: 'from + status=failed',
      request: () => ({ path: '/recordings', query: { from_number: fromNumber(), status: 'failed' } }),
    },
    {
      name: 'to + one week',
      request: (i) => ({
        path: '/recordings',
        query: {
          to_number: phoneNumber('to', i % POOLS.toNumbers),
          since: new Date(day(i)).toISOString(),
          until: new Date(day(i) + 7 * DAY_MS - 1).toISOString(),
        },
      }),
    },
  ];
  return { size, loadSeconds, reads, call, types };
}

/**
 * Times every query type against both tables, alternating request by request (and which table goes
 * first), so that JIT warm-up, garbage collection and other load on the machine hit both sizes alike.
 */
async function measure(targets: Target[]): Promise<void> {
  const [small, large] = targets as [Target, Target];
  console.log(
    `\nmeasuring ${small.types.length} query types × ${SAMPLES} requests per size, alternating sizes (limit 25, one request at a time)`,
  );
  const rows: { name: string; a: Stats; b: Stats; p50Ratio: number; p99Ratio: number; readRatio: number }[] =
    [];
  for (let t = 0; t < small.types.length; t++) {
    const times: [number[], number[]] = [[], []];
    const items = [0, 0];
    for (const target of targets) target.reads.examined = 0;
    for (let i = -WARMUP; i < SAMPLES; i++) {
      if (i === 0) for (const target of targets) target.reads.examined = 0;
      for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const target = targets[which]!;
        const { path, query } = target.types[t]!.request(Math.abs(i));
        const t0 = performance.now();
        const body = await target.call(path, query);
        const elapsed = performance.now() - t0;
        if (i >= 0) {
          times[which]!.push(elapsed);
          items[which]! += body.items?.length ?? 1;
        }
      }
    }
    const stats = targets.map((target, which): Stats => {
      const sorted = times[which]!.sort((x, y) => x - y);
      return {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        reads: target.reads.examined / SAMPLES,
        items: items[which]! / SAMPLES,
      };
    }) as [Stats, Stats];
    const [a, b] = stats;
    rows.push({
      name: small.types[t]!.name,
      a,
      b,
      p50Ratio: b.p50 / a.p50,
      p99Ratio: b.p99 / a.p99,
      readRatio: a.reads === 0 ? 1 : b.reads / a.reads,
    });
    console.log(`  ${small.types[t]!.name}: done`);
  }

  const ms = (value: number) => value.toFixed(1).padStart(7);
  const x = (value: number) => `${value.toFixed(2)}×`.padStart(7);
  console.log(
    `\nload: ${small.size} records in ${small.loadSeconds.toFixed(1)} s, ${large.size} records in ${large.loadSeconds.toFixed(1)} s`,
  );
  console.log(
    `\n${'query'.padEnd(22)}|${'p50 A'.padStart(8)}${'p99 A'.padStart(8)}${'p50 B'.padStart(9)}${'p99 B'.padStart(9)} |${'p50 ×'.padStart(7)}${'p99 ×'.padStart(7)} | read/req A → B       items/page A → B`,
  );
  console.log('-'.repeat(118));
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(22)}|${ms(row.a.p50)} ${ms(row.a.p99)} ${ms(row.b.p50)}  ${ms(row.b.p99)} |${x(row.p50Ratio)}${x(row.p99Ratio)} | ${row.a.reads.toFixed(0).padStart(6)} → ${row.b.reads.toFixed(0).padEnd(8)} ${row.a.items.toFixed(1).padStart(6)} → ${row.b.items.toFixed(1)}`,
    );
  }
  console.log(
    `(A = ${small.size} records, B = ${large.size}; times in ms; × = B/A; read/req = items DynamoDB examined per request)`,
  );
  const summary = {
    bench: 'query',
    sizes: [small.size, large.size],
    samples: SAMPLES,
    load_seconds: [round(small.loadSeconds), round(large.loadSeconds)],
    p99_ratio_max: round(Math.max(...rows.map((r) => r.p99Ratio))),
    p50_ratio_max: round(Math.max(...rows.map((r) => r.p50Ratio))),
    read_ratio_max: round(Math.max(...rows.map((r) => r.readRatio))),
    queries: Object.fromEntries(
      rows.map((r) => [
        r.name,
        {
          p50_ms: [round(r.a.p50), round(r.b.p50)],
          p99_ms: [round(r.a.p99), round(r.b.p99)],
          p50_ratio: round(r.p50Ratio),
          p99_ratio: round(r.p99Ratio),
          reads_per_request: [round(r.a.reads), round(r.b.reads)],
        },
      ]),
    ),
  };
  console.log(JSON.stringify(summary));
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
