import { beforeAll, describe, expect, it } from 'vitest';
import {
  listingTimeMs,
  timeSortKey,
  type RecordingRecord,
  type RecordingStatus,
} from '../../functions/shared/domain/recording.js';
import { useEmulators } from '../support/aws.js';
import { listAll, loadLookupHandler, type LookupResponse } from '../support/lookup-client.js';
import type { HttpEventInput } from '../support/http-events.js';
import {
  callUuid,
  DATASET_START_MS,
  expectedIds,
  makeDataset,
  phoneNumber,
  samePhone,
  seedRecordings,
  storedRecording,
} from '../support/recording-dataset.js';

const DAY_MS = 86_400_000;
const CALLS = 40;
const FROM_NUMBERS = 12;
const TO_NUMBERS = 8;
const STATUSES: RecordingStatus[] = ['stored', 'pending', 'failed'];

let call: (input: HttpEventInput) => Promise<LookupResponse>;
let records: RecordingRecord[];
let documents: Awaited<ReturnType<typeof useEmulators>>['documents'];
let tableName: string;

beforeAll(async () => {
  const emulators = await useEmulators();
  ({ documents, tableName } = emulators);
  records = makeDataset({
    count: 1_200,
    seed: 7,
    days: 5,
    calls: CALLS,
    fromNumbers: FROM_NUMBERS,
    toNumbers: TO_NUMBERS,
  });
  await seedRecordings(documents, tableName, records);
  call = await loadLookupHandler({
    TABLE_NAME: tableName,
    BUCKET_NAME: emulators.bucketName,
    CURSOR_SIGNING_KEY: 'integration-test-cursor-key-0123456789abcdef',
  });
});

describe('GET /recordings over 1,200 records (5 days, 40 calls, 12 + 8 numbers)', () => {
  it('lists every record exactly once, newest first, when no filter is given', async () => {
    const { ids } = await listAll(call, { limit: '100' });
    expect(ids).toEqual(expectedIds(records, () => true));
  });

  it('returns exactly the recordings of each call, in order', async () => {
    for (let i = 0; i < CALLS; i++) {
      const { ids } = await listAll(call, { call_uuid: callUuid(i), limit: '100' });
      expect(ids).toEqual(expectedIds(records, (r) => r.call_uuid === callUuid(i)));
    }
  });

  it('finds the same recordings of a number whether it is written with or without +', async () => {
    for (const [parameter, field, count] of [
      ['from_number', 'from_number', FROM_NUMBERS],
      ['to_number', 'to_number', TO_NUMBERS],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const number = phoneNumber(field === 'from_number' ? 'from' : 'to', i);
        const digits = number.replace('+', '');
        const expected = expectedIds(records, (r) => samePhone(r[field], number));
        expect(expected.length).toBeGreaterThan(50);
        expect((await listAll(call, { [parameter]: `+${digits}`, limit: '100' })).ids).toEqual(expected);
        expect((await listAll(call, { [parameter]: digits, limit: '100' })).ids).toEqual(expected);
      }
    }
  });

  it('returns exactly the records of each status', async () => {
    for (const status of STATUSES) {
      const { ids } = await listAll(call, { status, limit: '100' });
      expect(ids).toEqual(expectedIds(records, (r) => r.status === status));
    }
  });

  it('combines a status with a number or a call and still returns the exact set', async () => {
    for (const status of STATUSES) {
      const number = phoneNumber('from', 3);
      const byNumber = await listAll(call, { from_number: number, status, limit: '10' });
      expect(byNumber.ids).toEqual(
        expectedIds(records, (r) => r.status === status && samePhone(r.from_number, number)),
      );
      const byCall = await listAll(call, { call_uuid: callUuid(5), status, limit: '3' });
      expect(byCall.ids).toEqual(
        expectedIds(records, (r) => r.status === status && r.call_uuid === callUuid(5)),
      );
    }
  });

  it('restricts any listing to the since/until window, both ends inclusive', async () => {
    const since = DATASET_START_MS + DAY_MS + 3_600_000;
    const until = DATASET_START_MS + 2 * DAY_MS;
    const inWindow = (r: RecordingRecord) => listingTimeMs(r) >= since && listingTimeMs(r) <= until;
    const window = { since: new Date(since).toISOString(), until: String(until) };
    expect((await listAll(call, { ...window, limit: '50' })).ids).toEqual(expectedIds(records, inWindow));
    const number = phoneNumber('to', 2);
    expect((await listAll(call, { ...window, to_number: number, limit: '7' })).ids).toEqual(
      expectedIds(records, (r) => inWindow(r) && samePhone(r.to_number, number)),
    );
    expect((await listAll(call, { ...window, status: 'failed', limit: '5' })).ids).toEqual(
      expectedIds(records, (r) => inWindow(r) && r.status === 'failed'),
    );
  });

  it('pages through everything with a small limit without duplicates or losses', async () => {
    const { ids, pages } = await listAll(call, { limit: '7' });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expectedIds(records, () => true));
    expect(pages).toBe(Math.ceil(records.length / 7));
  });

  it('hands out no cursor on the last page', async () => {
    const expected = expectedIds(records, (r) => r.call_uuid === callUuid(1));
    const response = await call({
      path: '/recordings',
      query: { call_uuid: callUuid(1), limit: String(expected.length) },
    });
    expect(response.body.items).toHaveLength(expected.length);
    expect(response.body.next_cursor).toBeNull();
  });
});

// Runs last in this file: it adds records to the shared table.
describe('paging while new records are written', () => {
  it('returns every record that existed once, and records written below the cursor too', async () => {
    const prefix = 'live';
    const before = expectedIds(records, () => true);
    const written: { id: string; key: string }[] = [];
    let position: string | undefined;
    let round = 0;
    const extra: RecordingRecord[] = [];
    const belowCursor = new Map<string, boolean>();
    const { ids } = await listAll(call, { limit: '25' }, async (page) => {
      const last = page.ids.at(-1);
      if (last) {
        const record = [...records, ...extra].find((r) => r.recording_id === last)!;
        position = timeSortKey(listingTimeMs(record), record.recording_id);
      }
      if (!page.cursor) return;
      round++;
      // Each round: one record newer than everything, one far in the past, one in the middle of the data.
      const fresh = [
        storedRecording({
          recording_id: `${prefix}-new-${round}`,
          add_time_ms: DATASET_START_MS + 30 * DAY_MS + round,
        }),
        storedRecording({
          recording_id: `${prefix}-old-${round}`,
          add_time_ms: DATASET_START_MS - DAY_MS - round,
        }),
        storedRecording({
          recording_id: `${prefix}-mid-${round}`,
          add_time_ms: DATASET_START_MS + 2 * DAY_MS + round * 1_000,
        }),
      ];
      extra.push(...fresh);
      for (const record of fresh)
        written.push({
          id: record.recording_id,
          key: timeSortKey(listingTimeMs(record), record.recording_id),
        });
      await seedRecordings(documents, tableName, fresh, { concurrency: 1 });
      // Those written below the position reached so far must show up later in this listing.
      for (const entry of written.slice(-3)) belowCursor.set(entry.id, entry.key < position!);
    });

    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Set(ids);
    expect(before.filter((id) => !seen.has(id))).toEqual([]);
    const mustAppear = [...belowCursor].filter(([, below]) => below).map(([id]) => id);
    expect(mustAppear.length).toBeGreaterThan(round);
    expect(mustAppear.filter((id) => !seen.has(id))).toEqual([]);
    // Newer than where the listing already was: documented as not part of this listing.
    expect(ids.filter((id) => id.startsWith(`${prefix}-new-`))).toEqual([]);
  });
});
