import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, readSecretWithSdk } from '../functions/shared/adapters/aws-clients.js';
import { loadVobizCredentials } from '../functions/shared/adapters/credentials.js';
import { DynamoRecoveryRepository } from '../functions/shared/adapters/dynamo-recovery.js';
import { systemClock } from '../functions/shared/ingest/ports.js';
import type { SweepSummary } from '../functions/shared/recovery/backfill-sweep.js';
import { buildBackfillSweep, readRecoverySettings } from '../functions/redrive/dependencies.js';
import { iso, type PreviousRun } from './run-marker.js';
import { rewindCheckpointsPastLostWrites } from './stream-trigger.js';

/**
 * What the local stack does at a start after an unclean stop (local/run-marker.ts tells). DynamoDB
 * Local started with `-dbPath` can lose the last `TransactWriteItems` it acknowledged when it is
 * killed: the webhook answered 200 and the record is gone, nonce and stream record too, and the
 * stream numbers the next writes from what it kept. AWS DynamoDB never does this, so the deployed
 * product needs none of it. Before any worker of the new run starts: checkpoints past lost writes are
 * moved back and the dead workers' leases released. Then the backfill sweep lists Vobiz's recordings
 * from the last clean start (minus a margin) with no minimum age, so every recording Vobiz has and the
 * table lacks is inserted, and archived by the stream-started worker like a callback's record.
 */

export interface RecoveryResult {
  sinceMs: number;
  untilMs: number;
  sweep: Omit<SweepSummary, 'enqueuedIds'>;
  complete: boolean;
  ms: number;
}

export interface Prepared {
  /** Stream checkpoints that ran past writes the emulator lost, moved back. */
  checkpointsRewound: number;
  /** Leases the dead run's workers held. */
  leasesReleased: number;
}

/**
 * Before anything of this run writes to the table or archives: the stream checkpoint must not point
 * past what the emulator kept, and every lease in the table belongs to a worker that died with the last
 * run, so its recording is taken up now (by the replayed stream or the re-drive), not in a minute.
 */
export async function prepareAfterUncleanStop(
  env: Record<string, string | undefined>,
  stream: { endpoint: string; tableName: string; checkpointFile: string },
  /** Other triggers' checkpoints on the same stream (the audit copy's). */
  otherCheckpointFiles: readonly string[] = [],
): Promise<Prepared> {
  let checkpointsRewound = await rewindCheckpointsPastLostWrites(stream);
  for (const checkpointFile of otherCheckpointFiles)
    checkpointsRewound += await rewindCheckpointsPastLostWrites({ ...stream, checkpointFile });
  const dynamo = new DynamoDBClient({});
  try {
    const settings = readRecoverySettings(env);
    const recovery = new DynamoRecoveryRepository(createDocumentClient(dynamo), settings.tableName);
    return { checkpointsRewound, leasesReleased: await recovery.releaseAll(systemClock.nowMs()) };
  } finally {
    dynamo.destroy();
  }
}

/**
 * The backfill sweep (the re-drive's and `npm run backfill`'s) over `sinceMs` → now with no minimum
 * age: a recording whose callback was answered a moment before the kill is as young as they come.
 */
async function sweepSinceUncleanStop(
  env: Record<string, string | undefined>,
  sinceMs: number,
): Promise<RecoveryResult> {
  const started = performance.now();
  const dynamo = new DynamoDBClient({});
  try {
    const settings = readRecoverySettings(env);
    const credentials = await loadVobizCredentials(env, readSecretWithSdk());
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

/**
 * The sweep, and the one line that says what the recovery did; it never fails: a sweep that could not
 * finish is `complete: false`, and the run marker then asks the next start to sweep again.
 */
export async function sweepAfterUncleanStop(
  env: Record<string, string | undefined>,
  previous: Extract<PreviousRun, { clean: false }>,
  prepared: Prepared,
): Promise<{ complete: boolean; line: string }> {
  try {
    const result = await sweepSinceUncleanStop(env, previous.sinceMs);
    return { complete: result.complete, line: describeRecovery(previous, prepared, result) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      complete: false,
      line: `recovery: the sweep after an unclean stop failed (${reason}). It runs again at the next start.`,
    };
  }
}

/** The one line the local stack prints about a recovery. */
export function describeRecovery(
  previous: Extract<PreviousRun, { clean: false }>,
  prepared: Prepared,
  result: RecoveryResult,
): string {
  const { sweep } = result;
  const run = `the last run${previous.pid ? ` (pid ${previous.pid})` : ''} did not stop cleanly`;
  const window = `${iso(result.sinceMs)} → ${iso(result.untilMs)}`;
  const leases = prepared.leasesReleased;
  const counts =
    `${sweep.found} listed, ${sweep.enqueued} inserted, ` +
    `${leases} lease${leases === 1 ? '' : 's'} of dead workers released` +
    (prepared.checkpointsRewound > 0 ? ', stream checkpoint moved back past lost writes' : '');
  if (result.complete)
    return `recovery: ${run}; swept Vobiz's recordings ${window} (no minimum age): ${counts} ${result.ms}ms`;
  const reason = sweep.error ?? (sweep.errors > 0 ? `${sweep.errors} inserts failed` : sweep.stoppedBy);
  return `recovery: ${run}; the sweep of ${window} did not finish (${reason}): ${counts}. It runs again at the next start.`;
}
