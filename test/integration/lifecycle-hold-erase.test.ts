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
import { LEASE_AFTERLIFE_MS } from '../../functions/shared/lifecycle/erase-recording.js';
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

/** A console user: the identity pool's role (the same for every admin), told apart by identity and subject. */
const CONSOLE_ROLE =
  'arn:aws:sts::123456789012:assumed-role/vobiz-archive-console/CognitoIdentityCredentials';
const POOL = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1';
function consoleUser(n: number) {
  return {
    userArn: CONSOLE_ROLE,
    cognitoIdentity: {
      amr: ['authenticated', POOL, `${POOL}:CognitoSignIn:0000000${n}-aaaa-4bbb-8ccc-000000000000`],
      identityId: `us-east-1:0000000${n}-1111-4222-8333-000000000000`,
      identityPoolId: 'us-east-1:pool',
    },
  };
}
function consoleActor(n: number) {
  return {
    arn: CONSOLE_ROLE,
    cognito_identity_id: `us-east-1:0000000${n}-1111-4222-8333-000000000000`,
    user_sub: `0000000${n}-aaaa-4bbb-8ccc-000000000000`,
  };
}

/** The lifecycle API as API Gateway invokes it, signed by `caller` (an ARN, or a console user's context). */
function api(options: Omit<Parameters<typeof buildTestLifecycle>[2], 'clock'> = {}) {
  const handler = createLifecycleApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
    load: () => Promise.resolve(lifecycle(options)),
  });
  return async (input: HttpEventInput & { caller?: string | ReturnType<typeof consoleUser> }) => {
    const event = httpEvent(input);
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      iam: typeof input.caller === 'object' ? input.caller : { userArn: input.caller ?? LEGAL },
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
      body: JSON.stringify({ reason: 'case-2026-17' }),
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      recording_id: idOf(recording),
      legal_hold: true,
      legal_hold_by: { arn: LEGAL },
      legal_hold_reason: 'case-2026-17',
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
      legal_hold_reason: 'case-2026-17',
    });
    expect(await auditEntries(env, idOf(recording))).toEqual([
      expect.objectContaining({
        action: 'legal_hold',
        actor: { arn: LEGAL },
        outcome: 'done',
        detail: expect.stringMatching(/case-2026-17/),
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
      ['legal_hold', { arn: LEGAL }],
      ['legal_hold_release', { arn: DPO }],
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
        (
          await lifecycle().eraseRecording(idOf(recording), {
            actor: { arn: DPO },
            reason: 'test',
            alsoVobiz: true,
          })
        ).outcome,
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
  'account_id',
  'status',
  'erasure_id',
  'erased_at',
  'erasure_reason',
  'erasure_also_vobiz',
  'erased_by',
  'vobiz_deleted_at',
  'vobiz_delete_attempts',
  'vobiz_delete_error',
  'updated_at',
];

/** The record's attributes other than its keys, and the index keys it has. */
function shapeOf(item: Record<string, unknown>) {
  return {
    fields: Object.keys(item).filter((name) => name !== 'pk' && name !== 'sk' && !name.startsWith('gsi_')),
    indexKeys: Object.keys(item).filter((name) => name.startsWith('gsi_')),
  };
}

describe('erasure', () => {
  it('DELETE /recordings/{id} deletes every version and the copy at Vobiz, leaves a tombstone without personal data, and is audited', async () => {
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
      erased_by: { arn: DPO },
      versions_deleted: 2,
      vobiz: 'deleted',
      vobiz_deleted_at: expect.any(String),
      already_erased: false,
    });
    expect(await versions().listVersions(stored.s3_key!)).toEqual([]);
    expect(fake.recording(idOf(recording))).toBeUndefined();
    const item = await rawItem(idOf(recording));
    const shape = shapeOf(item);
    for (const name of shape.fields) expect(TOMBSTONE_FIELDS, name).toContain(name);
    // Done at Vobiz too: listed under status=erased, and due for nothing.
    expect(shape.indexKeys.sort()).toEqual(['gsi_status_pk', 'gsi_time_sk']);
    expect(JSON.stringify(item)).not.toContain(String(recording.metadata.from_number).slice(1));

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
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.actor, a.detail])).toEqual([
      ['erase', { arn: DPO }, 'DSR-2026-0042; 2 audio version(s) deleted; the delete at Vobiz follows'],
      ['vobiz_delete', { arn: DPO }, 'deleted at Vobiz (204); the recording was erased here'],
    ]);

    // Repeating it changes nothing.
    const again = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-again' },
    });
    expect(again.body).toMatchObject({ already_erased: true, erasure_reason: 'DSR-2026-0042' });
    expect(await auditEntries(env, idOf(recording))).toHaveLength(2);
  });

  it('also_vobiz=false keeps the copy at Vobiz; a late callback is answered 200 and stores nothing; the backfill sweep does not bring it back', async () => {
    const recording = fake.addRecording({ addTimeMs: Date.now() - 30 * 60_000 });
    await archive(fake, env, clock, recording);
    const kept = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-1', also_vobiz: 'false' },
    });
    expect(kept.body).toMatchObject({ status: 'erased', vobiz: null, vobiz_deleted_at: null });
    expect(fake.recording(idOf(recording))).toBeDefined();
    expect(fake.deleteCalls.filter((c) => c.recordingId === idOf(recording))).toEqual([]);
    const before = await rawItem(idOf(recording));
    expect(before).toMatchObject({ erasure_also_vobiz: false });
    expect(before[INDEXES.due.partitionKey]).toBeUndefined();
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

    // Asked again without also_vobiz=false: the copy at Vobiz goes now.
    const later = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-1' },
    });
    expect(later.body).toMatchObject({
      already_erased: true,
      vobiz: 'deleted',
      vobiz_deleted_at: expect.any(String),
    });
    expect(fake.recording(idOf(recording))).toBeUndefined();
  });

  it('an unknown id leaves a tombstone so that nothing is ever archived under it, and is deleted at Vobiz too', async () => {
    const never = fake.addRecording();
    const unknown = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(never)}`,
      query: { reason: 'DSR-3' },
    });
    expect(unknown.body).toMatchObject({ status: 'erased', versions_deleted: 0, vobiz: 'deleted' });
    expect(fake.recording(idOf(never))).toBeUndefined();
    const answer = await deliver(webhookHandler(webhookEnv(fake, env)), fake, never);
    expect(answer.json).toEqual({ recording_id: idOf(never), status: 'erased' });
    expect((await readRecord(env.documents, env.tableName, idOf(never)))!.status).toBe('erased');
  });

  it('the first step strips personal data and lookup keys; with Vobiz down the erasure finishes, and the scheduled run deletes it there later, audited', async () => {
    const recording = fake.addRecording({ call_uuid: 'call-erase-down' });
    const stored = await archive(fake, env, clock, recording);
    clock.advance(60_000); // the erasure's own times differ from the call's
    let during: Record<string, unknown> = {};
    const interrupted = api({
      steps: {
        erase: async (at) => {
          if (at === 'intent') during = await rawItem(idOf(recording));
        },
      },
    });
    fake.api = { deleteFailures: { status: 503, times: 3 } };
    let response: Awaited<ReturnType<typeof interrupted>>;
    try {
      response = await interrupted({
        method: 'DELETE',
        path: `/recordings/${idOf(recording)}`,
        query: { reason: 'DSR-7' },
        caller: DPO,
      });
    } finally {
      fake.api = {};
    }
    // While the audio was being deleted: nothing personal, found by nothing but its id and status.
    expect(during.status).toBe('erasing');
    expect(shapeOf(during).indexKeys.sort()).toEqual(['gsi_status_pk', 'gsi_time_sk']);
    const text = JSON.stringify(during);
    for (const personal of [
      stored.from_number,
      stored.to_number,
      stored.call_uuid,
      stored.add_time,
      stored.recording_url,
    ])
      expect(text).not.toContain(String(personal));
    expect(during).toMatchObject({
      account_id: fake.authId,
      s3_bucket: env.bucketName,
      s3_key: stored.s3_key,
      erasure_keys: [stored.s3_key],
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'erased', vobiz: 'pending', vobiz_deleted_at: null });
    expect(fake.recording(idOf(recording))).toBeDefined();
    const owed = await rawItem(idOf(recording));
    expect(owed).toMatchObject({ status: 'erased', erasure_also_vobiz: true, vobiz_delete_attempts: 1 });
    expect(owed[INDEXES.due.partitionKey]).toMatch(/^EVDEL#/);

    // No delay set for this stage: the scheduled run still retries it, after its backoff.
    expect((await lifecycle().run({ remainingMs: () => 10 * 60_000 })).erasures.vobiz).toMatchObject({
      due: 0,
    });
    clock.advance(5 * 60_000 + 1);
    const summary = await lifecycle().run({ remainingMs: () => 10 * 60_000 });
    expect(summary.erasures.vobiz).toMatchObject({ due: 1, deleted: 1 });
    expect(summary.vobiz).toBeUndefined();
    expect(fake.recording(idOf(recording))).toBeUndefined();
    const done = await rawItem(idOf(recording));
    expect(done).toMatchObject({ status: 'erased', vobiz_deleted_at: new Date(clock.ms).toISOString() });
    expect(done[INDEXES.due.partitionKey]).toBeUndefined();
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.outcome, a.actor])).toEqual([
      ['erase', 'done', { arn: DPO }],
      ['vobiz_delete', 'done', { arn: 'system' }],
    ]);
  });

  it("refuses the delete at Vobiz of another account's recording: the erasure is done, the refusal audited", async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(idOf(recording)),
        UpdateExpression: 'SET account_id = :other',
        ExpressionAttributeValues: { ':other': 'MA_PREVIOUS01' },
      }),
    );
    const erased = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-8' },
    });
    expect(erased.body).toMatchObject({ status: 'erased', vobiz: 'refused', vobiz_deleted_at: null });
    expect(fake.deleteCalls.filter((c) => c.recordingId === idOf(recording))).toEqual([]);
    const item = await rawItem(idOf(recording));
    expect(item.vobiz_delete_blocked).toMatch(/belongs to Vobiz account MA_PREVIOUS01/);
    expect(item[INDEXES.due.partitionKey]).toBeUndefined();
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.outcome])).toEqual([
      ['erase', 'done'],
      ['vobiz_delete', 'refused'],
    ]);
  });

  it('records which console user acted, in the audit, erased_by and legal_hold_by', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const held = await api()({
      method: 'PUT',
      path: `/recordings/${idOf(recording)}/legal-hold`,
      caller: consoleUser(1),
    });
    expect(held.body.legal_hold_by).toEqual(consoleActor(1));
    clock.advance(1000);
    await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}/legal-hold`,
      caller: consoleUser(2),
    });
    clock.advance(1000);
    const erased = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-9' },
      caller: consoleUser(3),
    });
    expect(erased.body.erased_by).toEqual(consoleActor(3));
    expect((await readRecord(env.documents, env.tableName, idOf(recording)))!.erased_by).toEqual(
      consoleActor(3),
    );
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.actor])).toEqual([
      ['legal_hold', consoleActor(1)],
      ['legal_hold_release', consoleActor(2)],
      ['erase', consoleActor(3)],
      ['vobiz_delete', consoleActor(3)],
    ]);
    const trail = await lookup({ path: '/audit', query: { action: 'legal_hold_release', limit: '100' } });
    expect(
      (trail.body.items as { recording_id: string; actor: unknown }[]).find(
        (a) => a.recording_id === idOf(recording),
      )?.actor,
    ).toEqual(consoleActor(2));
  });

  it('refuses a free-text reason (400 naming the rule) for an erasure or a hold, and writes nothing', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const before = await rawItem(idOf(recording));
    const erase = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'Jane Doe called and asked us to delete it' },
    });
    expect([erase.status, erase.body.error.code]).toEqual([400, 'validation_error']);
    expect(erase.body.error.message).toMatch(/reason must be a reference such as DSR-2026-0042/);
    const hold = await api()({
      method: 'PUT',
      path: `/recordings/${idOf(recording)}/legal-hold`,
      body: JSON.stringify({ reason: 'lawsuit by +919876543210' }),
    });
    expect([hold.status, hold.body.error.message]).toEqual([
      400,
      expect.stringMatching(/reason must be a reference/),
    ]);
    expect(await rawItem(idOf(recording))).toEqual(before);
    expect(await auditEntries(env, idOf(recording))).toEqual([]);
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
      ['legal_hold', 'done', { arn: LEGAL }],
      ['erase', 'refused', { arn: DPO }],
    ]);
  });

  it('a version held by S3 Object Lock outside the archive: refused before anything is removed', async () => {
    const recording = fake.addRecording({ call_uuid: 'call-erase-locked' });
    const stored = await archive(fake, env, clock, recording);
    await versions().setLegalHold(stored.s3_key!, stored.s3_version_id!, true);
    const refused = await api()({
      method: 'DELETE',
      path: `/recordings/${idOf(recording)}`,
      query: { reason: 'DSR-10' },
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'legal_hold']);
    // Nothing stripped: still found by its call, audio and metadata intact.
    expect(await readRecord(env.documents, env.tableName, idOf(recording))).toMatchObject({
      status: 'stored',
      call_uuid: 'call-erase-locked',
    });
    expect((await listAll(lookup, { call_uuid: 'call-erase-locked' })).ids).toEqual([idOf(recording)]);
    expect(fake.recording(idOf(recording))).toBeDefined();
    expect((await auditEntries(env, idOf(recording))).map((a) => [a.action, a.outcome, a.detail])).toEqual([
      ['erase', 'refused', 'S3 Object Lock protects a version: nothing erased (DSR-10)'],
    ]);
    await versions().setLegalHold(stored.s3_key!, stored.s3_version_id!, false);
  });

  it('answers 409 archiving (with Retry-After) while a worker may still be archiving it, and 400 without a reason', async () => {
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
    // The lease's 30 s, then two minutes in which the worker's last S3 requests may still land.
    expect([busy.status, busy.body.error.code, busy.headers['retry-after']]).toEqual([
      409,
      'archiving',
      '150',
    ]);
    clock.advance(30_000 + LEASE_AFTERLIFE_MS - 1_000);
    const stillBusy = await api()({
      method: 'DELETE',
      path: `/recordings/${id}`,
      query: { reason: 'DSR-5' },
    });
    expect([stillBusy.status, stillBusy.headers['retry-after']]).toEqual([409, '1']);
    const noReason = await api()({ method: 'DELETE', path: `/recordings/${id}` });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/reason is required/);
    clock.advance(1_001);
    expect(
      (await api()({ method: 'DELETE', path: `/recordings/${id}`, query: { reason: 'DSR-5' } })).status,
    ).toBe(200);
  });

  it.each(['intent', 'audio_deleted', 'tombstoned', 'relisted'] as const)(
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
          query: { reason: 'DSR-6' },
          caller: DPO,
        });
        expect(first.status).toBe(500);
        const between = await readRecord(env.documents, env.tableName, idOf(recording));
        if (step === 'intent' || step === 'audio_deleted') {
          // Meanwhile: marked as being erased, never archived again, audio answered 410.
          expect(between!.status).toBe('erasing');
          expect(between!.call_uuid).toBeUndefined();
          expect((await lookup({ path: `/recordings/${idOf(recording)}/audio` })).status).toBe(410);
        } else expect(between!.status).toBe('erased');
        if (finisher === 'request') {
          const again = await api()({
            method: 'DELETE',
            path: `/recordings/${idOf(recording)}`,
            query: { reason: 'DSR-other' },
          });
          expect(again.status).toBe(200);
        } else {
          clock.advance(11 * 60_000);
          const summary = await lifecycle().run({ remainingMs: () => 10 * 60_000 });
          if (between!.status === 'erasing') expect(summary.erasures.finished).toBeGreaterThanOrEqual(1);
          else expect(summary.erasures.vobiz).toMatchObject({ deleted: 1 });
        }
        const record = await readRecord(env.documents, env.tableName, idOf(recording));
        expect(record).toMatchObject({
          status: 'erased',
          erasure_reason: 'DSR-6',
          erased_by: { arn: DPO },
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
      actor: { arn: LEGAL },
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
