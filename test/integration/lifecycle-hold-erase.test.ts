import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLifecycleApiHandler } from '../../functions/lifecycle-api/app.js';
import { S3AudioArchive } from '../../functions/shared/adapters/s3-archive.js';
import { S3AudioVersions } from '../../functions/shared/adapters/s3-lifecycle.js';
import { keys } from '../../functions/shared/domain/recording.js';
import { INDEXES } from '../../functions/shared/domain/table.js';
import { buildBackfillSweep, readRecoverySettings } from '../../functions/redrive/dependencies.js';
import { VobizFake, type FakeRecording } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { httpEvent, lambdaContext, type HttpEventInput } from '../support/http-events.js';
import { expectDocumentedResult } from '../support/openapi.js';
import {
  archive,
  auditEntries,
  buildTestLifecycle,
  Crash,
  DAY,
  expectAudioIntact,
} from '../support/lifecycle.js';
import { listAll, loadLookupHandler, type LookupResponse } from '../support/lookup-client.js';
import { enqueue, FakeClock, FAST_VOBIZ, redriveEnv, type Emulators } from '../support/redrive.js';
import { deliver, readRecord, webhookEnv, webhookHandler } from '../support/webhook.js';

/**
 * Legal holds and erasure through the lifecycle API handler (the real middy handler over the real use
 * cases, emulators and Vobiz fake), and the audit trail through the lookup handler.
 */
let env: Emulators;
const fake = new VobizFake();
let clock: FakeClock;
let lookup: (input: HttpEventInput) => Promise<LookupResponse>;

const LEGAL = 'arn:aws:iam::123456789012:user/legal';
const DPO = 'arn:aws:sts::123456789012:assumed-role/dpo/jane';

beforeAll(async () => {
  await fake.start();
  env = await useEmulators();
  lookup = await loadLookupHandler({
    TABLE_NAME: env.tableName,
    BUCKET_NAME: env.bucketName,
    CURSOR_SIGNING_KEY: 'hold-erase-test-key-0123456789abcdefghijkl',
  });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  clock = new FakeClock();
});

const idOf = (recording: FakeRecording) => recording.metadata.recording_id as string;

function lifecycle(options: Omit<Parameters<typeof buildTestLifecycle>[2], 'clock'> = {}) {
  return buildTestLifecycle(fake, env, { ...options, clock });
}

/** The lifecycle API as API Gateway invokes it, signed by `caller`. */
function api(options: Omit<Parameters<typeof buildTestLifecycle>[2], 'clock'> = {}) {
  const handler = createLifecycleApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
    load: () => Promise.resolve(lifecycle(options)),
  });
  return async (input: HttpEventInput & { caller?: string }) => {
    const event = httpEvent(input);
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      iam: { userArn: input.caller ?? LEGAL },
    };
    const result = await handler(event, lambdaContext());
    expectDocumentedResult(event, result);
    return {
      status: result.statusCode ?? 0,
      headers: (result.headers ?? {}) as Record<string, string>,
      body: result.body ? JSON.parse(result.body) : undefined,
    };
  };
}

async function rawItem(id: string): Promise<Record<string, unknown>> {
  const result = await env.documents.send(
    new GetCommand({ TableName: env.tableName, Key: keys.recording(id), ConsistentRead: true }),
  );
  return result.Item ?? {};
}

const versions = () => new S3AudioVersions(env.s3, env.bucketName);

describe('legal hold', () => {
  it('PUT holds the exact S3 version and flags the record, out of retention and the delete at Vobiz; audited with the caller', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    expect(await rawItem(idOf(recording))).toMatchObject({
      [INDEXES.due.partitionKey]: expect.stringMatching(/^VDEL#/),
      [INDEXES.expiry.partitionKey]: expect.stringMatching(/^EXP#/),
    });
    const call = api();
    const response = await call({
      method: 'PUT',
      path: `/recordings/${idOf(recording)}/legal-hold`,
      body: JSON.stringify({ reason: 'case 2026-17' }),
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      recording_id: idOf(recording),
      legal_hold: true,
      legal_hold_by: LEGAL,
      legal_hold_reason: 'case 2026-17',
      s3_version_id: stored.s3_version_id,
      already_held: false,
    });
    expect((await versions().head(stored.s3_key!, stored.s3_version_id))?.legalHold).toBe(true);
    const item = await rawItem(idOf(recording));
    expect(item[INDEXES.due.partitionKey]).toBeUndefined();
    expect(item[INDEXES.expiry.partitionKey]).toBeUndefined();

    const again = await call({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` });
    expect(again.body).toMatchObject({
      legal_hold: true,
      already_held: true,
      legal_hold_reason: 'case 2026-17',
    });
    expect(await auditEntries(env, idOf(recording))).toEqual([
      expect.objectContaining({
        action: 'legal_hold',
        actor: LEGAL,
        outcome: 'done',
        detail: expect.stringMatching(/case 2026-17/),
      }),
    ]);
  });

  it('DELETE releases the S3 hold and the flag, and puts the record back in the lifecycle indexes', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    const call = api();
    await call({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` });
    clock.advance(1000);
    const released = await call({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}/legal-hold`,
      caller: DPO,
    });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ legal_hold: false, was_held: true });
    expect((await versions().head(stored.s3_key!, stored.s3_version_id))?.legalHold).toBe(false);
    expect(await rawItem(idOf(recording))).toMatchObject({
      [INDEXES.due.partitionKey]: expect.stringMatching(/^VDEL#/),
      [INDEXES.expiry.partitionKey]: expect.stringMatching(/^EXP#/),
    });
    expect((await rawItem(idOf(recording))).legal_hold).toBeUndefined();
    const again = await call({ method: 'DELETE', path: `/recordings/${idOf(recording)}/legal-hold` });
    expect(again.body).toMatchObject({ legal_hold: false, was_held: false });
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.actor])).toEqual([
      ['legal_hold', LEGAL],
      ['legal_hold_release', DPO],
    ]);
  });

  it('answers 404 unknown, 409 not archived, 400 malformed, 405 other methods', async () => {
    const call = api();
    expect((await call({ method: 'PUT', path: '/recordings/nobody-here/legal-hold' })).status).toBe(404);
    const pending = fake.addRecording();
    await enqueue(env, clock, pending, fake.authId);
    const notStored = await call({ method: 'PUT', path: `/recordings/${idOf(pending)}/legal-hold` });
    expect(notStored.status).toBe(409);
    expect(notStored.body.error.code).toBe('not_stored');
    expect((await call({ method: 'PUT', path: '/recordings/bad..id/legal-hold' })).status).toBe(400);
    const badBody = await call({
      method: 'PUT',
      path: `/recordings/${idOf(pending)}/legal-hold`,
      body: '{"why":1}',
    });
    expect(badBody.status).toBe(400);
    const wrong = await call({ method: 'POST', path: `/recordings/${idOf(pending)}/legal-hold` });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('PUT, DELETE');
  });

  it.each(['flagged', 's3_held'] as const)(
    'placing, interrupted after "%s": protected meanwhile, repeating the PUT finishes it',
    async (step) => {
      const recording = fake.addRecording();
      const stored = await archive(fake, env, clock, recording);
      const crashing = api({
        steps: {
          hold: (at) => {
            if (at === step) throw new Crash(at);
          },
        },
      });
      expect(
        (await crashing({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` })).status,
      ).toBe(500);
      // The record is flagged first: retention, erasure and the delete at Vobiz already leave it alone.
      expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.legal_hold).toBe(true);
      expect(
        (await lifecycle().eraseRecording(idOf(recording), { actor: DPO, reason: 'test' })).outcome,
      ).toBe('held');
      expect((await api()({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` })).status).toBe(
        200,
      );
      expect((await versions().head(stored.s3_key!, stored.s3_version_id))?.legalHold).toBe(true);
      expect(
        (await auditEntries(env, idOf(recording))).filter((a) => a.action === 'legal_hold'),
      ).toHaveLength(1);
    },
  );

  it.each(['s3_released', 'unflagged'] as const)(
    'releasing, interrupted after "%s": repeating the DELETE finishes it',
    async (step) => {
      const recording = fake.addRecording();
      const stored = await archive(fake, env, clock, recording);
      await api()({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` });
      const crashing = api({
        steps: {
          hold: (at) => {
            if (at === step) throw new Crash(at);
          },
        },
      });
      expect(
        (await crashing({ method: 'DELETE', path: `/recordings/${idOf(recording)}/legal-hold` })).status,
      ).toBe(500);
      if (step === 's3_released')
        expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.legal_hold).toBe(true);
      expect(
        (await api()({ method: 'DELETE', path: `/recordings/${idOf(recording)}/legal-hold` })).status,
      ).toBe(200);
      expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.legal_hold).toBeUndefined();
      expect((await versions().head(stored.s3_key!, stored.s3_version_id))?.legalHold).toBe(false);
      expect(
        (await auditEntries(env, idOf(recording))).filter((a) => a.action === 'legal_hold_release'),
      ).toHaveLength(1);
    },
  );
});

/** What a tombstone may hold: nothing about the call, the people or the audio. */
const TOMBSTONE_FIELDS = [
  'recording_id',
  'status',
  'erasure_id',
  'erased_at',
  'erasure_reason',
  'erased_by',
  'vobiz_deleted_at',
  'updated_at',
];

describe('erasure', () => {
  it('DELETE /recordings/{id} deletes every version, leaves a tombstone without personal data, and is audited', async () => {
    const recording = fake.addRecording({ call_uuid: 'call-erase-1' });
    const stored = await archive(fake, env, clock, recording);
    await new S3AudioArchive(env.s3, env.bucketName).store({
      key: stored.s3_key!,
      contentType: 'audio/mpeg',
      body: Readable.from([randomBytes(64)]),
      expectedBytes: 64,
    });
    const response = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-2026-0042' },
      caller: DPO,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      recording_id: idOf(recording),
      status: 'erased',
      erasure_reason: 'DSR-2026-0042',
      erased_by: DPO,
      versions_deleted: 2,
      vobiz: null,
      already_erased: false,
    });
    expect(await versions().listVersions(stored.s3_key!)).toEqual([]);
    const item = await rawItem(idOf(recording));
    const visible = Object.keys(item).filter(
      (name) => !['pk', 'sk', 'gsi_status_pk', 'gsi_time_sk'].includes(name),
    );
    for (const name of visible) expect(TOMBSTONE_FIELDS, name).toContain(name);
    expect(JSON.stringify(item)).not.toContain(String(recording.metadata.from_number).slice(1));
    expect(item.gsi_time_pk).toBeUndefined();

    const got = await lookup({ path: `/recordings/${idOf(recording)}` });
    expect(got.body).toMatchObject({
      recording_id: idOf(recording),
      status: 'erased',
      erased_at: expect.any(String),
    });
    const audio = await lookup({ path: `/recordings/${idOf(recording)}/audio` });
    expect([audio.status, audio.body.error.code]).toEqual([410, 'erased']);
    expect((await listAll(lookup, { call_uuid: 'call-erase-1' })).ids).toEqual([]);
    expect((await listAll(lookup, { status: 'erased' })).ids).toContain(idOf(recording));
    expect(await auditEntries(env, idOf(recording))).toEqual([
      expect.objectContaining({
        action: 'erase',
        actor: DPO,
        outcome: 'done',
        detail: expect.stringMatching(/DSR-2026-0042; 2 audio version/),
      }),
    ]);

    // Repeating it changes nothing.
    const again = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'again' },
    });
    expect(again.body).toMatchObject({ already_erased: true, erasure_reason: 'DSR-2026-0042' });
    expect(await auditEntries(env, idOf(recording))).toHaveLength(1);
  });

  it('a late callback for an erased recording is answered 200 and stores nothing; the backfill sweep does not bring it back', async () => {
    const recording = fake.addRecording({ addTimeMs: Date.now() - 30 * 60_000 });
    await archive(fake, env, clock, recording);
    await api()({ method: 'DELETE', path: `/recordings/${idOf(recording)}`, query: { reason: 'DSR-1' } });
    const before = await rawItem(idOf(recording));
    const webhook = webhookHandler(webhookEnv(fake, env));
    const answer = await deliver(webhook, fake, recording);
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toEqual({ recording_id: idOf(recording), status: 'erased' });
    expect(await rawItem(idOf(recording))).toEqual(before);

    // Still listed at Vobiz (not deleted there): the sweep knows it and enqueues nothing.
    const sweep = buildBackfillSweep(
      readRecoverySettings(redriveEnv(fake, env)),
      { authId: fake.authId, authToken: fake.authToken },
      fake.authId,
      { documents: env.documents, clock, vobiz: FAST_VOBIZ },
    );
    const summary = await sweep({ sinceMs: Date.now() - 60 * 60_000, untilMs: Date.now() });
    expect(summary.enqueuedIds).not.toContain(idOf(recording));
    expect(summary.alreadyRemoved).toBeGreaterThanOrEqual(1);
    expect(await rawItem(idOf(recording))).toEqual(before);
  });

  it('also_vobiz deletes it at Vobiz too; an unknown id leaves a tombstone so that nothing is ever archived under it', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const erased = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-2', also_vobiz: 'true' },
    });
    expect(erased.body).toMatchObject({ vobiz: 'deleted', vobiz_deleted_at: expect.any(String) });
    expect(fake.recording(idOf(recording))).toBeUndefined();

    const never = fake.addRecording();
    const unknown = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(never)}`,
      query: { reason: 'DSR-3' },
    });
    expect(unknown.body).toMatchObject({ status: 'erased', versions_deleted: 0 });
    const answer = await deliver(webhookHandler(webhookEnv(fake, env)), fake, never);
    expect(answer.json).toEqual({ recording_id: idOf(never), status: 'erased' });
    expect((await readRecord(env.documents, env.tableName, idOf(never)))!.status).toBe('erased');
  });

  it('refuses a held recording (409 legal_hold), deletes nothing and audits the refusal', async () => {
    const recording = fake.addRecording();
    const stored = await archive(fake, env, clock, recording);
    await api()({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` });
    clock.advance(1000);
    const refused = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-4' },
      caller: DPO,
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'legal_hold']);
    await expectAudioIntact(env, recording, stored.s3_key!);
    expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.status).toBe('stored');
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.outcome, a.actor])).toEqual([
      ['legal_hold', 'done', LEGAL],
      ['erase', 'refused', DPO],
    ]);
  });

  it('answers 409 archiving (with Retry-After) while a worker holds the recording, and 400 without a reason', async () => {
    const recording = fake.addRecording();
    const id = await enqueue(env, clock, recording, fake.authId);
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(id),
        UpdateExpression: 'SET lease_owner = :o, lease_until_ms = :u',
        ExpressionAttributeValues: { ':o': 'worker-1', ':u': clock.ms + 30_000 },
      }),
    );
    const busy = await api()({ method: 'DELETE', path: `/recordings/${id}`, query: { reason: 'DSR-5' } });
    expect([busy.status, busy.body.error.code, busy.headers['retry-after']]).toEqual([
      409,
      'archiving',
      '30',
    ]);
    const noReason = await api()({ method: 'DELETE', path: `/recordings/${id}` });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/reason is required/);
  });

  it.each(['intent', 'audio_deleted', 'vobiz_deleted', 'tombstoned'] as const)(
    'interrupted after "%s": repeating the request, or the scheduled run 10 minutes later, finishes it consistently',
    async (step) => {
      for (const finisher of ['request', 'schedule'] as const) {
        const recording = fake.addRecording();
        const stored = await archive(fake, env, clock, recording);
        const crashing = api({
          steps: {
            erase: (at) => {
              if (at === step) throw new Crash(at);
            },
          },
        });
        const first = await crashing({
          method: 'DELETE',
          path: `/recordings/${idOf(recording)}`,
          query: { reason: 'DSR-6', also_vobiz: 'true' },
          caller: DPO,
        });
        expect(first.status).toBe(500);
        const between = await readRecord(env.documents, env.tableName, idOf(recording));
        if (step !== 'tombstoned') {
          // Meanwhile: marked as being erased, never archived again, audio answered 410.
          expect(between!.status).toBe('erasing');
          expect((await lookup({ path: `/recordings/${idOf(recording)}/audio` })).status).toBe(410);
        }
        if (finisher === 'request') {
          const again = await api()({
            method: 'DELETE',
            path: `/recordings/${idOf(recording)}`,
            query: { reason: 'other', also_vobiz: 'true' },
          });
          expect(again.status).toBe(200);
        } else {
          clock.advance(11 * 60_000);
          const summary = await lifecycle().run({ remainingMs: () => 10 * 60_000 });
          if (step !== 'tombstoned') expect(summary.erasures.finished).toBeGreaterThanOrEqual(1);
        }
        const record = await readRecord(env.documents, env.tableName, idOf(recording));
        expect(record).toMatchObject({
          status: 'erased',
          erasure_reason: 'DSR-6',
          erased_by: DPO,
          vobiz_deleted_at: expect.any(String),
        });
        expect(await versions().listVersions(stored.s3_key!)).toEqual([]);
        expect(fake.recording(idOf(recording))).toBeUndefined();
        expect((await auditEntries(env, idOf(recording))).filter((a) => a.action === 'erase')).toHaveLength(
          1,
        );
      }
    },
  );
});

describe('GET /audit', () => {
  it('lists the trail newest first, filtered by action and time, paginated with a sealed cursor', async () => {
    // Later than any other test's entries, one second apart.
    clock.advance(DAY);
    const start = new Date(clock.ms).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const recording = fake.addRecording();
      await archive(fake, env, clock, recording);
      await api()({ method: 'PUT', path: `/recordings/${idOf(recording)}/legal-hold` });
      clock.advance(1000);
      await api()({ method: 'DELETE', path: `/recordings/${idOf(recording)}/legal-hold` });
      ids.push(idOf(recording));
    }
    const page = await lookup({
      path: '/audit',
      query: { action: 'legal_hold_release', since: start, limit: '2' },
    });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.items[0]).toEqual({
      audit_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      time: expect.any(String),
      action: 'legal_hold_release',
      recording_id: ids[2],
      actor: LEGAL,
      outcome: 'done',
      detail: expect.any(String),
    });
    const next = await lookup({
      path: '/audit',
      query: { action: 'legal_hold_release', since: start, limit: '2', cursor: page.body.next_cursor },
    });
    expect((next.body.items as { recording_id: string }[]).map((a) => a.recording_id)).toEqual([ids[0]]);
    const all = await listAll(async (input) => lookup({ ...input, path: '/audit' }), { since: start });
    expect(all.ids).toEqual([ids[2], ids[2], ids[1], ids[1], ids[0], ids[0]]);
    expect((await lookup({ path: '/audit', query: { action: 'delete_everything' } })).status).toBe(400);
    const foreign = await lookup({
      path: '/audit',
      query: { action: 'legal_hold', cursor: page.body.next_cursor },
    });
    expect([foreign.status, foreign.body.error.code]).toEqual([400, 'invalid_cursor']);
    expect(
      (await lookup({ path: '/audit', query: { until: new Date(Date.now() - 365 * DAY).toISOString() } }))
        .body.items,
    ).toEqual([]);
  });
});
