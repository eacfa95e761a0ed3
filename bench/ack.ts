/**
 * Ack benchmark: how fast the webhook answers Vobiz, whatever the recording's size, with the archive
 * worker running as in AWS (its own process, started by the table's stream). Through the real handlers:
 * signed callbacks over HTTP to the local gateway → webhook → DynamoDB Local; the worker → Vobiz fake →
 * s3rver (the fake and s3rver in a child process, the worker in another).
 *
 *  1. Ack latency for 1 MB, 50 MB and 500 MB recordings (warm, N callbacks each, one at a time), next to
 *     a floor measured in the same phase: one bare TransactWriteItems of the same shape (nonce + record).
 *  2. Burst: B callbacks for distinct 1 MB recordings, 50 in flight: non-200 answers, ack p99, time until
 *     all are stored, the most downloads the fake served at once (vs archiveConcurrency), lost, duplicates.
 *  3. One 500 MB recording end to end: its ack, and the time until the worker stored it.
 *
 * The worker and the servers run at a lower CPU priority (nice 10): in AWS the webhook does not share
 * a CPU with them, here two cores are shared by everything, and the question is what the webhook does.
 * The burst's downloads are paced (25 ms per 256 KiB) like a remote media host, so that they overlap.
 *
 *   npm run bench:ack [-- --quick]      (--quick: 20 callbacks per size, 200 MB, a burst of 100)
 *   ARCHIVE_CONCURRENCY=N (default 10)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import { DEFAULT_ARCHIVE_CONCURRENCY } from '../functions/shared/domain/archive-trigger.js';
import { keys, toItem } from '../functions/shared/domain/recording.js';
import {
  createTable,
  emulatorEnvironment,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
} from '../local/emulators.js';
import { createGateway, type FunctionBinding } from '../local/gateway.js';
import { VobizFake } from '../local/vobiz-fake.js';
import { percentile } from './support/stats.js';

const quick = process.argv.includes('--quick');
const MB = 1_000_000;
const CALLBACKS = quick ? 20 : 100;
const WARMUP = 3;
const BURST = quick ? 100 : 500;
const BURST_IN_FLIGHT = 50;
const CONCURRENCY = Number(process.env.ARCHIVE_CONCURRENCY ?? DEFAULT_ARCHIVE_CONCURRENCY);
const LARGE = (quick ? 200 : 500) * MB;
const SIZES = [
  { label: '1 MB', bytes: 1 * MB },
  { label: '50 MB', bytes: 50 * MB },
  { label: `${LARGE / MB} MB`, bytes: LARGE },
];
const WEBHOOK_PATH = '/webhooks/vobiz/recording';

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** `node args` at a lower CPU priority where `nice` exists (see the note at the top). */
function niced(args: string[]): [string, string[]] {
  return existsSync('/usr/bin/nice')
    ? ['/usr/bin/nice', ['-n', '10', process.execPath, ...args]]
    : [process.execPath, args];
}

/** Requests one line of stats from the servers process (see bench/support/servers.ts). */
async function serverStats(
  servers: ChildProcess,
  lines: Interface,
): Promise<{ maxActiveMediaDownloads: number; downloadedTwice: string[] }> {
  const answer = once(lines, 'line') as Promise<[string]>;
  servers.stdin!.write('stats\n');
  return JSON.parse((await answer)[0]) as never;
}

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const specs = [
    ...SIZES.flatMap((size, s) =>
      Array.from({ length: CALLBACKS + WARMUP }, (_, i) => `ack-${s}-${i}:mp3:${size.bytes}`),
    ),
    ...Array.from({ length: BURST }, (_, i) => `burst-${i}:mp3:${MB}:25`),
    `single-large:wav:${LARGE}`,
  ];
  process.stderr.write(`starting DynamoDB Local, s3rver and the Vobiz fake (${specs.length} recordings)…\n`);
  const servers = spawn(...niced(['--import', 'tsx', 'bench/support/servers.ts', ...specs]), {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: servers.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  const endpoints = JSON.parse(first) as { s3: string; vobiz: string; authId: string; authToken: string };
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const documents = createDocumentClient(client);
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });

  // The gateway the webhook is called through; which table it writes to changes per phase.
  let binding: FunctionBinding | undefined;
  const gateway = createGateway({ functions: () => ({ webhook: binding }) });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}${WEBHOOK_PATH}`;
  const signer = new VobizFake({ authId: endpoints.authId, authToken: endpoints.authToken });

  const baseEnv = {
    ...process.env,
    ...emulatorEnvironment({ dynamo: dynamo.endpoint, s3: endpoints.s3 }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    BUCKET_NAME: 'bench-audio',
    VOBIZ_AUTH_ID: endpoints.authId,
    VOBIZ_AUTH_TOKEN: endpoints.authToken,
    VOBIZ_API_BASE_URL: endpoints.vobiz,
    ALLOWED_MEDIA_ORIGINS: endpoints.vobiz,
    WEBHOOK_PUBLIC_URL: url,
    ARCHIVE_CONCURRENCY: String(CONCURRENCY),
  };
  Object.assign(process.env, {
    ...emulatorEnvironment({ dynamo: dynamo.endpoint, s3: endpoints.s3 }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // Imported now: the handler's logger reads its level from the environment when it loads.
  const { createWebhookHandler } = await import('../functions/webhook/handler.js');
  const { loadWebhookDependencies } = await import('../functions/webhook/dependencies.js');

  /** A fresh table, the webhook writing to it and a worker process reading its stream. */
  async function phase(table: string) {
    await createTable(client, table);
    const env = { ...baseEnv, TABLE_NAME: table };
    const handler = createWebhookHandler(() => loadWebhookDependencies(env));
    binding = {
      handler: (event, context) => handler(event, context),
      functionName: 'webhook',
      timeoutMs: 10_000,
    };
    const worker = spawn(...niced(['--import', 'tsx', 'local/archive-worker-process.ts']), {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const [ready] = (await once(createInterface({ input: worker.stdout }), 'line')) as [string];
    if (ready !== 'ready') throw new Error(`worker said ${ready}`);
    return {
      table,
      /** Stops the worker at once (its recordings in flight stay pending, as after a crash). */
      kill: async () => {
        worker.kill('SIGKILL');
        await once(worker, 'exit');
      },
    };
  }

  /** One signed callback over HTTP; returns the answer's status and how long it took. */
  async function callback(id: string): Promise<{ status: number; ms: number }> {
    const body = new URLSearchParams({ RecordingID: id, CallUUID: randomUUID() }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signer.sign(url) };
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  }

  /**
   * The floor: one bare transaction of the same shape as the webhook's: two nonce puts (V3 and V2) and
   * the put of a new pending record with its index keys, each conditional.
   */
  async function floorWrite(table: string): Promise<number> {
    const id = `floor-${randomUUID()}`;
    const now = new Date().toISOString();
    const put = (item: Record<string, unknown>) => ({
      Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
    });
    const nonce = (n: number) => ({ ...keys.nonce(`${id}-${n}`), recording_id: id, expires_at: 1 });
    const record = toItem({
      recording_id: id,
      account_id: endpoints.authId,
      status: 'pending',
      attempts: 0,
      received_at: now,
      updated_at: now,
      next_attempt_at: now,
    });
    const started = performance.now();
    await documents.send(
      new TransactWriteCommand({ TransactItems: [put(nonce(1)), put(nonce(2)), put(record)] }),
    );
    return performance.now() - started;
  }

  async function statuses(table: string, ids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 100) {
      const result = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: ids.slice(i, i + 100).map((id) => keys.recording(id)),
              ProjectionExpression: 'recording_id, #s',
              ExpressionAttributeNames: { '#s': 'status' },
            },
          },
        }),
      );
      for (const item of result.Responses?.[table] ?? [])
        found.set(String(item.recording_id), String(item.status));
    }
    return found;
  }

  async function waitStored(table: string, ids: string[], timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await statuses(table, ids);
      const stored = ids.filter((id) => found.get(id) === 'stored').length;
      if (stored === ids.length || Date.now() > deadline) return ids.length - stored;
      await sleep(250);
    }
  }

  // 1. Ack latency per size.
  const rows: { label: string; p50: number; p99: number; floorP50: number; floorP99: number }[] = [];
  for (const [s, size] of SIZES.entries()) {
    const run = await phase(`ack-${s}`);
    const acks: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < CALLBACKS + WARMUP; i++) {
      process.stderr.write(`  ${size.label}: callback ${i + 1}/${CALLBACKS + WARMUP}\r`);
      const ack = async () => {
        const { status, ms } = await callback(`ack-${s}-${i}`);
        if (status !== 200) throw new Error(`webhook answered ${status}`);
        if (i >= WARMUP) acks.push(ms);
      };
      const floor = async () => {
        const ms = await floorWrite(run.table);
        if (i >= WARMUP) floors.push(ms);
      };
      // Alternate the order so that neither side always runs right after the other.
      if (i % 2 === 0) await ack().then(floor);
      else await floor().then(ack);
      await sleep(10);
    }
    await run.kill();
    rows.push({
      label: size.label,
      p50: percentile(acks, 50),
      p99: percentile(acks, 99),
      floorP50: percentile(floors, 50),
      floorP99: percentile(floors, 99),
    });
  }
  process.stderr.write('\n');

  // 2. Burst of distinct 1 MB recordings, 50 callbacks in flight.
  const burst = await phase('ack-burst');
  await serverStats(servers, lines); // resets the fake's high-water mark of concurrent downloads
  const burstIds = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  const burstAcks: number[] = [];
  let non200 = 0;
  const burstStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: BURST_IN_FLIGHT }, async () => {
      while (next < burstIds.length) {
        const { status, ms } = await callback(burstIds[next++]!);
        burstAcks.push(ms);
        if (status !== 200) non200++;
      }
    }),
  );
  const burstAnswered = (performance.now() - burstStarted) / 1000;
  // Its floor: the same number of bare transactions, as many in flight, against the same DynamoDB Local.
  const burstFloor: number[] = [];
  let nextFloor = 0;
  await Promise.all(
    Array.from({ length: BURST_IN_FLIGHT }, async () => {
      while (nextFloor++ < BURST) burstFloor.push(await floorWrite(burst.table));
    }),
  );
  process.stderr.write(
    `  burst: ${BURST} callbacks answered in ${burstAnswered.toFixed(1)} s; waiting for the worker…\n`,
  );
  const lost = await waitStored(burst.table, burstIds, 10 * 60_000);
  const secondsToStored = (performance.now() - burstStarted) / 1000;
  const stats = await serverStats(servers, lines);
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: 'bench-audio', Prefix: 'recordings/', ContinuationToken: token }),
    );
    objects += (page.Contents ?? []).filter((o) => o.Key?.includes('/burst-')).length;
    token = page.NextContinuationToken;
  } while (token);
  const duplicates =
    stats.downloadedTwice.filter((id) => id.startsWith('burst-')).length + Math.max(0, objects - BURST);
  await burst.kill();

  // 3. One large recording end to end.
  const single = await phase('ack-single');
  const singleStarted = performance.now();
  const singleAck = await callback('single-large');
  const singleLost = await waitStored(single.table, ['single-large'], 10 * 60_000);
  const singleSeconds = (performance.now() - singleStarted) / 1000;
  await single.kill();

  const pad = (v: string, n: number) => v.padStart(n);
  console.log(
    `ack benchmark: signed callbacks over HTTP to the webhook (local gateway, DynamoDB Local), archive worker in its own process (archiveConcurrency ${CONCURRENCY})`,
  );
  console.log(
    `${CALLBACKS} warm callbacks per size, one at a time; floor = one bare TransactWriteItems of the same shape, same phase`,
  );
  console.log(
    ['size', 'ack p50 ms', 'ack p99 ms', 'floor p50 ms', 'floor p99 ms', 'p99/floor']
      .map((h, i) => pad(h, i === 0 ? 8 : 14))
      .join(''),
  );
  for (const r of rows) {
    console.log(
      [
        r.label,
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        r.floorP50.toFixed(1),
        r.floorP99.toFixed(1),
        (r.p99 / r.floorP99).toFixed(2),
      ]
        .map((v, i) => pad(v, i === 0 ? 8 : 14))
        .join(''),
    );
  }
  console.log(
    `burst: ${BURST} callbacks for 1 MB recordings, ${BURST_IN_FLIGHT} in flight: non-200 ${non200}, ack p50 ${percentile(burstAcks, 50).toFixed(1)} ms, p99 ${percentile(burstAcks, 99).toFixed(1)} ms (floor: ${BURST} bare transactions, ${BURST_IN_FLIGHT} in flight, p50 ${percentile(burstFloor, 50).toFixed(1)} ms, p99 ${percentile(burstFloor, 99).toFixed(1)} ms); answered in ${burstAnswered.toFixed(1)} s, all stored after ${secondsToStored.toFixed(1)} s; at most ${stats.maxActiveMediaDownloads} downloads at once (archiveConcurrency ${CONCURRENCY}); lost ${lost}, duplicates ${duplicates}`,
  );
  console.log(
    `one ${LARGE / MB} MB recording: answered ${singleAck.status} in ${singleAck.ms.toFixed(1)} ms, stored by the worker ${singleLost === 0 ? `after ${singleSeconds.toFixed(1)} s` : 'NOT within 10 minutes'}`,
  );

  const largest = rows[rows.length - 1]!;
  const summary = {
    bench: 'ack',
    archive_concurrency: CONCURRENCY,
    sizes: Object.fromEntries(
      rows.map((r) => [
        r.label,
        {
          ack_p50_ms: round(r.p50),
          ack_p99_ms: round(r.p99),
          floor_p50_ms: round(r.floorP50),
          floor_p99_ms: round(r.floorP99),
        },
      ]),
    ),
    ack_p99_size_ratio: round(largest.p99 / rows[0]!.p99, 2),
    ack_p99_floor_ratio: round(Math.max(...rows.map((r) => r.p99 / r.floorP99)), 2),
    burst_non_200: non200,
    burst_ack_p99_ms: round(percentile(burstAcks, 99)),
    burst_floor_p99_ms: round(percentile(burstFloor, 99)),
    burst_seconds_to_all_stored: round(secondsToStored),
    max_concurrent_vobiz_downloads: stats.maxActiveMediaDownloads,
    lost,
    duplicate_objects: duplicates,
    single_large: {
      size_mb: LARGE / MB,
      ack_ms: round(singleAck.ms),
      seconds_to_stored: round(singleSeconds),
      stored: singleLost === 0,
    },
    targets: {
      ack_p99_size_ratio_max: 1.2,
      ack_p99_floor_ratio_max: 2,
      burst_non_200: 0,
      lost: 0,
      duplicate_objects: 0,
    },
  };
  gateway.close();
  servers.stdin.end();
  await dynamo.stop();
  console.log(JSON.stringify(summary));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
