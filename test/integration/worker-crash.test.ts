import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { lambdaContext } from '../support/http-events.js';
import { buildRedrive, expectArchivedOnce, redriveHandler } from '../support/redrive.js';
import { deliver, readRecord, webhookEnv, webhookHandler } from '../support/webhook.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A worker process (local/archive-worker-process.ts) killed mid-transfer (SIGKILL: no handler runs, nothing is released). Its lease is
 * short and was only renewed while bytes flowed, so the recording is due again about a minute later
 * and the re-drive stores it, once.
 */
let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await fake.stop();
});

describe('crash recovery', () => {
  it('a worker process killed mid-transfer: another run stores the recording within two minutes, once', async () => {
    const workerEnv = webhookEnv(fake, env);
    child = spawn(process.execPath, ['--import', 'tsx', 'local/archive-worker-process.ts'], {
      cwd: ROOT,
      env: { ...workerEnv, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    expect(line).toBe('ready');

    // 8 MB in 256 KiB chunks, 150 ms apart: about 5 s of transfer, long enough to be cut.
    const recording = fake.addRecording({ sizeBytes: 8_000_000 });
    fake.globalFaults = { mediaChunkDelayMs: 150 };
    const id = recording.metadata.recording_id as string;
    expect((await deliver(webhookHandler(workerEnv), fake, recording)).statusCode).toBe(200);
    while (recording.mediaBytesSent < 1_000_000) await sleep(20);
    const record = await readRecord(env.documents, env.tableName, id);
    expect(record).toMatchObject({ status: 'pending', attempts: 1, lease_owner: expect.any(String) });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    fake.globalFaults = {};

    // The re-drive runs every minute in AWS; here every 5 s, against the real clock.
    const redrive = redriveHandler(buildRedrive(fake, env, { clock: systemClock }));
    let stored = false;
    while (!stored && Date.now() - killedAt < 120_000) {
      await sleep(5_000);
      await redrive({}, lambdaContext(600_000));
      stored = (await readRecord(env.documents, env.tableName, id))?.status === 'stored';
    }
    const recoveredAfterMs = Date.now() - killedAt;
    expect(stored).toBe(true);
    expect(recoveredAfterMs).toBeLessThan(120_000);
    const final = await expectArchivedOnce(env, recording);
    expect(final.attempts).toBe(2);
    expect(recording.mediaCalls).toBe(2);
  }, 180_000);
});
