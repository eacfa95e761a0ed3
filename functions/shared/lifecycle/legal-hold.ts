import { randomUUID } from 'node:crypto';
import type { Actor } from '../domain/actor.js';
import { auditId, type AuditEntry } from '../domain/audit.js';
import type { RecordingRecord, RecordingStatus } from '../domain/recording.js';
import type { AudioVersions, Clock, LifecycleRecords } from './ports.js';

export type HoldStep = 'flagged' | 's3_held';
export type ReleaseStep = 's3_released' | 'unflagged';

export type HoldOutcome =
  | { outcome: 'held'; record: RecordingRecord; already: boolean }
  | { outcome: 'released'; record: RecordingRecord }
  /** Release of a recording that is not held: nothing to do. */
  | { outcome: 'not_held'; record: RecordingRecord }
  | { outcome: 'not_found' }
  /** Only archived audio can be held (pending, failed, expired or erased records cannot). */
  | { outcome: 'not_stored'; status: RecordingStatus }
  /** The record says stored but S3 has no object for it. */
  | { outcome: 'no_audio' };

export interface LegalHoldDependencies {
  records: LifecycleRecords;
  audio: AudioVersions;
  clock: Clock;
  afterStep?: (step: HoldStep | ReleaseStep) => void | Promise<void>;
}

/**
 * Legal holds: an S3 Object Lock legal hold on the exact object version, and `legal_hold` on the record,
 * which retention, erasure and the delete at Vobiz respect. Placing one flags the record first (with its
 * audit entry, in one transaction), then locks the version at S3; releasing unlocks S3 first, then clears
 * the flag. So a crash in between always leaves the recording protected by at least one of them, and
 * repeating the same request finishes it.
 */
export function makeLegalHold(deps: LegalHoldDependencies) {
  const now = () => new Date(deps.clock.nowMs()).toISOString();

  async function place(
    recordingId: string,
    options: { actor: Actor; reason?: string },
  ): Promise<HoldOutcome> {
    const record = await deps.records.get(recordingId);
    if (!record) return { outcome: 'not_found' };
    if (record.status !== 'stored' || !record.s3_key) return { outcome: 'not_stored', status: record.status };
    const key = record.s3_key;
    let versionId = record.s3_version_id;
    if (!versionId) {
      // Archived before versions were recorded: the hold protects the version S3 serves now.
      const facts = await deps.audio.head(key);
      if (!facts) return { outcome: 'no_audio' };
      versionId = facts.versionId;
    }
    let already = record.legal_hold === true;
    if (!already) {
      const at = now();
      const audit: AuditEntry = {
        audit_id: auditId('legal_hold', recordingId, at, randomUUID()),
        time: at,
        action: 'legal_hold',
        recording_id: recordingId,
        actor: options.actor,
        outcome: 'done',
        detail: `legal hold on S3 version ${versionId}${options.reason ? `: ${options.reason}` : ''}`,
      };
      const flagged = await deps.records.flagHold(
        recordingId,
        { at, actor: options.actor, reason: options.reason, versionId },
        audit,
      );
      if (!flagged) {
        const current = await deps.records.get(recordingId);
        if (!current) return { outcome: 'not_found' };
        if (!current.legal_hold) return { outcome: 'not_stored', status: current.status };
        already = true; // placed by a concurrent request
      }
    }
    await deps.afterStep?.('flagged');
    await deps.audio.setLegalHold(key, versionId, true);
    await deps.afterStep?.('s3_held');
    return { outcome: 'held', record: (await deps.records.get(recordingId)) ?? record, already };
  }

  async function release(
    recordingId: string,
    options: { actor: Actor; reason?: string },
  ): Promise<HoldOutcome> {
    const record = await deps.records.get(recordingId);
    if (!record) return { outcome: 'not_found' };
    if (!record.legal_hold) return { outcome: 'not_held', record };
    if (record.s3_key && record.s3_version_id)
      await deps.audio.setLegalHold(record.s3_key, record.s3_version_id, false);
    await deps.afterStep?.('s3_released');
    const at = now();
    await deps.records.clearHold(record, at, {
      audit_id: auditId('legal_hold_release', recordingId, at, randomUUID()),
      time: at,
      action: 'legal_hold_release',
      recording_id: recordingId,
      actor: options.actor,
      outcome: 'done',
      detail:
        `legal hold released on S3 version ${record.s3_version_id ?? '?'} (held since ${record.legal_hold_at ?? '?'} by ${record.legal_hold_by?.arn ?? '?'})` +
        (options.reason ? `: ${options.reason}` : ''),
    });
    await deps.afterStep?.('unflagged');
    const current = await deps.records.get(recordingId);
    if (current?.legal_hold) return { outcome: 'held', record: current, already: true };
    return { outcome: 'released', record: current ?? record };
  }

  return { place, release };
}

export type LegalHold = ReturnType<typeof makeLegalHold>;
