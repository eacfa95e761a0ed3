import type { RecordingRecord } from '../domain/recording.js';
import type { AcceptResult, Clock, RecordingRepository } from './ports.js';

/**
 * When a new record becomes due for the re-drive if the archive worker has not finished it: long enough
 * for the worker's trigger to deliver and retry (and to drain a burst at its bounded concurrency),
 * short enough that a record whose trigger gave up is archived the same hour.
 */
export const SAFETY_NET_DELAY_MS = 10 * 60_000;

export interface AcceptDependencies {
  recordings: Pick<RecordingRepository, 'accept'>;
  clock: Clock;
  accountId: string;
  /** How long a consumed nonce is remembered (replays within this window are refused). */
  nonceTtlSeconds: number;
  /**
   * A new record becomes due for the re-drive this long after it was accepted: the safety net for a
   * record the archive worker never got to (its trigger gave up), not the normal path.
   */
  firstDueAfterMs: number;
}

/**
 * Durably records that a recording exists and needs archiving, consuming the callback's nonces with
 * it. The insert of the `pending` record is itself what starts the archive worker (DynamoDB Streams),
 * so there is no second write whose loss could strand a recorded notification.
 */
export function makeAcceptNotification(deps: AcceptDependencies) {
  return async function acceptNotification(
    recordingId: string,
    nonces: readonly string[],
  ): Promise<AcceptResult> {
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
