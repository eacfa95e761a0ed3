import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeAcceptNotification } from '../../functions/shared/ingest/accept-notification.js';
import { makeArchiveRecording } from '../../functions/shared/ingest/archive-recording.js';
import {
  IntegrityError,
  RecordingNotAvailableError,
  TransientError,
  VobizAuthError,
} from '../../functions/shared/domain/errors.js';
import { DEFAULT_RETRY_POLICY } from '../../functions/shared/domain/retry-policy.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';
import { systemClock, type MediaDownload, type MediaSource } from '../../functions/shared/ingest/ports.js';
import {
  InMemoryArchive,
  InMemoryRecordings,
  StubMedia,
  StubVobiz,
  vobizRecording,
} from '../support/in-memory.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const AUDIO = Buffer.from('ID3 fake audio bytes '.repeat(100));

describe('archive recording use case', () => {
  let now: number;
  let recordings: InMemoryRecordings;
  let vobiz: StubVobiz;
  let media: StubMedia;
  let archive: InMemoryArchive;
  let owners: number;

  const clock = { nowMs: () => now };
  const build = (overrides: Partial<Parameters<typeof makeArchiveRecording>[0]> = {}) =>
    makeArchiveRecording({
      recordings,
      vobiz,
      media,
      archive,
      clock,
      accountId: 'MA_1',
      retryPolicy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 },
      newLeaseOwner: () => `owner-${++owners}`,
      random: () => 0.5,
      ...overrides,
    });
  const accept = (id: string) =>
    makeAcceptNotification({
      recordings,
      clock,
      accountId: 'MA_1',
      nonceTtlSeconds: 3600,
      firstDueAfterMs: 120_000,
    })(id, []);

  beforeEach(() => {
    now = T0;
    owners = 0;
    recordings = new InMemoryRecordings();
    vobiz = new StubVobiz((id) => vobizRecording({ recording_id: id }));
    media = new StubMedia(() => ({ bytes: AUDIO }));
    archive = new InMemoryArchive();
  });

  it('stores metadata and audio, and marks the record stored without lease or retry fields', async () => {
    await accept('rec-1');
    const result = await build()('rec-1');
    expect(result.outcome).toBe('stored');
    const record = recordings.records.get('rec-1')!;
    expect(record).toMatchObject({
      status: 'stored',
      attempts: 1,
      call_uuid: 'call-1',
      s3_key: 'recordings/MA_1/2025/11/06/rec-1.mp3',
      size_bytes: AUDIO.length,
      sha256: createHash('sha256').update(AUDIO).digest('hex'),
      content_type: 'audio/mpeg',
    });
    expect(record.lease_owner).toBeUndefined();
    expect(record.next_attempt_at).toBeUndefined();
    expect(archive.objects.get('recordings/MA_1/2025/11/06/rec-1.mp3')?.bytes.equals(AUDIO)).toBe(true);
    expect(media.opened).toEqual(['https://media.vobiz.ai/rec-1.mp3']);
  });

  it('stores a format it does not know under its own extension, as application/octet-stream, with the unparsed fields', async () => {
    vobiz.respond = (id) =>
      vobizRecording({
        recording_id: id,
        recording_format: 'ogg',
        call_uuid: null,
        recording_duration_ms: null,
        unparsed_fields: { recording_duration_ms: 'ten seconds' },
      });
    await accept('rec-1');
    expect((await build()('rec-1')).outcome).toBe('stored');
    expect(recordings.records.get('rec-1')).toMatchObject({
      status: 'stored',
      s3_key: 'recordings/MA_1/2025/11/06/rec-1.ogg',
      content_type: 'application/octet-stream',
      call_uuid: null,
      unparsed_fields: { recording_duration_ms: 'ten seconds' },
    });
    expect(archive.objects.get('recordings/MA_1/2025/11/06/rec-1.ogg')?.contentType).toBe(
      'application/octet-stream',
    );
  });

  it('answers stored without work when the record is already stored, and missing when there is none', async () => {
    await accept('rec-1');
    await build()('rec-1');
    const again = await build()('rec-1');
    expect(again).toMatchObject({ outcome: 'stored', alreadyStored: true });
    // The Retrieve call overlaps the claim, so it is made (and dropped); nothing is downloaded or written.
    expect(media.opened).toHaveLength(1);
    expect(recordings.records.get('rec-1')!.attempts).toBe(1);
    expect(await build()('nope')).toEqual({ outcome: 'missing' });
  });

  it('reports busy while another worker holds an unexpired lease, and takes over after it expires', async () => {
    await accept('rec-1');
    await recordings.claim({ recordingId: 'rec-1', owner: 'crashed', nowMs: now, leaseMs: 60_000 });
    expect((await build()('rec-1')).outcome).toBe('busy');
    now += 60_001;
    expect((await build()('rec-1')).outcome).toBe('stored');
  });

  it.each([
    ['Vobiz 404', new RecordingNotAvailableError('not found', 'api-9'), /^not_available/],
    ['Vobiz 5xx', new TransientError('HTTP 503'), /HTTP 503/],
    ['credentials refused', new VobizAuthError('refused', undefined), /^vobiz_auth/],
    ['schema mismatch', new IntegrityError('bad body'), /bad body/],
  ])(
    'a failure (%s) leaves the record pending with a due time and the error',
    async (_name, error, pattern) => {
      vobiz.respond = () => error;
      await accept('rec-1');
      const result = await build()('rec-1');
      expect(result.outcome).toBe('pending');
      const record = recordings.records.get('rec-1')!;
      expect(record.status).toBe('pending');
      expect(record.last_error).toMatch(pattern);
      expect(record.lease_owner).toBeUndefined();
      expect(Date.parse(record.next_attempt_at!)).toBeGreaterThan(now);
      expect(archive.objects.size).toBe(0);
    },
  );

  it('waits at least Retry-After style hints (auth errors back off 15 minutes, not a hot loop)', async () => {
    vobiz.respond = () => new VobizAuthError('refused', undefined);
    await accept('rec-1');
    await build()('rec-1');
    const due = Date.parse(recordings.records.get('rec-1')!.next_attempt_at!);
    expect(due - now).toBeGreaterThanOrEqual(15 * 60_000);
  });

  it('a short download is never stored', async () => {
    media.respond = () => ({ bytes: AUDIO.subarray(0, 100), contentLength: AUDIO.length });
    await accept('rec-1');
    const result = await build()('rec-1');
    expect(result.outcome).toBe('pending');
    expect(recordings.records.get('rec-1')!.last_error).toMatch(/truncated/);
    expect(archive.objects.size).toBe(0);
  });

  it('marks the record failed after the last allowed attempt', async () => {
    vobiz.respond = () => new TransientError('down');
    await accept('rec-1');
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push((await build()('rec-1')).outcome);
      now += 24 * 3600_000;
    }
    expect(outcomes).toEqual(['pending', 'pending', 'failed']);
    const record = recordings.records.get('rec-1')!;
    expect(record).toMatchObject({ status: 'failed', attempts: 3 });
    expect(record.next_attempt_at).toBeUndefined();
  });

  it('a worker that lost its lease does not overwrite the new owner, and completes no upload', async () => {
    await accept('rec-1');
    const result = await build({
      afterStep: async (step) => {
        if (step === 'retrieved') {
          // The lease expires and another worker claims the record meanwhile.
          now += 120_000;
          await recordings.claim({ recordingId: 'rec-1', owner: 'other', nowMs: now, leaseMs: 60_000 });
        }
      },
    })('rec-1');
    expect(result.outcome).toBe('busy');
    expect(recordings.records.get('rec-1')!.lease_owner).toBe('other');
    expect(recordings.records.get('rec-1')!.status).toBe('pending');
    // The lease is proved right before the upload completes: lost, so no object appears.
    expect(archive.objects.size).toBe(0);
  });

  it('records the S3 key it uploads to before the first byte is sent', async () => {
    await accept('rec-1');
    let atOpen: RecordingRecord | undefined;
    media = new StubMedia(() => {
      atOpen = structuredClone(recordings.records.get('rec-1'));
      return { bytes: AUDIO };
    });
    expect((await build()('rec-1')).outcome).toBe('stored');
    expect(atOpen).toMatchObject({
      status: 'pending',
      s3_upload_key: 'recordings/MA_1/2025/11/06/rec-1.mp3',
    });
    // Nothing of the metadata is on the record yet: the key is all an erasure could derive it from.
    expect(atOpen?.add_time_ms).toBeUndefined();
    expect(recordings.records.get('rec-1')).not.toHaveProperty('s3_upload_key');
    expect(recordings.records.get('rec-1')!.s3_key).toBe('recordings/MA_1/2025/11/06/rec-1.mp3');
  });

  it('a lease that cannot be proved right before completing (the table unreachable) stores nothing', async () => {
    await accept('rec-1');
    const result = await build({
      afterStep: (step) => {
        if (step === 'completing') recordings.renewFailure = new Error('DynamoDB unreachable');
      },
    })('rec-1');
    recordings.renewFailure = undefined;
    expect(result.outcome).toBe('pending');
    expect(archive.objects.size).toBe(0);
    expect(recordings.records.get('rec-1')!.last_error).toMatch(/lease could not be confirmed/);
  });
});

describe('accept notification use case', () => {
  const T = { nowMs: () => T0 };
  const make = (recordings: InMemoryRecordings) =>
    makeAcceptNotification({
      recordings,
      clock: T,
      accountId: 'MA_1',
      nonceTtlSeconds: 3600,
      firstDueAfterMs: 120_000,
    });

  it('creates a pending record once and never resets an existing one', async () => {
    const recordings = new InMemoryRecordings();
    const accept = make(recordings);
    expect(await accept('rec-1', ['n1', 'n2'])).toEqual({ kind: 'recorded', status: 'pending' });
    expect(recordings.records.get('rec-1')).toMatchObject({
      status: 'pending',
      attempts: 0,
      account_id: 'MA_1',
      next_attempt_at: new Date(T0 + 120_000).toISOString(),
    });
    recordings.records.set('rec-1', { ...recordings.records.get('rec-1')!, status: 'stored' });
    expect(await accept('rec-1', ['n3'])).toEqual({ kind: 'known', status: 'stored', retry: false });
    expect(recordings.records.get('rec-1')!.status).toBe('stored');
  });

  it('the same nonce for the same recording is a retry; for another recording it is a replay', async () => {
    const recordings = new InMemoryRecordings();
    const accept = make(recordings);
    await accept('rec-1', ['n1']);
    expect(await accept('rec-1', ['n1'])).toEqual({ kind: 'known', status: 'pending', retry: true });
    expect(await accept('rec-2', ['n1'])).toEqual({ kind: 'replayed' });
    expect(recordings.records.has('rec-2')).toBe(false);
  });
});

describe('archive recording: round trips', () => {
  it('starts the Retrieve call while the lease is being taken, and writes the record four times in all', async () => {
    const recordings = new InMemoryRecordings();
    await makeAcceptNotification({
      recordings,
      clock: { nowMs: () => T0 },
      accountId: 'MA_1',
      nonceTtlSeconds: 60,
      firstDueAfterMs: 0,
    })('rec-1', []);
    const events: string[] = [];
    const claim = recordings.claim.bind(recordings);
    recordings.claim = async (input) => {
      events.push('claim started');
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push('claim done');
      return claim(input);
    };
    const replace = recordings.replaceLeased.bind(recordings);
    recordings.replaceLeased = (record, owner) => {
      events.push(`write ${record.status}`);
      return replace(record, owner);
    };
    const renew = recordings.renewLease.bind(recordings);
    recordings.renewLease = (input) => {
      events.push(input.uploadKey ? 'renew with the upload key' : 'renew');
      return renew(input);
    };
    const vobiz = new StubVobiz((id) => {
      events.push('retrieve');
      return vobizRecording({ recording_id: id });
    });
    const result = await makeArchiveRecording({
      recordings,
      vobiz,
      media: new StubMedia(() => ({ bytes: AUDIO })),
      archive: new InMemoryArchive(),
      clock: { nowMs: () => T0 },
      accountId: 'MA_1',
      retryPolicy: DEFAULT_RETRY_POLICY,
      newLeaseOwner: () => 'o1',
    })('rec-1');
    expect(result.outcome).toBe('stored');
    // Two conditional writes besides claim and store: the key before the upload, the lease before completing.
    expect(events).toEqual([
      'retrieve',
      'claim started',
      'claim done',
      'renew with the upload key',
      'renew',
      'write stored',
    ]);
    // The metadata arrives with the final write: one record, both halves.
    expect(recordings.records.get('rec-1')).toMatchObject({ status: 'stored', call_uuid: 'call-1' });
  });

  it("a Retrieve that fails while the lease is someone else's is dropped quietly", async () => {
    const recordings = new InMemoryRecordings();
    await makeAcceptNotification({
      recordings,
      clock: { nowMs: () => T0 },
      accountId: 'MA_1',
      nonceTtlSeconds: 60,
      firstDueAfterMs: 0,
    })('rec-9', []);
    await recordings.claim({ recordingId: 'rec-9', owner: 'other', nowMs: T0, leaseMs: 60_000 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const result = await makeArchiveRecording({
        recordings,
        vobiz: new StubVobiz(() => new TransientError('Vobiz down')),
        media: new StubMedia(() => ({ bytes: AUDIO })),
        archive: new InMemoryArchive(),
        clock: { nowMs: () => T0 },
        accountId: 'MA_1',
        retryPolicy: DEFAULT_RETRY_POLICY,
        newLeaseOwner: () => 'o1',
      })('rec-9');
      expect(result.outcome).toBe('busy');
      expect(recordings.records.get('rec-9')!.lease_owner).toBe('other');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/** Audio that arrives in `chunks` pieces, `delayMs` apart (or stops after `stallAfter` pieces). */
class SlowMedia implements MediaSource {
  yielded = 0;
  constructor(
    private readonly chunks: number,
    private readonly delayMs: number,
    private readonly stallAfter = Infinity,
  ) {}
  open(_url: string, options: { signal?: AbortSignal } = {}): Promise<MediaDownload> {
    const { chunks, delayMs, stallAfter } = this;
    const counted = () => this.yielded++;
    async function* body() {
      for (let i = 0; i < chunks; i++) {
        await sleep(i < stallAfter ? delayMs : 3_600_000, undefined, { signal: options.signal });
        counted();
        yield AUDIO;
      }
    }
    return Promise.resolve({
      body: Readable.from(body()),
      contentLength: AUDIO.length * chunks,
      contentType: 'audio/mpeg',
    });
  }
}

describe('archive recording: a short lease, renewed while the transfer progresses', () => {
  const LEASE_MS = 300;
  let recordings: InMemoryRecordings;
  let archive: InMemoryArchive;

  beforeEach(async () => {
    recordings = new InMemoryRecordings();
    archive = new InMemoryArchive();
    await makeAcceptNotification({
      recordings,
      clock: systemClock,
      accountId: 'MA_1',
      nonceTtlSeconds: 60,
      firstDueAfterMs: 0,
    })('rec-1', []);
  });

  const run = (media: MediaSource) =>
    makeArchiveRecording({
      recordings,
      vobiz: new StubVobiz((id) => vobizRecording({ recording_id: id })),
      media,
      archive,
      clock: systemClock,
      accountId: 'MA_1',
      retryPolicy: DEFAULT_RETRY_POLICY,
      newLeaseOwner: () => 'me',
      leaseMs: LEASE_MS,
      renewEveryMs: 50,
    })('rec-1');

  it('a transfer longer than the lease finishes: the lease (and the due time) moved with it', async () => {
    const result = await run(new SlowMedia(20, 50)); // about 1 s, three leases
    expect(result.outcome).toBe('stored');
    expect(recordings.renewals.length).toBeGreaterThanOrEqual(5);
    expect(recordings.renewals.every((r) => r.owner === 'me')).toBe(true);
  });

  it('a lease taken over mid-transfer stops the transfer, writes nothing and stores nothing', async () => {
    const media = new SlowMedia(40, 50);
    const running = run(media);
    await sleep(200);
    // Another worker took the record (e.g. this one was thought dead).
    const current = recordings.records.get('rec-1')!;
    recordings.records.set('rec-1', { ...current, lease_owner: 'other' });
    const result = await running;
    expect(result.outcome).toBe('busy');
    expect(media.yielded).toBeLessThan(40); // the transfer was stopped, not run to its end
    expect(recordings.records.get('rec-1')).toMatchObject({ lease_owner: 'other', status: 'pending' });
    expect(archive.objects.size).toBe(0);
  });

  it('a transfer that stalls for a whole lease is aborted and released with its reason', async () => {
    const result = await run(new SlowMedia(10, 20, 3));
    expect(result.outcome).toBe('pending');
    const record = recordings.records.get('rec-1')!;
    expect(record.last_error).toMatch(/stalled/);
    expect(record.lease_owner).toBeUndefined();
    expect(archive.objects.size).toBe(0);
  });

  it('a renewal still unanswered when the lease is about to end stops the transfer', async () => {
    // The first renewal (with the upload key) answers; the next ones hang for longer than the lease.
    recordings.slowRenewals = { fromCall: 1, delayMs: 1_500 };
    const media = new SlowMedia(20, 50); // about 1 s, more than three leases
    const result = await run(media);
    expect(result.outcome).toBe('pending');
    expect(media.yielded).toBeLessThan(20);
    expect(recordings.records.get('rec-1')!.last_error).toMatch(
      /renewal did not answer before the lease ran out/,
    );
    expect(archive.objects.size).toBe(0);
  });

  it('a lease that cannot be renewed before it runs out stops the transfer', async () => {
    // The upload key is recorded; every renewal after that fails.
    const renew = recordings.renewLease.bind(recordings);
    recordings.renewLease = async (input) => {
      await renew(input);
      recordings.renewFailure = new Error('DynamoDB unreachable');
    };
    const result = await run(new SlowMedia(40, 50));
    expect(result.outcome).toBe('pending');
    expect(recordings.records.get('rec-1')!.last_error).toMatch(/lease could not be renewed/);
    expect(archive.objects.size).toBe(0);
  });
});
