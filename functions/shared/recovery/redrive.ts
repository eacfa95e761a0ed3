import type { ArchiveOutcome, ArchiveRecording } from '../ingest/archive-recording.js';
import type { Clock } from '../ingest/ports.js';
import type { DueRecording, DueRecordings } from './ports.js';

export interface RedriveDependencies {
  due: DueRecordings;
  /** The archive use case shared with the archive worker (claim → Retrieve → audio → stored). */
  archiveRecording: ArchiveRecording;
  clock: Clock;
  /** Due records taken per run, oldest first. */
  batchSize: number;
  /** Recordings archived at the same time. */
  concurrency: number;
  /** No new recording is started with less time than this left. */
  minRemainingToStartMs?: number;
  /** Time kept back at the end to record the outcome of an unfinished attempt. */
  releaseReserveMs?: number;
}

/** A pending record due longer ago than this means the re-drive is not keeping up (alarmed). */
export const OVERDUE_AFTER_MS = 5 * 60_000;

export interface RedriveItemResult {
  recordingId: string;
  result: ArchiveOutcome['outcome'] | 'already_stored' | 'error';
  /** Why an attempt did not finish (pending/failed), or what went wrong (error). */
  error?: Error;
  attempts?: number;
  nextAttemptAt?: string;
  /** The audio stored, when it was stored by this attempt. */
  sizeBytes?: number;
}

export interface RedriveSummary {
  /** Due records read from the index in this run. */
  due: number;
  /** Of those, records overdue by more than OVERDUE_AFTER_MS. */
  overdue: number;
  stored: number;
  /** The audio those recordings stored, in bytes. */
  bytesStored: number;
  /** Attempted and still pending (a later run retries). */
  deferred: number;
  /** Attempted for the last time: now `failed`. */
  failed: number;
  /** Someone else holds the lease, or already finished. */
  busy: number;
  /** Unexpected errors (e.g. DynamoDB unreachable while releasing): the lease runs out, the record is due again. */
  errors: number;
  /** Left for the next run because the time budget ran low. */
  notStarted: number;
}

/**
 * Retries what the archive worker could not finish: reads due `pending` records from the `due` index
 * (backoff after a failed attempt, a lease that ran out after a worker died, or a record the worker's
 * trigger never delivered) and re-runs the archive use case on each. Concurrent runs (and the worker)
 * are safe because every attempt first takes the record's lease with a conditional write.
 */
export function makeRedrive(deps: RedriveDependencies) {
  const minStart = deps.minRemainingToStartMs ?? 60_000;
  const reserve = deps.releaseReserveMs ?? 10_000;

  return async function redrive(options: {
    remainingMs: () => number;
    /** Stops the run: no new recording is started, and the ones in flight are aborted (and released). */
    signal?: AbortSignal;
    onItem?: (item: RedriveItemResult) => void;
  }): Promise<RedriveSummary> {
    const nowMs = deps.clock.nowMs();
    const due = await deps.due.findDue(nowMs, deps.batchSize);
    const summary: RedriveSummary = {
      due: due.length,
      overdue: due.filter((d) => d.dueAtMs < nowMs - OVERDUE_AFTER_MS).length,
      stored: 0,
      bytesStored: 0,
      deferred: 0,
      failed: 0,
      busy: 0,
      errors: 0,
      notStarted: 0,
    };

    const processOne = async (item: DueRecording): Promise<RedriveItemResult> => {
      // Timers want whole milliseconds; a context's remaining time need not be one.
      const remaining = Math.floor(options.remainingMs());
      const deadline = AbortSignal.timeout(Math.max(1_000, remaining - reserve));
      const outcome = await deps.archiveRecording(item.recordingId, {
        signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
      });
      // Stored meanwhile (the due index is read eventually consistent): nothing to do, the index entry is gone.
      if (outcome.outcome === 'stored' && outcome.alreadyStored)
        return { recordingId: item.recordingId, result: 'already_stored' };
      if (outcome.outcome === 'pending' || outcome.outcome === 'failed') {
        const { record, error } = outcome;
        return {
          recordingId: item.recordingId,
          result: outcome.outcome,
          error,
          attempts: record.attempts,
          nextAttemptAt: record.next_attempt_at,
        };
      }
      if (outcome.outcome === 'stored')
        return { recordingId: item.recordingId, result: 'stored', sizeBytes: outcome.record.size_bytes };
      return { recordingId: item.recordingId, result: outcome.outcome };
    };

    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        if (options.remainingMs() < minStart || options.signal?.aborted) {
          summary.notStarted += due.length - next;
          next = due.length;
          return;
        }
        const item = due[next++]!;
        let result: RedriveItemResult;
        try {
          result = await processOne(item);
        } catch (thrown) {
          result = {
            recordingId: item.recordingId,
            result: 'error',
            error: thrown instanceof Error ? thrown : new Error(String(thrown)),
          };
        }
        count(summary, result);
        options.onItem?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, due.length)) }, worker));
    return summary;
  };
}

function count(summary: RedriveSummary, item: RedriveItemResult): void {
  switch (item.result) {
    case 'stored':
      summary.stored++;
      summary.bytesStored += item.sizeBytes ?? 0;
      break;
    case 'pending':
      summary.deferred++;
      break;
    case 'failed':
      summary.failed++;
      break;
    case 'busy':
    case 'missing':
    case 'already_stored':
      summary.busy++;
      break;
    case 'error':
      summary.errors++;
      break;
  }
}
