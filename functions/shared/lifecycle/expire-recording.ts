import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR } from '../domain/actor.js';
import { auditId, type AuditEntry } from '../domain/audit.js';
import type { RecordingRecord } from '../domain/recording.js';
import {
  ObjectLockedError,
  type AudioVersions,
  type AuditLog,
  type Clock,
  type LifecycleRecords,
} from './ports.js';
import { deleteEveryVersion } from './remove-audio.js';

export type ExpireStep = 'marked' | 'audio_deleted' | 'finished';

export type ExpireOutcome =
  | { outcome: 'expired'; versionsDeleted: number }
  /** Not stored any more, held, or already expired: nothing to do. */
  | { outcome: 'skipped'; reason: 'held' | 'not_stored' }
  /** S3 Object Lock refused (a legal hold placed outside the archive): the record is now held. */
  | { outcome: 'held_at_s3' }
  /** S3 or DynamoDB failed for now: the record stays `expiring` and is retried after a backoff. */
  | { outcome: 'deferred'; error: Error };

export interface ExpireDependencies {
  records: LifecycleRecords;
  audio: AudioVersions;
  audit: AuditLog;
  clock: Clock;
  /** Backoff after a failed attempt (default 5 min … 6 h). */
  backoff?: { baseMs: number; maxMs: number };
  afterStep?: (step: ExpireStep) => void | Promise<void>;
}

const DEFAULT_BACKOFF = { baseMs: 5 * 60_000, maxMs: 6 * 3_600_000 };

/**
 * Retention: removes every version of a recording's audio and keeps its metadata. First the record says
 * `expiring` (so `/audio` answers 410 and a legal hold can no longer be placed), then the versions go,
 * then `expired` with its audit entry in one transaction. A crash anywhere leaves the record `expiring`
 * and in the `expiry` index, so the next run finishes the job. Retention implies the delete at Vobiz:
 * an expired recording not deleted there yet stays due for it (delete-at-vobiz.ts).
 */
export function makeExpireRecording(deps: ExpireDependencies) {
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;

  return async function expireRecording(
    recordingId: string,
    options: { retentionMs: number },
  ): Promise<ExpireOutcome> {
    const record = await deps.records.beginExpiry(recordingId, new Date(deps.clock.nowMs()).toISOString());
    if (!record) {
      const current = await deps.records.get(recordingId);
      return { outcome: 'skipped', reason: current?.legal_hold ? 'held' : 'not_stored' };
    }
    await deps.afterStep?.('marked');

    let versionsDeleted = 0;
    try {
      if (record.s3_key) versionsDeleted = await deleteEveryVersion(deps.audio, record.s3_key);
    } catch (error) {
      if (error instanceof ObjectLockedError) return heldAtS3(record);
      return defer(record, error instanceof Error ? error : new Error(String(error)), options.retentionMs);
    }
    await deps.afterStep?.('audio_deleted');

    const at = new Date(deps.clock.nowMs()).toISOString();
    const started = record.expiry_started_at ?? at;
    // No add_time and no S3 key (it holds the date): the trail is immutable and must not carry them.
    const audit: AuditEntry = {
      audit_id: auditId('expire', recordingId, started),
      time: at,
      action: 'expire',
      recording_id: recordingId,
      actor: SYSTEM_ACTOR,
      outcome: 'done',
      detail: `retention of ${Math.round(options.retentionMs / 86_400_000)} days reached; ${versionsDeleted} audio version(s) deleted, metadata kept`,
    };
    await deps.records.finishExpiry(
      recordingId,
      {
        at,
        ...(record.vobiz_deleted_at ? {} : { vobizDueAtMs: record.add_time_ms ?? Date.parse(at) }),
      },
      audit,
    );
    await deps.afterStep?.('finished');
    return { outcome: 'expired', versionsDeleted };
  };

  /** Put back to `stored`, now held: the archive reflects the lock S3 enforces. */
  async function heldAtS3(record: RecordingRecord): Promise<ExpireOutcome> {
    const at = new Date(deps.clock.nowMs()).toISOString();
    await deps.records.revertExpiryHeld(record.recording_id, at, {
      audit_id: auditId('expire', record.recording_id, 'refused', at, randomUUID()),
      time: at,
      action: 'expire',
      recording_id: record.recording_id,
      actor: SYSTEM_ACTOR,
      outcome: 'refused',
      detail:
        'S3 Object Lock protects a version (a legal hold placed outside the archive): kept and marked held',
    });
    return { outcome: 'held_at_s3' };
  }

  async function defer(record: RecordingRecord, error: Error, retentionMs: number): Promise<ExpireOutcome> {
    const attempts = (record.expiry_attempts ?? 0) + 1;
    const wait = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempts - 1));
    await deps.records.deferExpiry(record.recording_id, {
      attempts,
      error: `${error.name}: ${error.message}`,
      eligibleAtMs: deps.clock.nowMs() + wait - retentionMs,
    });
    return { outcome: 'deferred', error };
  }
}

export type ExpireRecording = ReturnType<typeof makeExpireRecording>;
