import type { AuditEntry } from '../domain/audit.js';
import type { RecordingStatus } from '../domain/recording.js';
import type { RecordingListPage } from '../domain/vobiz-list.js';

/**
 * A record in the `due` index, with the time its next attempt is due. Only pending records are in it:
 * `indexAttributes` gives due keys to nothing else, and every write either replaces the whole item
 * (accept, replaceLeased) or sets the status to pending together with the keys (claim, resetFailed).
 */
export interface DueRecording {
  recordingId: string;
  dueAtMs: number;
}

/** The re-drive's view of the table; every call is served by a key or an index, never a Scan. */
export interface DueRecordings {
  /** Records due at or before `nowMs`, oldest first, at most `limit` (merged over the index's shards). */
  findDue(nowMs: number, limit: number): Promise<DueRecording[]>;
}

/** What the backfill needs to know about recordings Vobiz lists: which ones we already have, and how. */
export interface KnownRecordings {
  statuses(recordingIds: readonly string[]): Promise<Map<string, RecordingStatus>>;
}

export type ResetResult = 'reset' | 'not_failed' | 'missing';

/** Retrying `failed` records on purpose. */
export interface FailedRecordings {
  /**
   * `failed` → `pending`, attempts 0, due now; only if the record is still `failed`. With `audit`, the
   * entry is written in the same transaction (nothing is written when the record is not failed).
   */
  resetFailed(recordingId: string, nowMs: number, audit?: AuditEntry): Promise<ResetResult>;
  /** Ids of every `failed` record (by the status index), page by page. */
  listFailed(): AsyncIterable<string[]>;
}

/**
 * Leases whose workers are known to be dead. Only the local stack knows that: after a hard kill every
 * worker died with it, so at its next start, before any worker runs, every lease in the table is one.
 */
export interface AbandonedLeases {
  /** Every `pending` record that holds a lease: lease removed and due at `nowMs`, unless the lease changed meanwhile. */
  releaseAll(nowMs: number): Promise<number>;
}

/** List All Recordings, one page at a time (VobizClient implements it). */
export interface RecordingLister {
  listRecordings(options: {
    limit: number;
    offset: number;
    signal?: AbortSignal;
  }): Promise<RecordingListPage>;
}
