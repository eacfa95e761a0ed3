import type { Context } from 'aws-lambda';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoRecoveryRepository } from '../../functions/shared/adapters/dynamo-recovery.js';
import { METRIC } from '../../functions/shared/framework/observability.js';
import { handler as deployedHandler } from '../../functions/redrive/handler.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import {
  buildRedrive,
  dieHere,
  enqueue,
  expectArchivedOnce,
  FakeClock,
  objectKeysFor,
  plentyOfTime,
  readPending,
  redriveEnv,
  redriveHandler,
} from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';

let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

type Step = 'claimed' | 'retrieved' | 'uploaded';

describe('re-drive: a run that dies mid-way is completed by a later run, exactly once', () => {
  it.each<[Step, number, number]>([
    ['claimed', 1, 1],
    ['retrieved', 1, 1],
    ['uploaded', 2, 2],
  ])(
    'dies after %s: the next run (once the lease ran out) stores the right bytes, one object',
    async (step, minDownloads, maxDownloads) => {
      const clock = new FakeClock();
      const recording = fake.addRecording({ sizeBytes: 600_000 });
      const id = await enqueue(env, clock, recording, fake.authId);

      let reached!: () => void;
      const stepReached = new Promise<void>((resolve) => (reached = resolve));
      // Death: every transfer in flight stops, and the code after this step never runs.
      const death = new AbortController();
      const dying = buildRedrive(fake, env, {
        clock,
        afterStep: async (at) => {
          if (at !== step) return;
          reached();
          death.abort(new Error('process died'));
          await dieHere();
        },
      });
      void dying.redrive({ remainingMs: () => 120_000, signal: death.signal });
      await stepReached;

      const crashed = await readPending(env.documents, env.tableName, id);
      expect(crashed.lease_owner).toBeDefined();
      // The metadata is written with the final `stored` write, never on its own.
      expect(crashed.recording_format).toBeUndefined();

      const healthy = buildRedrive(fake, env, { clock });
      // While the lease holds the record is not due: a concurrent run does not touch it.
      const during = await healthy.redrive({ remainingMs: plentyOfTime });
      expect(during).toMatchObject({ due: 0, stored: 0 });

      clock.advance(60_001); // the dead run's lease: one minute, never renewed since it died
      const after = await healthy.redrive({ remainingMs: plentyOfTime });
      expect(after).toMatchObject({ due: 1, stored: 1, errors: 0 });

      const record = await expectArchivedOnce(env, recording);
      expect(record.attempts).toBe(2);
      expect(recording.mediaCalls).toBeGreaterThanOrEqual(minDownloads);
      expect(recording.mediaCalls).toBeLessThanOrEqual(maxDownloads);
      expect(await healthy.redrive({ remainingMs: plentyOfTime })).toMatchObject({ due: 0 });
    },
  );

  it.each<Step>(['retrieved', 'uploaded'])(
    'a run frozen after %s that wakes after its lease was taken over cannot overwrite the stored record',
    async (step) => {
      const clock = new FakeClock();
      const recording = fake.addRecording({ sizeBytes: 300_000 });
      const id = await enqueue(env, clock, recording, fake.authId);

      let reached!: () => void;
      let wake!: () => void;
      const stepReached = new Promise<void>((resolve) => (reached = resolve));
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const frozen = buildRedrive(fake, env, {
        clock,
        afterStep: async (at) => {
          if (at !== step) return;
          reached();
          await woken;
        },
      });
      const frozenRun = frozen.redrive({ remainingMs: () => 120_000 });
      await stepReached;

      clock.advance(180_001);
      const takeover = await buildRedrive(fake, env, { clock }).redrive({ remainingMs: plentyOfTime });
      expect(takeover.stored).toBe(1);
      const stored = await expectArchivedOnce(env, recording);

      wake();
      const late = await frozenRun;
      expect(late).toMatchObject({ stored: 0, busy: 1 });
      const after = await expectArchivedOnce(env, recording);
      expect(after).toEqual(stored);
      expect(id).toBe(after.recording_id);
    },
  );
});

describe('re-drive: Vobiz trouble is retried with backoff until it passes', () => {
  it('Retrieve answers 503 for three rounds, then works: stored, with growing delays in between', async () => {
    const clock = new FakeClock();
    // The client tries 3 times per round: 9 failures = 3 failed rounds.
    const recording = fake.addRecording({}, { retrieveFailures: { status: 503, times: 9 } });
    const id = await enqueue(env, clock, recording, fake.authId);
    const deps = buildRedrive(fake, env, { clock, random: () => 0.5 });

    const delays: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const summary = await deps.redrive({ remainingMs: plentyOfTime });
      expect(summary).toMatchObject({ due: 1, deferred: 1, stored: 0 });
      const record = await readPending(env.documents, env.tableName, id);
      expect(record).toMatchObject({ attempts: round, last_error: expect.stringContaining('HTTP 503') });
      expect(record.lease_owner).toBeUndefined();
      expect(record.s3_key).toBeUndefined();
      delays.push(Date.parse(record.next_attempt_at!) - clock.nowMs());
      // Not due before its time.
      expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ due: 0 });
      clock.passDue(record.next_attempt_at);
    }
    expect(delays).toEqual([30_000, 60_000, 120_000]);
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({
      stored: 1,
      bytesStored: recording.sizeBytes,
    });
    const record = await expectArchivedOnce(env, recording);
    expect(record.attempts).toBe(4);
    expect(recording.retrieveCalls).toBe(10);
  });

  it('Retrieve times out for two rounds, then answers: stored', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({}, { retrieveDelayMs: 1_500 });
    const id = await enqueue(env, clock, recording, fake.authId);
    const deps = buildRedrive(fake, env, { clock, vobiz: { timeoutMs: 100, maxAttempts: 1 } });
    for (let round = 1; round <= 2; round++) {
      expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ deferred: 1 });
      const record = await readPending(env.documents, env.tableName, id);
      expect(record.last_error).toMatch(/unreachable/);
      clock.passDue(record.next_attempt_at);
    }
    recording.faults = {};
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
    await expectArchivedOnce(env, recording);
  });

  it('after MAX_ATTEMPTS the record is failed, leaves the queue, and the failure metric is emitted', async () => {
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    const clock = new FakeClock();
    const recording = fake.addRecording({}, { retrieveFailures: { status: 404, times: 1_000 } });
    const id = await enqueue(env, clock, recording, fake.authId);
    const handler = redriveHandler(buildRedrive(fake, env, { clock, extraEnv: { MAX_ATTEMPTS: '3' } }));

    for (let round = 1; round <= 2; round++) {
      const { redrive } = await handler({}, {} as Context);
      expect(redrive).toMatchObject({ deferred: 1, failed: 0 });
      clock.passDue((await readPending(env.documents, env.tableName, id)).next_attempt_at);
    }
    addMetric.mockClear();
    const { redrive } = await handler({}, {} as Context);
    expect(redrive).toMatchObject({ failed: 1 });
    expect(addMetric).toHaveBeenCalledWith(METRIC.failed, 'Count', 1);

    const record = await readRecord(env.documents, env.tableName, id);
    expect(record).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_error: expect.stringMatching(/^not_available/),
    });
    expect(record!.next_attempt_at).toBeUndefined();
    expect(record!.lease_owner).toBeUndefined();
    clock.advance(7 * 24 * 3_600_000);
    const due = await new DynamoRecoveryRepository(env.documents, env.tableName).findDue(clock.nowMs(), 100);
    expect(due.map((d) => d.recordingId)).not.toContain(id);
  });

  it('counts overdue pending records and emits the overdue metric on every run, zero included', async () => {
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    const clock = new FakeClock();
    const recording = fake.addRecording();
    await enqueue(env, clock, recording, fake.authId);
    clock.advance(6 * 60_000);
    const handler = redriveHandler(buildRedrive(fake, env, { clock }));
    const first = await handler({}, {} as Context);
    expect(first.redrive.overdue).toBeGreaterThanOrEqual(1);
    expect(addMetric).toHaveBeenCalledWith(METRIC.overduePending, 'Count', first.redrive.overdue);
    await expectArchivedOnce(env, recording);
    addMetric.mockClear();
    const second = await handler({}, {} as Context);
    expect(second.redrive.overdue).toBe(0);
    expect(addMetric).toHaveBeenCalledWith(METRIC.overduePending, 'Count', 0);
  });
});

describe('re-drive: time budget and housekeeping', () => {
  it('starts nothing when the invocation is about to end, and leaves the records due', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording();
    const id = await enqueue(env, clock, recording, fake.authId);
    const deps = buildRedrive(fake, env, { clock });
    const summary = await deps.redrive({ remainingMs: () => 20_000 });
    expect(summary.notStarted).toBeGreaterThanOrEqual(1);
    expect(summary.stored).toBe(0);
    const record = await readPending(env.documents, env.tableName, id);
    expect(record.attempts).toBe(0);
    expect(recording.retrieveCalls).toBe(0);
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
  });

  it('accepts a context whose remaining time is not a whole number of milliseconds (sweep and archive both run)', async () => {
    const own = await new VobizFake().start();
    try {
      const due = own.addRecording();
      await enqueue(env, systemClock, due, own.authId);
      own.addRecording(); // no callback: the sweep finds it (and the archive worker would take it)
      const context = { getRemainingTimeInMillis: () => 299_999.75 } as unknown as Context;
      const handler = redriveHandler(
        buildRedrive(own, env, { clock: systemClock, extraEnv: { BACKFILL_LOOKBACK_MINUTES: '60' } }),
      );
      const result = await handler({}, context);
      expect(result.sweep).toMatchObject({ stoppedBy: 'end', enqueued: 1, alreadyQueued: 1 });
      expect(result.redrive).toMatchObject({ stored: 1, errors: 0 });
      await expectArchivedOnce(env, due);
    } finally {
      await own.stop();
    }
  });

  it('the exported handler runs from the environment with a plain context (as the local stack calls it)', async () => {
    const own = await new VobizFake().start();
    try {
      Object.assign(process.env, redriveEnv(own, env, { REDRIVE_BATCH_SIZE: '500' }));
      const recording = own.addRecording();
      await enqueue(env, systemClock, recording, own.authId);
      const result = await deployedHandler({}, {} as Context);
      expect(result.redrive.stored).toBeGreaterThanOrEqual(1);
      expect(result.sweep).toMatchObject({
        stoppedBy: 'end',
        found: 1,
        alreadyArchived: 0,
        alreadyQueued: 1,
      });
      await expectArchivedOnce(env, recording);
      expect(await objectKeysFor(env, recording.metadata.recording_id as string)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});
