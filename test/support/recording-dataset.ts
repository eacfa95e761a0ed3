import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  audioObjectKey,
  contentTypeOf,
  listingTimeMs,
  normalizePhoneNumber,
  timeSortKey,
  toItem,
  type RecordingRecord,
  type RecordingStatus,
} from '../../functions/shared/domain/recording.js';

const DAY_MS = 86_400_000;
export const DATASET_START_MS = Date.UTC(2025, 0, 10);

/** Small deterministic PRNG (mulberry32), so a failing test sees the same data again. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DatasetOptions {
  count: number;
  seed?: number;
  /** Id prefix, so several datasets can live in one table. */
  prefix?: string;
  startMs?: number;
  days?: number;
  calls?: number;
  /** First call index of the pool, so a second dataset can bring its own calls. */
  callBase?: number;
  fromNumbers?: number;
  toNumbers?: number;
}

export function callUuid(i: number): string {
  return `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

/** Vobiz writes numbers with and without the `+`; both spellings are in the data on purpose. */
export function phoneNumber(kind: 'from' | 'to', i: number): string {
  const digits = `91${kind === 'from' ? '98' : '80'}${String(i).padStart(8, '0')}`;
  return i % 2 === 0 ? `+${digits}` : digits;
}

export function storedRecording(
  overrides: Partial<RecordingRecord> & { recording_id: string; add_time_ms: number },
): RecordingRecord {
  const id = overrides.recording_id;
  const addTime = overrides.add_time_ms;
  const format = overrides.recording_format ?? 'mp3';
  const base: RecordingRecord = {
    recording_id: id,
    account_id: 'MA_TESTACCOUNT',
    status: 'stored',
    attempts: 1,
    received_at: new Date(addTime + 30_000).toISOString(),
    updated_at: new Date(addTime + 45_000).toISOString(),
    api_id: `api-${id}`,
    add_time: new Date(addTime).toISOString(),
    add_time_ms: addTime,
    call_uuid: callUuid(0),
    conference_name: null,
    from_number: phoneNumber('from', 0),
    to_number: phoneNumber('to', 0),
    monthly_recording_storage_amount: 0,
    recording_duration_ms: 61_000,
    recording_start_ms: addTime - 61_000,
    recording_end_ms: addTime,
    recording_format: format,
    recording_storage_duration: 0,
    recording_storage_rate: 0.0004,
    recording_type: 'trunk',
    recording_url: `https://media.vobiz.ai/v1/Account/MA_TESTACCOUNT/Recording/${id}.${format}`,
    resource_uri: `/v1/Account/MA_TESTACCOUNT/Recording/${id}/`,
    rounded_recording_duration: 120,
    unparsed_fields: null,
    s3_bucket: 'archive',
    s3_key: audioObjectKey('MA_TESTACCOUNT', id, addTime, format),
    size_bytes: 48_213,
    sha256: 'a'.repeat(64),
    content_type: contentTypeOf(format),
    archived_at: new Date(addTime + 45_000).toISOString(),
  };
  return { ...base, ...overrides };
}

/** A record we heard of but could not fetch yet: no Vobiz metadata, listed by `received_at`. */
export function pendingWithoutMetadata(recordingId: string, receivedAtMs: number): RecordingRecord {
  return {
    recording_id: recordingId,
    account_id: 'MA_TESTACCOUNT',
    status: 'pending',
    attempts: 1,
    last_error: 'Vobiz has no such recording yet',
    next_attempt_at: new Date(receivedAtMs + 120_000).toISOString(),
    received_at: new Date(receivedAtMs).toISOString(),
    updated_at: new Date(receivedAtMs).toISOString(),
  };
}

/**
 * Recordings spread over several days, calls and numbers: ~88 % stored, ~8 % pending (a quarter of them
 * without metadata yet), ~4 % failed; every 40th shares its millisecond with the one before (ties are
 * ordered by id).
 */
export function makeDataset(options: DatasetOptions): RecordingRecord[] {
  const next = random(options.seed ?? 1);
  const prefix = options.prefix ?? 'rec';
  const startMs = options.startMs ?? DATASET_START_MS;
  const span = (options.days ?? 5) * DAY_MS;
  const calls = options.calls ?? 40;
  const fromNumbers = options.fromNumbers ?? 12;
  const toNumbers = options.toNumbers ?? 8;
  const records: RecordingRecord[] = [];
  let previousMs = startMs;
  for (let i = 0; i < options.count; i++) {
    const id = `${prefix}-${i.toString(36).padStart(6, '0')}-${Math.floor(next() * 1e6).toString(36)}`;
    const addTime = i % 40 === 39 ? previousMs : startMs + Math.floor(next() * span);
    previousMs = addTime;
    const roll = next();
    const status: RecordingStatus = roll < 0.88 ? 'stored' : roll < 0.96 ? 'pending' : 'failed';
    if (status === 'pending' && next() < 0.25) {
      records.push(pendingWithoutMetadata(id, addTime));
      continue;
    }
    const record = storedRecording({
      recording_id: id,
      add_time_ms: addTime,
      call_uuid: callUuid((options.callBase ?? 0) + Math.floor(next() * calls)),
      from_number: phoneNumber('from', Math.floor(next() * fromNumbers)),
      to_number: phoneNumber('to', Math.floor(next() * toNumbers)),
      recording_duration_ms: 1000 + Math.floor(next() * 600_000),
    });
    if (status !== 'stored') {
      for (const field of [
        's3_bucket',
        's3_key',
        'size_bytes',
        'sha256',
        'content_type',
        'archived_at',
      ] as const)
        delete record[field];
      record.status = status;
      record.attempts = status === 'failed' ? 12 : 2;
      record.last_error = 'Vobiz answered 503';
      if (status === 'pending') record.next_attempt_at = new Date(addTime + 600_000).toISOString();
    }
    records.push(record);
  }
  return records;
}

/** What a listing must return: the matching records, newest first (ties by id, descending). */
export function expectedIds(
  records: readonly RecordingRecord[],
  match: (record: RecordingRecord) => boolean,
): string[] {
  return records
    .filter(match)
    .map((record) => ({
      id: record.recording_id,
      key: timeSortKey(listingTimeMs(record), record.recording_id),
    }))
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
    .map((entry) => entry.id);
}

export const samePhone = (a: string | null | undefined, b: string) =>
  typeof a === 'string' && normalizePhoneNumber(a) === normalizePhoneNumber(b);

/** BatchWrite of `toItem(record)` with `concurrency` requests in flight; unprocessed items are retried. */
export async function seedRecordings(
  documents: DynamoDBDocumentClient,
  tableName: string,
  records: readonly RecordingRecord[],
  options: { concurrency?: number; onProgress?: (written: number) => void } = {},
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < records.length; i += 25) batches.push(records.slice(i, i + 25).map(toItem));
  let nextBatch = 0;
  let written = 0;
  const worker = async () => {
    while (nextBatch < batches.length) {
      const batch = batches[nextBatch++]!;
      let pending: Record<string, unknown>[] = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 20) throw new Error('BatchWrite kept returning unprocessed items');
        const result = await documents.send(
          new BatchWriteCommand({
            RequestItems: { [tableName]: pending.map((Item) => ({ PutRequest: { Item } })) },
          }),
        );
        pending = (result.UnprocessedItems?.[tableName] ?? []).map((request) => request.PutRequest!.Item!);
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
      written += batch.length;
      options.onProgress?.(written);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
}
