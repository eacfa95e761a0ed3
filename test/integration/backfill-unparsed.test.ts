import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/lib/backfill-command.js';
import { DynamoRecordingRepository } from '../../functions/shared/adapters/dynamo-recordings.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { textOutput } from '../support/cli-output.js';

const MINUTE = 60_000;
const fake = new VobizFake();
let env: Awaited<ReturnType<typeof useEmulators>>;

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

describe('npm run backfill with list entries that do not parse', () => {
  it('enqueues the ones with a valid id, names the others, and exits 1 because some were skipped', async () => {
    const now = Date.now();
    const good = fake.addRecording({ addTimeMs: now - 20 * MINUTE });
    // No readable add_time: it cannot be placed in the window, so it is enqueued rather than lost.
    const noTime = fake.addRecording({ addTimeMs: now - 25 * MINUTE });
    noTime.metadata.add_time = 'soon';
    const noUrl = fake.addRecording({ addTimeMs: now - 30 * MINUTE }, { recordingUrl: '' });
    const noUrlTooOld = fake.addRecording({ addTimeMs: now - 5 * 60 * MINUTE }, { recordingUrl: '' });
    const badId = fake.addRecording({ addTimeMs: now - 35 * MINUTE });
    badId.metadata.recording_id = 'not/an id';
    fake.addRecording({ addTimeMs: now - 6 * 60 * MINUTE }); // past the window: paging stops there

    const cliEnv = {
      ...process.env,
      TABLE_NAME: env.tableName,
      VOBIZ_AUTH_ID: fake.authId,
      VOBIZ_AUTH_TOKEN: fake.authToken,
      VOBIZ_API_BASE_URL: fake.baseUrl,
    };
    const stdout = textOutput();
    const stderr = textOutput();
    const since = new Date(now - 60 * MINUTE).toISOString();
    expect(await runBackfillCommand(['--since', since], cliEnv, { stdout, stderr })).toBe(1);

    expect(stdout.text).toMatch(/^found\s+3$/m);
    expect(stdout.text).toMatch(/^new \(enqueued\)\s+3$/m);
    expect(stdout.text).toMatch(/^new by id only \(entry did not parse\)\s+2$/m);
    expect(stdout.text).toMatch(/^skipped \(no valid recording id\)\s+1$/m);
    expect(stdout.text).toMatch(/^failed \(writes\)\s+0$/m);
    expect(stderr.text).toContain('2 listed entries did not parse but had a valid recording id');
    expect(stderr.text).toContain('1 listed entries had no valid recording id and were skipped: not?an?id');

    const recordings = new DynamoRecordingRepository(env.documents, env.tableName);
    for (const enqueued of [good, noTime, noUrl]) {
      expect(await recordings.get(enqueued.metadata.recording_id as string)).toMatchObject({
        status: 'pending',
      });
    }
    expect(await recordings.get(noUrlTooOld.metadata.recording_id as string)).toBeUndefined();
  });
});
