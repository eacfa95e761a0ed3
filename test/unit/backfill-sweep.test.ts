import { describe, expect, it } from 'vitest';
import { IntegrityError, TransientError, VobizAuthError } from '../../functions/shared/domain/errors.js';
import type { RecordingStatus, VobizRecording } from '../../functions/shared/domain/recording.js';
import type { RecordingListPage } from '../../functions/shared/domain/vobiz-list.js';
import { makeBackfillSweep, type SweepDependencies } from '../../functions/shared/recovery/backfill-sweep.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const MINUTE = 60_000;

function recording(id: string, addTimeMs: number): VobizRecording {
  return {
    recording_id: id,
    api_id: '',
    add_time: new Date(addTimeMs).toISOString(),
    add_time_ms: addTimeMs,
    call_uuid: `call-${id}`,
    conference_name: null,
    from_number: '+911',
    to_number: '912',
    monthly_recording_storage_amount: 0,
    recording_duration_ms: 1000,
    recording_start_ms: null,
    recording_end_ms: null,
    recording_format: 'mp3',
    recording_storage_duration: 0,
    recording_storage_rate: 0,
    recording_type: 'call',
    recording_url: `https://media.vobiz.ai/${id}.mp3`,
    resource_uri: '',
    rounded_recording_duration: 60,
    unparsed_fields: null,
  };
}

/** A Vobiz account whose recordings are one minute apart, newest first, listed with offset paging. */
function account(count: number, options: { stepMs?: number; newestMs?: number } = {}) {
  const step = options.stepMs ?? MINUTE;
  const all = Array.from({ length: count }, (_, i) =>
    recording(`rec-${String(i).padStart(4, '0')}`, (options.newestMs ?? NOW) - i * step),
  );
  const calls: { limit: number; offset: number }[] = [];
  const lister = {
    all,
    calls,
    failures: [] as Error[],
    listRecordings({ limit, offset }: { limit: number; offset: number }): Promise<RecordingListPage> {
      calls.push({ limit, offset });
      const failure = lister.failures.shift();
      if (failure) return Promise.reject(failure);
      const page = all.slice(offset, offset + limit);
      return Promise.resolve({
        recordings: page,
        malformed: [],
        entries: page.length,
        hasMore: offset + limit < all.length,
        totalCount: all.length,
      });
    },
  };
  return lister;
}

function sweepWith(
  vobiz: SweepDependencies['vobiz'],
  known: Record<string, RecordingStatus> = {},
  extra: Partial<SweepDependencies> = {},
) {
  const enqueued: string[] = [];
  const sleeps: number[] = [];
  const sweep = makeBackfillSweep({
    vobiz,
    known: {
      statuses: (ids) =>
        Promise.resolve(new Map(ids.filter((id) => known[id]).map((id) => [id, known[id]!]))),
    },
    enqueue: (id) => {
      enqueued.push(id);
      return Promise.resolve('accepted');
    },
    clock: { nowMs: () => NOW },
    pageSize: 10,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...extra,
  });
  return { sweep, enqueued, sleeps };
}

describe('backfill sweep: paging and the stop condition', () => {
  it('stops at the first page whose oldest recording is older than the window', async () => {
    const vobiz = account(100); // one recording per minute, newest first
    const { sweep, enqueued } = sweepWith(vobiz);
    const summary = await sweep({ sinceMs: NOW - 25 * MINUTE });
    // rec-0000 … rec-0025 are in the window (26 recordings): pages 1–3, and page 3 reaches past it.
    expect(vobiz.calls.map((c) => c.offset)).toEqual([0, 10, 20]);
    expect(summary).toMatchObject({ pages: 3, found: 26, enqueued: 26, stoppedBy: 'window' });
    expect(enqueued).toHaveLength(26);
    expect(enqueued.at(-1)).toBe('rec-0025');
  });

  it('reads to the end of the list when everything is in the window', async () => {
    const vobiz = account(23);
    const { sweep } = sweepWith(vobiz);
    const summary = await sweep({ sinceMs: NOW - 24 * 60 * MINUTE });
    expect(vobiz.calls.map((c) => c.offset)).toEqual([0, 10, 20]);
    expect(summary).toMatchObject({ pages: 3, found: 23, stoppedBy: 'end' });
  });

  it('an empty account is one page and nothing to do', async () => {
    const { sweep } = sweepWith(account(0));
    expect(await sweep({ sinceMs: 0 })).toMatchObject({ pages: 1, found: 0, enqueued: 0, stoppedBy: 'end' });
  });

  it('skips recordings newer than --until but keeps paging to reach the window', async () => {
    const vobiz = account(50);
    const { sweep, enqueued } = sweepWith(vobiz);
    const summary = await sweep({ sinceMs: NOW - 34 * MINUTE, untilMs: NOW - 30 * MINUTE });
    expect(enqueued).toEqual(['rec-0030', 'rec-0031', 'rec-0032', 'rec-0033', 'rec-0034']);
    expect(summary).toMatchObject({ found: 5, stoppedBy: 'window', pages: 4 });
  });

  it('counts what exists by status and enqueues only the unknown ones', async () => {
    const vobiz = account(6);
    const { sweep, enqueued } = sweepWith(vobiz, {
      'rec-0000': 'stored',
      'rec-0001': 'pending',
      'rec-0002': 'failed',
    });
    const summary = await sweep({ sinceMs: 0 });
    expect(summary).toMatchObject({
      found: 6,
      enqueued: 3,
      alreadyArchived: 1,
      alreadyQueued: 1,
      alreadyFailed: 1,
    });
    expect(enqueued).toEqual(['rec-0003', 'rec-0004', 'rec-0005']);
  });

  it('never enqueues an expired, erased or half-removed recording: they are known', async () => {
    const { sweep, enqueued } = sweepWith(account(5), {
      'rec-0000': 'expired',
      'rec-0001': 'erased',
      'rec-0002': 'erasing',
      'rec-0003': 'expiring',
    });
    const summary = await sweep({ sinceMs: 0 });
    expect(summary).toMatchObject({ found: 5, enqueued: 1, alreadyRemoved: 4 });
    expect(enqueued).toEqual(['rec-0004']);
  });

  it('a dry run counts the new ones and writes nothing', async () => {
    const { sweep, enqueued } = sweepWith(account(4), { 'rec-0000': 'stored' });
    const summary = await sweep({ sinceMs: 0, dryRun: true });
    expect(summary).toMatchObject({ found: 4, enqueued: 3, alreadyArchived: 1 });
    expect(summary.enqueuedIds).toEqual(['rec-0001', 'rec-0002', 'rec-0003']);
    expect(enqueued).toEqual([]);
  });

  it('counts an entry once when new recordings shift the list between two pages', async () => {
    const vobiz = account(15);
    const { sweep } = sweepWith(vobiz);
    const original = vobiz.listRecordings.bind(vobiz);
    vobiz.listRecordings = async (options) => {
      // Two recordings arrive after the first page was read: page 2 starts with two entries already seen.
      if (options.offset === 10) vobiz.all.unshift(recording('new-1', NOW + 1), recording('new-2', NOW + 2));
      return original(options);
    };
    const summary = await sweep({ sinceMs: 0 });
    expect(summary.found).toBe(15);
  });

  it('stops after maxPages, and when aborted', async () => {
    const { sweep } = sweepWith(account(100));
    expect(await sweep({ sinceMs: 0, maxPages: 2 })).toMatchObject({ pages: 2, stoppedBy: 'max_pages' });
    const controller = new AbortController();
    const summary = await sweep({
      sinceMs: 0,
      signal: controller.signal,
      onPage: (s) => (s.pages === 3 ? controller.abort() : undefined),
    });
    expect(summary).toMatchObject({ pages: 3, stoppedBy: 'aborted' });
  });

  /** One page: two good entries and four that did not parse. */
  function pageWithMalformed(): SweepDependencies['vobiz'] {
    const malformed: RecordingListPage['malformed'] = [
      { recordingId: 'no-time', addTimeMs: undefined, label: 'no-time', error: 'add_time: unrecognised' },
      { recordingId: 'no-url-in', addTimeMs: NOW - MINUTE, label: 'no-url-in', error: 'recording_url' },
      {
        recordingId: 'no-url-old',
        addTimeMs: NOW - 20 * MINUTE,
        label: 'no-url-old',
        error: 'recording_url',
      },
      {
        recordingId: undefined,
        addTimeMs: NOW,
        label: '???x',
        error: 'recording_id: has an unexpected format',
      },
    ];
    return {
      listRecordings: () =>
        Promise.resolve<RecordingListPage>({
          recordings: [recording('a', NOW), recording('b', NOW - 10 * MINUTE)],
          malformed,
          entries: 6,
          hasMore: true,
          totalCount: undefined,
        }),
    };
  }

  it('enqueues entries that did not parse by their id (the archive reads their metadata), and reports those without one', async () => {
    const { sweep, enqueued } = sweepWith(pageWithMalformed());
    const summary = await sweep({ sinceMs: NOW - 5 * MINUTE });
    // In the window by add_time, or with an add_time that cannot be read (it cannot be placed, so it is kept).
    expect(enqueued).toEqual(['a', 'no-time', 'no-url-in']);
    expect(summary).toMatchObject({
      pages: 1,
      found: 3,
      enqueued: 3,
      enqueuedUnparsed: 2,
      malformed: 4,
      unidentified: 1,
      unidentifiedIds: ['???x'],
      stoppedBy: 'window',
    });
    expect(summary.enqueuedIds).toEqual(['a', 'no-time', 'no-url-in']);
  });

  it('does not enqueue an entry that did not parse again once it has a record, and counts it in a dry run', async () => {
    const known = sweepWith(pageWithMalformed(), { 'no-time': 'pending', 'no-url-in': 'stored' });
    expect(await known.sweep({ sinceMs: NOW - 5 * MINUTE })).toMatchObject({
      enqueued: 1,
      enqueuedUnparsed: 0,
      alreadyQueued: 1,
      alreadyArchived: 1,
    });
    const dry = sweepWith(pageWithMalformed());
    expect(await dry.sweep({ sinceMs: NOW - 5 * MINUTE, dryRun: true })).toMatchObject({
      enqueued: 3,
      enqueuedUnparsed: 2,
    });
    expect(dry.enqueued).toEqual([]);
  });

  it('places entries that did not parse by their add_time for the stop condition too', async () => {
    let calls = 0;
    const vobiz = {
      listRecordings: () => {
        calls++;
        return Promise.resolve<RecordingListPage>({
          recordings: [recording(`good-${calls}`, NOW - calls * MINUTE)],
          malformed: [
            {
              recordingId: `bad-${calls}`,
              addTimeMs: NOW - 30 * MINUTE,
              label: `bad-${calls}`,
              error: 'recording_url',
            },
          ],
          entries: 2,
          hasMore: true,
          totalCount: undefined,
        });
      },
    };
    const summary = await sweepWith(vobiz).sweep({ sinceMs: NOW - 10 * MINUTE, maxPages: 5 });
    expect(summary).toMatchObject({ pages: 1, stoppedBy: 'window', oldestSeenMs: NOW - 30 * MINUTE });
  });

  it('a failed enqueue is counted and the sweep goes on', async () => {
    const { sweep } = sweepWith(
      account(3),
      {},
      { enqueue: (id) => (id === 'rec-0001' ? Promise.reject(new Error('throttled')) : Promise.resolve()) },
    );
    expect(await sweep({ sinceMs: 0 })).toMatchObject({ found: 3, enqueued: 2, errors: 1, stoppedBy: 'end' });
  });
});

describe('backfill sweep: Vobiz rate limits and outages', () => {
  it('429 after the client gave up: waits the Retry-After and tries the page again', async () => {
    const vobiz = account(5);
    vobiz.failures.push(new TransientError('Vobiz API answered HTTP 429', { retryAfterMs: 7_000 }));
    const { sweep, sleeps } = sweepWith(vobiz);
    const summary = await sweep({ sinceMs: 0 });
    expect(sleeps).toEqual([7_000]);
    expect(vobiz.calls.map((c) => c.offset)).toEqual([0, 0]);
    expect(summary).toMatchObject({ found: 5, stoppedBy: 'end' });
  });

  it('without Retry-After: exponential backoff; after the last attempt the sweep stops with the error (nothing lost: the next sweep repeats it)', async () => {
    const vobiz = account(5);
    vobiz.failures.push(
      new TransientError('HTTP 503'),
      new TransientError('HTTP 503'),
      new TransientError('HTTP 503'),
    );
    const { sweep, sleeps, enqueued } = sweepWith(
      vobiz,
      {},
      { pageBackoffMs: { baseMs: 1_000, maxMs: 60_000 } },
    );
    const summary = await sweep({ sinceMs: 0 });
    expect(sleeps).toEqual([750, 1_500]);
    expect(summary).toMatchObject({
      pages: 0,
      stoppedBy: 'error',
      error: expect.stringContaining('HTTP 503'),
    });
    expect(enqueued).toEqual([]);
  });

  it('does not retry what cannot get better: bad credentials, a body of the wrong shape', async () => {
    for (const error of [
      new VobizAuthError('refused', 'api-1'),
      new IntegrityError('neither objects[] nor recordings[]'),
    ]) {
      const vobiz = account(5);
      vobiz.failures.push(error);
      const { sweep, sleeps } = sweepWith(vobiz);
      expect(await sweep({ sinceMs: 0 })).toMatchObject({ stoppedBy: 'error' });
      expect(sleeps).toEqual([]);
      expect(vobiz.calls).toHaveLength(1);
    }
  });
});
