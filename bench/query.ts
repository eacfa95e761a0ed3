/**
 * Query benchmark: 10,000 and 100,000 records, each size in its own DynamoDB Local process (tables as
 * the stack creates them, stream included; why one process per size: support/dynamo-per-size.ts),
 * loaded in parallel. Each lookup query type is timed through the real handler (middy, validation,
 * cursor codec, DynamoDB adapter), alternating the sizes request by request. Right after each request,
 * the emulator floor replays the DynamoDB commands that request sent (the same GetItem/Query inputs, and
 * the audio link's audit PutItem, in the same waves: what ran in parallel runs in parallel), bare, on a plain DynamoDB client: what DynamoDB
 * Local itself costs for that query's shape. It prints p50/p99 latency of both and the items DynamoDB read
 * per request at both sizes, with the 100k/10k ratios of the product next to the floor's.
 * The last line is one JSON object: {"bench":"query","p99_ratio_max":…,"floor_p99_ratio_max":…,…}.
 *
 *   npm run bench:query            (BENCH_SAMPLES=1000, BENCH_SIZES=10000,100000, BENCH_DYNAMODB_HEAP_MB=2048)
 */
import { performance } from 'node:perf_hooks';
import { GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import type { RecordingRecord } from '../functions/shared/domain/recording.js';
import { createTable, LOCAL_REGION, type RunningDynamo } from '../local/emulators.js';
import { httpEvent, lambdaContext } from '../test/support/http-events.js';
import { benchDynamoClient, loadRecords, startDynamoPerSize } from './support/dynamo-per-size.js';
import { benchLookupHandler } from './support/lookup-handler.js';
import { percentile } from './support/stats.js';
import { callUuid, makeDataset, phoneNumber, random } from '../test/support/recording-dataset.js';

/** Override for a quick smoke run, e.g. BENCH_SIZES=1000,10000. */
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number) as [number, number];
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const WARMUP = 60;
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
}

/** One DynamoDB command the handler sent, as sent (marshalled input), with when it ran. */
interface Sent {
  command: 'GetItemCommand' | 'QueryCommand' | 'PutItemCommand';
  input: Record<string, unknown>;
  start: number;
  end: number;
}

interface Target {
  size: number;
  loadSeconds: number;
  /** Items DynamoDB examined while `reads.counting`: the machine-independent cost. */
  reads: { examined: number; counting: boolean };
  /** Where the commands of the request under way are recorded (only while set). */
  capture: { into?: Sent[] };
  client: DynamoDBClient;
  call(
    path: string,
    query?: Record<string, string>,
  ): Promise<{ items?: unknown[]; next_cursor?: string | null }>;
  types: QueryType[];
}

async function main(): Promise<void> {
  process.env.AWS_REGION ??= LOCAL_REGION;
  // The machine runs Node 20 (Lambda runs 22); the SDK's reminder about that is known and noisy.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = performance.now();
  const dynamos = await startDynamoPerSize(SIZES.length);
  console.log(`${dynamos.length} DynamoDB Local processes ready in ${seconds(started)} s`);
  const targets: Target[] = [];
  try {
    // The larger table holds the smaller one's records and more (the same dataset as before the split).
    const all: RecordingRecord[] = [];
    const datasets = SIZES.map((size) => {
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
      return [...all];
    });
    const load = performance.now();
    targets.push(...(await Promise.all(SIZES.map((size, i) => prepare(size, dynamos[i]!, datasets[i]!)))));
    console.log(`both tables loaded in ${seconds(load)} s`);
    await measure(targets);
  } finally {
    for (const target of targets) target.client.destroy();
    await Promise.all(dynamos.map((dynamo: RunningDynamo) => dynamo.stop()));
  }
}

/** Loads `records` into a table of their own process and describes the query types over them. */
async function prepare(
  size: number,
  dynamo: RunningDynamo,
  records: readonly RecordingRecord[],
): Promise<Target> {
  const tableName = `bench-${size}`;
  const client = benchDynamoClient(dynamo.endpoint);
  await createTable(client, tableName);
  const documents = createDocumentClient(client);
  const reads = { examined: 0, counting: false };
  const capture: Target['capture'] = {};
  // The document client shares the client's middleware stack; at the build step the input is marshalled.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const into = capture.into;
      const start = performance.now();
      const result = await next(args);
      if (into) {
        const command = context.commandName;
        if (command !== 'GetItemCommand' && command !== 'QueryCommand' && command !== 'PutItemCommand')
          throw new Error(`the lookup sent ${command}; the floor replays GetItem, Query and PutItem only`);
        into.push({ command, input: args.input as Record<string, unknown>, start, end: performance.now() });
      }
      if (reads.counting) {
        const output = result.output as { ScannedCount?: number; Item?: unknown } | undefined;
        reads.examined += output?.ScannedCount ?? (output?.Item ? 1 : 0);
      }
      return result;
    },
    { step: 'build', name: 'benchCapture' },
  );

  console.log(`loading ${records.length} records into ${tableName} (${dynamo.endpoint})`);
  const loadSeconds = await loadRecords(documents, tableName, records, 10_000);

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
  return { size, loadSeconds, reads, capture, client, call, types };
}

/**
 * The commands of one request in waves: a command that started before every earlier command of its wave
 * had finished ran alongside them; the floor replays each wave in parallel and the waves one after another.
 */
function waves(sent: readonly Sent[]): Sent[][] {
  const result: Sent[][] = [];
  let firstEnd = Number.NEGATIVE_INFINITY;
  for (const command of [...sent].sort((a, b) => a.start - b.start)) {
    const wave = result.at(-1);
    if (wave && command.start < firstEnd) {
      wave.push(command);
      firstEnd = Math.min(firstEnd, command.end);
    } else {
      result.push([command]);
      firstEnd = command.end;
    }
  }
  return result;
}

/** The emulator floor of one request: its DynamoDB commands again, bare, wave after wave. */
async function replay(client: DynamoDBClient, plan: Sent[][]): Promise<number> {
  const sends = plan.map((wave) =>
    wave.map((sent) => {
      const input = structuredClone(sent.input) as never;
      if (sent.command === 'PutItemCommand') {
        // The audio link's audit entry: the same item written again, without the condition that the
        // first write made false (a write of the same size and indexes, not a refused one).
        const { ConditionExpression: _condition, ExpressionAttributeNames: _names, ...put } = sent.input;
        return () => client.send(new PutItemCommand(put as never));
      }
      return sent.command === 'GetItemCommand'
        ? () => client.send(new GetItemCommand(input))
        : () => client.send(new QueryCommand(input));
    }),
  );
  const t0 = performance.now();
  for (const wave of sends) await Promise.all(wave.map((send) => send()));
  return performance.now() - t0;
}

/**
 * Times every query type against both tables, alternating request by request (and which table goes
 * first), so that JIT warm-up, garbage collection and other load on the machine hit both sizes alike;
 * each request's floor runs right after it, on the same table.
 */
async function measure(targets: Target[]): Promise<void> {
  const [small, large] = targets as [Target, Target];
  console.log(
    `\nmeasuring ${small.types.length} query types × ${SAMPLES} requests per size, alternating sizes (limit 25, one request at a time), each followed by its emulator floor`,
  );
  const rows: {
    name: string;
    product: [Stats, Stats];
    floor: [Stats, Stats];
    reads: [number, number];
    items: [number, number];
    commands: number;
  }[] = [];
  for (let t = 0; t < small.types.length; t++) {
    const times: [number[], number[]] = [[], []];
    const floorTimes: [number[], number[]] = [[], []];
    const items = [0, 0];
    let commands = 0;
    for (const target of targets) target.reads.examined = 0;
    for (let i = -WARMUP; i < SAMPLES; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const plans: Sent[][][] = [];
      for (const which of order) {
        const target = targets[which]!;
        const { path, query } = target.types[t]!.request(Math.abs(i));
        const sent: Sent[] = [];
        target.capture.into = sent;
        target.reads.counting = i >= 0;
        const t0 = performance.now();
        const body = await target.call(path, query);
        const elapsed = performance.now() - t0;
        target.capture.into = undefined;
        target.reads.counting = false;
        plans[which] = waves(sent);
        if (i >= 0) {
          times[which]!.push(elapsed);
          items[which]! += body.items?.length ?? 1;
          if (which === 0) commands += sent.length;
        }
      }
      for (const which of order) {
        const elapsed = await replay(targets[which]!.client, plans[which]!);
        if (i >= 0) floorTimes[which]!.push(elapsed);
      }
    }
    const stats = (values: number[]): Stats => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
    rows.push({
      name: small.types[t]!.name,
      product: [stats(times[0]), stats(times[1])],
      floor: [stats(floorTimes[0]), stats(floorTimes[1])],
      reads: [small.reads.examined / SAMPLES, large.reads.examined / SAMPLES],
      items: [items[0]! / SAMPLES, items[1]! / SAMPLES],
      commands: commands / SAMPLES,
    });
    console.log(`  ${small.types[t]!.name}: done`);
  }

  const ratio = (pair: [Stats, Stats], key: keyof Stats) => pair[1][key] / pair[0][key];
  const readRatio = (row: (typeof rows)[number]) => (row.reads[0] === 0 ? 1 : row.reads[1] / row.reads[0]);
  const ms = (value: number) => value.toFixed(1).padStart(7);
  const x = (value: number) => `${value.toFixed(2)}×`.padStart(7);
  console.log(
    `\nload (in parallel, one process each): ${small.size} records in ${small.loadSeconds.toFixed(1)} s, ${large.size} records in ${large.loadSeconds.toFixed(1)} s`,
  );
  console.log(
    `\n${'query'.padEnd(22)}|${'p50 A'.padStart(8)}${'p99 A'.padStart(8)}${'p50 B'.padStart(8)}${'p99 B'.padStart(8)} |${'p50 ×'.padStart(7)}${'p99 ×'.padStart(7)} | floor${'p50 A'.padStart(7)}${'p50 B'.padStart(8)} |${'p50 ×'.padStart(7)}${'p99 ×'.padStart(7)} | read/req A → B   items A → B`,
  );
  console.log('-'.repeat(140));
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(22)}|${ms(row.product[0].p50)} ${ms(row.product[0].p99)} ${ms(row.product[1].p50)} ${ms(row.product[1].p99)} |${x(ratio(row.product, 'p50'))}${x(ratio(row.product, 'p99'))} |  ${ms(row.floor[0].p50)} ${ms(row.floor[1].p50)} |${x(ratio(row.floor, 'p50'))}${x(ratio(row.floor, 'p99'))} | ${row.reads[0].toFixed(0).padStart(5)} → ${row.reads[1].toFixed(0).padEnd(6)} ${row.items[0].toFixed(1).padStart(5)} → ${row.items[1].toFixed(1)}`,
    );
  }
  console.log(
    `(A = ${small.size} records, B = ${large.size}, each in its own DynamoDB Local; times in ms; × = B/A; floor = the same request's GetItem/Query/PutItem commands replayed bare; read/req = items DynamoDB examined per request)`,
  );
  const max = (values: number[]) => round(Math.max(...values));
  const summary = {
    bench: 'query',
    sizes: [small.size, large.size],
    samples: SAMPLES,
    load_seconds: [round(small.loadSeconds), round(large.loadSeconds)],
    p99_ratio_max: max(rows.map((r) => ratio(r.product, 'p99'))),
    p50_ratio_max: max(rows.map((r) => ratio(r.product, 'p50'))),
    read_ratio_max: max(rows.map(readRatio)),
    floor_p99_ratio_max: max(rows.map((r) => ratio(r.floor, 'p99'))),
    floor_p50_ratio_max: max(rows.map((r) => ratio(r.floor, 'p50'))),
    targets: { p99_ratio_max: 1.5, read_ratio_max: 1.1 },
    queries: Object.fromEntries(
      rows.map((r) => [
        r.name,
        {
          p50_ms: [round(r.product[0].p50), round(r.product[1].p50)],
          p99_ms: [round(r.product[0].p99), round(r.product[1].p99)],
          p50_ratio: round(ratio(r.product, 'p50')),
          p99_ratio: round(ratio(r.product, 'p99')),
          floor_p50_ms: [round(r.floor[0].p50), round(r.floor[1].p50)],
          floor_p99_ms: [round(r.floor[0].p99), round(r.floor[1].p99)],
          floor_p50_ratio: round(ratio(r.floor, 'p50')),
          floor_p99_ratio: round(ratio(r.floor, 'p99')),
          commands_per_request: round(r.commands),
          reads_per_request: [round(r.reads[0]), round(r.reads[1])],
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
