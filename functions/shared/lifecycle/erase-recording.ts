import { randomUUID } from 'node:crypto';
import type { Actor } from '../domain/actor.js';
import { auditId, isValidReason, REASON_RULE, type AuditEntry } from '../domain/audit.js';
import {
  audioKeysOf,
  owesVobizDelete,
  tombstone,
  type ErasureIntent,
  type RecordingRecord,
} from '../domain/recording.js';
import type { DeleteAtVobiz } from './delete-at-vobiz.js';
import {
  ObjectLockedError,
  type AudioVersions,
  type AuditLog,
  type Clock,
  type LifecycleRecords,
  type VobizDeletion,
} from './ports.js';
import { deleteEveryVersion } from './remove-audio.js';

/**
 * `intent`: the record is `erasing`, without personal data; `audio_deleted`: every version is gone;
 * `tombstoned`: the tombstone replaced it; `relisted`: versions that appeared meanwhile are gone too.
 */
export type EraseStep = 'intent' | 'audio_deleted' | 'tombstoned' | 'relisted';

/**
 * What became of the copy at Vobiz: deleted now, absent already (404 in the recording's account),
 * `pending` (Vobiz failed for now: the scheduled run retries it with backoff), `refused` (another
 * account's recording: blocked, audited, an operator looks).
 */
export type ErasureVobiz = VobizDeletion | 'pending' | 'refused';

export type EraseOutcome =
  | {
      outcome: 'erased';
      record: RecordingRecord;
      versionsDeleted: number;
      /** Undefined when the copy at Vobiz is kept (`alsoVobiz` false) or was deleted before. */
      vobiz: ErasureVobiz | undefined;
      /** It was a tombstone already (a repeated request). */
      already: boolean;
    }
  /** Refused: the recording is on legal hold, here or by S3 Object Lock (audited). */
  | { outcome: 'held' }
  /** Being archived right now: ask again once the attempt (and what it may still send) is over. */
  | { outcome: 'busy'; retryAfterMs: number }
  /** A dry run: this is what would be erased (undefined: nothing is known under that id). */
  | { outcome: 'would_erase'; record: RecordingRecord | undefined };

export interface EraseDependencies {
  records: LifecycleRecords;
  audio: AudioVersions;
  /** The delete at Vobiz an erasure asks for, made once the tombstone is written (and retried from the index). */
  deleteAtVobiz?: DeleteAtVobiz;
  audit: AuditLog;
  clock: Clock;
  newId: () => string;
  afterStep?: (step: EraseStep) => void | Promise<void>;
}

export interface EraseOptions {
  /** The caller (API), the operator (CLI), or `system` when a scheduled run finishes one. */
  actor: Actor;
  /** A reference to the request (REASON_PATTERN); a resumed erasure keeps its original one. */
  reason: string;
  /** Also delete the recording at Vobiz (Delete a Recording); the callers default it to true. */
  alsoVobiz: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/**
 * How long requests a worker sent under its lease may still reach S3 after the lease ended: S3 requests
 * are bounded to about 91 s (adapters/aws-clients.ts: 3 attempts of 30 s), so an erasure that waits this
 * long after a lease ends cannot be followed by that worker's upload.
 */
export const LEASE_AFTERLIFE_MS = 120_000;

/**
 * Erasure (a data-protection request). First the record becomes `erasing`, stripped of personal data
 * and of its lookup index keys (refused while it is on legal hold, here or by S3 Object Lock, or while a
 * worker may still be archiving it), which also keeps the archive worker, the re-drive, the backfill
 * sweep and late callbacks from archiving it again. Then every version of the audio is deleted, the
 * record is replaced by a tombstone with its audit entry in one transaction, and the versions are
 * listed again (an upload that was in flight is deleted too). Last, the recording is deleted at Vobiz:
 * a follow-up after the tombstone, which the scheduled run retries with backoff until it is done (and
 * audited). Every step can be repeated: an interrupted erasure is finished by calling it again, or by
 * the scheduled lifecycle run, with its original reason and requester.
 */
export function makeEraseRecording(deps: EraseDependencies) {
  const now = () => new Date(deps.clock.nowMs()).toISOString();

  return async function eraseRecording(recordingId: string, options: EraseOptions): Promise<EraseOutcome> {
    for (let round = 0; round < 5; round++) {
      const record = await deps.records.get(recordingId);
      if (record?.status === 'erased') return repeated(record, options);
      if (record?.legal_hold) {
        if (!options.dryRun) await deps.audit.record(refusal(recordingId, options));
        return { outcome: 'held' };
      }
      const resuming = record?.status === 'erasing' && record.erasure_id !== undefined;
      const leaseLeft =
        record?.lease_until_ms === undefined
          ? 0
          : record.lease_until_ms + LEASE_AFTERLIFE_MS - deps.clock.nowMs();
      if (record && !resuming && leaseLeft > 0) return { outcome: 'busy', retryAfterMs: leaseLeft };
      if (options.dryRun) return { outcome: 'would_erase', record };

      const intent: ErasureIntent = resuming
        ? {
            erasureId: record.erasure_id!,
            at: record.erasure_started_at ?? now(),
            reason: record.erasure_reason ?? options.reason,
            actor: record.erased_by ?? options.actor,
            alsoVobiz: record.erasure_also_vobiz ?? options.alsoVobiz,
          }
        : {
            erasureId: deps.newId(),
            at: now(),
            reason: checkedReason(options.reason),
            actor: options.actor,
            alsoVobiz: options.alsoVobiz,
          };
      const audioKeys = record ? audioKeysOf(record) : [];
      if (!resuming) {
        // S3 would refuse to delete a version under Object Lock: refuse now, before anything is removed.
        if (await anyVersionHeld(deps.audio, audioKeys)) {
          await deps.audit.record(refusal(recordingId, options, 'S3 Object Lock protects a version'));
          return { outcome: 'held' };
        }
        // The record changed meanwhile (a callback arrived, a worker claimed it, a hold): look again.
        if (!(await deps.records.beginErasure(recordingId, record, intent, LEASE_AFTERLIFE_MS))) continue;
      }
      await deps.afterStep?.('intent');

      let versionsDeleted = 0;
      try {
        for (const key of audioKeys) versionsDeleted += await deleteEveryVersion(deps.audio, key);
      } catch (error) {
        if (!(error instanceof ObjectLockedError) || !record) throw error;
        // A hold placed at S3 after the check above: the erasure is undone, the record now held.
        await deps.records.abandonErasureHeld(
          {
            ...record,
            status: 'erasing',
            erasure_id: intent.erasureId,
            erasure_previous_status: resuming ? record.erasure_previous_status : record.status,
          },
          now(),
        );
        await deps.audit.record(refusal(recordingId, options, 'S3 Object Lock protects a version'));
        return { outcome: 'held' };
      }
      await deps.afterStep?.('audio_deleted');

      const erasedAt = now();
      const grave = tombstone({
        recordingId,
        accountId: record?.account_id || undefined,
        erasureId: intent.erasureId,
        erasedAt,
        reason: intent.reason,
        erasedBy: intent.actor,
        alsoVobiz: intent.alsoVobiz,
        vobizDeletedAt: record?.vobiz_deleted_at,
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
          (grave.vobiz_deleted_at
            ? '; deleted at Vobiz before'
            : intent.alsoVobiz
              ? '; the delete at Vobiz follows'
              : '; kept at Vobiz (also_vobiz=false)') +
          (record ? '' : '; nothing was archived under this id'),
      };
      if (!(await deps.records.replaceWithTombstone(grave, audit))) continue; // finished concurrently
      await deps.afterStep?.('tombstoned');

      // An upload in flight when the erasure began may have created a version since the first listing.
      for (const key of audioKeys) versionsDeleted += await deleteEveryVersion(deps.audio, key);
      await deps.afterStep?.('relisted');

      const vobiz = owesVobizDelete(grave)
        ? await deleteAtVobiz(recordingId, intent.actor, options)
        : undefined;
      return {
        outcome: 'erased',
        record: (await deps.records.get(recordingId)) ?? grave,
        versionsDeleted,
        vobiz,
        already: false,
      };
    }
    throw new Error(`recording ${recordingId} kept changing while it was being erased; try again`);
  };

  /** A repeated erasure: nothing left here; unless told to keep it, make sure it is gone at Vobiz too. */
  async function repeated(record: RecordingRecord, options: EraseOptions): Promise<EraseOutcome> {
    let vobiz: ErasureVobiz | undefined;
    if (options.alsoVobiz && !record.vobiz_deleted_at && !options.dryRun) {
      if (record.vobiz_delete_blocked) vobiz = 'refused';
      else {
        if (record.erasure_also_vobiz !== true) await deps.records.oweVobizDelete(record.recording_id, now());
        vobiz = await deleteAtVobiz(record.recording_id, options.actor, options);
      }
      record = (await deps.records.get(record.recording_id)) ?? record;
    }
    return { outcome: 'erased', record, versionsDeleted: 0, vobiz, already: true };
  }

  /** The follow-up after the tombstone: done now, or left due for the scheduled run. */
  async function deleteAtVobiz(
    recordingId: string,
    actor: Actor,
    options: EraseOptions,
  ): Promise<ErasureVobiz> {
    if (!deps.deleteAtVobiz) throw new Error('deleting at Vobiz needs the Vobiz credentials');
    const result = await deps.deleteAtVobiz(recordingId, { actor, signal: options.signal });
    switch (result.outcome) {
      case 'deleted':
        return result.vobiz;
      case 'refused':
        return 'refused';
      case 'skipped':
        return result.reason === 'already_deleted'
          ? 'absent'
          : result.reason === 'blocked'
            ? 'refused'
            : 'pending';
      default:
        return 'pending';
    }
  }

  function refusal(recordingId: string, options: EraseOptions, why = 'on legal hold'): AuditEntry {
    const at = now();
    const reason = isValidReason(options.reason) ? ` (${options.reason})` : '';
    return {
      audit_id: auditId('erase', recordingId, 'refused', at, randomUUID()),
      time: at,
      action: 'erase',
      recording_id: recordingId,
      actor: options.actor,
      outcome: 'refused',
      detail: `${why}: nothing erased${reason}`,
    };
  }
}

/** Whether S3 Object Lock holds any version of these keys (a hold placed outside the archive). */
async function anyVersionHeld(audio: AudioVersions, keys: readonly string[]): Promise<boolean> {
  for (const key of keys)
    for (const version of await audio.listVersions(key)) {
      if (version.deleteMarker) continue;
      if ((await audio.head(key, version.versionId))?.legalHold) return true;
    }
  return false;
}

function checkedReason(reason: string): string {
  if (!isValidReason(reason)) throw new Error(`the erasure reason must be ${REASON_RULE}`);
  return reason;
}

export type EraseRecording = ReturnType<typeof makeEraseRecording>;
