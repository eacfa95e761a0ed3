import { randomUUID } from 'node:crypto';
import { auditId, type AuditEntry } from '../domain/audit.js';
import { audioKeyOf, tombstone, type RecordingRecord } from '../domain/recording.js';
import {
  ObjectLockedError,
  type AudioVersions,
  type AuditLog,
  type Clock,
  type ErasureIntent,
  type LifecycleRecords,
  type VobizDeletion,
  type VobizRecordingDeleter,
} from './ports.js';
import { deleteEveryVersion } from './remove-audio.js';

export type EraseStep = 'intent' | 'audio_deleted' | 'vobiz_deleted' | 'tombstoned';

export type EraseOutcome =
  | {
      outcome: 'erased';
      record: RecordingRecord;
      versionsDeleted: number;
      vobiz: VobizDeletion | undefined;
      /** It was a tombstone already (a repeated request). */
      already: boolean;
    }
  /** Refused: the recording is on legal hold (audited). */
  | { outcome: 'held' }
  /** Being archived right now: ask again once the attempt is over (about a minute at most). */
  | { outcome: 'busy'; retryAfterMs: number }
  /** A dry run: this is what would be erased (undefined: nothing is known under that id). */
  | { outcome: 'would_erase'; record: RecordingRecord | undefined };

export interface EraseDependencies {
  records: LifecycleRecords;
  audio: AudioVersions;
  /** Needed only for `alsoVobiz`. */
  vobiz?: VobizRecordingDeleter;
  audit: AuditLog;
  clock: Clock;
  newId: () => string;
  afterStep?: (step: EraseStep) => void | Promise<void>;
}

export interface EraseOptions {
  /** The caller's IAM ARN (API), the operator (CLI), or `system` when a scheduled run finishes one. */
  actor: string;
  reason: string;
  /** Also delete the recording at Vobiz (Delete a Recording). */
  alsoVobiz?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/**
 * Erasure (a data-protection request): every version of the audio is deleted, then (optionally) the
 * recording at Vobiz, then the record is replaced by a tombstone without personal data, with its audit
 * entry in the same transaction. The first step marks the record `erasing` (refused while it is on legal
 * hold or being archived), which also keeps the archive worker, the re-drive, the backfill sweep and
 * late callbacks from archiving it again. Every step can be repeated: an interrupted erasure is finished
 * by calling it again, or by the scheduled lifecycle run, with its original reason and requester.
 */
export function makeEraseRecording(deps: EraseDependencies) {
  const now = () => new Date(deps.clock.nowMs()).toISOString();

  return async function eraseRecording(recordingId: string, options: EraseOptions): Promise<EraseOutcome> {
    for (let round = 0; round < 5; round++) {
      const record = await deps.records.get(recordingId);
      if (record?.status === 'erased') return finishVobiz(record, options);
      if (record?.legal_hold) {
        if (!options.dryRun) await deps.audit.record(refusal(recordingId, options));
        return { outcome: 'held' };
      }
      const leaseLeft = (record?.lease_until_ms ?? 0) - deps.clock.nowMs();
      if (record && record.status !== 'erasing' && leaseLeft > 0)
        return { outcome: 'busy', retryAfterMs: leaseLeft };
      if (options.dryRun) return { outcome: 'would_erase', record };

      const intent: ErasureIntent =
        record?.status === 'erasing' && record.erasure_id
          ? {
              erasureId: record.erasure_id,
              at: record.erasure_started_at ?? now(),
              reason: record.erasure_reason ?? options.reason,
              actor: record.erased_by ?? options.actor,
              alsoVobiz: record.erasure_also_vobiz === true || options.alsoVobiz === true,
            }
          : {
              erasureId: deps.newId(),
              at: now(),
              reason: options.reason,
              actor: options.actor,
              alsoVobiz: options.alsoVobiz === true,
            };
      // The record changed meanwhile (a callback arrived, a worker claimed it, a hold): look again.
      if (!(await deps.records.beginErasure(recordingId, record?.status, intent))) continue;
      await deps.afterStep?.('intent');

      const key = record ? audioKeyOf(record) : undefined;
      let versionsDeleted = 0;
      try {
        if (key) versionsDeleted = await deleteEveryVersion(deps.audio, key);
      } catch (error) {
        if (!(error instanceof ObjectLockedError) || !record) throw error;
        await deps.records.abandonErasureHeld(
          {
            ...record,
            status: 'erasing',
            erasure_id: intent.erasureId,
            erasure_previous_status:
              record.status === 'erasing' ? record.erasure_previous_status : record.status,
          },
          now(),
        );
        await deps.audit.record(refusal(recordingId, options, 'S3 Object Lock protects a version'));
        return { outcome: 'held' };
      }
      await deps.afterStep?.('audio_deleted');

      let vobiz: VobizDeletion | undefined;
      if (intent.alsoVobiz) {
        if (!deps.vobiz) throw new Error('deleting at Vobiz needs the Vobiz credentials');
        vobiz = await deps.vobiz.deleteRecording(recordingId, { signal: options.signal });
      }
      await deps.afterStep?.('vobiz_deleted');

      const erasedAt = now();
      const grave = tombstone({
        recordingId,
        erasureId: intent.erasureId,
        erasedAt,
        reason: intent.reason,
        erasedBy: intent.actor,
        vobizDeletedAt: vobiz ? erasedAt : undefined,
      });
      const audit: AuditEntry = {
        audit_id: auditId('erase', recordingId, intent.erasureId),
        time: erasedAt,
        action: 'erase',
        recording_id: recordingId,
        actor: intent.actor,
        outcome: 'done',
        detail:
          `${intent.reason}; ${versionsDeleted} audio version(s) deleted` +
          (vobiz ? `; ${vobiz === 'deleted' ? 'deleted' : 'already absent'} at Vobiz` : '') +
          (record ? '' : '; nothing was archived under this id'),
      };
      if (!(await deps.records.replaceWithTombstone(grave, audit))) continue; // finished concurrently
      await deps.afterStep?.('tombstoned');
      return { outcome: 'erased', record: grave, versionsDeleted, vobiz, already: false };
    }
    throw new Error(`recording ${recordingId} kept changing while it was being erased; try again`);
  };

  /** A repeated erasure: nothing left here; with `alsoVobiz`, make sure it is gone at Vobiz too. */
  async function finishVobiz(record: RecordingRecord, options: EraseOptions): Promise<EraseOutcome> {
    let vobiz: VobizDeletion | undefined;
    if (options.alsoVobiz && !record.vobiz_deleted_at && !options.dryRun) {
      if (!deps.vobiz) throw new Error('deleting at Vobiz needs the Vobiz credentials');
      vobiz = await deps.vobiz.deleteRecording(record.recording_id, { signal: options.signal });
      const at = now();
      const audit: AuditEntry = {
        audit_id: auditId('vobiz_delete', record.recording_id, at, randomUUID()),
        time: at,
        action: 'vobiz_delete',
        recording_id: record.recording_id,
        actor: options.actor,
        outcome: 'done',
        detail: `erased recording: ${vobiz === 'deleted' ? 'deleted' : 'already absent'} at Vobiz`,
      };
      if (!(await deps.records.markVobizDeleted(record.recording_id, { at }, audit)))
        await deps.audit.record(audit);
      record = { ...record, vobiz_deleted_at: at };
    }
    return { outcome: 'erased', record, versionsDeleted: 0, vobiz, already: true };
  }

  function refusal(recordingId: string, options: EraseOptions, why = 'on legal hold'): AuditEntry {
    const at = now();
    return {
      audit_id: auditId('erase', recordingId, 'refused', at, randomUUID()),
      time: at,
      action: 'erase',
      recording_id: recordingId,
      actor: options.actor,
      outcome: 'refused',
      detail: `${why}: nothing erased (${options.reason})`,
    };
  }
}

export type EraseRecording = ReturnType<typeof makeEraseRecording>;
