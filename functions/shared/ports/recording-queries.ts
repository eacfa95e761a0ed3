import type { AuditAction, AuditEntry } from '../domain/audit.js';
import type { RecordingRecord, RecordingStatus } from '../domain/recording.js';

/** At most one of these narrows a listing; phone numbers are already reduced to their digits. */
export type ListFilter =
  { kind: 'call'; callUuid: string } | { kind: 'from'; digits: string } | { kind: 'to'; digits: string };

/** A listing, newest first; `sinceMs`/`untilMs` are inclusive bounds on the listing time (`add_time`). */
export interface RecordingListQuery {
  filter?: ListFilter;
  status?: RecordingStatus;
  sinceMs?: number;
  untilMs?: number;
}

export interface RecordingPage {
  items: RecordingRecord[];
  /** Where the next page starts (exclusive), or undefined when the listing is complete. Not for callers' eyes: it is sealed into a cursor. */
  next?: string;
}

/** Read-only access to archived recordings, every call served by a key or an index. */
export interface RecordingQueries {
  get(recordingId: string): Promise<RecordingRecord | undefined>;
  list(query: RecordingListQuery, page: { limit: number; after?: string }): Promise<RecordingPage>;
}

export interface DownloadUrlOptions {
  /** Make the link download as a file of this name (`Content-Disposition: attachment`) instead of playing inline. */
  attachmentFilename?: string;
}

/** Short-lived download links for archived audio. */
export interface AudioLinks {
  downloadUrl(s3Key: string, expiresInSeconds: number, options?: DownloadUrlOptions): Promise<string>;
}

/** A listing of the audit trail, newest first; `sinceMs`/`untilMs` are inclusive bounds on its time. */
export interface AuditListQuery {
  action?: AuditAction;
  /** Only this recording's entries. */
  recordingId?: string;
  sinceMs?: number;
  untilMs?: number;
}

/** Read-only access to the audit trail (items in the table, never changed). */
export interface AuditQueries {
  list(
    query: AuditListQuery,
    page: { limit: number; after?: string },
  ): Promise<{ items: Record<string, unknown>[]; next?: string }>;
}

/** Adds entries to the audit trail (put-only: an entry is never overwritten). */
export interface AuditWriter {
  record(entry: AuditEntry): Promise<void>;
}
