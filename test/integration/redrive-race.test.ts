import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { buildRedrive, enqueue, expectArchivedOnce, plentyOfTime } from '../support/redrive.js';
import { webhookEnv } from '../support/webhook.js';
import { isStored, startWorker, waitForRecord } from '../support/worker.js';

let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

async function expectEachArchivedOnce(recordings: FakeRecording[]) {
  for (const recording of recordings) {
    const record = await expectArchivedOnce(env, recording);
    // Exactly one contender claimed it: one attempt, one download. (The others' Retrieve calls, made
    // while they tried to take the lease, were dropped: a wasted read, never a second archive.)
    expect(record.attempts).toBe(1);
    expect(recording.mediaCalls).toBe(1);
  }
}

describe('re-drive: concurrent runs and the archive worker never archive a recording twice', () => {
  it('two re-drive runs and the stream-started worker for every recording, all at once: one archive each', async () => {
    const own = await useEmulators();
    const worker = await startWorker(own.tableName, { env: webhookEnv(fake, own) });
    try {
      // A slow Retrieve widens the window in which the three contenders overlap.
      const recordings = Array.from({ length: 6 }, () =>
        fake.addRecording({ sizeBytes: 400_000 }, { retrieveDelayMs: 40 }),
      );
      const first = buildRedrive(fake, own, { clock: systemClock });
      const second = buildRedrive(fake, own, { clock: systemClock });
      // Each insert starts the worker and is due for the re-drive at once: every contender sees every record.
      for (const recording of recordings) await enqueue(own, systemClock, recording, fake.authId);
      const [a, b] = await Promise.all([
        first.redrive({ remainingMs: plentyOfTime }),
        second.redrive({ remainingMs: plentyOfTime }),
      ]);
      expect(a.errors + b.errors).toBe(0);
      for (const recording of recordings)
        await waitForRecord(
          own.documents,
          own.tableName,
          recording.metadata.recording_id as string,
          isStored,
        );
      for (const recording of recordings) {
        const record = await expectArchivedOnce(own, recording);
        expect(record.attempts).toBe(1);
        expect(recording.mediaCalls).toBe(1);
      }
      // Nothing left behind in the queue.
      expect(await first.redrive({ remainingMs: plentyOfTime })).toMatchObject({ due: 0 });
    } finally {
      await worker.stop();
    }
  });

  it('four overlapping runs over twenty due recordings: every recording archived by exactly one of them', async () => {
    const recordings = Array.from({ length: 20 }, () =>
      fake.addRecording({ sizeBytes: 100_000 }, { retrieveDelayMs: 10 }),
    );
    for (const recording of recordings) await enqueue(env, systemClock, recording, fake.authId);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        buildRedrive(fake, env, { clock: systemClock }).redrive({ remainingMs: plentyOfTime }),
      ),
    );
    expect(runs.reduce((sum, run) => sum + run.stored, 0)).toBe(recordings.length);
    expect(runs.reduce((sum, run) => sum + run.errors + run.deferred, 0)).toBe(0);
    await expectEachArchivedOnce(recordings);
  });
});
