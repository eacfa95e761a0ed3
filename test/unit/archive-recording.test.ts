import { createHash } from 'node:crypto';
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
    const result = await build()('rec-1', { leaseMs: 60_000 });
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
    expect((await build()('rec-1', { leaseMs: 60_000 })).outcome).toBe('stored');
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
    await build()('rec-1', { leaseMs: 60_000 });
    const again = await build()('rec-1', { leaseMs: 60_000 });
    expect(again).toMatchObject({ outcome: 'stored', alreadyStored: true });
    expect(vobiz.calls).toBe(1);
    expect(await build()('nope', { leaseMs: 60_000 })).toEqual({ outcome: 'missing' });
  });

  it('reports busy while another worker holds an unexpired lease, and takes over after it expires', async () => {
    await accept('rec-1');
    await recordings.claim({ recordingId: 'rec-1', owner: 'crashed', nowMs: now, leaseMs: 60_000 });
    expect((await build()('rec-1', { leaseMs: 60_000 })).outcome).toBe('busy');
    now += 60_001;
    expect((await build()('rec-1', { leaseMs: 60_000 })).outcome).toBe('stored');
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
      const result = await build()('rec-1', { leaseMs: 60_000 });
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
    await build()('rec-1', { leaseMs: 60_000 });
    const due = Date.parse(recordings.records.get('rec-1')!.next_attempt_at!);
    expect(due - now).toBeGreaterThanOrEqual(15 * 60_000);
  });

  it('a short download is never stored', async () => {
    media.respond = () => ({ bytes: AUDIO.subarray(0, 100), contentLength: AUDIO.length });
    await accept('rec-1');
    const result = await build()('rec-1', { leaseMs: 60_000 });
    expect(result.outcome).toBe('pending');
    expect(recordings.records.get('rec-1')!.last_error).toMatch(/truncated/);
    expect(archive.objects.size).toBe(0);
  });

  it('marks the record failed after the last allowed attempt', async () => {
    vobiz.respond = () => new TransientError('down');
    await accept('rec-1');
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push((await build()('rec-1', { leaseMs: 60_000 })).outcome);
      now += 24 * 3600_000;
    }
    expect(outcomes).toEqual(['pending', 'pending', 'failed']);
    const record = recordings.records.get('rec-1')!;
    expect(record).toMatchObject({ status: 'failed', attempts: 3 });
    expect(record.next_attempt_at).toBeUndefined();
  });

  it('a worker that lost its lease does not overwrite the new owner', async () => {
    await accept('rec-1');
    const result = await build({
      afterStep: async (step) => {
        if (step === 'metadata') {
          // The lease expires and another worker claims the record meanwhile.
          now += 120_000;
          await recordings.claim({ recordingId: 'rec-1', owner: 'other', nowMs: now, leaseMs: 60_000 });
        }
      },
    })('rec-1', { leaseMs: 60_000 });
    expect(result.outcome).toBe('busy');
    expect(recordings.records.get('rec-1')!.lease_owner).toBe('other');
    expect(recordings.records.get('rec-1')!.status).toBe('pending');
  });
});

describe('accept notification use case', () => {
  it('creates a pending record once, refuses replayed nonces, and never resets a stored record', async () => {
    const recordings = new InMemoryRecordings();
    const accept = makeAcceptNotification({
      recordings,
      clock: { nowMs: () => T0 },
      accountId: 'MA_1',
      nonceTtlSeconds: 3600,
      firstDueAfterMs: 120_000,
    });
    expect(await accept('rec-1', ['n1', 'n2'])).toBe('accepted');
    expect(recordings.records.get('rec-1')).toMatchObject({
      status: 'pending',
      attempts: 0,
      account_id: 'MA_1',
      next_attempt_at: new Date(T0 + 120_000).toISOString(),
    });
    expect(await accept('rec-1', ['n2'])).toBe('replayed');
    recordings.records.set('rec-1', { ...recordings.records.get('rec-1')!, status: 'stored' });
    expect(await accept('rec-1', ['n3'])).toBe('accepted');
    expect(recordings.records.get('rec-1')!.status).toBe('stored');
  });
});

describe('archive recording: overlapping metadata write and transfer', () => {
  it('a media failure that happens before the metadata write finishes is reported, not left unhandled', async () => {
    const recordings = new InMemoryRecordings();
    recordings.writeDelayMs = 20;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const archive = makeArchiveRecording({
        recordings,
        vobiz: new StubVobiz((id) => vobizRecording({ recording_id: id })),
        media: new StubMedia(() => new TransientError('media down')),
        archive: new InMemoryArchive(),
        clock: { nowMs: () => T0 },
        accountId: 'MA_1',
        retryPolicy: DEFAULT_RETRY_POLICY,
        newLeaseOwner: () => 'o1',
      });
      await makeAcceptNotification({
        recordings,
        clock: { nowMs: () => T0 },
        accountId: 'MA_1',
        nonceTtlSeconds: 60,
        firstDueAfterMs: 0,
      })('rec-9', []);
      const result = await archive('rec-9', { leaseMs: 60_000 });
      expect(result.outcome).toBe('pending');
      expect(recordings.records.get('rec-9')!.last_error).toMatch(/media down/);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
