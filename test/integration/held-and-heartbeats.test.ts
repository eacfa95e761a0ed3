import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLifecycleIndexCommand } from '../../bin/lib/lifecycle-index-command.js';
import { createLifecycleHandler } from '../../functions/lifecycle/handler.js';
import { DynamoHeartbeats } from '../../functions/shared/adapters/dynamo-heartbeats.js';
import { DynamoHolds } from '../../functions/shared/adapters/dynamo-holds.js';
import { keys } from '../../functions/shared/domain/recording.js';
import { localContext } from '../../local/gateway.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { textOutput, summaryOf } from '../support/cli-output.js';
import { archive, buildTestLifecycle } from '../support/lifecycle.js';
import { buildRedrive, FakeClock, redriveHandler, type Emulators } from '../support/redrive.js';

let env: Emulators;
let fake: VobizFake;
let clock: FakeClock;

beforeEach(async () => {
  env = await useEmulators();
  fake = await new VobizFake().start();
  clock = new FakeClock();
});
afterEach(() => fake.stop());

const idOf = (recording: ReturnType<VobizFake['addRecording']>) => recording.metadata.recording_id as string;
const context = (name: string) => localContext(name, 60_000);

describe('the legal-hold index (what destroy reads)', () => {
  it('lists a recording while it is held, and no longer once released', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    const lifecycle = buildTestLifecycle(fake, env, { clock });
    const holds = new DynamoHolds(env.documents, env.tableName);
    expect(await holds.held(20)).toEqual({ ids: [], more: false });
    await lifecycle.legalHold.place(idOf(recording), { actor: { arn: 'legal' } });
    expect(await holds.held(20)).toEqual({ ids: [idOf(recording)], more: false });
    await lifecycle.legalHold.release(idOf(recording), { actor: { arn: 'legal' } });
    expect(await holds.held(20)).toEqual({ ids: [], more: false });
  });

  it('lifecycle-index puts a hold placed before the index existed into it, once', async () => {
    const recording = fake.addRecording();
    await archive(fake, env, clock, recording);
    await buildTestLifecycle(fake, env, { clock }).legalHold.place(idOf(recording), {
      actor: { arn: 'legal' },
    });
    // As an older version left it: held, but without the index key.
    await env.documents.send(
      new UpdateCommand({
        TableName: env.tableName,
        Key: keys.recording(idOf(recording)),
        UpdateExpression: 'REMOVE gsi_hold_pk',
      }),
    );
    const holds = new DynamoHolds(env.documents, env.tableName);
    expect((await holds.held(20)).ids).toEqual([]);
    const run = async () => {
      const stdout = textOutput();
      expect(
        await runLifecycleIndexCommand(
          [],
          { ...process.env, TABLE_NAME: env.tableName },
          { stdout, stderr: textOutput() },
        ),
      ).toBe(0);
      return summaryOf(stdout.text);
    };
    expect((await run())['held indexed']).toBe(1);
    expect((await holds.held(20)).ids).toEqual([idOf(recording)]);
    expect((await run())['held indexed']).toBe(0);
  });
});

describe('heartbeats (what doctor reads)', () => {
  it('the re-drive leaves the sweep’s heartbeat on every run: ok, then error when Vobiz refuses, with last_ok_at kept', async () => {
    const heartbeats = new DynamoHeartbeats(env.documents, env.tableName);
    const handler = redriveHandler(
      buildRedrive(fake, env, { clock, extraEnv: { BACKFILL_LOOKBACK_MINUTES: '60' } }),
    );
    await handler({}, context('redrive'));
    const first = await heartbeats.read('backfill-sweep');
    expect(first).toMatchObject({
      job: 'backfill-sweep',
      outcome: 'ok',
      detail: expect.stringContaining('found 0'),
    });
    expect(first!.last_ok_at).toBe(first!.last_run_at);

    // The same credentials against a Vobiz that no longer accepts the token (rotated there).
    const rotated = await new VobizFake({ authToken: 'rotated-at-vobiz' }).start();
    try {
      clock.advance(60_000);
      await redriveHandler(
        buildRedrive(fake, env, {
          clock,
          extraEnv: { BACKFILL_LOOKBACK_MINUTES: '60', VOBIZ_API_BASE_URL: rotated.baseUrl },
        }),
      )({}, context('redrive'));
    } finally {
      await rotated.stop();
    }
    const second = await heartbeats.read('backfill-sweep');
    expect(second).toMatchObject({
      outcome: 'error',
      detail: expect.stringContaining('refused the credentials'),
    });
    expect(second!.last_ok_at).toBe(first!.last_run_at);
  });

  it('the re-drive says the sweep is off when its lookback is 0', async () => {
    await redriveHandler(buildRedrive(fake, env, { clock }))({}, context('redrive'));
    expect(await new DynamoHeartbeats(env.documents, env.tableName).read('backfill-sweep')).toMatchObject({
      outcome: 'off',
      detail: 'BACKFILL_LOOKBACK_MINUTES is 0',
    });
  });

  it('the scheduled lifecycle leaves its heartbeat on every run', async () => {
    const lifecycle = buildTestLifecycle(fake, env, { clock });
    const handler = createLifecycleHandler(() =>
      Promise.resolve({ ...lifecycle, heartbeats: new DynamoHeartbeats(env.documents, env.tableName) }),
    );
    await handler({}, context('lifecycle'));
    expect(await new DynamoHeartbeats(env.documents, env.tableName).read('lifecycle')).toMatchObject({
      job: 'lifecycle',
      outcome: 'ok',
      detail: 'deleted at Vobiz 0, expired 0, erasures finished 0',
    });
  });
});
