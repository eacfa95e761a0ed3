import type { RecordingStatus } from '../domain/recording.js';
import type { RecordingListPage } from '../domain/vobiz-list.js';

/** A record in the `due` index: pending (or stray), with the time its next attempt is due. */
export interface DueRecording {
  recordingId: string;
  status: RecordingStatus;
  dueAtMs: number;
}

/** The re-drive's view of the table; every call is served by a key or an index, never a Scan. */
export interface DueRecordings {
  /** Records due at or before `nowMs`, oldest first, at most `limit` (merged over the index's shards). */
  findDue(nowMs: number, limit: number): Promise<DueRecording[]>;
  /** Takes a record that is not pending out of the `due` index (a no-op for a pending record). */
  clearDue(recordingId: string): Promise<void>;
}

/** What the backfill needs to know about recordings Vobiz lists: which ones we already have, and how. */
export interface KnownRecordings {
  statuses(recordingIds: readonly string[]): Promise<Map<string, RecordingStatus>>;
}

export type ResetResult = 'reset' | 'not_failed' | 'missing';

/** Retrying `failed` records on purpose. */
export interface FailedRecordings {
  /** `failed` → `pending`, attempts 0, due now; only if the record is still `failed`. */
  resetFailed(recordingId: string, nowMs: number): Promise<ResetResult>;
  /** Ids of every `failed` record (by the status index), page by page. */
  listFailed(): AsyncIterable<string[]>;
}

/** List All Recordings, one page at a time (VobizClient implements it). */
export interface RecordingLister {
  listRecordings(options: {
    limit: number;
    offset: number;
    signal?: AbortSignal;
  }): Promise<RecordingListPage>;
}
