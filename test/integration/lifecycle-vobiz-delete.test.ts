import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3AudioArchive } from '../../functions/shared/adapters/s3-archive.js';
import { keys } from '../../functions/shared/domain/recording.js';
import { INDEXES } from '../../functions/shared/domain/table.js';
import { AuditEntryExistsError } from '../../functions/shared/lifecycle/ports.js';
import { buildBackfillSweep, readRecoverySettings } from '../../functions/redrive/dependencies.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import {
  archive,
  auditEntries,
  buildTestLifecycle,
  Crash,
  DAY,
  expectAudioIntact,
} from '../support/lifecycle.js';
import { FakeClock, FAST_VOBIZ, redriveEnv, type Emulators } from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';

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

const idOf = (recording: { metadata: Record<string, unknown> }) => recording.metadata.recording_id as string;
const plentyOfTime = () => 10 * 60_000;

function lifecycle(
  extraEnv: Record<string, string> = {},
  options: Omit<Parameters<typeof buildTestLifecycle>[2], 'clock'> = {},
) {
  return buildTestLifecycle(fake, env, {
    ...options,
    clock,
    extraEnv: { VOBIZ_DELETE_AFTER_DAYS: '0', ...extraEnv },
  });
}

async function rawDueKey(id: string): Promise<unknown> {
  const result = await env.documents.send(
    new GetCommand({ TableName: env.tableName, Key: keys.recording(id), ConsistentRead: true }),
  );
  return result.Item?.[INDEXES.due.partitionKey];
}

async function setRecord(id: string, values: Record<string, unknown>) {
  const names = Object.keys(values);
  await env.documents.send(
    new UpdateCommand({
      TableName: env.tableName,
      Key: keys.recording(id),
      UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#n${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, values[name]])),
    }),
  );
}

describe('verified delete at Vobiz (scheduled run)', () => {
  it('deletes an archived recording at Vobiz once its copy is verified, records it and audits it; the next run has nothing to do', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    expect(stored.s3_version_id).toBeDefined();
    expect(stored.s3_checksum_sha256).toBeDefined();
    const { run } = lifecycle();

    const summary = await run({ remainingMs: plentyOfTime });
    expect(summary.vobiz).toMatchObject({ due: 1, deleted: 1, refused: 0, deferred: 0 });
    expect(fake.deleteCalls).toEqual([{ recordingId: idOf(recording), status: 204 }]);
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record).toMatchObject({ status: 'stored', vobiz_deleted_at: new Date(clock.ms).toISOString() });
    await expectAudioIntact(env, recording, record!.s3_key!);
    const [audit] = await auditEntries(env, idOf(recording));
    expect(audit).toMatchObject({
      action: 'vobiz_delete',
      actor: { arn: 'system' },
      outcome: 'done',
      detail: expect.stringMatching(/deleted at Vobiz \(204\); archived copy verified \(S3 SHA-256 checksum/),
    });

    const again = await run({ remainingMs: plentyOfTime });
    expect(again.vobiz).toMatchObject({ due: 0, deleted: 0 });
    expect(fake.deleteCalls).toHaveLength(1);
  });

  it('waits for the stage delay, counted from archiving', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const { run } = lifecycle({ VOBIZ_DELETE_AFTER_DAYS: '30' });
    expect((await run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0 });
    clock.advance(30 * DAY - 60_000);
    expect((await run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0 });
    clock.advance(60_001);
    expect((await run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deleted: 1 });
  });

  it('reads at most two items per due record (the index entry and the record), whatever else the table holds', async () => {
    const recordings = Array.from({ length: 6 }, () => fake.addRecording());
    for (const recording of recordings) await archive(fake, env, clock, recording);
    clock.advance(DAY);
    // Not due: archived later.
    for (let i = 0; i < 4; i++) await archive(fake, env, clock, fake.addRecording());
    const life = lifecycle({ VOBIZ_DELETE_AFTER_DAYS: '1' });
    const summary = await life.run({ remainingMs: plentyOfTime });
    expect(summary.vobiz).toMatchObject({ due: 6, deleted: 6 });
    expect(summary.itemsRead).toBeLessThanOrEqual(2 * 6);
  });

  it('verifies the recorded version, not whatever is current at the key', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    // A later upload to the same key (e.g. an attempt that completed after its lease was lost).
    await new S3AudioArchive(env.s3, env.bucketName).store({
      key: stored.s3_key!,
      contentType: 'audio/mpeg',
      body: Readable.from([randomBytes(100)]),
      expectedBytes: 100,
    });
    expect((await lifecycle().run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ deleted: 1 });
  });

  it.each([
    [
      'the recorded version is gone from S3',
      async (id: string, key: string, version: string) => {
        await env.s3.send(new DeleteObjectCommand({ Bucket: env.bucketName, Key: key, VersionId: version }));
        return id;
      },
      /S3 has no version/,
    ],
    [
      'S3 holds another size',
      async (id: string) => setRecord(id, { size_bytes: 1 }).then(() => id),
      /S3 holds \d+ bytes, the record says 1/,
    ],
    [
      'the checksum S3 keeps differs',
      async (id: string) => setRecord(id, { s3_checksum_sha256: `${'A'.repeat(43)}=` }).then(() => id),
      /checksum S3 keeps differs/,
    ],
    [
      // A 404 in the configured account would say nothing about it: no request is sent at all.
      'the recording belongs to another account (the credentials changed since it was archived)',
      async (id: string) => setRecord(id, { account_id: 'MA_PREVIOUS01' }).then(() => id),
      /the recording belongs to Vobiz account MA_PREVIOUS01, the configured credentials are for MA_/,
    ],
  ])(
    'refuses when %s: nothing is deleted at Vobiz, the record is blocked and the refusal audited',
    async (_, tamper, reason) => {
      const recording = fake.addRecording();
      const stored = await archive(fake, env, clock, recording);
      await tamper(idOf(recording), stored.s3_key!, stored.s3_version_id!);
      const { run } = lifecycle();
      expect((await run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({
        due: 1,
        refused: 1,
        deleted: 0,
      });
      expect(fake.deleteCalls).toEqual([]);
      const record = await readRecord(env.documents, env.tableName, idOf(recording));
      expect(record!.vobiz_delete_blocked).toMatch(reason);
      expect(record!.vobiz_deleted_at).toBeUndefined();
      expect(await auditEntries(env, idOf(recording))).toEqual([
        expect.objectContaining({
          action: 'vobiz_delete',
          outcome: 'refused',
          detail: expect.stringMatching(reason),
        }),
      ]);
      // Blocked records leave the index: later runs do not read them again.
      expect((await run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0 });
    },
  );

  it('skips a recording on legal hold, and deletes it after the hold is released', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const life = lifecycle();
    await life.legalHold.place(idOf(recording), { actor: { arn: 'arn:aws:iam::1:user/legal' } });
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0, deleted: 0 });
    // Even a stale index entry (the hold landed after the index was read) is skipped: the record is read consistently.
    expect(await life.deleteAtVobiz(idOf(recording))).toEqual({ outcome: 'skipped', reason: 'held' });
    expect(fake.deleteCalls).toEqual([]);
    await life.legalHold.release(idOf(recording), { actor: { arn: 'arn:aws:iam::1:user/legal' } });
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deleted: 1 });
  });

  it('verifies audio archived before checksums and versions were recorded by reading it back', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(idOf(recording)),
        UpdateExpression: 'REMOVE s3_checksum_sha256, s3_version_id',
      }),
    );
    const life = lifecycle();
    const outcome = await life.deleteAtVobiz(idOf(recording));
    expect(outcome).toMatchObject({ outcome: 'deleted', verifiedBy: 'reread', vobiz: 'deleted' });
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record!.s3_version_id).toBe(stored.s3_version_id);
    expect((await auditEntries(env, idOf(recording)))[0]!.detail).toMatch(/read back and hashed/);
  });

  it('treats 404 at Vobiz (already deleted there) as done', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    await fetch(`${fake.baseUrl}/api/v1/Account/${fake.authId}/Recording/${idOf(recording)}/`, {
      method: 'DELETE',
      headers: { 'X-Auth-ID': fake.authId, 'X-Auth-Token': fake.authToken },
    });
    expect((await lifecycle().run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ alreadyAbsent: 1 });
    expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.vobiz_deleted_at).toBeDefined();
  });

  it('an audit entry whose key is taken cancels the change with it: reported as a failure, the record unchanged', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const life = lifecycle();
    const entry = {
      audit_id: 'f'.repeat(32),
      time: new Date(clock.ms).toISOString(),
      action: 'vobiz_delete' as const,
      recording_id: idOf(recording),
      actor: { arn: 'system' },
      outcome: 'done' as const,
    };
    expect(await life.repository.record(entry)).toBe('written');
    await expect(
      life.repository.markVobizDeleted(idOf(recording), { at: entry.time }, entry),
    ).rejects.toBeInstanceOf(AuditEntryExistsError);
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record!.vobiz_deleted_at).toBeUndefined();
    expect(await rawDueKey(idOf(recording))).toMatch(/^VDEL#/);
  });

  it('backs off on 429 (honouring Retry-After) and stops the run; the record is due again later', async () => {
    const recordings = [fake.addRecording(), fake.addRecording(), fake.addRecording()];
    for (const recording of recordings) await archive(fake, env, clock, recording);
    fake.api = { deleteFailures: { status: 429, times: 100, retryAfterSeconds: 0 } };
    const life = lifecycle({ LIFECYCLE_CONCURRENCY: '1' });
    const summary = await life.run({ remainingMs: plentyOfTime });
    expect(summary.vobiz).toMatchObject({
      due: 3,
      deferred: 1,
      notStarted: 2,
      stoppedBy: expect.stringMatching(/429/),
    });
    // The client's own retries (3 attempts), then no more calls this run.
    expect(fake.deleteCalls).toHaveLength(3);
    const deferredId = fake.deleteCalls[0]!.recordingId;
    const deferred = await readRecord(env.documents, env.tableName, deferredId);
    expect(deferred).toMatchObject({
      vobiz_delete_attempts: 1,
      vobiz_delete_error: expect.stringMatching(/429/),
    });

    fake.api = {};
    // The two that were not started are due at once; the deferred one after its backoff (5 min).
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 2, deleted: 2 });
    clock.advance(5 * 60_000 + 1);
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deleted: 1 });
    const done = await readRecord(env.documents, env.tableName, deferredId);
    expect(done!.vobiz_delete_attempts).toBeUndefined();
    expect(done!.vobiz_deleted_at).toBeDefined();
  });

  it('stops calling Vobiz after three failures in a row (5xx)', async () => {
    for (let i = 0; i < 5; i++) await archive(fake, env, clock, fake.addRecording());
    fake.api = { deleteFailures: { status: 503, times: 1000 } };
    const summary = await lifecycle({ LIFECYCLE_CONCURRENCY: '1' }).run({ remainingMs: plentyOfTime });
    expect(summary.vobiz).toMatchObject({
      due: 5,
      deferred: 3,
      notStarted: 2,
      stoppedBy: expect.stringMatching(/3 failures in a row/),
    });
  });

  it('the backfill sweep never re-enqueues a recording deleted at Vobiz (it is not listed any more); the archive keeps it and its audio', async () => {
    const recording = fake.addRecording({ addTimeMs: clock.ms - 60 * 60_000 });
    const stored = await archive(fake, env, clock, recording);
    await lifecycle().run({ remainingMs: plentyOfTime });
    const sweep = buildBackfillSweep(
      readRecoverySettings(redriveEnv(fake, env)),
      { authId: fake.authId, authToken: fake.authToken },
      fake.authId,
      { documents: env.documents, clock, vobiz: FAST_VOBIZ },
    );
    const summary = await sweep({ sinceMs: clock.ms - 2 * 60 * 60_000 });
    expect(summary).toMatchObject({ found: 0, enqueued: 0 });
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record).toMatchObject({
      status: 'stored',
      s3_version_id: stored.s3_version_id,
      vobiz_deleted_at: expect.any(String),
    });
    await expectAudioIntact(env, recording, record!.s3_key!);
  });
});

describe('verified delete at Vobiz: interrupted between steps, the next run finishes consistently', () => {
  it.each(['read', 'verified', 'deleted', 'marked'] as const)('crash after "%s"', async (step) => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const crashing = lifecycle(
      {},
      {
        steps: {
          vobiz: (at) => {
            if (at === step) throw new Crash(at);
          },
        },
      },
    );
    expect((await crashing.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ errors: 1 });
    const between = await readRecord(env.documents, env.tableName, idOf(recording));
    // Never "deleted" in the record while it is still at Vobiz.
    if (between!.vobiz_deleted_at) expect(fake.recording(idOf(recording))).toBeUndefined();

    await lifecycle().run({ remainingMs: plentyOfTime });
    const record = await readRecord(env.documents, env.tableName, idOf(recording));
    expect(record!.vobiz_deleted_at).toBeDefined();
    expect(fake.recording(idOf(recording))).toBeUndefined();
    await expectAudioIntact(env, recording, record!.s3_key!);
    // At most one delete that did anything; a repeat after a crash is a harmless 404.
    expect(fake.deleteCalls.filter((c) => c.status === 204)).toHaveLength(1);
    expect(fake.deleteCalls.every((c) => c.status === 204 || c.status === 404)).toBe(true);
    expect((await auditEntries(env, idOf(recording))).filter((a) => a.outcome === 'done')).toHaveLength(1);
  });
});
