import { SYSTEM_ACTOR } from '../domain/actor.js';
import type { RecordingRecord } from '../domain/recording.js';
import { DUE_SHARDS, EXPIRY_SHARDS } from '../domain/table.js';
import { stopsTheRun, type DeleteAtVobiz, type VobizDeleteOutcome } from './delete-at-vobiz.js';
import type { EraseRecording } from './erase-recording.js';
import type { ExpireOutcome, ExpireRecording } from './expire-recording.js';
import type { Clock, LifecycleRecords } from './ports.js';

export interface LifecycleRunSettings {
  /**
   * The stage's `deleteFromVobizAfterDays` in ms; undefined: only what retention expired (and erasures)
   * is deleted at Vobiz, retention implying it.
   */
  vobizDeleteAfterMs: number | undefined;
  /** The stage's `retentionDays` in ms; undefined keeps audio forever. */
  retentionMs: number | undefined;
  /** At most this many records per step and run (delete at Vobiz; expiry). */
  batchSize: number;
  /** Deletes at Vobiz (and expiries) in flight at once. */
  concurrency: number;
}

export interface LifecycleRunDependencies {
  records: LifecycleRecords;
  /** Items DynamoDB read so far for `records` (the run reports the difference). */
  itemsRead: () => number;
  deleteAtVobiz: DeleteAtVobiz;
  expireRecording: ExpireRecording;
  eraseRecording: EraseRecording;
  clock: Clock;
  settings: LifecycleRunSettings;
  /** No new record is started with less time than this left (default 30 s). */
  minRemainingToStartMs?: number;
}

export interface VobizStepSummary {
  /** Due records read from the index in this run. */
  due: number;
  deleted: number;
  /** Vobiz answered 404: it was gone already (a retry after a crash, or deleted by hand). */
  alreadyAbsent: number;
  skippedHeld: number;
  /** Not stored any more, already deleted or blocked (the index was read a moment earlier). */
  skipped: number;
  /** Verification failed: kept at Vobiz, blocked, alarmed. */
  refused: number;
  /** Vobiz or S3 failed for now: due again after a backoff. */
  deferred: number;
  /** Unexpected errors (DynamoDB unreachable): the record stays due. */
  errors: number;
  notStarted: number;
  /** Why the step stopped early (Vobiz refused our credentials, or asked us to slow down). */
  stoppedBy?: string;
}

export interface ExpiryStepSummary {
  due: number;
  expired: number;
  versionsDeleted: number;
  skippedHeld: number;
  heldAtS3: number;
  skipped: number;
  deferred: number;
  errors: number;
  notStarted: number;
}

export interface LifecycleRunSummary {
  vobiz?: VobizStepSummary;
  expiry?: ExpiryStepSummary;
  /**
   * Erasures a crashed caller left half done, finished by this run; and the deletes at Vobiz erasures
   * still owe (Vobiz failed when they ran), retried whatever the stage's settings.
   */
  erasures: { found: number; finished: number; errors: number; vobiz: VobizStepSummary };
  /** Items DynamoDB read for the whole run: bounded by the batch sizes, whatever the table's size. */
  itemsRead: number;
}

export type LifecycleItem =
  | { step: 'vobiz'; recordingId: string; result: VobizDeleteOutcome | { outcome: 'error'; error: Error } }
  | { step: 'expiry'; recordingId: string; result: ExpireOutcome | { outcome: 'error'; error: Error } }
  | { step: 'erasure'; recordingId: string; result: { outcome: 'finished' | 'error'; error?: Error } };

/** An erasure older than this that is still `erasing` was abandoned by its caller. */
export const ABANDONED_ERASURE_MS = 10 * 60_000;
/** Consecutive transient failures at Vobiz after which a run stops calling it (it is down). */
const STOP_AFTER_FAILURES = 3;

/**
 * One scheduled lifecycle run: finishes erasures a crashed caller left and the deletes at Vobiz erasures
 * still owe, deletes due recordings at Vobiz (verified; expired ones too, retention implying it), and
 * expires audio past retention. Each step reads its due records from a sparse index, at most
 * `batchSize` per run, so a run's cost does not grow with the table.
 */
export function makeLifecycleRun(deps: LifecycleRunDependencies) {
  const minStart = deps.minRemainingToStartMs ?? 30_000;

  return async function run(options: {
    remainingMs: () => number;
    signal?: AbortSignal;
    onItem?: (item: LifecycleItem) => void;
  }): Promise<LifecycleRunSummary> {
    const readsBefore = deps.itemsRead();
    const canStart = () => options.remainingMs() >= minStart && !options.signal?.aborted;
    const { vobizDeleteAfterMs, retentionMs, batchSize, concurrency } = deps.settings;
    const summary: LifecycleRunSummary = {
      erasures: { found: 0, finished: 0, errors: 0, vobiz: emptyVobizStep() },
      itemsRead: 0,
    };

    const erasing = await deps.records.findErasing(deps.clock.nowMs() - ABANDONED_ERASURE_MS, 20);
    summary.erasures.found = erasing.length;
    for (const record of erasing) {
      if (!canStart()) break;
      try {
        await deps.eraseRecording(record.recording_id, {
          actor: record.erased_by ?? SYSTEM_ACTOR,
          reason: record.erasure_reason ?? 'erasure',
          alsoVobiz: record.erasure_also_vobiz === true,
          signal: options.signal,
        });
        summary.erasures.finished++;
        options.onItem?.({
          step: 'erasure',
          recordingId: record.recording_id,
          result: { outcome: 'finished' },
        });
      } catch (error) {
        summary.erasures.errors++;
        options.onItem?.({
          step: 'erasure',
          recordingId: record.recording_id,
          result: { outcome: 'error', error: asError(error) },
        });
      }
    }

    // Vobiz is one service: once a step finds it down (or refusing us), the other does not call it.
    const vobizState: { stoppedBy?: string } = {};
    const perShard = Math.ceil(batchSize / DUE_SHARDS);
    if (canStart()) {
      const owed = await deps.records.findErasureVobizDue(deps.clock.nowMs(), perShard);
      summary.erasures.vobiz = await vobizStep(owed, 0, vobizState);
    }
    // Retention implies the delete at Vobiz: without a delay of its own, it comes with retention's.
    const vobizDelayMs = vobizDeleteAfterMs ?? retentionMs;
    if (vobizDelayMs !== undefined && canStart()) {
      const due = await deps.records.findVobizDue(deps.clock.nowMs() - vobizDelayMs, perShard);
      summary.vobiz = await vobizStep(due, vobizDelayMs, vobizState);
    }

    if (retentionMs !== undefined && canStart()) {
      const due = await deps.records.findExpiryDue(
        deps.clock.nowMs() - retentionMs,
        Math.ceil(batchSize / EXPIRY_SHARDS),
      );
      const step: ExpiryStepSummary = {
        due: due.length,
        expired: 0,
        versionsDeleted: 0,
        skippedHeld: 0,
        heldAtS3: 0,
        skipped: 0,
        deferred: 0,
        errors: 0,
        notStarted: 0,
      };
      await pool(due, concurrency, async (record) => {
        if (!canStart()) {
          step.notStarted++;
          return;
        }
        let result: ExpireOutcome | { outcome: 'error'; error: Error };
        try {
          result = await deps.expireRecording(record.recording_id, { retentionMs });
        } catch (error) {
          result = { outcome: 'error', error: asError(error) };
        }
        if (result.outcome === 'expired') {
          step.expired++;
          step.versionsDeleted += result.versionsDeleted;
        } else if (result.outcome === 'skipped') {
          if (result.reason === 'held') step.skippedHeld++;
          else step.skipped++;
        } else if (result.outcome === 'held_at_s3') step.heldAtS3++;
        else if (result.outcome === 'deferred') step.deferred++;
        else step.errors++;
        options.onItem?.({ step: 'expiry', recordingId: record.recording_id, result });
      });
      summary.expiry = step;
    }

    summary.itemsRead = deps.itemsRead() - readsBefore;
    return summary;

    /** Deletes at Vobiz, `concurrency` at a time; stops calling Vobiz when it is down or refuses us. */
    async function vobizStep(
      due: RecordingRecord[],
      delayMs: number,
      state: { stoppedBy?: string },
    ): Promise<VobizStepSummary> {
      const step: VobizStepSummary = { ...emptyVobizStep(), due: due.length };
      let failuresInARow = 0;
      await pool(due, concurrency, async (record) => {
        if (state.stoppedBy || !canStart()) {
          step.notStarted++;
          return;
        }
        let result: VobizDeleteOutcome | { outcome: 'error'; error: Error };
        try {
          result = await deps.deleteAtVobiz(record.recording_id, { delayMs, signal: options.signal });
        } catch (error) {
          result = { outcome: 'error', error: asError(error) };
        }
        switch (result.outcome) {
          case 'deleted':
            failuresInARow = 0;
            if (result.vobiz === 'deleted') step.deleted++;
            else step.alreadyAbsent++;
            break;
          case 'skipped':
            if (result.reason === 'held') step.skippedHeld++;
            else step.skipped++;
            break;
          case 'refused':
            step.refused++;
            break;
          case 'deferred':
            step.deferred++;
            if (stopsTheRun(result.error)) state.stoppedBy = `${result.error.name}: ${result.error.message}`;
            else if (++failuresInARow >= STOP_AFTER_FAILURES)
              state.stoppedBy = `${STOP_AFTER_FAILURES} failures in a row, the last: ${result.error.message}`;
            break;
          case 'error':
            step.errors++;
            break;
          case 'verified':
            break;
        }
        options.onItem?.({ step: 'vobiz', recordingId: record.recording_id, result });
      });
      if (state.stoppedBy) step.stoppedBy = state.stoppedBy;
      return step;
    }
  };
}

function emptyVobizStep(): VobizStepSummary {
  return {
    due: 0,
    deleted: 0,
    alreadyAbsent: 0,
    skippedHeld: 0,
    skipped: 0,
    refused: 0,
    deferred: 0,
    errors: 0,
    notStarted: 0,
  };
}

/** Runs `work` over `items`, `concurrency` at a time, in order. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export type LifecycleRun = ReturnType<typeof makeLifecycleRun>;
