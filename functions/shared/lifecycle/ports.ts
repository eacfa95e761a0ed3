import type { Actor } from '../domain/actor.js';
import type { AuditEntry } from '../domain/audit.js';
import type { ErasureIntent, RecordingRecord } from '../domain/recording.js';

export type { Clock } from '../ingest/ports.js';
export type { ErasureIntent } from '../domain/recording.js';

/**
 * What the lifecycle use cases (verified delete at Vobiz, retention, legal hold, erasure, audit) need
 * from the outside world. Adapters implement these; nothing here knows about DynamoDB, S3 or HTTP.
 */

/** `deleted`: Vobiz answered 204; `absent`: 404, it was already gone (both mean: not at Vobiz any more). */
export type VobizDeletion = 'deleted' | 'absent';

/** Bulk Delete filters as Vobiz names them; at least one is required. */
export interface BulkDeleteFilters {
  call_uuid?: string;
  from_number?: string;
  to_number?: string;
  conference_name?: string;
  /** `YYYY-MM-DD HH:MM:SS` */
  add_time__gte?: string;
  add_time__lte?: string;
}

export interface VobizRecordingDeleter {
  /**
   * Delete a Recording in the configured account. With `accountId` (the account the record says the
   * recording belongs to) it throws AccountMismatchError, and sends nothing, when the credentials are
   * another account's: a 404 there would say nothing about the recording.
   */
  deleteRecording(
    recordingId: string,
    options?: { signal?: AbortSignal; accountId?: string },
  ): Promise<VobizDeletion>;
  bulkDelete(
    filters: BulkDeleteFilters,
    options?: { signal?: AbortSignal },
  ): Promise<{ apiId: string | undefined }>;
}

/** What S3 kept for one version of an audio object. */
export interface ObjectVersionFacts {
  versionId: string;
  sizeBytes: number;
  /** `x-amz-checksum-sha256` as S3 reports it (base64; `-N` after a composite of N parts), if it has one. */
  checksumSha256: string | undefined;
  /** An S3 Object Lock legal hold is on for this version. */
  legalHold: boolean;
}

export interface ObjectVersion {
  versionId: string;
  isLatest: boolean;
  /** A delete marker (no bytes); deleting it is part of removing every trace of the key. */
  deleteMarker: boolean;
}

/** The versioned audio objects, as the lifecycle sees them. */
export interface AudioVersions {
  /** HeadObject with checksum mode; undefined when the key (or that version) does not exist. */
  head(key: string, versionId?: string): Promise<ObjectVersionFacts | undefined>;
  /** Reads a version back and hashes it (for audio stored before checksums were sent to S3). */
  digest(key: string, versionId: string): Promise<{ sizeBytes: number; sha256: string }>;
  /** Every version and delete marker of exactly this key. */
  listVersions(key: string): Promise<ObjectVersion[]>;
  /** Deletes one version for good; throws ObjectLockedError when S3 Object Lock protects it. */
  deleteVersion(key: string, versionId: string): Promise<void>;
  setLegalHold(key: string, versionId: string, on: boolean): Promise<void>;
}

/** S3 refused to delete a version because of an Object Lock (a legal hold placed outside the archive). */
export class ObjectLockedError extends Error {
  constructor(key: string, versionId: string, options?: { cause?: unknown }) {
    super(`S3 refused to delete version ${versionId} of ${key}: it is protected by Object Lock`, options);
    this.name = 'ObjectLockedError';
  }
}

/** The recording belongs to another Vobiz account than the configured credentials'. */
export class AccountMismatchError extends Error {
  constructor(
    readonly recordAccountId: string,
    readonly configuredAccountId: string,
  ) {
    super(
      `the recording belongs to Vobiz account ${recordAccountId}, the configured credentials are for ${configuredAccountId}`,
    );
    this.name = 'AccountMismatchError';
  }
}

/**
 * An audit entry's key was taken already, so the transaction that was to write it with its change was
 * cancelled: nothing was written. Never reported as success (the change did not happen).
 */
export class AuditEntryExistsError extends Error {
  constructor(entry: Pick<AuditEntry, 'audit_id' | 'time' | 'recording_id' | 'action'>) {
    super(
      `audit entry ${entry.audit_id} (${entry.action} of ${entry.recording_id} at ${entry.time}) exists already: the change it records was rolled back`,
    );
    this.name = 'AuditEntryExistsError';
  }
}

/** The audit trail: entries are only ever added, never changed. */
export interface AuditLog {
  /** Puts the entry unless one with its id and time exists (a resumed operation writes it once). */
  record(entry: AuditEntry): Promise<'written' | 'exists'>;
}

/**
 * The lifecycle's view of the recordings table. Every change is a conditional write on the record's
 * current state, so concurrent callers (API, scheduled run, CLI, archive worker) cannot interleave badly.
 */
export interface LifecycleRecords {
  get(recordingId: string): Promise<RecordingRecord | undefined>;

  /**
   * Records whose delete at Vobiz became eligible at or before `cutoffMs` (stored ones by archive time,
   * expired ones by `add_time`), oldest first per shard.
   */
  findVobizDue(cutoffMs: number, perShard: number): Promise<RecordingRecord[]>;
  /** Tombstones whose erasure still owes the delete at Vobiz, due at or before `nowMs`. */
  findErasureVobizDue(nowMs: number, perShard: number): Promise<RecordingRecord[]>;
  /** Stored (or expiring) records with `add_time` at or before `cutoffMs`, oldest first per shard. */
  findExpiryDue(cutoffMs: number, perShard: number): Promise<RecordingRecord[]>;
  /** Records whose erasure began before `beforeMs` and was not finished (a crashed caller). */
  findErasing(beforeMs: number, limit: number): Promise<RecordingRecord[]>;

  /**
   * Sets `vobiz_deleted_at` (and the verified version), takes the record out of the `due` index and adds
   * the audit entry, in one transaction; false (nothing written) if the record is gone or erased meanwhile.
   * Every audited change throws AuditEntryExistsError when its entry's key is taken (nothing written).
   */
  markVobizDeleted(
    recordingId: string,
    input: { at: string; versionId?: string },
    audit: AuditEntry,
  ): Promise<boolean>;
  /** A transient failure: counts it and makes the record (still due) eligible again at `eligibleAtMs`. */
  deferVobizDelete(
    recordingId: string,
    input: { attempts: number; error: string; eligibleAtMs: number },
  ): Promise<void>;
  /**
   * Verification failed, or the account is not ours: the record leaves the `due` index with the reason
   * (an operator looks), audited.
   */
  blockVobizDelete(recordingId: string, reason: string, audit: AuditEntry): Promise<boolean>;

  /** stored (or expiring) and not held → expiring; the fresh record, or undefined when not allowed. */
  beginExpiry(recordingId: string, at: string): Promise<RecordingRecord | undefined>;
  /**
   * expiring → expired: audio fields removed, metadata kept, audited; false if no longer expiring. With
   * `vobizDueAtMs` (not deleted at Vobiz yet) the record stays due for that delete, from then.
   */
  finishExpiry(
    recordingId: string,
    input: { at: string; vobizDueAtMs?: number },
    audit: AuditEntry,
  ): Promise<boolean>;
  deferExpiry(
    recordingId: string,
    input: { attempts: number; error: string; eligibleAtMs: number },
  ): Promise<void>;
  /** expiring → stored and held: S3 Object Lock refused the deletion (a hold placed outside the archive). */
  revertExpiryHeld(recordingId: string, at: string, audit: AuditEntry): Promise<boolean>;

  /**
   * Sets the legal hold flag on a stored record that is not held yet (and the version it protects),
   * takes it out of the lifecycle's indexes and audits it; false if it is not stored or already held.
   */
  flagHold(
    recordingId: string,
    input: { at: string; actor: Actor; reason?: string; versionId: string },
    audit: AuditEntry,
  ): Promise<boolean>;
  /** Clears the flag, puts the record back in the lifecycle's indexes, audited; false if it was not held. */
  clearHold(record: RecordingRecord, at: string, audit: AuditEntry): Promise<boolean>;

  /**
   * Replaces the record read as `previous` by its `erasing` form (without personal data or lookup keys)
   * if it is still in that status, not held, and no worker's lease ended less than `leaseAfterlifeMs`
   * ago; creates the `erasing` record when there was none. False if the state changed.
   */
  beginErasure(
    recordingId: string,
    previous: RecordingRecord | undefined,
    intent: ErasureIntent,
    leaseAfterlifeMs: number,
  ): Promise<boolean>;
  /** Undoes an erasure S3 refused: back to the previous status, now held (the lock was placed outside). */
  abandonErasureHeld(record: RecordingRecord, at: string): Promise<void>;
  /** Replaces the `erasing` record with the tombstone, audited, only if it is still this erasure. */
  replaceWithTombstone(tombstone: RecordingRecord, audit: AuditEntry): Promise<boolean>;
  /**
   * A tombstone erased without the delete at Vobiz, now asked for it: owed from `at` (in the `due`
   * index); false if it is not a tombstone, is deleted at Vobiz already, or was refused there.
   */
  oweVobizDelete(recordingId: string, at: string): Promise<boolean>;
}
