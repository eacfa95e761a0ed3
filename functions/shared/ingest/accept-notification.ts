import type { RecordingRecord } from '../domain/recording.js';
import type { Clock, RecordingRepository } from './ports.js';

export interface AcceptDependencies {
  recordings: RecordingRepository;
  clock: Clock;
  accountId: string;
  /** How long a consumed nonce is remembered (replays within this window are refused). */
  nonceTtlSeconds: number;
  /** A new record becomes due for the re-drive this long after it was accepted, if nobody finished it. */
  firstDueAfterMs: number;
}

/**
 * Durably records that a recording exists and needs archiving, consuming the callback's nonces in the
 * same transaction: either both happen or neither, so a failure here is safe for Vobiz to retry.
 */
export function makeAcceptNotification(deps: AcceptDependencies) {
  return async function acceptNotification(
    recordingId: string,
    nonces: readonly string[],
  ): Promise<'accepted' | 'replayed'> {
    const nowMs = deps.clock.nowMs();
    const now = new Date(nowMs).toISOString();
    const record: RecordingRecord = {
      recording_id: recordingId,
      account_id: deps.accountId,
      status: 'pending',
      attempts: 0,
      received_at: now,
      updated_at: now,
      next_attempt_at: new Date(nowMs + deps.firstDueAfterMs).toISOString(),
    };
    const expiresAtSec = Math.floor(nowMs / 1000) + deps.nonceTtlSeconds;
    return deps.recordings.accept({
      record,
      nonces: [...new Set(nonces)].map((value) => ({ value, expiresAtSec })),
    });
  };
}
