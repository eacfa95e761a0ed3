import { describe, expect, it } from 'vitest';
import { parseRecordingListPage } from '../../functions/shared/domain/vobiz-list.js';

const entry = (id: string, addTime = '2026-01-10 12:00:00.123456+05:30') => ({
  add_time: addTime,
  api_id: 'a',
  call_uuid: 'c',
  conference_name: null,
  from_number: '+918071387423',
  monthly_recording_storage_amount: 0,
  recording_duration_ms: '10080.00000',
  recording_end_ms: null,
  recording_format: 'mp3',
  recording_id: id,
  recording_start_ms: null,
  recording_storage_duration: 1,
  recording_storage_rate: 0.005,
  recording_type: 'call',
  recording_url: `https://media.vobiz.ai/${id}.mp3`,
  resource_uri: '',
  rounded_recording_duration: 60,
  to_number: '919624705678',
});

const request = { limit: 2, offset: 0 };

describe('List All Recordings page parsing', () => {
  it('reads the documented shape: meta + objects, typed like Retrieve Recording', () => {
    const page = parseRecordingListPage(
      {
        api_id: 'x',
        meta: { limit: 2, offset: 0, next: '/v1/…?offset=2', previous: null, total_count: 3 },
        objects: [entry('r1'), entry('r2')],
      },
      request,
    );
    expect(page).toMatchObject({ entries: 2, hasMore: true, totalCount: 3, malformed: [] });
    expect(page!.recordings.map((r) => r.recording_id)).toEqual(['r1', 'r2']);
    expect(page!.recordings[0]).toMatchObject({
      add_time: '2026-01-10T06:30:00.123Z',
      recording_duration_ms: 10080,
    });
  });

  it('accepts the older `recordings[]` shape', () => {
    const page = parseRecordingListPage({ recordings: [entry('r1')] }, request);
    expect(page).toMatchObject({ entries: 1, hasMore: false });
    expect(page!.recordings).toHaveLength(1);
  });

  it('decides whether there is more from meta.next, else total_count, else a full page', () => {
    expect(
      parseRecordingListPage(
        { meta: { next: null, total_count: 100 }, objects: [entry('a'), entry('b')] },
        request,
      )!.hasMore,
    ).toBe(false);
    expect(
      parseRecordingListPage({ meta: { total_count: 3 }, objects: [entry('a'), entry('b')] }, request)!
        .hasMore,
    ).toBe(true);
    expect(
      parseRecordingListPage({ meta: { total_count: 2 }, objects: [entry('a'), entry('b')] }, request)!
        .hasMore,
    ).toBe(false);
    expect(parseRecordingListPage({ objects: [entry('a'), entry('b')] }, request)!.hasMore).toBe(true);
    expect(parseRecordingListPage({ objects: [entry('a')] }, request)!.hasMore).toBe(false);
    expect(parseRecordingListPage({ meta: { next: '/more' }, objects: [] }, request)!.hasMore).toBe(false);
  });

  it('reports a malformed entry with its valid id and readable add_time, and keeps the others', () => {
    const page = parseRecordingListPage(
      {
        objects: [
          entry('good'),
          entry('bad-time', 'yesterday'),
          { ...entry('no-url'), recording_url: '' },
          { recording_id: '../x' },
          { recording_id: 'a'.repeat(200) },
          { recording_id: 42 },
          'junk',
          null,
        ],
      },
      { limit: 10, offset: 0 },
    );
    expect(page!.recordings.map((r) => r.recording_id)).toEqual(['good']);
    expect(page!.entries).toBe(8);
    expect(page!.malformed).toEqual([
      {
        recordingId: 'bad-time',
        addTimeMs: undefined,
        label: 'bad-time',
        error: expect.stringContaining('add_time'),
      },
      {
        recordingId: 'no-url',
        addTimeMs: Date.UTC(2026, 0, 10, 6, 30, 0, 123),
        label: 'no-url',
        error: expect.stringContaining('recording_url'),
      },
      // Ids that cannot be used are only ever logged: sanitised and truncated.
      { recordingId: undefined, addTimeMs: undefined, label: '???x', error: expect.any(String) },
      {
        recordingId: undefined,
        addTimeMs: undefined,
        label: `${'a'.repeat(64)}…`,
        error: expect.any(String),
      },
      { recordingId: undefined, addTimeMs: undefined, label: '(no recording_id)', error: expect.any(String) },
      { recordingId: undefined, addTimeMs: undefined, label: '(not an object)', error: expect.any(String) },
      { recordingId: undefined, addTimeMs: undefined, label: '(not an object)', error: expect.any(String) },
    ]);
  });

  it('returns undefined for bodies with no list at all', () => {
    for (const body of [
      undefined,
      null,
      'text',
      [entry('a')],
      { objects: 'no' },
      { api_id: 'x', error: 'oops' },
    ]) {
      expect(parseRecordingListPage(body, request)).toBeUndefined();
    }
  });
});
