import type { RecordingRecord } from './recording.js';

/**
 * What keeping one recording at Vobiz costs per month, from the fields Vobiz returns with it (in the
 * account's currency). Vobiz does not document the formula: `monthly_recording_storage_amount` is used
 * when Vobiz states one (> 0); otherwise `recording_storage_rate` is taken as a price per minute of
 * audio per month, applied to `rounded_recording_duration` (seconds, rounded up to whole minutes as
 * Vobiz bills). Undefined when the record lacks the fields.
 */
export function monthlyStorageCost(record: RecordingRecord): number | undefined {
  const stated = record.monthly_recording_storage_amount;
  if (typeof stated === 'number' && stated > 0) return stated;
  const rate = record.recording_storage_rate;
  if (typeof rate !== 'number') return undefined;
  const seconds =
    record.rounded_recording_duration ??
    (typeof record.recording_duration_ms === 'number'
      ? Math.ceil(record.recording_duration_ms / 60_000) * 60
      : undefined);
  if (typeof seconds !== 'number') return undefined;
  return (rate * seconds) / 60;
}
