import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { buildRedrive, enqueue, expectArchivedOnce, plentyOfTime } from '../support/redrive.js';
import { deliver, webhookEnv, webhookHandler } from '../support/webhook.js';

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
    // Exactly one worker claimed it: one attempt, one Retrieve, one download.
    expect(record.attempts).toBe(1);
    expect(recording.retrieveCalls).toBe(1);
    expect(recording.mediaCalls).toBe(1);
  }
}

describe('re-drive: concurrent runs and the webhook never archive a recording twice', () => {
  it('two re-drive runs and a webhook delivery for every recording, all at once: one archive each, consistent records', async () => {
    // A slow Retrieve widens the window in which the three contenders overlap.
    const recordings = Array.from({ length: 6 }, () =>
      fake.addRecording({ sizeBytes: 400_000 }, { retrieveDelayMs: 40 }),
    );
    for (const recording of recordings) await enqueue(env, systemClock, recording, fake.authId);
    const webhook = webhookHandler(webhookEnv(fake, env));
    const first = buildRedrive(fake, env, { clock: systemClock });
    const second = buildRedrive(fake, env, { clock: systemClock });

    const [a, b, ...deliveries] = await Promise.all([
      first.redrive({ remainingMs: plentyOfTime }),
      second.redrive({ remainingMs: plentyOfTime }),
      ...recordings.map((recording) => deliver(webhook, fake, recording)),
    ]);
    for (const delivery of deliveries) expect([200, 202]).toContain(delivery.statusCode);
    expect(a.errors + b.errors).toBe(0);
    expect(a.stored + b.stored).toBeLessThanOrEqual(recordings.length);
    await expectEachArchivedOnce(recordings);
    // Nothing left behind in the queue.
    expect(await first.redrive({ remainingMs: plentyOfTime })).toMatchObject({ due: 0 });
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
