import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createSecretsClient } from '../functions/shared/adapters/aws-clients.js';
import { loadVobizCredentials } from '../functions/shared/adapters/credentials.js';
import { DynamoRecoveryRepository } from '../functions/shared/adapters/dynamo-recovery.js';
import { systemClock } from '../functions/shared/ingest/ports.js';
import type { SweepSummary } from '../functions/shared/recovery/backfill-sweep.js';
import { buildBackfillSweep, readRecoverySettings } from '../functions/redrive/dependencies.js';

/**
 * Recovery after a hard kill of the local stack. DynamoDB Local started with `-dbPath` can lose the
 * last `TransactWriteItems` it acknowledged when it is killed (SIGKILL, the OOM killer, a closed
 * laptop lid that never comes back): the webhook answered 200 and the record is gone, nonce and all.
 * AWS DynamoDB never does this, so the product needs no such step; the local stack does.
 *
 * A marker file in the data directory says a run is (or was) under way; a clean stop removes it. At
 * the next start a marker still there means the last stop was not clean: the stack releases the dead
 * workers' leases and sweeps Vobiz's List All Recordings from the last clean start (minus a margin),
 * with no minimum age, so every recording Vobiz has and the table lacks is inserted (and archived by
 * the stream-started worker, like a callback's record).
 */

const MARKER = 'running.json';
const CLEAN_START = 'clean-start.json';

/**
 * How far before the last clean start the sweep reaches: a callback arrives some time after its
 * recording was added (delivery, Vobiz's retries). Older ones are within the scheduled sweep's lookback.
 */
export const RECOVERY_MARGIN_MS = 15 * 60_000;

export type PreviousRun =
  | { clean: true }
  | {
      clean: false;
      /** The sweep's lower bound on `add_time`: the last clean start (or the run's own start) minus the margin. */
      sinceMs: number;
      /** What the marker says about the run that did not stop cleanly. */
      pid: number | undefined;
      startedAtMs: number;
    };

interface MarkerFile {
  pid: number;
  started_at: string;
}

/** How the previous run ended, and this run's own marker. The data directory is only written by `running()`. */
export class RunMarker {
  readonly previous: PreviousRun;
  private owed: boolean;

  constructor(
    private readonly dataDir: string,
    private readonly startedAtMs: number,
  ) {
    this.previous = readPrevious(dataDir);
    this.owed = !this.previous.clean;
  }

  /**
   * This run may now accept callbacks. After a clean stop its start becomes the last clean start; after
   * an unclean one the marker stays (rewritten for this run) until the recovery has finished.
   */
  running(): void {
    if (!this.owed) writeJson(join(this.dataDir, CLEAN_START), { started_at: iso(this.startedAtMs) });
    writeJson(join(this.dataDir, MARKER), {
      pid: process.pid,
      started_at: iso(this.startedAtMs),
    } satisfies MarkerFile);
  }

  /** The recovery found everything: what the earlier runs acknowledged is in the table again. */
  recovered(): void {
    this.owed = false;
    writeJson(join(this.dataDir, CLEAN_START), { started_at: iso(this.startedAtMs) });
  }

  /** A clean stop. With a recovery still owed the marker stays, so the next start sweeps again. */
  stopped(): void {
    if (!this.owed) rmSync(join(this.dataDir, MARKER), { force: true });
  }
}

function readPrevious(dataDir: string): PreviousRun {
  const marker = join(dataDir, MARKER);
  if (!existsSync(marker)) return { clean: true };
  const saved = readJson<Partial<MarkerFile>>(marker);
  // A marker cut short by the kill still says when it was written: at that run's start.
  const startedAtMs = parseTime(saved?.started_at) ?? statSync(marker).mtimeMs;
  const cleanStartMs = parseTime(readJson<{ started_at?: string }>(join(dataDir, CLEAN_START))?.started_at);
  return {
    clean: false,
    sinceMs: Math.min(cleanStartMs ?? startedAtMs, startedAtMs) - RECOVERY_MARGIN_MS,
    pid: typeof saved?.pid === 'number' ? saved.pid : undefined,
    startedAtMs,
  };
}

export interface RecoveryResult {
  sinceMs: number;
  untilMs: number;
  sweep: Omit<SweepSummary, 'enqueuedIds'>;
  complete: boolean;
  ms: number;
}

/**
 * Leases the dead run's workers held: released before any worker of this run starts, so the replayed
 * stream (or the re-drive) takes those recordings up now instead of when the leases run out.
 */
export async function releaseAbandonedLeases(env: Record<string, string | undefined>): Promise<number> {
  const dynamo = new DynamoDBClient({});
  try {
    const settings = readRecoverySettings(env);
    return await new DynamoRecoveryRepository(createDocumentClient(dynamo), settings.tableName).releaseAll(
      systemClock.nowMs(),
    );
  } finally {
    dynamo.destroy();
  }
}

/**
 * The backfill sweep (the re-drive's and `npm run backfill`'s) over `sinceMs` → now with no minimum
 * age: a recording whose callback was answered a moment before the kill is as young as they come.
 */
export async function sweepSinceUncleanStop(
  env: Record<string, string | undefined>,
  sinceMs: number,
): Promise<RecoveryResult> {
  const started = performance.now();
  const dynamo = new DynamoDBClient({});
  try {
    const settings = readRecoverySettings(env);
    const credentials = await loadVobizCredentials(env, createSecretsClient);
    const sweep = buildBackfillSweep(settings, credentials, credentials.authId, {
      documents: createDocumentClient(dynamo),
      clock: systemClock,
    });
    const { enqueuedIds: _ids, ...summary } = await sweep({ sinceMs });
    return {
      sinceMs,
      untilMs: systemClock.nowMs(),
      sweep: summary,
      complete: (summary.stoppedBy === 'window' || summary.stoppedBy === 'end') && summary.errors === 0,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    dynamo.destroy();
  }
}

/** The one line the local stack prints about a recovery. */
export function describeRecovery(
  previous: Extract<PreviousRun, { clean: false }>,
  result: RecoveryResult,
  leasesReleased: number,
): string {
  const { sweep } = result;
  const run = `the last run${previous.pid ? ` (pid ${previous.pid})` : ''} did not stop cleanly`;
  const window = `${iso(result.sinceMs)} → ${iso(result.untilMs)}`;
  const counts =
    `${sweep.found} listed, ${sweep.enqueued} inserted, ` +
    `${leasesReleased} lease${leasesReleased === 1 ? '' : 's'} of dead workers released`;
  if (result.complete)
    return `recovery: ${run}; swept Vobiz's recordings ${window} (no minimum age): ${counts} ${result.ms}ms`;
  const reason = sweep.error ?? (sweep.errors > 0 ? `${sweep.errors} inserts failed` : sweep.stoppedBy);
  return `recovery: ${run}; the sweep of ${window} did not finish (${reason}): ${counts}. It runs again at the next start.`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseTime(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Written aside and renamed into place, so a kill never leaves half a file. */
function writeJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value)}\n`);
  renameSync(temporary, file);
}
