import type { RecordingRecord } from '../domain/recording.js';

export type ClaimResult =
  | { kind: 'claimed'; record: RecordingRecord }
  | { kind: 'stored'; record: RecordingRecord }
  | { kind: 'busy'; record: RecordingRecord }
  | { kind: 'missing' };

export interface ConsumedNonce {
  value: string;
  expiresAtSec: number;
}

/** Persistence of recording records; every write is conditional so concurrent workers cannot collide. */
export interface RecordingRepository {
  /**
   * Records a notification: creates the record if it does not exist (never overwrites one) and consumes
   * the nonces, atomically. Returns `replayed` (and writes nothing) if any nonce was seen before.
   */
  accept(input: {
    record: RecordingRecord;
    nonces: readonly ConsumedNonce[];
  }): Promise<'accepted' | 'replayed'>;
  /** Takes the exclusive lease on a pending (or failed) record whose lease is free or expired. */
  claim(input: { recordingId: string; owner: string; nowMs: number; leaseMs: number }): Promise<ClaimResult>;
  /** Replaces the record while `owner` still holds the lease; throws LeaseLostError otherwise. */
  replaceLeased(record: RecordingRecord, owner: string): Promise<void>;
  get(recordingId: string): Promise<RecordingRecord | undefined>;
}

export class LeaseLostError extends Error {
  constructor(recordingId: string) {
    super(`lease on ${recordingId} was taken over by another worker`);
    this.name = 'LeaseLostError';
  }
}

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
