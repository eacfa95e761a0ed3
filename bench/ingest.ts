/**
 * Ingest benchmark: drives the real archive worker handler (a stream event for one recorded
 * notification) against DynamoDB Local, s3rver and the Vobiz fake, for 1 MB, 50 MB and 500 MB
 * recordings, and measures in the same run two floors: a plain streaming copy of the same bytes from the
 * same fake into the same S3 server (same part size and concurrency, no hashing, no DynamoDB, no Vobiz
 * API call), and that copy plus one PutItem of the metadata (the least any archiver does). Prints a
 * table, then one JSON line.
 *
 *   npm run bench:ingest [-- --quick]     (--quick: fewer runs and 200 MB instead of 500 MB)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import { DynamoRecordingRepository } from '../functions/shared/adapters/dynamo-recordings.js';
import { keys } from '../functions/shared/domain/recording.js';
import { makeAcceptNotification } from '../functions/shared/ingest/accept-notification.js';
import { systemClock } from '../functions/shared/ingest/ports.js';
import {
  createTable,
  emulatorEnvironment,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
} from '../local/emulators.js';
import { PART_SIZE, QUEUE_SIZE } from '../functions/shared/adapters/s3-archive.js';
import { lambdaContext } from '../test/support/http-events.js';
import { percentile } from './support/stats.js';

const quick = process.argv.includes('--quick');
const MB = 1_000_000;
const SIZES = [
  { label: '1 MB', bytes: 1 * MB, runs: quick ? 5 : 15 },
  { label: '50 MB', bytes: 50 * MB, runs: quick ? 2 : 3 },
  { label: quick ? '200 MB' : '500 MB', bytes: (quick ? 200 : 500) * MB, runs: 2 },
];
const gc = (globalThis as { gc?: () => void }).gc;
/** A metadata item of the size the archive writes (the Retrieve Recording fields). */
const NAIVE_METADATA = {
  add_time: '2025-11-06T13:49:10.751Z',
  call_uuid: '6e558798-499c-4a68-bc77-46f2c53d1f69',
  from_number: '+918071387423',
  to_number: '919624705678',
  recording_duration_ms: 10080,
  recording_format: 'mp3',
  recording_url: 'https://media.vobiz.ai/api/v1/Account/MA_PU0XU668/Recording/x.mp3',
  recording_storage_rate: 0.005,
  recording_type: 'call',
};

/**
 * RSS growth is measured against one baseline taken after the warm-up (and a GC), not per run: memory
 * that the allocator keeps from an earlier run still counts, so the figure is conservative.
 */
let rssBaseline = 0;

/** Runs `work` while sampling RSS every 5 ms; returns its duration and the peak RSS over the baseline. */
async function measure(work: () => Promise<void>): Promise<{ ms: number; rssGrowthMb: number }> {
  gc?.();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const start = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - start;
  peak = Math.max(peak, process.memoryUsage.rss());
  return { ms, rssGrowthMb: (peak - rssBaseline) / 2 ** 20 };
}

async function main() {
  const ids = SIZES.flatMap((size, s) =>
    Array.from({ length: size.runs + (s === 0 ? 1 : 0) }, (_, i) => `bench-${s}-${i}`),
  );
  const specs = SIZES.flatMap((size, s) =>
    Array.from({ length: size.runs + (s === 0 ? 1 : 0) }, (_, i) => `bench-${s}-${i}:mp3:${size.bytes}`),
  );
  process.stderr.write(`starting DynamoDB Local, s3rver and the Vobiz fake (${ids.length} recordings)…\n`);

  const servers = spawn(process.execPath, ['--import', 'tsx', 'bench/support/servers.ts', ...specs], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const endpoints = await new Promise<{ s3: string; vobiz: string; authId: string; authToken: string }>(
    (resolve, reject) => {
      servers.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
      createInterface({ input: servers.stdout }).once('line', (line) => resolve(JSON.parse(line) as never));
    },
  );
  const dynamo = await startDynamoDbLocal();

  Object.assign(process.env, {
    ...emulatorEnvironment({ dynamo: dynamo.endpoint, s3: endpoints.s3 }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    TABLE_NAME: 'bench-recordings',
    BUCKET_NAME: 'bench-audio',
    VOBIZ_AUTH_ID: endpoints.authId,
    VOBIZ_AUTH_TOKEN: endpoints.authToken,
    VOBIZ_API_BASE_URL: endpoints.vobiz,
    ALLOWED_MEDIA_ORIGINS: endpoints.vobiz,
  });
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await createTable(dynamoClient, 'bench-recordings');
  const documents = createDocumentClient(dynamoClient);
  const { handler } = await import('../functions/archive-worker/handler.js');
  const accept = makeAcceptNotification({
    recordings: new DynamoRecordingRepository(documents, 'bench-recordings'),
    clock: systemClock,
    accountId: endpoints.authId,
    nonceTtlSeconds: 60,
    firstDueAfterMs: 600_000,
  });
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });

  /** Records the notification (not timed: that is the webhook's work, see bench:ack). */
  const notify = (id: string) => accept(id, []);
  /** What the stream delivers to the worker for that insert; the worker's whole job is timed. */
  const ingest = async (id: string) => {
    const event: DynamoDBStreamEvent = {
      Records: [
        {
          eventName: 'INSERT',
          dynamodb: {
            SequenceNumber: String(Date.now()),
            Keys: { pk: { S: `REC#${id}` }, sk: { S: 'REC' } },
            NewImage: { recording_id: { S: id }, status: { S: 'pending' } },
          },
        },
      ],
    };
    const result = await handler(event, lambdaContext(900_000));
    if (result.batchItemFailures.length > 0) throw new Error(`worker handed ${id} back`);
  };
  const expectStored = async (id: string) => {
    const { Item } = await documents.send(
      new GetCommand({ TableName: 'bench-recordings', Key: keys.recording(id), ConsistentRead: true }),
    );
    if (Item?.status !== 'stored') throw new Error(`${id} is ${String(Item?.status)}, not stored`);
  };
  const floorCopy = async (id: string) => {
    const response = await fetch(`${endpoints.vobiz}/api/v1/Account/${endpoints.authId}/Recording/${id}.mp3`);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: 'bench-audio',
        Key: `floor/${id}.mp3`,
        Body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        ContentType: 'audio/mpeg',
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    await upload.done();
  };
  /** The least any archiver does: the copy, then one write of the metadata. */
  const naiveFloor = async (id: string) => {
    await floorCopy(id);
    await documents.send(
      new PutCommand({
        TableName: 'bench-recordings',
        Item: { pk: `NAIVE#${id}`, sk: 'REC', recording_id: id, ...NAIVE_METADATA },
      }),
    );
  };

  // Warm-up: module loading, credentials, connections.
  await notify('bench-0-0');
  await ingest('bench-0-0');
  await expectStored('bench-0-0');
  await floorCopy('bench-0-0');
  await naiveFloor('bench-0-0');
  gc?.();
  rssBaseline = process.memoryUsage.rss();

  const rows: {
    label: string;
    runs: number;
    handlerMbps: number;
    floorMbps: number;
    ratio: number;
    naiveMbps: number;
    naiveRatio: number;
    p50: number;
    p99: number;
    rss: number;
    floorRss: number;
  }[] = [];
  for (const [s, size] of SIZES.entries()) {
    const handlerMs: number[] = [];
    const floorMs: number[] = [];
    const naiveMs: number[] = [];
    let rss = 0;
    let floorRss = 0;
    for (let i = 0; i < size.runs; i++) {
      const id = `bench-${s}-${i + (s === 0 ? 1 : 0)}`;
      process.stderr.write(`  ${size.label} run ${i + 1}/${size.runs}\r`);
      // Alternate the order so that drift (disk cache, JIT) does not favour one side.
      const runFloor = async () => {
        const r = await measure(() => floorCopy(id));
        floorMs.push(r.ms);
        floorRss = Math.max(floorRss, r.rssGrowthMb);
      };
      const runNaive = async () => {
        naiveMs.push((await measure(() => naiveFloor(id))).ms);
      };
      const runHandler = async () => {
        await notify(id);
        const r = await measure(() => ingest(id));
        await expectStored(id);
        handlerMs.push(r.ms);
        rss = Math.max(rss, r.rssGrowthMb);
      };
      // Rotate the order so that drift (disk cache, JIT) does not favour one side.
      const order = [runFloor, runHandler, runNaive];
      for (let k = 0; k < order.length; k++) await order[(i + k) % order.length]!();
    }
    const throughput = (ms: number[]) => size.bytes / MB / (percentile(ms, 50) / 1000);
    const handlerMbps = throughput(handlerMs);
    const floorMbps = throughput(floorMs);
    const naiveMbps = throughput(naiveMs);
    rows.push({
      label: size.label,
      runs: size.runs,
      handlerMbps,
      floorMbps,
      ratio: handlerMbps / floorMbps,
      naiveMbps,
      naiveRatio: handlerMbps / naiveMbps,
      p50: percentile(handlerMs, 50),
      p99: percentile(handlerMs, 99),
      rss,
      floorRss,
    });
  }
  process.stderr.write('\n');

  const pad = (v: string, n: number) => v.padStart(n);
  console.log(
    'ingest benchmark: real archive worker handler vs plain streaming copy (floor) and copy + PutItem (naive floor), same fake and S3 server',
  );
  console.log(
    `part size ${PART_SIZE / 2 ** 20} MiB, ${QUEUE_SIZE} parts in flight; throughput from median run; RSS growth = peak over the post-warm-up baseline`,
  );
  console.log(
    [
      'size',
      'runs',
      'worker MB/s',
      'floor MB/s',
      'ratio',
      'naive MB/s',
      'naive ratio',
      'p50 ms',
      'p99 ms',
      'RSS+ MB',
      'floor RSS+ MB',
    ]
      .map((h, i) => pad(h, i === 0 ? 7 : 15))
      .join(''),
  );
  for (const r of rows) {
    console.log(
      [
        r.label,
        String(r.runs),
        r.handlerMbps.toFixed(1),
        r.floorMbps.toFixed(1),
        r.ratio.toFixed(2),
        r.naiveMbps.toFixed(1),
        r.naiveRatio.toFixed(2),
        r.p50.toFixed(0),
        r.p99.toFixed(0),
        r.rss.toFixed(1),
        r.floorRss.toFixed(1),
      ]
        .map((v, i) => pad(v, i === 0 ? 7 : 15))
        .join(''),
    );
  }
  const largest = rows[rows.length - 1]!;
  const summary = {
    bench: 'ingest',
    throughput_ratio: Number(Math.min(...rows.map((r) => r.ratio)).toFixed(3)),
    naive_floor_ratio: Number(Math.min(...rows.map((r) => r.naiveRatio)).toFixed(3)),
    peak_rss_growth_mb: Number(largest.rss.toFixed(1)),
    largest_size_mb: SIZES[SIZES.length - 1]!.bytes / MB,
    sizes: Object.fromEntries(
      rows.map((r) => [
        r.label,
        {
          handler_mbps: +r.handlerMbps.toFixed(1),
          floor_mbps: +r.floorMbps.toFixed(1),
          naive_floor_mbps: +r.naiveMbps.toFixed(1),
          naive_floor_ratio: +r.naiveRatio.toFixed(3),
          p50_ms: +r.p50.toFixed(0),
          p99_ms: +r.p99.toFixed(0),
          rss_growth_mb: +r.rss.toFixed(1),
        },
      ]),
    ),
    targets: { throughput_ratio_min: 0.8, naive_floor_ratio_min: 0.8, peak_rss_growth_mb_max: 64 },
  };
  servers.stdin?.end();
  await dynamo.stop();
  console.log(JSON.stringify(summary));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
