import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR, type Actor } from '../domain/actor.js';
import { auditId, type AuditEntry } from '../domain/audit.js';
import { TransientError, VobizAuthError } from '../domain/errors.js';
import type { RecordingRecord } from '../domain/recording.js';
import {
  AccountMismatchError,
  type AudioVersions,
  type AuditLog,
  type Clock,
  type LifecycleRecords,
  type VobizDeletion,
  type VobizRecordingDeleter,
} from './ports.js';

export type VobizDeleteStep = 'read' | 'verified' | 'deleted' | 'marked';

export type SkipReason = 'missing' | 'not_stored' | 'held' | 'already_deleted' | 'blocked';

/**
 * Why deleting at Vobiz is safe: the archived copy verified (S3's SHA-256 checksum, or read back and
 * hashed), or no copy is meant to be kept (retention expired it, an erasure removed it on purpose).
 */
export type DeleteBasis = Verification['by'] | 'retention' | 'erasure';

export type VobizDeleteOutcome =
  | { outcome: 'deleted'; vobiz: VobizDeletion; verifiedBy: DeleteBasis; record: RecordingRecord }
  /** A dry run: everything checked, nothing deleted. */
  | { outcome: 'verified'; verifiedBy: DeleteBasis; record: RecordingRecord }
  | { outcome: 'skipped'; reason: SkipReason }
  /** Verification failed, or the recording is another account's: nothing deleted; blocked until someone looks. */
  | { outcome: 'refused'; reason: string }
  /** Vobiz or S3 failed for now: the record is eligible again after a backoff. */
  | { outcome: 'deferred'; error: Error };

export interface DeleteAtVobizDependencies {
  records: LifecycleRecords;
  audio: AudioVersions;
  vobiz: VobizRecordingDeleter;
  audit: AuditLog;
  clock: Clock;
  /** Backoff after a failed attempt: base × 2^(attempts−1), capped (default 5 min … 6 h). */
  backoff?: { baseMs: number; maxMs: number };
  /** Test seam: called after each step, so a test can stop the use case exactly there. */
  afterStep?: (step: VobizDeleteStep) => void | Promise<void>;
}

export interface Verification {
  ok: boolean;
  /** How the audio was verified: S3's own SHA-256 checksum, or (older records) by reading it back. */
  by: 'checksum' | 'reread';
  versionId: string;
  /** Why it failed, for the record, the audit and the log. */
  reason?: string;
  /** S3 Object Lock holds the version (a hold placed outside the archive). */
  held?: boolean;
}

const DEFAULT_BACKOFF = { baseMs: 5 * 60_000, maxMs: 6 * 3_600_000 };

/**
 * Deletes a recording at Vobiz once that loses nothing:
 * - a `stored` record only once its copy here is proven: not held, and the S3 version it names exists
 *   with the recorded size and the SHA-256 computed while uploading, as S3 itself reports it (or, for
 *   audio archived before checksums were sent to S3, as read back and hashed);
 * - an `expired` record (retention implies the delete at Vobiz: the audio is not to be kept anywhere)
 *   and a tombstone whose erasure asked for it, without a copy to verify.
 * Only in the recording's own account (a 404 elsewhere would prove nothing). Then `DELETE
 * …/Recording/{id}/` (204 and 404 both mean done), and `vobiz_deleted_at` with its audit entry in one
 * transaction. Every step can be repeated: a crash after the delete at Vobiz leaves the record due, and
 * the next run checks again, gets 404 and records it.
 */
export function makeDeleteAtVobiz(deps: DeleteAtVobizDependencies) {
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;

  return async function deleteAtVobiz(
    recordingId: string,
    options: {
      actor?: Actor;
      dryRun?: boolean;
      signal?: AbortSignal;
      /** The stage's delay: a deferred record's due time is set so that it is due `backoff` from now. */
      delayMs?: number;
      /** Try again a record an earlier refusal blocked (an operator fixed the cause). */
      retryBlocked?: boolean;
    } = {},
  ): Promise<VobizDeleteOutcome> {
    const actor = options.actor ?? SYSTEM_ACTOR;
    const record = await deps.records.get(recordingId);
    if (!record) return skipped('missing');
    if (record.vobiz_deleted_at) return skipped('already_deleted');
    const basis = unverifiedBasis(record);
    if (record.status !== 'stored' && !basis) return skipped('not_stored');
    if (record.legal_hold) return skipped('held');
    if (record.vobiz_delete_blocked && !options.retryBlocked) return skipped('blocked');
    await deps.afterStep?.('read');

    let verifiedBy: DeleteBasis;
    let versionId: string | undefined;
    if (basis) verifiedBy = basis;
    else {
      let verification: Verification;
      try {
        verification = await verifyArchivedAudio(deps.audio, record);
      } catch (error) {
        return defer(record, asError(error), options);
      }
      if (verification.held) return skipped('held');
      if (!verification.ok)
        return refuse(record, verification.reason ?? 'verification failed', actor, options);
      verifiedBy = verification.by;
      versionId = verification.versionId;
    }
    await deps.afterStep?.('verified');
    if (options.dryRun) return { outcome: 'verified', verifiedBy, record };

    let vobiz: VobizDeletion;
    try {
      vobiz = await deps.vobiz.deleteRecording(recordingId, {
        signal: options.signal,
        accountId: record.account_id || undefined,
      });
    } catch (error) {
      if (error instanceof AccountMismatchError) return refuse(record, error.message, actor, options);
      return defer(record, asError(error), options);
    }
    await deps.afterStep?.('deleted');

    const nowMs = deps.clock.nowMs();
    const at = new Date(nowMs).toISOString();
    const answer = vobiz === 'deleted' ? 'deleted at Vobiz (204)' : 'already absent at Vobiz (404)';
    const detail =
      verifiedBy === 'retention'
        ? `${answer}; retention reached, its audio was expired here (nothing to verify)`
        : verifiedBy === 'erasure'
          ? `${answer}; the recording was erased here`
          : `${answer}; archived copy verified (${verifiedBy === 'checksum' ? 'S3 SHA-256 checksum' : 'read back and hashed'}, version ${versionId}, ${record.size_bytes} bytes)`;
    const audit = entry(recordingId, actor, 'done', detail, nowMs);
    // Erased meanwhile: the delete at Vobiz still happened and is audited on its own.
    if (!(await deps.records.markVobizDeleted(recordingId, { at, versionId }, audit)))
      await deps.audit.record(audit);
    await deps.afterStep?.('marked');
    return {
      outcome: 'deleted',
      vobiz,
      verifiedBy,
      record: {
        ...record,
        vobiz_deleted_at: at,
        ...(record.status === 'stored' ? { s3_version_id: record.s3_version_id ?? versionId } : {}),
      },
    };
  };

  /** Kept at Vobiz until someone looks: out of the due index, with the reason, audited. */
  async function refuse(
    record: RecordingRecord,
    reason: string,
    actor: Actor,
    options: { dryRun?: boolean },
  ): Promise<VobizDeleteOutcome> {
    if (!options.dryRun)
      await deps.records.blockVobizDelete(
        record.recording_id,
        reason,
        entry(record.recording_id, actor, 'refused', `kept at Vobiz: ${reason}`, deps.clock.nowMs()),
      );
    return { outcome: 'refused', reason };
  }

  async function defer(
    record: RecordingRecord,
    error: Error,
    options: { dryRun?: boolean; delayMs?: number },
  ): Promise<VobizDeleteOutcome> {
    if (!options.dryRun) {
      const attempts = (record.vobiz_delete_attempts ?? 0) + 1;
      const wait = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempts - 1));
      const hinted = error instanceof TransientError ? (error.retryAfterMs ?? 0) : 0;
      await deps.records.deferVobizDelete(record.recording_id, {
        attempts,
        error: `${error.name}: ${error.message}`,
        eligibleAtMs: deps.clock.nowMs() + Math.max(wait, hinted) - (options.delayMs ?? 0),
      });
    }
    return { outcome: 'deferred', error };
  }
}

/** Records deleted at Vobiz without a copy to verify: none is meant to be kept any more. */
function unverifiedBasis(record: RecordingRecord): 'retention' | 'erasure' | undefined {
  if (record.status === 'expired') return 'retention';
  if (record.status === 'erased' && record.erasure_also_vobiz === true) return 'erasure';
  return undefined;
}

function entry(
  recordingId: string,
  actor: Actor,
  outcome: AuditEntry['outcome'],
  detail: string,
  nowMs: number,
): AuditEntry {
  const time = new Date(nowMs).toISOString();
  return {
    audit_id: auditId('vobiz_delete', recordingId, outcome, time, randomUUID()),
    time,
    action: 'vobiz_delete',
    recording_id: recordingId,
    actor,
    outcome,
    detail,
  };
}

/**
 * Checks the archived copy a record describes against what S3 kept. Throws only for S3 failures (worth
 * retrying); a mismatch or a missing object is a failed verification.
 */
export async function verifyArchivedAudio(
  audio: AudioVersions,
  record: RecordingRecord,
): Promise<Verification> {
  const key = record.s3_key;
  if (!key || record.size_bytes === undefined || !record.sha256)
    return { ok: false, by: 'checksum', versionId: '', reason: 'the record has no archived audio to verify' };
  const facts = await audio.head(key, record.s3_version_id);
  const by = record.s3_checksum_sha256 ? 'checksum' : 'reread';
  if (!facts) {
    return {
      ok: false,
      by,
      versionId: record.s3_version_id ?? '',
      // Not the key: it holds the date of the call, and the reason goes to the audit trail.
      reason: record.s3_version_id
        ? `S3 has no version ${record.s3_version_id} at the recorded key`
        : 'S3 has no object at the recorded key',
    };
  }
  const fail = (reason: string): Verification => ({ ok: false, by, versionId: facts.versionId, reason });
  if (facts.legalHold)
    return { ok: false, by, versionId: facts.versionId, held: true, reason: 'held by S3 Object Lock' };
  if (record.s3_version_id && facts.versionId !== record.s3_version_id)
    return fail(`S3 answered version ${facts.versionId}, the record names ${record.s3_version_id}`);
  if (facts.sizeBytes !== record.size_bytes)
    return fail(`S3 holds ${facts.sizeBytes} bytes, the record says ${record.size_bytes}`);
  if (record.s3_checksum_sha256) {
    if (!facts.checksumSha256) return fail('S3 keeps no SHA-256 checksum for this version');
    if (!checksumsMatch(facts.checksumSha256, record.s3_checksum_sha256))
      return fail('the SHA-256 checksum S3 keeps differs from the one computed while uploading');
    return { ok: true, by, versionId: facts.versionId };
  }
  // Archived before checksums were sent to S3: read this exact version back and hash it.
  const digest = await audio.digest(key, facts.versionId);
  if (digest.sizeBytes !== record.size_bytes)
    return fail(`read back ${digest.sizeBytes} bytes, the record says ${record.size_bytes}`);
  if (digest.sha256 !== record.sha256) return fail('the audio read back does not have the recorded SHA-256');
  return { ok: true, by, versionId: facts.versionId };
}

/**
 * Whether what S3 reports matches what was computed while uploading: the same base64 digest and, for a
 * composite checksum, the same part count (a report without `-N`, as GetObjectAttributes gives it, is
 * compared on the digest).
 */
export function checksumsMatch(reported: string, expected: string): boolean {
  const [reportedDigest, reportedParts] = reported.split('-');
  const [expectedDigest, expectedParts] = expected.split('-');
  if (reportedDigest !== expectedDigest) return false;
  return reportedParts === undefined || reportedParts === expectedParts;
}

function skipped(reason: SkipReason): VobizDeleteOutcome {
  return { outcome: 'skipped', reason };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Errors after which a run stops calling Vobiz (they concern every recording, not this one). */
export function stopsTheRun(error: Error): boolean {
  return (
    error instanceof VobizAuthError || (error instanceof TransientError && /HTTP 429/.test(error.message))
  );
}

export type DeleteAtVobiz = ReturnType<typeof makeDeleteAtVobiz>;
