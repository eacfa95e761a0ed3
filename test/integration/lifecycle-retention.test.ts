import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3AudioArchive } from '../../functions/shared/adapters/s3-archive.js';
import { S3AudioVersions } from '../../functions/shared/adapters/s3-lifecycle.js';
import { keys } from '../../functions/shared/domain/recording.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { listAll, loadLookupHandler, type LookupResponse } from '../support/lookup-client.js';
import type { HttpEventInput } from '../support/http-events.js';
import { archive, auditEntries, buildTestLifecycle, Crash, DAY } from '../support/lifecycle.js';
import { FakeClock, type Emulators } from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';

/**
 * Retention in the application: audio older than RETENTION_DAYS (by add_time) loses every S3 version,
 * the record becomes `expired` (metadata kept, audio fields cleared), `/audio` answers 410.
 */
let env: Emulators;
const fake = new VobizFake();
let clock: FakeClock;
let lookup: (input: HttpEventInput) => Promise<LookupResponse>;

// One table for the file: the lookup handler reads its configuration once, at import.
beforeAll(async () => {
  await fake.start();
  env = await useEmulators();
  lookup = await loadLookupHandler({
    TABLE_NAME: env.tableName,
    BUCKET_NAME: env.bucketName,
    CURSOR_SIGNING_KEY: 'retention-test-key-0123456789abcdefghijkl',
  });
});
afterAll(async () => {
  await fake.stop();
});

// Each test's clock starts 1,000 days before the previous one's: earlier tests' recordings are then
// in its future, never due for it.
let epoch = Date.now();
beforeEach(() => {
  epoch -= 1000 * DAY;
  clock = new FakeClock(epoch);
});

const plentyOfTime = () => 10 * 60_000;
const idOf = (recording: { metadata: Record<string, unknown> }) => recording.metadata.recording_id as string;

function lifecycle(options: Omit<Parameters<typeof buildTestLifecycle>[2], 'clock'> = {}) {
  return buildTestLifecycle(fake, env, {
    ...options,
    clock,
    extraEnv: { RETENTION_DAYS: '30', ...options.extraEnv },
  });
}

/** A recording made `ageDays` before the clock's now, archived now. */
async function archivedAged(ageDays: number, callUuid?: string) {
  const recording = fake.addRecording({ addTimeMs: clock.ms - ageDays * DAY, call_uuid: callUuid });
  const record = await archive(fake, env, clock, recording);
  return { recording, record, id: idOf(recording) };
}

describe('retention', () => {
  it('expires audio past retention: every version deleted, metadata kept, /audio 410, status=expired listed, audited', async () => {
    const old = await archivedAged(31, 'call-retention-1');
    const young = await archivedAged(29, 'call-retention-1');
    // A second version of the old one's key (e.g. an overwritten attempt): it must go too.
    await new S3AudioArchive(env.s3, env.bucketName).store({
      key: old.record.s3_key!,
      contentType: 'audio/mpeg',
      body: Readable.from([randomBytes(64)]),
      expectedBytes: 64,
    });
    const versions = new S3AudioVersions(env.s3, env.bucketName);
    expect(await versions.listVersions(old.record.s3_key!)).toHaveLength(2);

    const summary = await lifecycle().run({ remainingMs: plentyOfTime });
    expect(summary.expiry).toMatchObject({ due: 1, expired: 1, versionsDeleted: 2 });
    expect(await versions.listVersions(old.record.s3_key!)).toEqual([]);
    expect(await versions.listVersions(young.record.s3_key!)).toHaveLength(1);

    const record = await readRecord(env.documents, env.tableName, old.id);
    expect(record).toMatchObject({
      status: 'expired',
      expired_at: new Date(clock.ms).toISOString(),
      call_uuid: old.record.call_uuid,
      from_number: old.record.from_number,
      add_time: old.record.add_time,
    });
    for (const field of [
      's3_key',
      's3_bucket',
      'size_bytes',
      'sha256',
      'content_type',
      's3_version_id',
      's3_checksum_sha256',
    ])
      expect(record, field).not.toHaveProperty(field);

    const audio = await lookup({ path: `/recordings/${old.id}/audio` });
    expect(audio.status).toBe(410);
    expect(audio.body.error.code).toBe('expired');
    expect((await lookup({ path: `/recordings/${young.id}/audio` })).status).toBe(302);
    const listed = await listAll(lookup, { call_uuid: 'call-retention-1', status: 'expired' });
    expect(listed.ids).toEqual([old.id]);
    expect((await listAll(lookup, { call_uuid: 'call-retention-1', status: 'stored' })).ids).toEqual([
      young.id,
    ]);

    const [expiry] = await auditEntries(env, old.id);
    expect(expiry).toMatchObject({
      action: 'expire',
      actor: { arn: 'system' },
      outcome: 'done',
      detail: 'retention of 30 days reached; 2 audio version(s) deleted, metadata kept',
    });
    // The immutable trail keeps neither the time of the call nor the key (which holds its date).
    expect(expiry!.detail).not.toContain(old.record.add_time!.slice(0, 10));
    expect(expiry!.detail).not.toContain('recordings/');
    // Expired records leave the index: the next run reads nothing.
    expect((await lifecycle().run({ remainingMs: plentyOfTime })).expiry).toMatchObject({ due: 0 });
  });

  it('keeps a held recording past retention, and expires it once released', async () => {
    const old = await archivedAged(40);
    const life = lifecycle();
    await life.legalHold.place(old.id, { actor: { arn: 'arn:aws:iam::1:user/legal' } });
    expect((await life.run({ remainingMs: plentyOfTime })).expiry).toMatchObject({ due: 0, expired: 0 });
    // A stale read of the index (hold placed just after) is refused by the record's condition.
    expect(await life.expireRecording(old.id, { retentionMs: 30 * DAY })).toEqual({
      outcome: 'skipped',
      reason: 'held',
    });
    expect((await readRecord(env.documents, env.tableName, old.id))!.status).toBe('stored');
    await life.legalHold.release(old.id, { actor: { arn: 'arn:aws:iam::1:user/legal' } });
    expect((await life.run({ remainingMs: plentyOfTime })).expiry).toMatchObject({ due: 1, expired: 1 });
  });

  it('a version held by S3 Object Lock outside the archive is kept, and the record becomes held', async () => {
    const old = await archivedAged(40);
    await new S3AudioVersions(env.s3, env.bucketName).setLegalHold(
      old.record.s3_key!,
      old.record.s3_version_id!,
      true,
    );
    const summary = await lifecycle().run({ remainingMs: plentyOfTime });
    expect(summary.expiry).toMatchObject({ due: 1, heldAtS3: 1, expired: 0 });
    const record = await readRecord(env.documents, env.tableName, old.id);
    expect(record).toMatchObject({
      status: 'stored',
      legal_hold: true,
      legal_hold_by: { arn: 'system' },
      legal_hold_reason: expect.stringMatching(/outside the archive/),
    });
    expect((await lookup({ path: `/recordings/${old.id}/audio` })).status).toBe(302);
    // The refused expiry, then the audio link just handed out (who listened).
    expect((await auditEntries(env, old.id)).map((a) => [a.action, a.outcome])).toEqual([
      ['expire', 'refused'],
      ['audio_link', 'done'],
    ]);
  });
});

describe('retention implies the delete at Vobiz', () => {
  it('an expired recording still at Vobiz stays due and is deleted there (no delay of its own set); Vobiz down: retried with backoff', async () => {
    const old = await archivedAged(31);
    const life = lifecycle();
    const first = await life.run({ remainingMs: plentyOfTime });
    expect(first.expiry).toMatchObject({ expired: 1 });
    expect(fake.recording(old.id)).toBeDefined();

    fake.api = { deleteFailures: { status: 503, times: 3 } };
    try {
      expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deferred: 1 });
    } finally {
      fake.api = {};
    }
    expect(await readRecord(env.documents, env.tableName, old.id)).toMatchObject({
      status: 'expired',
      vobiz_delete_attempts: 1,
    });
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0 });
    clock.advance(5 * 60_000 + 1);
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deleted: 1 });
    expect(fake.recording(old.id)).toBeUndefined();
    expect(await readRecord(env.documents, env.tableName, old.id)).toMatchObject({
      status: 'expired',
      vobiz_deleted_at: new Date(clock.ms).toISOString(),
    });
    expect((await auditEntries(env, old.id)).map((a) => [a.action, a.outcome, a.detail])).toEqual([
      ['expire', 'done', expect.any(String)],
      [
        'vobiz_delete',
        'done',
        'deleted at Vobiz (204); retention reached, its audio was expired here (nothing to verify)',
      ],
    ]);
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 0 });
  });

  it('a recording kept at Vobiz because its copy failed verification is deleted there once retention expires it', async () => {
    const old = await archivedAged(31);
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(old.id),
        UpdateExpression: 'SET size_bytes = :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const life = lifecycle({ extraEnv: { VOBIZ_DELETE_AFTER_DAYS: '0' } });
    const first = await life.run({ remainingMs: plentyOfTime });
    expect([first.vobiz?.refused, first.expiry?.expired]).toEqual([1, 1]);
    expect(fake.recording(old.id)).toBeDefined();
    expect((await life.run({ remainingMs: plentyOfTime })).vobiz).toMatchObject({ due: 1, deleted: 1 });
    expect(fake.recording(old.id)).toBeUndefined();
    const record = await readRecord(env.documents, env.tableName, old.id);
    expect(record).toMatchObject({ status: 'expired', vobiz_deleted_at: expect.any(String) });
    expect(record).not.toHaveProperty('vobiz_delete_blocked');
  });
});

describe('retention: interrupted between steps, the next run finishes consistently', () => {
  it.each(['marked', 'audio_deleted', 'finished'] as const)('crash after "%s"', async (step) => {
    const old = await archivedAged(31);
    const crashing = lifecycle({
      steps: {
        expire: (at) => {
          if (at === step) throw new Crash(at);
        },
      },
    });
    expect((await crashing.run({ remainingMs: plentyOfTime })).expiry).toMatchObject({ errors: 1 });
    const between = await readRecord(env.documents, env.tableName, old.id);
    const versions = new S3AudioVersions(env.s3, env.bucketName);
    if (step === 'finished') expect(between!.status).toBe('expired');
    else {
      // In between, the record says the audio is going: never "stored" while the audio is gone.
      expect(between!.status).toBe('expiring');
      expect((await lookup({ path: `/recordings/${old.id}/audio` })).status).toBe(410);
    }

    await lifecycle().run({ remainingMs: plentyOfTime });
    const record = await readRecord(env.documents, env.tableName, old.id);
    expect(record!.status).toBe('expired');
    expect(await versions.listVersions(old.record.s3_key!)).toEqual([]);
    expect((await auditEntries(env, old.id)).filter((a) => a.action === 'expire')).toHaveLength(1);
  });
});
