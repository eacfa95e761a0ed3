import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { runEraseCommand } from '../../bin/lib/erase-command.js';
import { runLifecycleIndexCommand } from '../../bin/lib/lifecycle-index-command.js';
import { keys } from '../../functions/shared/domain/recording.js';
import { runVobizCleanupCommand } from '../../bin/lib/vobiz-cleanup-command.js';
import { S3AudioVersions } from '../../functions/shared/adapters/s3-lifecycle.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { archive, auditEntries, buildTestLifecycle, DAY } from '../support/lifecycle.js';
import { enqueue, FakeClock, redriveEnv, type Emulators } from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';
import { summaryOf, textOutput } from '../support/cli-output.js';

let env: Emulators;
let fake: VobizFake;
let clock: FakeClock;

beforeEach(async () => {
  env = await useEmulators();
  fake = await new VobizFake().start();
  clock = new FakeClock();
});
afterEach(async () => {
  await fake.stop();
});

const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;

const cliEnv = (extra: Record<string, string> = {}) => ({
  ...redriveEnv(fake, env),
  LIFECYCLE_ACTOR: 'arn:aws:iam::123456789012:user/ops',
  ...extra,
});

async function cleanup(argv: string[], extra: Record<string, string> = {}) {
  const stdout = textOutput();
  const stderr = textOutput();
  const code = await runVobizCleanupCommand(argv, cliEnv(extra), { stdout, stderr, clock, pauseMs: () => 1 });
  return { code, stdout: stdout.text, stderr: stderr.text, summary: summaryOf(stdout.text) };
}

async function erase(argv: string[], extra: Record<string, string> = {}) {
  const stdout = textOutput();
  const stderr = textOutput();
  const code = await runEraseCommand(argv, cliEnv(extra), { stdout, stderr, clock });
  return { code, stdout: stdout.text, stderr: stderr.text, summary: summaryOf(stdout.text) };
}

describe('npm run vobiz-cleanup', () => {
  it('deletes the verified history at Vobiz (older than --older-than), skips held ones, and states the monthly cost removed', async () => {
    const old = [
      fake.addRecording({ addTimeMs: clock.ms - 40 * DAY, durationMs: 61_000 }),
      fake.addRecording({ addTimeMs: clock.ms - 35 * DAY, durationMs: 119_000 }),
    ];
    const held = fake.addRecording({ addTimeMs: clock.ms - 50 * DAY });
    const young = fake.addRecording({ addTimeMs: clock.ms - 5 * DAY });
    for (const recording of [...old, held, young]) await archive(fake, env, clock, recording);
    await buildTestLifecycle(fake, env, { clock }).legalHold.place(idOf(held), { actor: { arn: 'legal' } });

    const dry = await cleanup(['--older-than', '30d', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.summary).toMatchObject({ examined: 3, 'would delete at Vobiz': 2, 'skipped: legal hold': 1 });
    expect(fake.deleteCalls).toEqual([]);
    // 2 min and 2 min at 0.005 per minute.
    expect(dry.stdout).toContain('Vobiz storage cost this would remove: 0.0200 per month');

    const done = await cleanup(['--older-than', '30d']);
    expect(done.code).toBe(0);
    expect(done.summary).toMatchObject({
      examined: 3,
      'deleted at Vobiz': 2,
      'skipped: legal hold': 1,
      'failed (run again)': 0,
    });
    expect(done.stdout).toContain('Vobiz storage cost removed: 0.0200 per month');
    expect(done.stderr).toContain('audited as arn:aws:iam::123456789012:user/ops');
    expect(fake.deleteCalls.map((c) => c.recordingId).sort()).toEqual(old.map(idOf).sort());
    for (const recording of old) {
      expect(
        (await readRecord(env.documents, env.tableName, idOf(recording)))!.vobiz_deleted_at,
      ).toBeDefined();
      expect(await auditEntries(env, idOf(recording))).toEqual([
        expect.objectContaining({
          action: 'vobiz_delete',
          actor: { arn: 'arn:aws:iam::123456789012:user/ops' },
          outcome: 'done',
        }),
      ]);
    }
    expect(fake.recording(idOf(young))).toBeDefined();

    // Idempotent: nothing left to do.
    expect((await cleanup(['--older-than', '30d'])).summary).toMatchObject({
      examined: 1,
      'skipped: legal hold': 1,
    });
  });

  it('waits and retries when Vobiz answers 429/5xx, and exits 1 when a recording still could not be deleted', async () => {
    for (let i = 0; i < 2; i++)
      await archive(fake, env, clock, fake.addRecording({ addTimeMs: clock.ms - 2 * DAY }));
    // The client's own 3 attempts fail, the command pauses and tries again: then it goes through.
    fake.api = { deleteFailures: { status: 503, times: 3 } };
    const retried = await cleanup(['--concurrency', '1']);
    expect(retried.code).toBe(0);
    expect(retried.summary).toMatchObject({ 'deleted at Vobiz': 2 });
    expect(fake.deleteCalls.map((c) => c.status)).toEqual([503, 503, 503, 204, 204]);

    await archive(fake, env, clock, fake.addRecording({ addTimeMs: clock.ms - 2 * DAY }));
    fake.api = { deleteFailures: { status: 500, times: 1000 } };
    const failing = await cleanup([]);
    expect(failing.code).toBe(1);
    expect(failing.summary).toMatchObject({ 'failed (run again)': 1 });
  });

  it('exits 1 and names the recording when a verification fails; it stays at Vobiz', async () => {
    const recording = fake.addRecording({ addTimeMs: clock.ms - 2 * DAY });
    const stored = await archive(fake, env, clock, recording);
    await new S3AudioVersions(env.s3, env.bucketName).deleteVersion(stored.s3_key!, stored.s3_version_id!);
    const result = await cleanup([]);
    expect(result.code).toBe(1);
    expect(result.summary).toMatchObject({ 'kept: verification failed': 1 });
    expect(result.stderr).toContain(
      `${idOf(recording)}: kept at Vobiz, verification failed: S3 has no version`,
    );
    expect(fake.deleteCalls).toEqual([]);
  });
});

describe('npm run vobiz-cleanup -- --retry-blocked', () => {
  it('skips a recording an earlier verification blocked, and verifies it again on request once the cause is fixed', async () => {
    const recording = fake.addRecording({ addTimeMs: clock.ms - 2 * DAY });
    const stored = await archive(fake, env, clock, recording);
    const setSize = (size: number) =>
      env.documents.send(
        new UpdateCommand({
          TableName: env.tableName,
          Key: keys.recording(idOf(recording)),
          UpdateExpression: 'SET size_bytes = :s',
          ExpressionAttributeValues: { ':s': size },
        }),
      );
    await setSize(1);
    expect((await cleanup([])).summary).toMatchObject({ 'kept: verification failed': 1 });
    await setSize(stored.size_bytes!);
    expect((await cleanup([])).summary).toMatchObject({ 'skipped: no longer stored, or blocked earlier': 1 });
    const retried = await cleanup(['--retry-blocked']);
    expect(retried.summary).toMatchObject({ 'deleted at Vobiz': 1 });
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record!.vobiz_delete_blocked).toBeUndefined();
    expect(record!.vobiz_deleted_at).toBeDefined();
  });
});

describe('npm run lifecycle-index', () => {
  it('puts records archived before the lifecycle into its indexes, so that retention sees them; held ones stay out', async () => {
    const recordings = [0, 1, 2].map(() => fake.addRecording({ addTimeMs: clock.ms - 40 * DAY }));
    for (const recording of recordings) await archive(fake, env, clock, recording);
    // As the previous version wrote them: no lifecycle keys, no version id, no checksum.
    for (const recording of recordings)
      await env.documents.send(
        new UpdateCommand({
          TableName: env.tableName,
          Key: keys.recording(idOf(recording)),
          UpdateExpression:
            'REMOVE gsi_due_pk, gsi_due_sk, gsi_exp_pk, gsi_exp_sk, s3_version_id, s3_checksum_sha256',
        }),
      );
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(idOf(recordings[2]!)),
        UpdateExpression: 'SET legal_hold = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    );
    const life = buildTestLifecycle(fake, env, {
      clock,
      extraEnv: { RETENTION_DAYS: '30', VOBIZ_DELETE_AFTER_DAYS: '0' },
    });
    expect(await life.run({ remainingMs: () => 60_000 })).toMatchObject({
      vobiz: { due: 0 },
      expiry: { due: 0 },
    });

    const stdout = textOutput();
    const stderr = textOutput();
    expect(await runLifecycleIndexCommand([], cliEnv(), { stdout, stderr })).toBe(0);
    // The held one is read (and left out): examined counts what DynamoDB read.
    expect(summaryOf(stdout.text)).toMatchObject({ examined: 3, indexed: 2 });
    expect(await runLifecycleIndexCommand([], cliEnv(), { stdout: textOutput(), stderr: textOutput() })).toBe(
      0,
    );

    const summary = await life.run({ remainingMs: () => 60_000 });
    // Both are deleted at Vobiz first (verified by reading the audio back), then expired.
    expect(summary.vobiz).toMatchObject({ due: 2, deleted: 2 });
    expect(summary.expiry).toMatchObject({ due: 2, expired: 2 });
    expect((await readRecord(env.documents, env.tableName, idOf(recordings[2]!)))!.status).toBe('stored');
  });

  it('puts recordings expired before retention implied the delete at Vobiz back in line for it', async () => {
    const recording = fake.addRecording({ addTimeMs: clock.ms - 40 * DAY });
    await archive(fake, env, clock, recording);
    const life = buildTestLifecycle(fake, env, { clock, extraEnv: { RETENTION_DAYS: '30' } });
    expect((await life.run({ remainingMs: () => 60_000 })).expiry).toMatchObject({ expired: 1 });
    // As the previous version left it: expired, still at Vobiz, due for nothing.
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(idOf(recording)),
        UpdateExpression: 'REMOVE gsi_due_pk, gsi_due_sk',
      }),
    );
    expect((await life.run({ remainingMs: () => 60_000 })).vobiz).toMatchObject({ due: 0 });

    const stdout = textOutput();
    expect(await runLifecycleIndexCommand([], cliEnv(), { stdout, stderr: textOutput() })).toBe(0);
    expect(summaryOf(stdout.text)).toMatchObject({ indexed: 1 });
    expect((await life.run({ remainingMs: () => 60_000 })).vobiz).toMatchObject({ due: 1, deleted: 1 });
    expect(fake.recording(idOf(recording))).toBeUndefined();
  });
});

describe('npm run erase', () => {
  it('--number erases the recordings from or to that number, in either spelling, deletes them at Vobiz and asks Bulk Delete for the rest', async () => {
    const from = fake.addRecording({ from_number: '+919800000777' });
    const to = fake.addRecording({ from_number: '+918000000001', to_number: '919800000777' });
    const other = fake.addRecording({ from_number: '+918000000002', to_number: '918000000003' });
    for (const recording of [from, to, other]) await archive(fake, env, clock, recording);
    const neverArchived = fake.addRecording({ from_number: '+919800000777' });

    const dry = await erase(['--number', '919800000777', '--dry-run', '--also-vobiz']);
    expect(dry.code).toBe(0);
    expect(dry.summary).toMatchObject({ 'would erase': 2 });
    expect(fake.bulkDeleteCalls).toEqual([]);

    // --also-vobiz is the default now; still accepted.
    const done = await erase(['--number', '+919800000777', '--also-vobiz', '--reason', 'DSR-77']);
    expect(done.code).toBe(0);
    expect(done.summary).toMatchObject({ erased: 2 });
    for (const recording of [from, to]) {
      expect(await readRecord(env.documents, env.tableName, idOf(recording))).toMatchObject({
        status: 'erased',
        erasure_reason: 'DSR-77',
        erased_by: { arn: 'arn:aws:iam::123456789012:user/ops' },
        vobiz_deleted_at: expect.any(String),
      });
    }
    expect((await readRecord(env.documents, env.tableName, idOf(other)))!.status).toBe('stored');
    expect(fake.bulkDeleteCalls.map((c) => c.filters)).toEqual([
      { from_number: '+919800000777' },
      { to_number: '+919800000777' },
      { from_number: '919800000777' },
      { to_number: '919800000777' },
    ]);
    for (let i = 0; i < 200 && fake.recording(idOf(neverArchived)); i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(fake.recording(idOf(neverArchived))).toBeUndefined();
    expect(done.stderr).not.toContain('919800000777');
  });

  it('--id erases each, at Vobiz too (an unknown one leaves a tombstone), refuses held ones and exits 1', async () => {
    const a = fake.addRecording();
    const held = fake.addRecording();
    for (const recording of [a, held]) await archive(fake, env, clock, recording);
    await buildTestLifecycle(fake, env, { clock }).legalHold.place(idOf(held), { actor: { arn: 'legal' } });
    const result = await erase([
      '--id',
      idOf(a),
      '--id',
      idOf(held),
      '--id',
      'never-seen-1',
      '--reason',
      'DSR-10',
    ]);
    expect(result.code).toBe(1);
    expect(result.summary).toMatchObject({ erased: 2, 'refused: legal hold': 1 });
    expect(result.stderr).toContain(`${idOf(held)}: refused, on legal hold`);
    expect(result.stderr).toContain(`${idOf(a)}: erased (1 audio version(s)), deleted at Vobiz`);
    expect(fake.recording(idOf(a))).toBeUndefined();
    expect((await readRecord(env.documents, env.tableName, 'never-seen-1'))!.status).toBe('erased');
  });

  it('--keep-vobiz keeps the copy at Vobiz (and needs no Vobiz credentials)', async () => {
    const a = fake.addRecording();
    await archive(fake, env, clock, a);
    const result = await erase(['--id', idOf(a), '--keep-vobiz', '--reason', 'DSR-11'], {
      VOBIZ_AUTH_ID: '',
      VOBIZ_AUTH_TOKEN: '',
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Vobiz's copy kept (--keep-vobiz)");
    expect(fake.recording(idOf(a))).toBeDefined();
    expect(await readRecord(env.documents, env.tableName, idOf(a))).toMatchObject({
      status: 'erased',
      erasure_also_vobiz: false,
    });
  });

  it('Vobiz down: the erasure is done, exit 0, and the delete at Vobiz is left to the scheduled run', async () => {
    const a = fake.addRecording();
    await archive(fake, env, clock, a);
    fake.api = { deleteFailures: { status: 503, times: 3 } };
    const result = await erase(['--id', idOf(a), '--reason', 'DSR-12']);
    fake.api = {};
    expect(result.code).toBe(0);
    expect(result.summary).toMatchObject({ erased: 1, 'Vobiz delete pending (retried)': 1 });
    expect(result.stderr).toContain('the scheduled lifecycle run retries it');
    clock.advance(5 * 60_000 + 1);
    await buildTestLifecycle(fake, env, { clock }).run({ remainingMs: () => 10 * 60_000 });
    expect(fake.recording(idOf(a))).toBeUndefined();
  });

  it('--call-uuid erases the records of a call; a pending one being archived is reported busy', async () => {
    const one = fake.addRecording({ call_uuid: 'call-77' });
    await archive(fake, env, clock, one);
    const two = fake.addRecording({ call_uuid: 'call-77' });
    await archive(fake, env, clock, two);
    const result = await erase(['--call-uuid', 'call-77', '--reason', 'DSR-13']);
    expect(result.summary).toMatchObject({ erased: 2 });
    const pending = fake.addRecording({ call_uuid: 'call-78' });
    const id = await enqueue(env, clock, pending, fake.authId);
    // A pending record has no call_uuid yet (no metadata): erase it by id.
    expect((await erase(['--id', id, '--reason', 'DSR-13'])).summary).toMatchObject({ erased: 1 });
  });
});

describe('through their real process', () => {
  const run = promisify(execFile);
  it.each([
    ['erase', [], /give exactly one of --id/],
    ['erase', ['--id', 'a', '--number', '+919800000000'], /give exactly one of --id/],
    ['erase', ['--number', 'abc'], /--number must be a phone number/],
    ['erase', ['--id', 'bad..id', '--reason', 'DSR-1'], /is not a recording id/],
    ['erase', ['--id', 'a'], /--reason is required: a reference such as DSR-2026-0042/],
    ['erase', ['--id', 'a', '--reason', 'Jane Doe asked'], /--reason must be a reference/],
    ['erase', ['--id', 'a', '--keep-vobiz', '--also-vobiz', '--reason', 'X'], /contradict/],
    ['vobiz-cleanup', ['--older-than', '30 days'], /--older-than: expected a duration like 30d/],
    ['vobiz-cleanup', ['--bogus'], /Unknown option/],
  ])('%s %j is a usage error: exit 2 with the usage', async (command, argv, message) => {
    await expect(
      run('node', ['--import', 'tsx', 'bin/vobiz-archive.ts', command, ...argv], { env: cliEnv() }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(message),
    });
  });

  it('--help prints the usage and exits 0; a missing table is a configuration error (exit 2)', async () => {
    const help = await run('node', ['--import', 'tsx', 'bin/vobiz-archive.ts', 'vobiz-cleanup', '--help'], {
      env: cliEnv(),
    });
    expect(help.stdout).toContain('Usage: vobiz-archive vobiz-cleanup');
    const { TABLE_NAME: _table, ...withoutTable } = cliEnv();
    await expect(
      run('node', ['--import', 'tsx', 'bin/vobiz-archive.ts', 'erase', '--id', 'x', '--reason', 'DSR-1'], {
        env: withoutTable,
      }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TABLE_NAME'),
    });
  });

  it('erases through the real process against the emulators', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const { stdout } = await run(
      'node',
      ['--import', 'tsx', 'bin/vobiz-archive.ts', 'erase', '--id', idOf(recording), '--reason', 'DSR-9'],
      {
        env: { ...cliEnv(), POWERTOOLS_LOG_LEVEL: 'SILENT' },
      },
    );
    expect(summaryOf(stdout)).toMatchObject({ erased: 1 });
    expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.status).toBe('erased');
  });
});
