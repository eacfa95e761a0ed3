import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { runBackfillCommand } from '../../bin/lib/backfill-command.js';
import { runRetryCommand } from '../../bin/lib/retry-command.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import {
  buildRedrive,
  expectArchivedOnce,
  FakeClock,
  plentyOfTime,
  redriveEnv,
  redriveHandler,
} from '../support/redrive.js';
import { deliver, readRecord, webhookEnv, webhookHandler } from '../support/webhook.js';
import { isStored, startWorker, waitForRecord } from '../support/worker.js';
import type { StreamTrigger } from '../../local/stream-trigger.js';
import { summaryOf, textOutput } from '../support/cli-output.js';

let env: Awaited<ReturnType<typeof useEmulators>>;
let fake: VobizFake;
let worker: StreamTrigger | undefined;

// Each test gets its own table and its own Vobiz account, so one test's listing is not another's.
beforeEach(async () => {
  env = await useEmulators();
  fake = await new VobizFake().start();
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await fake.stop();
});

/** The archive worker on this test's table, started by its stream as in AWS. */
async function runWorker() {
  worker = await startWorker(env.tableName, { env: webhookEnv(fake, env) });
}

const stored = (recording: FakeRecording) =>
  waitForRecord(env.documents, env.tableName, idOf(recording), isStored);

const MINUTE = 60_000;
const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;
const listCalls = () => fake.requests.filter((r) => r.path.endsWith('/Recording/')).length;

describe('backfill sweep (scheduled with the re-drive)', () => {
  it('finds a recording whose callback never arrived and enqueues it for the worker; stops at the first page past the window', async () => {
    await runWorker();
    const now = Date.now();
    const delivered = fake.addRecording({ addTimeMs: now - 5 * MINUTE });
    const waiting = fake.addRecording(
      { addTimeMs: now - 4 * MINUTE },
      { retrieveFailures: { status: 404, times: 1 } },
    );
    const missed = fake.addRecording({ addTimeMs: now - 3 * MINUTE, sizeBytes: 250_000 });
    const old = Array.from({ length: 150 }, (_, i) =>
      fake.addRecording({ addTimeMs: now - 3 * 60 * MINUTE - i * 1_000 }),
    );

    const webhook = webhookHandler(webhookEnv(fake, env));
    expect((await deliver(webhook, fake, delivered)).statusCode).toBe(200);
    expect((await deliver(webhook, fake, waiting)).statusCode).toBe(200);
    await stored(delivered);
    await waitForRecord(
      env.documents,
      env.tableName,
      idOf(waiting),
      (r) => r.attempts === 1 && !r.lease_owner,
    );
    const listsBefore = listCalls();

    const handler = redriveHandler(
      buildRedrive(fake, env, { clock: systemClock, extraEnv: { BACKFILL_LOOKBACK_MINUTES: '120' } }),
    );
    const { sweep, redrive } = await handler({}, {} as Context);
    expect(sweep).toMatchObject({
      found: 3,
      enqueued: 1,
      alreadyArchived: 1,
      alreadyQueued: 1,
      malformed: 0,
      errors: 0,
      stoppedBy: 'window',
      pages: 1,
    });
    expect(listCalls() - listsBefore).toBe(1);
    expect(redrive.errors).toBe(0);
    // The sweep's insert starts the archive worker, exactly as a callback's does.
    await stored(missed);
    await expectArchivedOnce(env, missed);
    expect(await readRecord(env.documents, env.tableName, idOf(old[0]!))).toBeUndefined();

    // The next run finds nothing new, and the webhook arriving late for the missed one is a no-op 200.
    const again = await handler({}, {} as Context);
    expect(again.sweep).toMatchObject({ found: 3, enqueued: 0, alreadyArchived: 2 });
    expect((await deliver(webhook, fake, missed)).statusCode).toBe(200);
    expect(missed.mediaCalls).toBe(1);
  });

  it('leaves recordings younger than BACKFILL_MIN_AGE_MINUTES to their callback (no race with a callback on its way)', async () => {
    await runWorker();
    const now = Date.now();
    const young = fake.addRecording({ addTimeMs: now - 2 * MINUTE });
    const overdue = fake.addRecording({ addTimeMs: now - 15 * MINUTE });
    const handler = redriveHandler(
      buildRedrive(fake, env, {
        clock: systemClock,
        extraEnv: { BACKFILL_LOOKBACK_MINUTES: '60', BACKFILL_MIN_AGE_MINUTES: '10' },
      }),
    );
    const { sweep } = await handler({}, {} as Context);
    expect(sweep).toMatchObject({ found: 1, enqueued: 1 });
    expect(await readRecord(env.documents, env.tableName, idOf(young))).toBeUndefined();
    await stored(overdue);
    await expectArchivedOnce(env, overdue);
  });

  it('backs off when Vobiz answers 429 (Retry-After) and carries on', async () => {
    const recording = fake.addRecording();
    let listRequests = 0;
    const rateLimited: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.includes('/Recording/?') && ++listRequests <= 4) {
        return new Response(JSON.stringify({ api_id: 'x', error: 'Too many requests' }), {
          status: 429,
          headers: { 'retry-after': '0', 'content-type': 'application/json' },
        });
      }
      return fetch(input, init);
    };
    const deps = buildRedrive(fake, env, {
      clock: systemClock,
      vobiz: { baseDelayMs: 1, maxDelayMs: 5, fetch: rateLimited },
    });
    const summary = await deps.sweep({ sinceMs: Date.now() - 60 * MINUTE });
    expect(listRequests).toBe(5);
    expect(summary).toMatchObject({ found: 1, enqueued: 1, stoppedBy: 'end' });
    expect(await readRecord(env.documents, env.tableName, idOf(recording))).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
  });

  it('a sweep racing the webhook for the same new recording: one record, one archive', async () => {
    await runWorker();
    const recordings = Array.from({ length: 5 }, () =>
      fake.addRecording({ sizeBytes: 100_000 }, { retrieveDelayMs: 20 }),
    );
    const webhook = webhookHandler(webhookEnv(fake, env));
    const handler = redriveHandler(
      buildRedrive(fake, env, { clock: systemClock, extraEnv: { BACKFILL_LOOKBACK_MINUTES: '60' } }),
    );
    const [run, ...deliveries] = await Promise.all([
      handler({}, {} as Context),
      ...recordings.map((r) => deliver(webhook, fake, r)),
    ]);
    for (const delivery of deliveries) expect(delivery.statusCode).toBe(200);
    expect(run.redrive.errors).toBe(0);
    for (const recording of recordings) await stored(recording);
    for (const recording of recordings) {
      const record = await expectArchivedOnce(env, recording);
      expect(record.attempts).toBe(1);
      expect(recording.mediaCalls).toBe(1);
    }
  });
});

describe('npm run backfill', () => {
  it('enqueues what the archive lacks in --since/--until, is idempotent, and the worker archives the rest', async () => {
    await runWorker();
    const now = Date.now();
    const inWindow = Array.from({ length: 5 }, (_, i) =>
      fake.addRecording({ addTimeMs: now - 50 * MINUTE + i * MINUTE }),
    );
    const tooOld = fake.addRecording({ addTimeMs: now - 3 * 60 * MINUTE });
    const tooNew = fake.addRecording({ addTimeMs: now - 5 * MINUTE });
    const webhook = webhookHandler(webhookEnv(fake, env));
    expect((await deliver(webhook, fake, inWindow[0])).statusCode).toBe(200);
    await stored(inWindow[0]!);
    const args = [
      '--since',
      new Date(now - 60 * MINUTE).toISOString(),
      '--until',
      new Date(now - 30 * MINUTE).toISOString(),
    ];
    const cliEnv = redriveEnv(fake, env);

    const dry = { stdout: textOutput({ columns: 100 }), stderr: textOutput({ columns: 100 }) };
    expect(await runBackfillCommand([...args, '--dry-run'], cliEnv, dry)).toBe(0);
    expect(summaryOf(dry.stdout.text, { withoutNotes: true })).toMatchObject({
      found: 5,
      new: 4,
      'already archived': 1,
      failed: 0,
    });
    expect(await readRecord(env.documents, env.tableName, idOf(inWindow[1]!))).toBeUndefined();

    const first = { stdout: textOutput({ columns: 100 }), stderr: textOutput({ columns: 100 }) };
    expect(await runBackfillCommand(args, cliEnv, first)).toBe(0);
    expect(summaryOf(first.stdout.text, { withoutNotes: true })).toMatchObject({
      found: 5,
      new: 4,
      'already archived': 1,
      'already pending': 0,
      failed: 0,
    });
    expect(first.stderr.text).not.toContain('\r');

    const second = { stdout: textOutput({ columns: 100 }), stderr: textOutput({ columns: 100 }) };
    expect(await runBackfillCommand(args, cliEnv, second)).toBe(0);
    const again = summaryOf(second.stdout.text, { withoutNotes: true });
    expect(again).toMatchObject({ found: 5, new: 0 });
    // The worker is archiving them meanwhile: each is either still pending or already archived.
    expect(again['already archived']! + again['already pending']!).toBe(5);

    for (const recording of inWindow) await stored(recording);
    for (const recording of inWindow) await expectArchivedOnce(env, recording);
    for (const outside of [tooOld, tooNew])
      expect(await readRecord(env.documents, env.tableName, idOf(outside))).toBeUndefined();

    const third = {
      stdout: textOutput({ isTTY: true, columns: 100 }),
      stderr: textOutput({ isTTY: true, columns: 100 }),
    };
    expect(await runBackfillCommand(args, cliEnv, third)).toBe(0);
    expect(summaryOf(third.stdout.text, { withoutNotes: true })).toMatchObject({
      found: 5,
      new: 0,
      'already archived': 5,
    });
    expect(third.stderr.text).toMatch(/\r\[#*-*\]\s+\d+%/);
  });

  it('runs as a script: summary on stdout, no progress bar when stderr is not a terminal, usage errors exit 2', async () => {
    fake.addRecording({ addTimeMs: Date.now() - 10 * MINUTE });
    const run = promisify(execFile);
    const cliEnv = { ...redriveEnv(fake, env), POWERTOOLS_LOG_LEVEL: 'SILENT' };
    const since = new Date(Date.now() - 60 * MINUTE).toISOString();
    const { stdout, stderr } = await run(
      'node',
      ['--import', 'tsx', 'bin/vobiz-archive.ts', 'backfill', '--since', since],
      {
        env: cliEnv,
      },
    );
    expect(summaryOf(stdout, { withoutNotes: true })).toMatchObject({ found: 1, new: 1, failed: 0 });
    expect(stderr).not.toContain('\r');
    await expect(
      run('node', ['--import', 'tsx', 'bin/vobiz-archive.ts', 'backfill', '--until', since], { env: cliEnv }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--since is required'),
    });
  });
});

describe('npm run retry', () => {
  it('puts a failed record back in the queue with a fresh budget; the re-drive then archives it', async () => {
    const broken = fake.addRecording({}, { retrieveFailures: { status: 404, times: 1_000 } });
    const alsoBroken = fake.addRecording({}, { retrieveFailures: { status: 404, times: 1_000 } });
    const cliEnv = redriveEnv(fake, env);
    const io = () => ({ stdout: textOutput({ columns: 100 }), stderr: textOutput({ columns: 100 }) });
    const backfill = io();
    expect(
      await runBackfillCommand(
        ['--since', new Date(Date.now() - 60 * MINUTE).toISOString()],
        cliEnv,
        backfill,
      ),
    ).toBe(0);
    // No worker runs here: the backfilled records wait for the re-drive's safety net (10 minutes).
    const clock = new FakeClock(Date.now() + 10 * MINUTE + 1_000);
    const deps = buildRedrive(fake, env, { clock, extraEnv: { MAX_ATTEMPTS: '1' } });
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ failed: 2 });

    const one = io();
    expect(await runRetryCommand([idOf(broken)], cliEnv, one)).toBe(0);
    expect(one.stdout.text).toContain('queued again');
    const reset = await readRecord(env.documents, env.tableName, idOf(broken));
    expect(reset).toMatchObject({ status: 'pending', attempts: 0 });
    expect(reset!.last_error).toMatch(/not_available/);

    broken.faults = {};
    alsoBroken.faults = {};
    clock.advance(MINUTE);
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
    await expectArchivedOnce(env, broken);
    expect(await readRecord(env.documents, env.tableName, idOf(alsoBroken))).toMatchObject({
      status: 'failed',
    });

    const again = io();
    expect(await runRetryCommand([idOf(broken), 'no-such-recording'], cliEnv, again)).toBe(1);
    expect(again.stdout.text).toContain(`${idOf(broken)}: not failed`);
    expect(again.stdout.text).toContain('no-such-recording: not found');

    const dryAll = io();
    expect(await runRetryCommand(['--all-failed', '--dry-run'], cliEnv, dryAll)).toBe(0);
    expect(dryAll.stdout.text).toMatch(/would reset\s+1/);
    expect(await readRecord(env.documents, env.tableName, idOf(alsoBroken))).toMatchObject({
      status: 'failed',
    });
    const all = io();
    expect(await runRetryCommand(['--all-failed'], cliEnv, all)).toBe(0);
    expect(all.stdout.text).toMatch(/reset\s+1/);
    clock.advance(MINUTE);
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
    await expectArchivedOnce(env, alsoBroken);
    expect(await runRetryCommand([], cliEnv, io())).toBe(2);
  });
});
