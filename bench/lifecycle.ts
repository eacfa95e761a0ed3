/**
 * Lifecycle benchmark: the scheduled verified delete at Vobiz over a table of 10,000 and then 100,000
 * stored records, 20 % of them due. Each size gets its own DynamoDB Local process (why: see
 * support/dynamo-per-size.ts and the README). S3 (s3rver with the local
 * versioning/checksum layer) and the Vobiz fake (API latency 50 ms) run in a child process so that their
 * CPU is not counted here. The real lifecycle run (buildLifecycle().run: due index query, consistent
 * read, S3 HeadObject with checksum, DELETE at Vobiz, transaction with the audit entry) is called in
 * bounded runs (LIFECYCLE_BATCH_SIZE 500, 8 and then 2 at a time), alternating the two sizes run by run
 * (and which of them goes first).
 *
 * After each run, the same table gets the emulator floor: as many bare GetItem (consistent) +
 * TransactWriteItems (the record's update, which leaves the due index as the lifecycle's does, and an
 * audit put) by key as the run deleted, at the same concurrency, without S3 or Vobiz. Its 100k/10k ratio
 * is what DynamoDB Local itself does with the larger table; the lifecycle's ratio is read against it.
 *
 * It reports, per size: DynamoDB items read per due record (goal ≤ 2), wall time per 1,000 deletions,
 * the floor's time per 1,000 pairs, and the 100k/10k ratios (goal ≤ 1.2: the cost must not grow with the
 * table). The last line is JSON.
 *
 *   npm run bench:lifecycle      (BENCH_SIZES=10000,100000  BENCH_DELETIONS=2000  BENCH_LATENCY_MS=50
 *                                 BENCH_CONCURRENCY=8,2  BENCH_DYNAMODB_HEAP_MB=2048)
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/shared/adapters/aws-clients.js';
import { S3AudioArchive } from '../functions/shared/adapters/s3-archive.js';
import { auditId, auditItem, SYSTEM_ACTOR, type AuditEntry } from '../functions/shared/domain/audit.js';
import {
  indexAttributes,
  keys,
  shardOf,
  type RecordingRecord,
} from '../functions/shared/domain/recording.js';
import { DUE_SHARDS, INDEXES, TABLE_KEYS } from '../functions/shared/domain/table.js';
import { systemClock } from '../functions/shared/ingest/ports.js';
import { pool } from '../functions/shared/lifecycle/lifecycle-run.js';
import { buildLifecycle, readLifecycleSettings } from '../functions/shared/wiring/lifecycle.js';
import {
  createTable,
  emulatorEnvironment,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type RunningDynamo,
} from '../local/emulators.js';
import {
  callUuid,
  phoneNumber,
  random,
  seedRecordings,
  storedRecording,
} from '../test/support/recording-dataset.js';
import { benchDynamoClient, startDynamoPerSize } from './support/dynamo-per-size.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
/** Deletions measured per table size, split evenly over the concurrency levels. */
const DELETIONS = Number(process.env.BENCH_DELETIONS ?? 2000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const DUE_SHARE = 0.2;
const BATCH = 500;
/** The production default (8) and a level at which DynamoDB Local is not saturated (see the README). */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '8,2').split(',').map(Number);
const DAY_MS = 86_400_000;
const BUCKET = 'bench-lifecycle';

interface Servers {
  s3: string;
  vobiz: string;
  authId: string;
  authToken: string;
}

type Commands = Map<string, { ms: number; count: number; retries: number }>;

interface Table {
  size: number;
  due: number;
  /** This size's own DynamoDB Local process. */
  dynamo: RunningDynamo;
  documents: ReturnType<typeof createDocumentClient>;
  tableName: string;
  /** Records that are not due, taken in turn by the floor (which removes them from the due index). */
  floorIds: string[];
  /** Where the time of each DynamoDB command goes while measuring (the lifecycle's or the floor's). */
  measuring: { into?: Commands };
}

interface Measured {
  size: number;
  concurrency: number;
  due: number;
  runs: {
    ms: number;
    deleted: number;
    due: number;
    itemsRead: number;
    refused: number;
    other: number;
    floorMs: number;
    floorPairs: number;
  }[];
  commands: Commands;
  floorCommands: Commands;
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

async function main(): Promise<void> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/support/lifecycle-servers.ts', String(LATENCY_MS)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(String((await replies.next()).value)) as Record<string, unknown>;
  const servers = (await next()) as unknown as Servers;
  let dynamos: RunningDynamo[];
  try {
    dynamos = await startDynamoPerSize(SIZES.length);
  } catch (error) {
    child.stdin.end();
    throw error;
  }
  // The lifecycle is given its DynamoDB client; the environment only serves the S3 side and the SDK.
  Object.assign(process.env, emulatorEnvironment({ dynamo: dynamos[0]!.endpoint, s3: servers.s3 }));
  console.log(
    `${dynamos.length} DynamoDB Local processes, s3rver and the Vobiz fake (latency ${LATENCY_MS} ms) ready in ${seconds(started)} s`,
  );
  const s3 = new S3Client({
    endpoint: servers.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  try {
    // The fake answers its stdin in order: one request at a time.
    let fake = Promise.resolve();
    const addAtVobiz = (ids: string[]) =>
      (fake = fake.then(async () => {
        child.stdin.write(`${JSON.stringify({ add: ids })}\n`);
        await next();
      }));
    // Both sizes load at once, each into its own process (loading is not measured).
    const load = performance.now();
    const tables = await Promise.all(SIZES.map((size, i) => prepare(size, dynamos[i]!, s3, addAtVobiz)));
    console.log(`all tables loaded in ${seconds(load)} s`);
    const perPhase = DELETIONS / CONCURRENCIES.length;
    const runsPerSize = Math.ceil(perPhase / BATCH);
    const measured: Measured[] = [];
    // One phase per concurrency; each takes the next-oldest due records of the same tables.
    for (const concurrency of CONCURRENCIES) {
      console.log(
        `\nmeasuring ${concurrency} at a time: ${runsPerSize} runs per size (batch ${BATCH}), alternating sizes (and which goes first)`,
      );
      const phase = tables.map((table) => {
        const lifecycle = buildLifecycle(
          readLifecycleSettings({
            TABLE_NAME: table.tableName,
            BUCKET_NAME: BUCKET,
            VOBIZ_API_BASE_URL: servers.vobiz,
            VOBIZ_DELETE_AFTER_DAYS: '1',
            LIFECYCLE_BATCH_SIZE: String(BATCH),
            LIFECYCLE_CONCURRENCY: String(concurrency),
          }),
          { authId: servers.authId, authToken: servers.authToken },
          { documents: table.documents, s3, clock: systemClock },
        );
        const result: Measured = {
          size: table.size,
          concurrency,
          due: table.due,
          runs: [],
          commands: new Map(),
          floorCommands: new Map(),
        };
        measured.push(result);
        return { table, lifecycle, result };
      });
      for (let run = 0; run < runsPerSize; run++) {
        // Which size goes first alternates too, so that neither always runs on a JVM just warmed by the other.
        for (const { table, lifecycle, result } of run % 2 === 0 ? phase : [...phase].reverse()) {
          const t = performance.now();
          table.measuring.into = result.commands;
          const summary = await lifecycle.run({ remainingMs: () => 10 * 60_000 });
          table.measuring.into = undefined;
          const ms = performance.now() - t;
          const vobiz = summary.vobiz!;
          const deleted = vobiz.deleted + vobiz.alreadyAbsent;
          table.measuring.into = result.floorCommands;
          const floorMs = await floor(table, deleted, concurrency);
          table.measuring.into = undefined;
          result.runs.push({
            ms,
            deleted,
            due: vobiz.due,
            itemsRead: summary.itemsRead,
            refused: vobiz.refused,
            other: vobiz.deferred + vobiz.errors + vobiz.skipped + vobiz.skippedHeld + vobiz.notStarted,
            floorMs,
            floorPairs: deleted,
          });
          console.log(
            `  ${String(table.size).padStart(6)} records, run ${run + 1}: ${vobiz.due} due, ${deleted} deleted, ${summary.itemsRead} items read, ${Math.round(ms)} ms; floor ${Math.round(floorMs)} ms`,
          );
        }
      }
    }
    child.stdin.write(`${JSON.stringify({ stats: true })}\n`);
    const calls = await next();
    report(measured, calls);
  } finally {
    s3.destroy();
    child.stdin.end();
    await Promise.all(dynamos.map((dynamo) => dynamo.stop()));
  }
}

/**
 * The emulator floor: `pairs` × (consistent GetItem + the two-item TransactWriteItems) by key, `concurrency`
 * at a time, on records that are not due. The update removes the record from the due index and the put
 * adds an audit entry, as the lifecycle's transaction does; nothing else (no S3, no Vobiz) is involved.
 */
async function floor(table: Table, pairs: number, concurrency: number): Promise<number> {
  const ids = table.floorIds.splice(0, pairs);
  if (ids.length < pairs) throw new Error(`${table.size}: not enough records left for the floor`);
  const t = performance.now();
  await pool(ids, concurrency, async (recordingId) => {
    await table.documents.send(
      new GetCommand({ TableName: table.tableName, Key: keys.recording(recordingId), ConsistentRead: true }),
    );
    const at = new Date().toISOString();
    const entry: AuditEntry = {
      audit_id: auditId('bench_floor', recordingId, randomUUID()),
      time: at,
      action: 'vobiz_delete',
      recording_id: recordingId,
      actor: SYSTEM_ACTOR,
      outcome: 'done',
      detail: 'bench: emulator floor',
    };
    await table.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table.tableName,
              Key: keys.recording(recordingId),
              UpdateExpression: 'SET bench_floor_at = :at, updated_at = :at REMOVE #duePk, #dueSk',
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: {
                '#pk': TABLE_KEYS.partitionKey,
                '#duePk': INDEXES.due.partitionKey,
                '#dueSk': INDEXES.due.sortKey,
              },
              ExpressionAttributeValues: { ':at': at },
            },
          },
          {
            Put: {
              TableName: table.tableName,
              Item: auditItem(entry),
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
            },
          },
        ],
      }),
    );
  });
  return performance.now() - t;
}

/** Loads `size` stored records (20 % due) and the audio of the due ones the runs will reach. */
async function prepare(
  size: number,
  dynamo: RunningDynamo,
  s3: S3Client,
  addAtVobiz: (ids: string[]) => Promise<void>,
): Promise<Table> {
  const tableName = `bench-lifecycle-${size}`;
  const client = benchDynamoClient(dynamo.endpoint);
  await createTable(client, tableName);
  const documents = createDocumentClient(client);
  const table: Table = {
    size,
    due: 0,
    dynamo,
    documents,
    tableName,
    floorIds: [],
    measuring: {},
  };
  // Where the time goes, per command: DynamoDB Local's own latency is part of the wall time.
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      const t = performance.now();
      let attempts = 1;
      try {
        const result = await next(args);
        attempts = (result.output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
        return result;
      } finally {
        const into = table.measuring.into;
        if (into) {
          const entry = into.get(context.commandName ?? '?') ?? { ms: 0, count: 0, retries: 0 };
          entry.ms += performance.now() - t;
          entry.count++;
          entry.retries += attempts - 1;
          into.set(context.commandName ?? '?', entry);
        }
      }
    },
    { step: 'initialize', name: 'timeCommands' },
  );
  const now = Date.now();
  const next = random(size);
  const records: RecordingRecord[] = [];
  const dueCount = Math.round(size * DUE_SHARE);
  for (let i = 0; i < size; i++) {
    const due = i < dueCount;
    // Due: archived 1 to 30 days ago (the stage delay is 1 day). Not due: archived within the last 20 hours.
    const archivedMs = due
      ? now - DAY_MS - Math.floor(next() * 29 * DAY_MS)
      : now - Math.floor(next() * 20 * 3_600_000);
    // A larger table is more calls and more lines, not more recordings per call or line: every call
    // has 2 recordings and every number 20, at both sizes.
    const record = storedRecording({
      recording_id: `b${size}-${i.toString(36).padStart(6, '0')}`,
      add_time_ms: archivedMs - 60_000,
      s3_bucket: BUCKET,
      archived_at: new Date(archivedMs).toISOString(),
      call_uuid: callUuid(Math.floor(i / 2)),
      from_number: phoneNumber('from', Math.floor(i / 20)),
      to_number: phoneNumber('to', Math.floor(i / 20)),
    });
    records.push(record);
  }
  // The runs take the oldest due records of each shard, BATCH / DUE_SHARDS per shard per run, phase after
  // phase: those get audio.
  const perShard = DELETIONS / DUE_SHARDS;
  const dueKey = (r: RecordingRecord) => indexAttributes(r)[INDEXES.due.sortKey]!;
  const reached = Array.from({ length: DUE_SHARDS }, (_, shard) =>
    records
      .slice(0, dueCount)
      .filter((r) => shardOf(r.recording_id, DUE_SHARDS) === shard)
      .sort((a, b) => (dueKey(a) < dueKey(b) ? -1 : 1))
      .slice(0, perShard),
  ).flat();
  const t = performance.now();
  const archive = new S3AudioArchive(s3, BUCKET);
  await pool(reached, 16, async (record) => {
    const bytes = randomBytes(1024);
    const stored = await archive.store({
      key: record.s3_key!,
      contentType: 'audio/mpeg',
      body: Readable.from([bytes]),
      expectedBytes: bytes.length,
    });
    Object.assign(record, {
      size_bytes: stored.sizeBytes,
      sha256: stored.sha256,
      s3_version_id: stored.versionId,
      s3_checksum_sha256: stored.checksumSha256,
    });
  });
  await addAtVobiz(reached.map((r) => r.recording_id));
  console.log(`${size}: ${reached.length} audio objects uploaded in ${seconds(t)} s`);
  const load = performance.now();
  await seedRecordings(documents, tableName, records, { concurrency: 12 });
  console.log(`${size}: ${records.length} records (${dueCount} due) loaded in ${seconds(load)} s`);

  table.due = dueCount;
  table.floorIds = records.slice(dueCount).map((r) => r.recording_id);
  return table;
}

function report(measured: Measured[], calls: Record<string, unknown>): void {
  const rows = measured.map((m) => {
    const total = m.runs.reduce(
      (sum, run) => ({
        ms: sum.ms + run.ms,
        deleted: sum.deleted + run.deleted,
        due: sum.due + run.due,
        itemsRead: sum.itemsRead + run.itemsRead,
        refused: sum.refused + run.refused,
        other: sum.other + run.other,
        floorMs: sum.floorMs + run.floorMs,
        floorPairs: sum.floorPairs + run.floorPairs,
      }),
      { ms: 0, deleted: 0, due: 0, itemsRead: 0, refused: 0, other: 0, floorMs: 0, floorPairs: 0 },
    );
    return {
      ...m,
      deleted: total.deleted,
      refused: total.refused,
      other: total.other,
      itemsReadPerDue: total.itemsRead / Math.max(1, total.due),
      msPer1000: (total.ms / Math.max(1, total.deleted)) * 1000,
      floorMsPer1000: (total.floorMs / Math.max(1, total.floorPairs)) * 1000,
    };
  });
  console.log(
    `\nlifecycle benchmark: verified delete at Vobiz, Vobiz latency ${LATENCY_MS} ms, batch ${BATCH}`,
  );
  console.log(
    [
      'at a time',
      'records',
      'due in table',
      'deleted',
      'items read / due',
      's per 1,000 deletions',
      'floor s per 1,000',
    ]
      .map((h) => h.padStart(22))
      .join(''),
  );
  for (const row of rows) {
    console.log(
      [
        row.concurrency,
        row.size,
        row.due,
        row.deleted,
        row.itemsReadPerDue.toFixed(2),
        (row.msPer1000 / 1000).toFixed(2),
        (row.floorMsPer1000 / 1000).toFixed(2),
      ]
        .map((v) => String(v).padStart(22))
        .join(''),
    );
  }
  const ratios: Record<string, { time: number; items: number; floor: number }> = {};
  for (const concurrency of CONCURRENCIES) {
    const [small, large] = rows.filter((row) => row.concurrency === concurrency);
    if (!small || !large) continue;
    const ratio = {
      time: large.msPer1000 / small.msPer1000,
      items: large.itemsReadPerDue / small.itemsReadPerDue,
      floor: large.floorMsPer1000 / small.floorMsPer1000,
    };
    ratios[concurrency] = ratio;
    console.log(
      `${concurrency} at a time, ${large.size}/${small.size}: time per 1,000 deletions ×${ratio.time.toFixed(2)} (goal ≤ 1.2: ${ratio.time <= 1.2 ? 'met' : 'NOT met'}), emulator floor ×${ratio.floor.toFixed(2)}, items read per due record ×${ratio.items.toFixed(2)}`,
    );
  }
  const latencies = (commands: Commands) =>
    [...commands]
      .map(
        ([name, { ms, count, retries }]) =>
          `${name.replace('Command', '')} ${(ms / count).toFixed(1)} ms × ${count}${retries > 0 ? ` (${retries} retried)` : ''}`,
      )
      .join(', ');
  for (const row of rows) {
    console.log(
      `DynamoDB Local latency, ${row.concurrency} at a time, ${row.size} records: lifecycle ${latencies(row.commands)}; floor ${latencies(row.floorCommands)}`,
    );
  }
  console.log(
    `the Vobiz fake answered ${String(calls.deletes)} DELETE calls (${String(calls.deleted)} with 204)`,
  );
  const problems = rows.filter(
    (row) => row.refused > 0 || row.other > 0 || row.deleted < DELETIONS / CONCURRENCIES.length - 10,
  );
  if (problems.length > 0)
    console.log(
      `WARNING: not every due record was deleted: ${JSON.stringify(problems.map((p) => [p.size, p.concurrency, p.deleted, p.refused, p.other]))}`,
    );
  console.log(
    JSON.stringify({
      bench: 'lifecycle',
      latency_ms: LATENCY_MS,
      batch: BATCH,
      results: rows.map((row) => ({
        concurrency: row.concurrency,
        records: row.size,
        due_in_table: row.due,
        deleted: row.deleted,
        items_read_per_due_record: Number(row.itemsReadPerDue.toFixed(3)),
        seconds_per_1000_deletions: Number((row.msPer1000 / 1000).toFixed(3)),
        floor_seconds_per_1000_pairs: Number((row.floorMsPer1000 / 1000).toFixed(3)),
        dynamodb_ms_per_command: perCommand(row.commands),
        floor_dynamodb_ms_per_command: perCommand(row.floorCommands),
      })),
      ratios: Object.fromEntries(
        Object.entries(ratios).map(([c, r]) => [
          c,
          {
            time: Number(r.time.toFixed(3)),
            floor_time: Number(r.floor.toFixed(3)),
            items_read: Number(r.items.toFixed(3)),
            time_ratio_met: r.time <= 1.2,
          },
        ]),
      ),
      targets: { items_read_per_due_record_max: 2, time_ratio_max: 1.2 },
    }),
  );
}

function perCommand(commands: Commands): Record<string, number> {
  return Object.fromEntries(
    [...commands].map(([name, { ms, count }]) => [
      name.replace('Command', ''),
      Number((ms / count).toFixed(2)),
    ]),
  );
}

await main();
